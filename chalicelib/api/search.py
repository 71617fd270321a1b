"""Search across sessions: one project's index, or every project of the caller's tenant."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api import responses as R
from chalicelib.api import schemas
from chalicelib.api.common import Ctx, endpoint
from chalicelib.search import service
from chalicelib.search.documents import KINDS
from chalicelib.search.index import MAX_QUERY_CHARS

bp = Blueprint(__name__)

_SPAN = {"type": "array", "minItems": 2, "maxItems": 2, "items": {"type": "integer", "minimum": 0}}
HIT = R.obj(("id", "project_id", "session", "message_index", "kind", "at", "snippet", "highlights", "score", "tokens"),
            id=R.S, project_id=R.S, session=R.INT_NULL, message_index=R.INT_NULL, kind={"enum": list(KINDS)},
            at=R.S_NULL, snippet=R.S, highlights={"type": "array", "items": _SPAN}, score={"type": "number"},
            tokens=R.INT)
RESULTS = R.obj(("items", "next_cursor"), items={"type": "array", "items": HIT},
                next_cursor={"type": ["string", "null"]})
QUERY = {
    "q": schemas.q_text(MAX_QUERY_CHARS, "words to find (all must match; a trailing * matches a prefix; FTS "
                        "operators are taken as plain words)", min_len=1, required=True),
    "kind": schemas.Query("only hits of this kind", {"type": "string", "enum": list(KINDS)}),
    "limit": schemas.q_int(1, service.MAX_LIMIT, 20, "how many hits"),
    "cursor": schemas.PAGE["cursor"],
}


@endpoint(bp, "/api/projects/{project_id}/search", "GET", summary="Search a project's sessions: prompts, answers, "
          "commands, errors, paths, handoffs, notes, knowledge and open items, ranked (bm25)", tag="search",
          query=QUERY, response=RESULTS)
def search_project(ctx: Ctx, project_id: str) -> dict[str, Any]:
    a = ctx.args
    return service.search_project(ctx.tenant, project_id, a["q"], kind=a["kind"], limit=a["limit"],
                                  cursor=a["cursor"] or None)


@endpoint(bp, "/api/search", "GET", summary="Search every project of the caller, hits merged by score",
          tag="search", query=QUERY, response=RESULTS)
def search_all(ctx: Ctx) -> dict[str, Any]:
    a = ctx.args
    return service.search_all(ctx.tenant, a["q"], kind=a["kind"], limit=a["limit"], cursor=a["cursor"] or None)
