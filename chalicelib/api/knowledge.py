"""Knowledge base routes."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api import responses as R
from chalicelib.api import schemas
from chalicelib.api.common import Ctx, endpoint
from chalicelib.domain import knowledge

bp = Blueprint(__name__)


@endpoint(bp, "/api/projects/{project_id}/knowledge", "POST", summary="Add a knowledge item", tag="knowledge",
          status=201, body=schemas.KNOWLEDGE_CREATE,
          response=R.KNOWLEDGE, links={"UseItem": ("POST", "/api/projects/{project_id}/knowledge/{item_id}/use", {"project_id": "$response.body#/project_id", "item_id": "$response.body#/id"})})
def create_item(ctx: Ctx, project_id: str) -> dict[str, Any]:
    return knowledge.create(ctx.tenant, project_id, ctx.json(schemas.KNOWLEDGE_CREATE))


@endpoint(bp, "/api/projects/{project_id}/knowledge", "GET", summary="A project's knowledge items",
          tag="knowledge", query=schemas.PAGE,
          response=R.page(R.KNOWLEDGE))
def list_items(ctx: Ctx, project_id: str) -> dict[str, Any]:
    limit, cursor = ctx.page_args()
    return knowledge.list_project(ctx.tenant, project_id, limit=limit, cursor=cursor)


@endpoint(bp, "/api/knowledge", "GET", summary="Knowledge across projects: newest first, or ranked by relevance "
          "with q", tag="knowledge",
          query={"q": schemas.q_text(200, "words to look for in titles, tags and bodies (all must match)"),
                 "project": schemas.q_text(64, "only this project's items"),
                 "kind": schemas.Query("only this kind", {"type": "string", "enum": ["pattern", "solution", "lesson"]}),
                 **schemas.PAGE},
          response=R.page(R.KNOWLEDGE))
def search(ctx: Ctx) -> dict[str, Any]:
    limit, cursor = ctx.page_args()
    return knowledge.search(ctx.tenant, q=ctx.args["q"], limit=limit, cursor=cursor,
                            project_id=ctx.args["project"] or None, kind=ctx.args["kind"] or None)


@endpoint(bp, "/api/projects/{project_id}/knowledge/{item_id}", "PATCH", summary="Edit a knowledge item",
          tag="knowledge", body=schemas.KNOWLEDGE_PATCH, response=R.KNOWLEDGE)
def patch_item(ctx: Ctx, project_id: str, item_id: str) -> dict[str, Any]:
    return knowledge.update(ctx.tenant, project_id, item_id, ctx.json(schemas.KNOWLEDGE_PATCH))


@endpoint(bp, "/api/projects/{project_id}/knowledge/{item_id}", "DELETE", summary="Delete a knowledge item",
          tag="knowledge", response=R.obj(("deleted", "id"), deleted=R.BOOL, id=R.S))
def delete_item(ctx: Ctx, project_id: str, item_id: str) -> dict[str, Any]:
    return knowledge.delete(ctx.tenant, project_id, item_id)


@endpoint(bp, "/api/projects/{project_id}/knowledge/{item_id}/use", "POST", summary="Count one use of an item",
          tag="knowledge",
          response=R.KNOWLEDGE)
def use(ctx: Ctx, project_id: str, item_id: str) -> dict[str, Any]:
    return knowledge.use(ctx.tenant, project_id, item_id)
