"""The project's open-items ledger: list it, close items."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api import responses as R
from chalicelib.api import schemas
from chalicelib.api.common import Ctx, endpoint
from chalicelib.domain import open_items, projects
from chalicelib.errors import BadRequest, NotFound

bp = Blueprint(__name__)
BASE = "/api/projects/{project_id}/open-items"


@endpoint(bp, BASE, "GET", summary="The project's open items (next steps, blockers, todos) and closed ones",
          tag="open-items", query={"status": schemas.q_enum(("open", "closed", "all"), "open", "which items"), **schemas.PAGE},
          response=R.page(R.OPEN_ITEM))
def list_items(ctx: Ctx, project_id: str) -> dict[str, Any]:
    limit, cursor = ctx.page_args()
    return open_items.list_page(ctx.tenant, project_id, status=ctx.args["status"], limit=limit, cursor=cursor)


@endpoint(bp, BASE + "/close", "POST", summary="Mark open items done (by id or exact text) for a session",
          tag="open-items", body=schemas.OPEN_ITEMS_CLOSE,
          response=R.CLOSED_ITEMS)
def close(ctx: Ctx, project_id: str) -> dict[str, Any]:
    body = ctx.json(schemas.OPEN_ITEMS_CLOSE)
    try:
        return open_items.close_items(ctx.tenant, project_id, body["items"], int(body["session"]))
    except NotFound as e:
        if e.code != "session_not_found":
            raise
        projects.get(ctx.tenant, project_id)  # a project that is not there (or not yours) stays a 404
        # the project (the path) exists; the body names a session that does not: a bad field, as with
        # an unknown ai_account (a 404 would say the route's own resource is missing)
        raise BadRequest(e.message, code="unknown_session", field="session") from None
