"""Completing sessions and reading or regenerating their handoffs."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib.api import responses as R
from chalicelib.api import schemas
from chalicelib.api.common import Ctx, endpoint
from chalicelib.domain import handoffs, sessions
from chalicelib.errors import Conflict

bp = Blueprint(__name__)
BASE = "/api/projects/{project_id}/sessions/{number}"
FORMAT = schemas.q_enum(("json", "md"), "json", "json (default) or md: the Markdown alone")
MAX_CHARS = schemas.q_int(handoffs.MIN_CHARS, handoffs.MAX_CHARS, None,
                          "render the document at this size (2,000 to 50,000 characters) without a new job")
QUERY = {"format": FORMAT, "max_chars": MAX_CHARS}


def _as_markdown(ctx: Ctx, doc: dict[str, Any]) -> dict[str, Any] | Response:
    if ctx.args["format"] == "json":
        return doc
    if not doc.get("markdown"):
        raise Conflict(f"the handoff is {doc['status']}; try again when it is ready", code="handoff_not_ready")
    name = f"handoff-session-{doc['for_session']}.md"
    return Response(body=doc["markdown"], status_code=200, headers={
        "Content-Type": "text/markdown; charset=utf-8", "Content-Disposition": f'inline; filename="{name}"',
        "Cache-Control": "no-store"})


@endpoint(bp, BASE + "/complete", "POST", summary="Finish a session and queue its handoff", tag="handoffs",
          status=202, body=schemas.SESSION_COMPLETE, body_required=False,
          response=R.COMPLETED)
def complete(ctx: Ctx, project_id: str, number: int) -> dict[str, Any]:
    body = dict(ctx.json(schemas.SESSION_COMPLETE, required=False))
    mode = body.pop("handoff_mode", "auto")
    budget = body.pop("budget_chars", None)
    return sessions.complete(ctx.tenant, project_id, number, body, mode=mode, budget_chars=budget)


@endpoint(bp, BASE + "/handoff", "POST", summary="Regenerate a finished session's handoff", tag="handoffs",
          status=202, body=schemas.HANDOFF_REQUEST, body_required=False,
          response=R.HANDOFF)
def regenerate(ctx: Ctx, project_id: str, number: int) -> dict[str, Any]:
    body = ctx.json(schemas.HANDOFF_REQUEST, required=False)
    return handoffs.request(ctx.tenant, project_id, number, mode=body.get("mode", "auto"),
                            budget_chars=body.get("budget_chars"))


@endpoint(bp, BASE + "/handoff", "GET", summary="The handoff written from this session (?format=md)",
          tag="handoffs", query=QUERY, produces=("application/json", "text/markdown"),
          response=R.HANDOFF)
def get_handoff(ctx: Ctx, project_id: str, number: int) -> Any:
    return _as_markdown(ctx, handoffs.get(ctx.tenant, project_id, number, max_chars=ctx.args["max_chars"]))


@endpoint(bp, "/api/projects/{project_id}/handoff/latest", "GET", summary="The latest ready handoff (?format=md)",
          tag="handoffs", query=QUERY, produces=("application/json", "text/markdown"),
          response=R.HANDOFF)
def latest_handoff(ctx: Ctx, project_id: str) -> Any:
    return _as_markdown(ctx, handoffs.latest(ctx.tenant, project_id, max_chars=ctx.args["max_chars"]))


@endpoint(bp, BASE + "/handoff/versions", "GET", summary="Every ready version of this session's handoff, newest "
          "first (method and reason of each)", tag="handoffs", query=schemas.PAGE,
          response=R.page(R.VERSION))
def list_versions(ctx: Ctx, project_id: str, number: int) -> dict[str, Any]:
    limit, cursor = ctx.page_args()
    return handoffs.versions(ctx.tenant, project_id, number, limit=limit, cursor=cursor)


@endpoint(bp, BASE + "/handoff/versions/{version}", "GET", summary="One version of this session's handoff",
          tag="handoffs",
          response=R.VERSION)
def get_version(ctx: Ctx, project_id: str, number: int, version: int) -> dict[str, Any]:
    return handoffs.version(ctx.tenant, project_id, number, version)


@endpoint(bp, BASE + "/checkpoint", "GET", summary="A running session's own state from its transcript so far "
          "(current work, next action, checks, git, open items, pins): what the agent gets back after a "
          "compaction. Synchronous, rules only", tag="handoffs",
          query={"format": FORMAT, "max_chars": schemas.q_int(500, handoffs.MAX_CHARS, None,
                                                                "size of the document (default 2,500)")},
          produces=("application/json", "text/markdown"), response=R.CHECKPOINT)
def checkpoint(ctx: Ctx, project_id: str, number: int) -> Any:
    doc = handoffs.checkpoint(ctx.tenant, project_id, number, max_chars=ctx.args["max_chars"])
    if ctx.args["format"] == "json":
        return doc
    return Response(body=doc["markdown"], status_code=200, headers={
        "Content-Type": "text/markdown; charset=utf-8", "Cache-Control": "no-store"})
