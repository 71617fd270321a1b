"""What every route shares: auth, body parsing and validation, errors as JSON, OpenAPI records.

Routes are declared with `endpoint(...)`, which wraps a Chalice route so that
- the bearer token is resolved to a tenant before the view runs (401 otherwise),
- `AppError`s (the one error base: API, transcript, numstat and LLM errors) become
  `{"error": {"code", "message", "field", **details}}` with their status,
- anything unexpected becomes a logged 500 with a request id (never a stack trace),
- the route is recorded for openapi.json, which therefore cannot drift from the routes.
"""

from __future__ import annotations

import functools
import io
import json
import math
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import fastjsonschema
from chalice import Blueprint, Response
from chalice.app import Request

from chalicelib.api.schemas import Query, for_python, py_pattern
from chalicelib.errors import AppError, BadRequest, PayloadTooLarge, ServiceUnavailable
from chalicelib.logs import event, get_logger

log = get_logger("api")

# Bodies are parsed whatever the declared type: `curl -d` sends form-encoding by default.
JSON_TYPES = ["application/json", "application/x-www-form-urlencoded", "text/plain", "application/octet-stream"]
PATH_ID_PATTERN = "^[A-Za-z0-9_-]{1,64}$"
PATH_ID = re.compile(py_pattern(PATH_ID_PATTERN))
SESSION_NUMBER = re.compile(r"[0-9]{1,6}")  # ASCII digits: str.isdigit() also takes '¹' and '٣'
NUMBERED = ("number", "version")  # path parameters that are positive integers (the rest are ids)
MAX_NUMBER_DIGITS = 38  # DynamoDB keeps 38 significant digits; Python refuses ints past 4,300


@dataclass
class RouteDoc:
    path: str
    method: str
    summary: str
    tag: str
    auth: bool
    status: int
    body: dict[str, Any] | None
    query: dict[str, Query] = field(default_factory=dict)
    produces: tuple[str, ...] = ("application/json",)
    consumes: tuple[str, ...] = ("application/json",)
    body_required: bool = True
    response: dict[str, Any] | None = None  # the success body's JSON Schema
    responses: dict[int, dict[str, Any]] = field(default_factory=dict)  # other statuses: their body schemas
    links: dict[str, tuple[str, str, dict[str, str]]] = field(default_factory=dict)  # name: (method, path, params)


ROUTES: list[RouteDoc] = []
_validators: dict[int, Callable[[Any], Any]] = {}


def validate(schema: dict[str, Any], data: Any) -> Any:
    """Validate against a JSON Schema; the first error becomes a 400 naming the field."""
    if "oneOf" in schema:  # a list or {"items": list}: validate against the one of the data's shape
        kind = "array" if isinstance(data, list) else "object" if isinstance(data, dict) else None
        shaped = [alt for alt in schema["oneOf"] if alt.get("type") == kind]
        if len(shaped) == 1:
            schema = shaped[0]
    v = _validators.get(id(schema))
    if v is None:
        v = _validators[id(schema)] = fastjsonschema.compile(for_python(schema))
    try:
        return v(data)
    except fastjsonschema.JsonSchemaValueException as e:
        name = (e.name or "data").removeprefix("data").lstrip(".") or None
        name = name.replace("[", ".").replace("]", "") if name else None
        msg = e.message.replace("data.", "").replace("data ", "body ", 1)
        if isinstance(e.value, Unstorable):
            msg = f"{name or 'body'} {e.value.why}"
        if e.rule == "additionalProperties":
            msg = msg.replace("must not contain", "has unknown field(s)")
        raise BadRequest(msg, code="validation_error", field=name) from None


class Unstorable:
    """A JSON number Python parses but nothing can store: NaN, ±Infinity, 1e999, a 39-digit integer.

    The parser returns this marker instead of failing, so that schema validation names the field."""

    def __init__(self, literal: str, why: str) -> None:
        self.literal, self.why = literal, why

    def __repr__(self) -> str:
        return self.literal[:20]


def _parse_constant(literal: str) -> Unstorable:
    return Unstorable(literal, f"is {literal}, which is not a JSON number: send a finite number")


