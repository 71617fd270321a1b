"""The OpenAPI 3.1 document, built from the routes as declared (it cannot drift from them)."""

from __future__ import annotations

import re
from typing import Any

from chalicelib.api import responses as R
from chalicelib.api.common import NUMBERED, PATH_ID_PATTERN, ROUTES

ERROR = R.ERROR


def _path_schema(name: str) -> dict[str, Any]:
    """Path ids as `check_ids` enforces them."""
    if name in NUMBERED:
        return {"type": "integer", "minimum": 1, "maximum": 999_999}
    return {"type": "string", "pattern": PATH_ID_PATTERN}


def operation_id(method: str, path: str) -> str:
    return f"{method.lower()}_{re.sub(r'[^a-z0-9]+', '_', path.lower()).strip('_')}"


ERROR_REF = {"$ref": "#/components/responses/Error"}
# What any route may answer besides its success: bad input, missing, conflict, too large, database down.
COMMON_ERRORS = ("400", "404", "409", "413", "503")


def _success(r: Any) -> dict[str, Any]:
    content: dict[str, Any] = {}
    for ct in r.produces:
        if ct == "application/json":
            content[ct] = {"schema": r.response or {"type": "object", "description": "see the summary"}}
        else:
            content[ct] = {"schema": {"type": "string"}}
    out: dict[str, Any] = {"description": "success", "content": content}
    if r.links:
        out["links"] = {name: {"operationId": operation_id(m, p), "parameters": params}
                        for name, (m, p, params) in r.links.items()}
    return out


def build(version: str) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for r in ROUTES:
        responses: dict[str, Any] = {str(r.status): _success(r)}
        for code in COMMON_ERRORS:
            responses[code] = ERROR_REF
        for code, schema in r.responses.items():  # None: a status answered with no body
            responses[str(code)] = {"description": "see the summary", **(
                {} if schema is None else {"content": {"application/json": {"schema": schema}}})}
        op: dict[str, Any] = {
            "summary": r.summary,
            "tags": [r.tag],
            "operationId": operation_id(r.method, r.path),
            "responses": responses,
        }
        params = [{"name": n, "in": "path", "required": True, "schema": _path_schema(n)}
                  for n in re.findall(r"{(\w+)}", r.path)]
        params += [{"name": n, "in": "query", "required": q.required, "description": q.description,
                    "schema": {**q.schema, **({} if q.default is None else {"default": q.default})}}
                   for n, q in r.query.items()]
        if params:
            op["parameters"] = params
        if r.body is not None:
            op["requestBody"] = {"required": r.body_required,
                                 "content": {"application/json": {"schema": r.body}}}
        elif r.consumes != ("application/json",):
            op["requestBody"] = {"required": True, "content": {ct: {} for ct in r.consumes}}
        if r.auth:
            op["responses"].setdefault("401", ERROR_REF)
        else:
            op["security"] = []
        paths.setdefault(r.path, {})[r.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "Multi-Session Orchestrator API", "version": version,
                 "description": "Projects, sessions, transcripts and handoffs for long AI-assisted work."},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": ERROR},
            "responses": {"Error": {"description": "error",
                                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}},
        },
        "security": [{"bearer": []}],
        "paths": paths,
    }
