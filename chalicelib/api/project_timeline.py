"""The project timeline route: its sessions on a time axis (the dashboard's project view)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api import responses as R
from chalicelib.api.common import Ctx, endpoint
from chalicelib.domain import project_timeline

bp = Blueprint(__name__)


@endpoint(bp, "/api/projects/{project_id}/timeline", "GET",
          summary="A project's sessions on a time axis, oldest first: each one's real span (from its transcript "
                  "when it has one), status, tokens, cost, commits, checks passed and failed, errors and its handoff",
          tag="sessions", response=R.PROJECT_TIMELINE)
def get_project_timeline(ctx: Ctx, project_id: str) -> dict[str, Any]:
    return project_timeline.project_timeline(ctx.tenant, project_id)
