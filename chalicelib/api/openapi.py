"""The OpenAPI 3.1 document, built from the routes as declared (it cannot drift from them)."""

from __future__ import annotations

import re
from typing import Any

from chalicelib.api.common import PATH_ID_PATTERN, ROUTES

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
        "code": {"type": "string"}, "message": {"type": "string"}, "field": {"type": "string"}}}},
}


def _path_schema(name: str) -> dict[str, Any]:
    """Path ids as `check_ids` enforces them."""
    if name == "number":
        return {"type": "integer", "minimum": 1, "maximum": 999_999}
    return {"type": "string", "pattern": PATH_ID_PATTERN}


def build(version: str) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for r in ROUTES:
        op: dict[str, Any] = {
            "summary": r.summary,
            "tags": [r.tag],
            "operationId": f"{r.method.lower()}_{re.sub(r'[^a-z0-9]+', '_', r.path.lower()).strip('_')}",
            "responses": {
                str(r.status): {"description": "success",
                                "content": {ct: {} if ct != "application/json" else {"schema": {"type": "object"}}
                                            for ct in r.produces}},
                "400": {"$ref": "#/components/responses/Error"},
                "404": {"$ref": "#/components/responses/Error"},
            },
        }
        params = [{"name": n, "in": "path", "required": True, "schema": _path_schema(n)}
                  for n in re.findall(r"{(\w+)}", r.path)]
        params += [{"name": n, "in": "query", "required": q.required, "description": q.description,
                    "schema": {**q.schema, **({} if q.default is None else {"default": q.default})}}
                   for n, q in r.query.items()]
        if params:
            op["parameters"] = params
        if r.body is not None:
            op["requestBody"] = {"required": True, "content": {"application/json": {"schema": r.body}}}
        elif r.consumes != ("application/json",):
            op["requestBody"] = {"required": True, "content": {ct: {} for ct in r.consumes}}
        if r.auth:
            op["responses"]["401"] = {"$ref": "#/components/responses/Error"}
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
