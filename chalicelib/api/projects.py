"""Project routes."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api import responses as R
from chalicelib.api import schemas
from chalicelib.api.common import Ctx, endpoint
from chalicelib.domain import projects

bp = Blueprint(__name__)
_PID = {"project_id": "$response.body#/id"}
LINK_PROJECT = {  # what a new project leads to: its sessions above all (a stateful fuzzer follows these)
    "GetProject": ("GET", "/api/projects/{project_id}", _PID),
    "CreateSession": ("POST", "/api/projects/{project_id}/sessions", _PID),
    "ListSessions": ("GET", "/api/projects/{project_id}/sessions", _PID),
    "GetTimeline": ("GET", "/api/projects/{project_id}/timeline", _PID),
    "PutPins": ("PUT", "/api/projects/{project_id}/pins", _PID),
    "AddKnowledge": ("POST", "/api/projects/{project_id}/knowledge", _PID),
    "PatchProject": ("PATCH", "/api/projects/{project_id}", _PID),
    "DeleteProject": ("DELETE", "/api/projects/{project_id}", _PID),
    "ListOpenItems": ("GET", "/api/projects/{project_id}/open-items", _PID),
    "CloseOpenItems": ("POST", "/api/projects/{project_id}/open-items/close", _PID),
}


@endpoint(bp, "/api/projects", "POST", summary="Create a project", tag="projects", status=201,
          body=schemas.PROJECT_CREATE,
          response=R.PROJECT, links=LINK_PROJECT)
def create_project(ctx: Ctx) -> dict[str, Any]:
    return projects.create(ctx.tenant, ctx.json(schemas.PROJECT_CREATE))


@endpoint(bp, "/api/projects", "GET", summary="List projects", tag="projects", query=schemas.PAGE,
          response=R.page(R.PROJECT))
def list_projects(ctx: Ctx) -> dict[str, Any]:
    limit, cursor = ctx.page_args()
    return projects.list_page(ctx.tenant, limit=limit, cursor=cursor)


@endpoint(bp, "/api/projects/{project_id}", "GET", summary="Get a project", tag="projects",
          response=R.PROJECT)
def get_project(ctx: Ctx, project_id: str) -> dict[str, Any]:
    return projects.get(ctx.tenant, project_id)


@endpoint(bp, "/api/projects/{project_id}", "PATCH", summary="Change a project", tag="projects",
          body=schemas.PROJECT_PATCH,
          response=R.PROJECT)
def patch_project(ctx: Ctx, project_id: str) -> dict[str, Any]:
    return projects.update(ctx.tenant, project_id, ctx.json(schemas.PROJECT_PATCH))


@endpoint(bp, "/api/projects/{project_id}", "DELETE", summary="Delete a project and everything in it",
          tag="projects",
          response=R.DELETED)
def delete_project(ctx: Ctx, project_id: str) -> dict[str, Any]:
    return projects.delete(ctx.tenant, project_id)


@endpoint(bp, "/api/projects/{project_id}/pins", "PUT", summary="Replace the pinned context", tag="projects",
          body=schemas.PINS_PUT,
          response=R.PINS)
def put_pins(ctx: Ctx, project_id: str) -> dict[str, Any]:
    body = ctx.json(schemas.PINS_PUT)
    return projects.set_pins(ctx.tenant, project_id, body["items"] if isinstance(body, dict) else body)


@endpoint(bp, "/api/projects/{project_id}/pins", "GET", summary="Get the pinned context", tag="projects",
          response=R.PINS)
def get_pins(ctx: Ctx, project_id: str) -> dict[str, Any]:
    return {"items": projects.get(ctx.tenant, project_id)["pins"]}
