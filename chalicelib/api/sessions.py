"""Session routes."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api import responses as R
from chalicelib.api import schemas
from chalicelib.api.common import Ctx, endpoint, json_response
from chalicelib.domain import sessions

bp = Blueprint(__name__)
_S = {"project_id": "$response.body#/project_id", "number": "$response.body#/number"}
_SESSION = "/api/projects/{project_id}/sessions/{number}"
LINK_SESSION = {  # what a new session leads to
    "GetSession": ("GET", _SESSION, _S),
    "PatchSession": ("PATCH", _SESSION, _S),
    "PutTranscript": ("PUT", _SESSION + "/transcript", _S),
    "GetTranscript": ("GET", _SESSION + "/transcript", _S),
    "PutFiles": ("PUT", _SESSION + "/files", _S),
    "ListFiles": ("GET", _SESSION + "/files", _S),
    "Complete": ("POST", _SESSION + "/complete", _S),
    "GetHandoff": ("GET", _SESSION + "/handoff", _S),
    "StartUpload": ("POST", _SESSION + "/transcript-upload", _S),
}
BASE = "/api/projects/{project_id}/sessions"


@endpoint(bp, BASE, "POST", summary="Start a session (returns the starting handoff); with external_id, "
          "create or link: 201 when created, 200 with the existing session", tag="sessions",
          status=201, body=schemas.SESSION_CREATE, body_required=False,
          response=R.SESSION_STARTED, responses={200: R.SESSION_STARTED}, links=LINK_SESSION)
def create_session(ctx: Ctx, project_id: str) -> Any:
    out = sessions.create(ctx.tenant, project_id, ctx.json(schemas.SESSION_CREATE, required=False))
    return out if out["created"] else json_response(out, 200)


@endpoint(bp, BASE, "GET", summary="List a project's sessions, newest first (?order=asc: oldest first)",
          tag="sessions",
          query={**schemas.PAGE, "order": schemas.q_enum(
              ("asc", "desc"), "desc", "desc (default): newest first, as the dashboard and MCP list them; "
              "asc: oldest first")},
          response=R.page(R.SESSION))
def list_sessions(ctx: Ctx, project_id: str) -> dict[str, Any]:
    limit, cursor = ctx.page_args()
    return sessions.list_page(ctx.tenant, project_id, limit=limit, cursor=cursor,
                              descending=ctx.args["order"] == "desc")


@endpoint(bp, BASE + "/{number}", "GET", summary="Get a session", tag="sessions",
          response=R.SESSION)
def get_session(ctx: Ctx, project_id: str, number: int) -> dict[str, Any]:
    return sessions.get(ctx.tenant, project_id, number)


@endpoint(bp, BASE + "/{number}", "PATCH", summary="Change a session (fields, status)", tag="sessions",
          body=schemas.SESSION_PATCH,
          response=R.SESSION)
def patch_session(ctx: Ctx, project_id: str, number: int) -> dict[str, Any]:
    return sessions.update(ctx.tenant, project_id, number, ctx.json(schemas.SESSION_PATCH))


@endpoint(bp, "/api/sessions/in-progress", "GET", summary="Sessions in progress across projects",
          tag="sessions", query=schemas.PAGE,
          response=R.page(R.SESSION))
def in_progress(ctx: Ctx) -> dict[str, Any]:
    limit, cursor = ctx.page_args()
    return sessions.list_in_progress(ctx.tenant, limit=limit, cursor=cursor)
