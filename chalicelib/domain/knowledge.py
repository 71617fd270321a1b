"""Knowledge base: reusable patterns, solutions and lessons, added by hand or offered by sessions
(their recorded learnings become items when the session's handoff is made), searchable across
a tenant's projects, with usage counts."""

from __future__ import annotations

import hashlib
from typing import Any

from chalicelib.domain.common import page_json
from chalicelib.storage import knowledge as store
from chalicelib.storage.common import new_id
from chalicelib.storage.models import KnowledgeItem
from chalicelib.transcripts.redact import redact_fields

TEXT_FIELDS = ("title", "body", "tags")  # user-typed: redacted on write


def item_json(k: KnowledgeItem) -> dict[str, Any]:
    return {"id": k.id, "project_id": k.project_id, "kind": k.kind, "title": k.title, "body": k.body,
            "tags": list(k.tags or []), "source_session": None if k.source_session is None else int(k.source_session),
            "uses": int(k.uses or 0), "created_at": k.created_at}


def create(tenant: str, project_id: str, body: dict[str, Any]) -> dict[str, Any]:
    body = redact_fields(body, TEXT_FIELDS)
    item, _ = store.put_item(tenant, project_id, new_id(), kind=body.get("kind", "lesson"), title=body["title"].strip(),
                             body=body["body"], tags=body.get("tags") or [], source_session=None)
    return item_json(item)


def _title(text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else text
    return first if len(first) <= 120 else first[:117].rsplit(" ", 1)[0] + "..."


def offer_learnings(tenant: str, project_id: str, number: int, learnings: list[str]) -> int:
    """Turn a session's learnings into knowledge items; idempotent (content-addressed ids)."""
    created = 0
    for text in learnings:
        text = text.strip()
        if not text:
            continue
        item_id = "l" + hashlib.sha256(f"{project_id}\n{text}".encode()).hexdigest()[:20]
        _, new = store.put_item(tenant, project_id, item_id, kind="lesson", title=_title(text), body=text,
                                tags=[f"session-{number}"], source_session=number)
        created += int(new)
    return created


def list_project(tenant: str, project_id: str, *, limit: int, cursor: str | None) -> dict[str, Any]:
    from chalicelib.storage.projects import get_project

    items, nxt = store.list_project(tenant, project_id, limit=limit, cursor=cursor)
    return page_json(items, nxt, cursor=cursor, render=item_json, parent=lambda: get_project(tenant, project_id))


def search(tenant: str, *, q: str | None, limit: int, cursor: str | None) -> dict[str, Any]:
    items, nxt = store.search_tenant(tenant, q=q, limit=limit, cursor=cursor)
    return {"items": [item_json(k) for k in items], "next_cursor": nxt}


def use(tenant: str, project_id: str, item_id: str) -> dict[str, Any]:
    return item_json(store.count_use(tenant, project_id, item_id))
