"""What every route shares: auth, body parsing and validation, errors as JSON, OpenAPI records.

Routes are declared with `endpoint(...)`, which wraps a Chalice route so that
- the bearer token is resolved to a tenant before the view runs (401 otherwise),
- `AppError`s become `{"error": {"code", "message", "field"}}` with their status,
- anything unexpected becomes a logged 500 with a request id (never a stack trace),
- the route is recorded for openapi.json, which therefore cannot drift from the routes.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import fastjsonschema
from chalice import Blueprint, Response
from chalice.app import Request

from chalicelib.errors import AppError, BadRequest, PayloadTooLarge
from chalicelib.logs import event, get_logger

log = get_logger("api")

# Bodies are parsed whatever the declared type: `curl -d` sends form-encoding by default.
JSON_TYPES = ["application/json", "application/x-www-form-urlencoded", "text/plain", "application/octet-stream"]
PATH_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_LIMIT = 100
DEFAULT_LIMIT = 25


@dataclass
class RouteDoc:
    path: str
    method: str
    summary: str
    tag: str
    auth: bool
    status: int
    body: dict[str, Any] | None
    query: dict[str, str] = field(default_factory=dict)
    produces: tuple[str, ...] = ("application/json",)
    consumes: tuple[str, ...] = ("application/json",)


ROUTES: list[RouteDoc] = []
_validators: dict[int, Callable[[Any], Any]] = {}


def validate(schema: dict[str, Any], data: Any) -> Any:
    """Validate against a JSON Schema; the first error becomes a 400 naming the field."""
    v = _validators.get(id(schema))
    if v is None:
        v = _validators[id(schema)] = fastjsonschema.compile(schema)
    try:
        return v(data)
    except fastjsonschema.JsonSchemaValueException as e:
        name = (e.name or "data").removeprefix("data").lstrip(".") or None
        name = name.replace("[", ".").replace("]", "") if name else None
        msg = e.message.replace("data.", "").replace("data ", "body ", 1)
        if e.rule == "additionalProperties":
            msg = msg.replace("must not contain", "has unknown field(s)")
        raise BadRequest(msg, code="validation_error", field=name) from None


def _round_floats(data: Any) -> Any:
    """Amounts keep 6 decimals: DynamoDB refuses magnitudes under 1e-130, and credits need no more."""
    if isinstance(data, float):
        return round(data, 6)
    if isinstance(data, dict):
        return {k: _round_floats(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_round_floats(v) for v in data]
    return data


@dataclass
class Ctx:
    """The request as a view sees it: tenant, parsed JSON, query parameters."""

    request: Request
    tenant: str

    @property
    def query(self) -> dict[str, str]:
        return dict(self.request.query_params or {})

    def raw_body(self, max_bytes: int) -> bytes:
        body = self.request.raw_body or b""
        if len(body) > max_bytes:
            raise PayloadTooLarge(f"request body is {len(body)} bytes; the limit is {max_bytes}")
        return body

    def json(self, schema: dict[str, Any], *, required: bool = True) -> Any:
        raw = self.request.raw_body or b""
        if not raw.strip():
            if not required:
                return validate(schema, {})
            raise BadRequest("request body is empty: send a JSON object", code="invalid_json")
        if len(raw) > 1024 * 1024:
            raise PayloadTooLarge("JSON request bodies are limited to 1 MiB")
        try:
            data = json.loads(raw)
        except UnicodeDecodeError:
            raise BadRequest("request body is not UTF-8 text", code="invalid_json") from None
        except json.JSONDecodeError as e:
            raise BadRequest(f"request body is not valid JSON: {e.msg} at line {e.lineno} column {e.colno}",
                             code="invalid_json") from None
        if b"\\u" in raw:  # a \u escape may encode a lone surrogate: valid JSON, not storable text
            try:
                json.dumps(data, ensure_ascii=False).encode("utf-8")
            except UnicodeEncodeError:
                raise BadRequest("request body holds an invalid \\u escape (a lone UTF-16 surrogate)",
                                 code="invalid_json") from None
        return _round_floats(validate(schema, data))

    def page_args(self) -> tuple[int, str | None]:
        q = self.query
        raw = q.get("limit")
        limit = DEFAULT_LIMIT
        if raw is not None:
            if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
                raise BadRequest(f"limit must be an integer from 1 to {MAX_LIMIT}", field="limit")
            limit = int(raw)
        cursor = q.get("cursor") or None
        if cursor is not None and len(cursor) > 2048:
            raise BadRequest("cursor is too long", code="invalid_cursor", field="cursor")
        return limit, cursor


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    h = {"Content-Type": "application/json", "Cache-Control": "no-store"}
    if headers:
        h.update(headers)
    return Response(body=json.dumps(body, separators=(",", ":"), default=str), status_code=status, headers=h)


def error_response(err: AppError) -> Response:
    return json_response(err.to_dict(), err.status)


def bearer_token(request: Request) -> str:
    auth = (request.headers or {}).get("authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        from chalicelib.errors import Unauthorized

        raise Unauthorized("a bearer token is required: send 'Authorization: Bearer <token>'",
                           code="missing_token")
    return token.strip()


def check_ids(params: dict[str, Any]) -> None:
    for name, value in params.items():
        if name == "number":
            if not str(value).isdigit() or not 1 <= int(value) <= 999_999:
                raise BadRequest("session number must be a positive integer", field="number",
                                 code="invalid_path")
        elif not PATH_ID.match(str(value)):
            raise BadRequest(f"{name} is not a valid id", field=name, code="invalid_path")


def endpoint(bp: Blueprint, path: str, method: str, *, summary: str, tag: str, auth: bool = True,
             status: int = 200, body: dict[str, Any] | None = None, query: dict[str, str] | None = None,
             produces: tuple[str, ...] = ("application/json",),
             consumes: tuple[str, ...] | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a route (see module docstring)."""

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def view(**params: Any) -> Response:
            req = bp.current_request
            try:
                check_ids(params)
                if "number" in params:
                    params["number"] = int(params["number"])
                tenant = ""
                if auth:
                    from chalicelib.domain.tenants import tenant_for_token

                    tenant = tenant_for_token(bearer_token(req))
                result = fn(Ctx(req, tenant), **params)
                if isinstance(result, Response):
                    return result
                return json_response(result, status)
            except AppError as e:
                if e.status >= 500:
                    event(log, "request_failed", 40, path=path, method=method, code=e.code)
                return error_response(e)
            except Exception:  # noqa: BLE001 - the client gets a JSON 500, the log gets the trace
                rid = (req.context or {}).get("requestId") if req is not None else None
                log.exception("unhandled_error", extra={"fields": {"path": path, "method": method,
                                                                   "request_id": rid}})
                return json_response({"error": {"code": "internal_error", "request_id": rid,
                                                "message": "the server failed on this request; it was logged"}},
                                     500)

        content_types = list(consumes) if consumes else JSON_TYPES
        bp.route(path, methods=[method], content_types=content_types)(view)
        ROUTES.append(RouteDoc(path, method, summary, tag, auth, status, body, query or {}, produces,
                               consumes or ("application/json",)))
        return view

    return deco
