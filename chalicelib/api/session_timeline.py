"""The session timeline route: one session's events in order (the dashboard's session strip)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api import responses as R
from chalicelib.api.common import Ctx, endpoint
from chalicelib.domain import session_timeline

bp = Blueprint(__name__)


@endpoint(bp, "/api/projects/{project_id}/sessions/{number}/timeline", "GET",
          summary="One session's events in order, from its transcript: edits, commands, checks with their outcome, "
                  "commits, pushes, compactions, errors, notes and the user's words (at most 2,000; when cut, the "
                  "user's words, commits, pushes, compactions, checks and errors are kept first)",
          tag="sessions", response=R.SESSION_TIMELINE)
def get_session_timeline(ctx: Ctx, project_id: str, number: int) -> dict[str, Any]:
    return session_timeline.session_timeline(ctx.tenant, project_id, number)
