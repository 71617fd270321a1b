"""A session's account: the agent's handoff notes and compaction summaries."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api import responses as R
from chalicelib.api import schemas
from chalicelib.api.common import Ctx, endpoint
from chalicelib.domain import notes

bp = Blueprint(__name__)
BASE = "/api/projects/{project_id}/sessions/{number}/notes"


@endpoint(bp, BASE, "POST", summary="Add the agent's account of the session (a /handoff note or a compaction "
          "summary); the newest leads the handoff, its claims checked against the transcript", tag="sessions",
          status=201, body=schemas.NOTE, response=R.NOTE)
def add_note(ctx: Ctx, project_id: str, number: int) -> dict[str, Any]:
    return notes.add(ctx.tenant, project_id, number, ctx.json(schemas.NOTE))


@endpoint(bp, BASE, "GET", summary="The session's account versions, newest first", tag="sessions",
          query={"limit": schemas.q_int(1, 50, 20, "how many versions")}, response=R.page(R.NOTE))
def list_notes(ctx: Ctx, project_id: str, number: int) -> dict[str, Any]:
    return notes.list_notes(ctx.tenant, project_id, number, limit=ctx.args["limit"])
