"""Knowledge base: reusable patterns, solutions and lessons, added by hand or offered by sessions
(their recorded learnings become items when the session's handoff is made), searchable across
a tenant's projects, with usage counts."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from chalicelib.domain.common import page_json
from chalicelib.errors import NotFound
from chalicelib.storage import knowledge as store
from chalicelib.storage.common import bad_cursor, new_id, pack_cursor, unpack_cursor
from chalicelib.storage.models import KnowledgeItem
from chalicelib.transcripts.redact import redact_fields

TEXT_FIELDS = ("title", "body", "tags")  # user-typed: redacted on write


def item_json(k: KnowledgeItem) -> dict[str, Any]:
    return {"id": k.id, "project_id": k.project_id, "kind": k.kind, "title": k.title, "body": k.body or "",
            "tags": list(k.tags or []), "source_session": None if k.source_session is None else int(k.source_session),
            "uses": int(k.uses or 0), "created_at": k.created_at, "updated_at": k.updated_at}


def create(tenant: str, project_id: str, body: dict[str, Any]) -> dict[str, Any]:
    body = redact_fields(body, TEXT_FIELDS)
    item, _ = store.put_item(tenant, project_id, new_id(), kind=body.get("kind", "lesson"), title=body["title"].strip(),
                             body=body["body"], tags=body.get("tags") or [], source_session=None)
    return item_json(item)


def split_learning(text: str) -> tuple[str, str | None]:
    """(title, body) of a learning: the title is its first sentence (clipped), the body what follows.

    A one-sentence learning is all title: repeating it as the body said it twice.
    """
    from chalicelib.handoff.textutil import clip

    text = text.strip()
    if "\n" not in text and len(text) <= 120:  # short enough to be the title itself
        return text, None
    first, _, rest = text.partition("\n")
    m = re.search(r"(?<=[.!?])\s+", first)
    if m and m.start() >= 20:
        first, rest = first[:m.start()], (first[m.end():] + ("\n" + rest if rest else "")).strip()
    title = clip(first.strip(), 120)
    if title != first.strip():  # the title was cut: the body keeps the whole text
        return title, text
    return title, rest.strip() or None


def offer_learnings(tenant: str, project_id: str, number: int, learnings: list[str]) -> int:
    """Turn a session's learnings into knowledge items; idempotent (content-addressed ids)."""
    created = 0
    for text in learnings:
        text = text.strip()
        if not text:
            continue
        item_id = "l" + hashlib.sha256(f"{project_id}\n{text}".encode()).hexdigest()[:20]
        title, body = split_learning(text)
        _, new = store.put_item(tenant, project_id, item_id, kind="lesson", title=title, body=body,
                                tags=[f"session-{number}"], source_session=number)
        created += int(new)
    return created


def list_project(tenant: str, project_id: str, *, limit: int, cursor: str | None) -> dict[str, Any]:
    """A project's items, newest first."""
    from chalicelib.storage.projects import get_project

    items = store.project_items(tenant, project_id)
    page, nxt = _offset_page(items, limit, cursor, scope=f"p:{project_id}")
    return page_json(page, nxt, cursor=cursor, render=item_json, parent=lambda: get_project(tenant, project_id))


def _offset_page(items: list[Any], limit: int, cursor: str | None, *, scope: str) -> tuple[list[Any], str | None]:
    start = 0
    if cursor:
        plain = unpack_cursor(cursor)
        if plain.get("s") != scope or type(plain.get("o")) is not int or plain["o"] < 0:  # bool is an int
            raise bad_cursor("cursor does not belong to this list")
        start = plain["o"]
    end = start + limit
    return items[start:end], (pack_cursor({"s": scope, "o": end}) if end < len(items) else None)


def score(k: KnowledgeItem, terms: list[str]) -> float:
    """Relevance of an item to the query terms: every term must occur; a title hit counts most,
    then a tag, then the body (each occurrence counts, with diminishing returns)."""
    title, body = k.title.lower(), (k.body or "").lower()
    tags = [t.lower() for t in k.tags or []]
    total = 0.0
    for t in terms:
        in_title, in_body = title.count(t), body.count(t)
        in_tags = sum(4 if tag == t else 2 for tag in tags if t in tag)  # a whole tag counts more
        if not (in_title or in_body or in_tags):
            return 0.0
        total += 6 * min(in_title, 3) + min(in_tags, 8) + min(in_body, 10) ** 0.5
    return total


def search(tenant: str, *, q: str | None, limit: int, cursor: str | None, project_id: str | None = None,
           kind: str | None = None) -> dict[str, Any]:
    """Across the tenant's projects. Without `q`: newest first. With `q`: ranked by relevance over
    title, tags and body (every word must match), then newest first; pages are always full."""
    terms = [t for t in (q or "").lower().split() if t]
    if not terms:
        items, nxt = store.list_tenant(tenant, project_id=project_id, kind=kind, limit=limit, cursor=cursor)
        return {"items": [item_json(k) for k in items], "next_cursor": nxt}
    ranked = [(score(k, terms), k) for k in store.all_tenant(tenant, project_id=project_id, kind=kind)]
    ranked = [(s, k) for s, k in ranked if s > 0]
    ranked.sort(key=lambda sk: sk[1].created_at or "", reverse=True)  # newest first among equals
    ranked.sort(key=lambda sk: -sk[0])
    scope = hashlib.sha256(f"{' '.join(terms)}|{project_id}|{kind}".encode()).hexdigest()[:12]
    page, nxt = _offset_page(ranked, limit, cursor, scope=scope)
    return {"items": [{**item_json(k), "score": round(s, 3)} for s, k in page], "next_cursor": nxt}


def update(tenant: str, project_id: str, item_id: str, body: dict[str, Any]) -> dict[str, Any]:
    body = redact_fields(body, TEXT_FIELDS)
    if "title" in body:
        body["title"] = body["title"].strip()
    return item_json(store.update_item(tenant, project_id, item_id, body))


def delete(tenant: str, project_id: str, item_id: str) -> dict[str, Any]:
    store.delete_item(tenant, project_id, item_id)
    return {"deleted": True, "id": item_id}


MAX_FOR_HANDOFF = 30


def for_handoff(tenant: str, project_id: str) -> list[dict[str, Any]]:
    """The project's items a handoff may carry, newest first (one Query); the writer keeps what fits."""
    return [item_json(k) for k in store.project_items(tenant, project_id)[:MAX_FOR_HANDOFF]]


def count_uses(tenant: str, project_id: str, item_ids: list[str]) -> None:
    """A handoff that included an item used it, as a copy does. An item deleted meanwhile is skipped."""
    for item_id in dict.fromkeys(item_ids):
        try:
            store.count_use(tenant, project_id, item_id)
        except NotFound:
            continue


def use(tenant: str, project_id: str, item_id: str) -> dict[str, Any]:
    return item_json(store.count_use(tenant, project_id, item_id))
