"""HTTP routes (Chalice blueprints). `register(app)` wires them into the app."""

from __future__ import annotations

from typing import Any

from chalice import Chalice

from chalicelib.config import settings


def register(app: Chalice) -> None:
    from chalicelib.api import (
        accounts,
        handoffs,
        knowledge,
        mcp,
        meta,
        notes,
        open_items,
        project_timeline,
        projects,
        search,
        session_timeline,
        sessions,
        transcripts,
    )

    for mod in (meta, projects, sessions, notes, accounts, transcripts, handoffs, knowledge, open_items, search, mcp,
                project_timeline, session_timeline):
        app.register_blueprint(mod.bp)
    app.register_middleware(documented_errors, "http")
    if settings().serve_ui:
        from chalicelib.api import static

        app.register_blueprint(static.bp)


_CHALICE_CODES = {"MethodNotAllowedError": "method_not_allowed", "UnsupportedMediaType": "unsupported_media_type",
                  "BadRequest": "invalid_request", "NotFoundError": "not_found"}


def documented_errors(event: Any, get_response: Any) -> Any:
    """Chalice answers some errors itself (405 for a method the route lacks, 415 for a body type
    it does not declare) as {"Code", "Message"}: give them the API's one error shape, and every
    error the headers of the API's own answers (nosniff, no-store)."""
    from chalicelib.api.common import JSON_HEADERS, SECURITY_HEADERS

    resp = get_response(event)
    body = getattr(resp, "body", None)
    if resp.status_code >= 400 and isinstance(body, dict) and set(body) == {"Code", "Message"}:
        code = _CHALICE_CODES.get(body["Code"], "invalid_request")
        message = str(body["Message"])
        if code == "unsupported_media_type":
            message += ": send application/json (see /api/openapi.json for what each route accepts)"
        resp.body = {"error": {"code": code, "message": message}}
        resp.headers = {**(resp.headers or {}), "Content-Type": "application/json"}
    resp.headers = {**(SECURITY_HEADERS if resp.status_code < 400 else JSON_HEADERS), **(resp.headers or {})}
    return resp