def _parse_int(literal: str) -> int | Unstorable:
    digits = len(literal.lstrip("-"))
    if digits > MAX_NUMBER_DIGITS:
        return Unstorable(literal, f"has {digits} digits; numbers are limited to {MAX_NUMBER_DIGITS} digits")
    return int(literal)


def _parse_float(literal: str) -> float | Unstorable:
    value = float(literal)
    if not math.isfinite(value):
        return Unstorable(literal, f"is {literal[:40]}, too large for a number: send a finite number")
    return value


def parse_json(raw: bytes) -> Any:
    """Parse a request body: every way it can be bad is a 400 (never a RecursionError or ValueError)."""
    try:
        data = json.loads(raw, parse_constant=_parse_constant, parse_int=_parse_int, parse_float=_parse_float)
    except UnicodeDecodeError:
        raise BadRequest("request body is not UTF-8 text", code="invalid_json") from None
    except json.JSONDecodeError as e:
        raise BadRequest(f"request body is not valid JSON: {e.msg} at line {e.lineno} column {e.colno}",
                         code="invalid_json") from None
    except RecursionError:
        raise BadRequest("request body is nested too deeply (arrays and objects are nested a few levels at most)",
                         code="invalid_json") from None
    if b"\\u" in raw:  # a \u escape may encode a lone surrogate: valid JSON, not storable text
        try:
            json.dumps(data, ensure_ascii=False, default=repr).encode("utf-8")
        except UnicodeEncodeError:
            raise BadRequest("request body holds an invalid \\u escape (a lone UTF-16 surrogate)",
                             code="invalid_json") from None
    return data


def _reject_unstorable(data: Any) -> None:
    """A marker left where the schema did not look (validated bodies are shallow: a loop, no recursion)."""
    stack = [data]
    while stack:
        v = stack.pop()
        if isinstance(v, Unstorable):
            raise BadRequest(f"a number in the body {v.why}", code="validation_error")
        if isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)


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
    args: dict[str, Any] = field(default_factory=dict)  # the declared query parameters, validated

    @property
    def query(self) -> dict[str, str]:
        return dict(self.request.query_params or {})

    def json(self, schema: dict[str, Any], *, required: bool = True) -> Any:
        raw = self.request.raw_body or b""
        if not raw.strip():
            if not required:
                return validate(schema, {})
            raise BadRequest("request body is empty: send a JSON object", code="invalid_json")
        if len(raw) > 1024 * 1024:
            raise PayloadTooLarge("JSON request bodies are limited to 1 MiB")
        data = validate(schema, parse_json(raw))
        _reject_unstorable(data)
        return _round_floats(data)

    def body_stream(self) -> tuple[BinaryIO, int]:
        """The raw body as a file and its size: the file the local server spooled it to (see
        `streamed_body`), else the body API Gateway delivered (in memory: at most a few MiB)."""
        spooled = getattr(_streamed, "body", None)
        if spooled is not None:
            return spooled
        raw = self.request.raw_body or b""
        return io.BytesIO(raw), len(raw)

    def page_args(self) -> tuple[int, str | None]:
        """(limit, cursor) of a route declared with `query=PAGE` (already validated)."""
        return self.args["limit"], self.args.get("cursor") or None


_streamed = threading.local()


@contextmanager
def streamed_body(stream: BinaryIO, size: int) -> Iterator[None]:
    """Hand the route run in this thread a body already on disk (`make dev`'s upload URL, whose
    bodies are up to 512 MiB: Chalice would hold them in memory twice, once base64-encoded)."""
    _streamed.body = (stream, size)
    try:
        yield
    finally:
        _streamed.body = None


# Every API answer: browsers must not sniff JSON or Markdown into HTML.
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff"}
# Every JSON answer, errors above all (whoever makes them: a route, Chalice, the local gateway): no
# cache keeps a tenant's data or a 4xx meant for one request.
JSON_HEADERS = {"Content-Type": "application/json", "Cache-Control": "no-store", **SECURITY_HEADERS}


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    h = dict(JSON_HEADERS)
    if headers:
        h.update(headers)
    return Response(body=json.dumps(body, separators=(",", ":"), default=str), status_code=status, headers=h)


