"""Projects: create, read, change, delete; their JSON form."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.common import json_number
from chalicelib.errors import BadRequest
from chalicelib.storage import projects as store
from chalicelib.storage.models import ProjectItem
from chalicelib.transcripts.redact import redact_fields

TEXT_FIELDS = ("name", "description", "goal", "pins")  # user-typed: redacted on write
# Pins live on the project item and go into every handoff: together they keep well inside an item.
PINS_MAX_BYTES = 128 * 1024


def check_pins(pins: list[str] | None) -> None:
    """Refuse pins that, together, no item could hold (400 naming `pins`)."""
    total = sum(len(p.encode("utf-8")) for p in pins or [])
    if total > PINS_MAX_BYTES:
        raise BadRequest(f"the pins total {total:,} bytes; a project keeps at most {PINS_MAX_BYTES:,} of pins "
                         "(pin the essentials; long notes belong in the knowledge base)", code="pins_too_large",
                         field="pins")


def project_json(p: ProjectItem) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "description": p.description,
        "goal": p.goal,
        "pins": list(p.pins or []),
        "created_at": p.created_at,
        "updated_at": p.updated_at,
        "sessions": {
            "total": json_number(p.session_count),
            "in_progress": json_number(p.sessions_in_progress),
            "completed": json_number(p.sessions_completed),
            "failed": json_number(p.sessions_failed),
        },
        "credit_budget": json_number(p.credit_budget),
        "credits_used": json_number(p.credits_used),
        "tasks_planned": json_number(p.tasks_planned),
        "tasks_completed": json_number(p.tasks_completed),
        "duration_s": json_number(p.duration_s),
        "errors": json_number(p.errors),
        "handoffs_ready": json_number(p.handoffs_ready),
        "latest_handoff": None if p.latest_handoff is None else int(p.latest_handoff),
        "knowledge_items": json_number(p.knowledge_count),
    }


def create(tenant: str, body: dict[str, Any]) -> dict[str, Any]:
    check_pins(body.get("pins"))
    body = redact_fields(body, TEXT_FIELDS)
    item = store.create_project(tenant, name=body["name"].strip(), description=body.get("description"),
                                goal=body.get("goal"), pins=body.get("pins"))
    return project_json(item)


def get(tenant: str, project_id: str) -> dict[str, Any]:
    return project_json(store.get_project(tenant, project_id))


def list_page(tenant: str, *, limit: int, cursor: str | None) -> dict[str, Any]:
    items, nxt = store.list_projects(tenant, limit=limit, cursor=cursor)
    return {"items": [project_json(p) for p in items], "next_cursor": nxt}


def update(tenant: str, project_id: str, body: dict[str, Any]) -> dict[str, Any]:
    check_pins(body.get("pins"))
    changes = redact_fields(body, TEXT_FIELDS)
    if "name" in changes:
        changes["name"] = changes["name"].strip()
    return project_json(store.update_project(tenant, project_id, changes))


def set_pins(tenant: str, project_id: str, pins: list[str]) -> dict[str, Any]:
    """Replace the pinned context: items every handoff carries verbatim."""
    check_pins(pins)
    pins = redact_fields({"pins": pins}, ("pins",))["pins"]
    store.update_project(tenant, project_id, {"pins": pins})
    return {"items": pins}


def delete(tenant: str, project_id: str) -> dict[str, Any]:
    removed = store.delete_project(tenant, project_id)
    from chalicelib.search.service import forget_project

    forget_project(tenant, project_id)  # its search index goes with it
    return {"deleted": project_id, "items_removed": removed}