def error_response(err: AppError) -> Response:
    headers: dict[str, str] = dict(getattr(err, "headers", None) or {})
    if err.status == 401:  # RFC 9110: a 401 names the scheme that would work
        headers.setdefault("WWW-Authenticate", 'Bearer realm="mso"')
    if err.status == 503:
        from chalicelib.storage.health import RETRY_AFTER_S

        headers.setdefault("Retry-After", str(RETRY_AFTER_S))
    return json_response(err.to_dict(), err.status, headers)


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
        if name in NUMBERED:
            if not SESSION_NUMBER.fullmatch(str(value)) or not 1 <= int(value) <= 999_999:
                what = "session number" if name == "number" else name
                raise BadRequest(f"{what} must be a positive integer", field=name, code="invalid_path")
        elif not PATH_ID.match(str(value)):
            raise BadRequest(f"{name} is not a valid id", field=name, code="invalid_path")


def parse_query(declared: dict[str, Query], raw: dict[str, str] | None) -> dict[str, Any]:
    """The declared query parameters, each parsed or defaulted; a bad one is a 400 naming it."""
    raw = raw or {}
    out: dict[str, Any] = {}
    for name, q in declared.items():
        value = raw.get(name)
        if value is None:
            if q.required:
                raise BadRequest(f"{name} is required: {q.description}", field=name, code=q.code)
            out[name] = q.default
        else:
            out[name] = q.parse(name, value)
    return out


DATABASE_DOWN = ServiceUnavailable("the database cannot be reached right now; retry in a few seconds",
                                   code="database_unavailable")


def endpoint(bp: Blueprint, path: str, method: str, *, summary: str, tag: str, auth: bool = True,
             status: int = 200, body: dict[str, Any] | None = None, body_required: bool = True,
             query: dict[str, Query] | None = None,
             produces: tuple[str, ...] = ("application/json",),
             consumes: tuple[str, ...] | None = None, response: dict[str, Any] | None = None,
             responses: dict[int, dict[str, Any]] | None = None,
             links: dict[str, tuple[str, str, dict[str, str]]] | None = None,
             ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a route (see module docstring). `response` is the success body's schema, `responses`
    other statuses' bodies, `links` the operations a success leads to (for clients and fuzzers)."""

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def view(**params: Any) -> Response:
            req = bp.current_request
            try:
                check_ids(params)
                for name in NUMBERED:
                    if name in params:
                        params[name] = int(params[name])
                tenant = ""
                if auth:
                    from chalicelib.domain.tenants import tenant_for_token

                    tenant = tenant_for_token(bearer_token(req))
                args = parse_query(query or {}, req.query_params)
                result = fn(Ctx(req, tenant, args), **params)
                if isinstance(result, Response):
                    for k, v in SECURITY_HEADERS.items():
                        result.headers.setdefault(k, v)
                    return result
                return json_response(result, status)
            except AppError as e:
                if e.status >= 500:
                    event(log, "request_failed", 40, path=path, method=method, code=e.code)
                return error_response(e)
            except Exception as e:  # noqa: BLE001 - the client gets a JSON 500, the log gets the trace
                rid = (req.context or {}).get("requestId") if req is not None else None
                from chalicelib.storage.health import is_outage

                if is_outage(e):
                    event(log, "database_unavailable", 40, path=path, method=method, error=type(e).__name__)
                    return error_response(DATABASE_DOWN)
                log.exception("unhandled_error", extra={"fields": {"path": path, "method": method,
                                                                   "request_id": rid}})
                return json_response({"error": {"code": "internal_error", "request_id": rid,
                                                "message": "the server failed on this request; it was logged"}},
                                     500)

        content_types = list(consumes) if consumes else JSON_TYPES
        bp.route(path, methods=[method], content_types=content_types)(view)
        ROUTES.append(RouteDoc(path, method, summary, tag, auth, status, body, query or {}, produces,
                               consumes or ("application/json",), body_required, response, responses or {},
                               links or {}))
        return view

    return deco
