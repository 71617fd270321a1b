"""The project's open-items ledger: next steps, blockers and todos stay open until marked done.

The ledger, not the handoff a session happened to start from, is where open items live. A handoff
job reads it when it runs (so fast or parallel sessions cannot split it into two chains) and
writes the session's new and closed items back. Items are closed by `done_items` (ids or texts)
on complete or PATCH, by the dashboard's checklist, and by `close_items` (MCP).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from chalicelib.domain.common import page_json
from chalicelib.storage import keys
from chalicelib.storage import open_items as store
from chalicelib.storage.models import OpenItem
from chalicelib.text import norm_key, one_line

KINDS = ("next_step", "blocker", "todo")
_ID = re.compile(r"^[0-9a-f]{10}$")
MAX_TEXT = 4000


def item_json(it: OpenItem) -> dict[str, Any]:
    return {"id": it.id, "text": it.text, "kind": it.kind, "status": it.status, "source": it.source,
            "opened_by": int(it.opened_by), "opened_at": it.opened_at,
            "closed_by": None if it.closed_by is None else int(it.closed_by), "closed_at": it.closed_at}


def id_for_text(text: str) -> str | None:
    key = norm_key(text)
    return keys.item_id(key) if key else None


def list_page(tenant: str, project_id: str, *, status: str, limit: int, cursor: str | None) -> dict[str, Any]:
    from chalicelib.storage.projects import get_project

    items, nxt = store.list_items(tenant, project_id, status=None if status == "all" else status,
                                  limit=limit, cursor=cursor)
    items.sort(key=lambda it: (int(it.opened_by), it.opened_at or ""))
    return page_json(items, nxt, cursor=cursor, render=item_json, parent=lambda: get_project(tenant, project_id))


def _resolve(tenant: str, project_id: str, ref: str) -> OpenItem | None:
    """An item named by its id or by its text (case, punctuation and spacing do not matter)."""
    ref = ref.strip()
    if _ID.match(ref):
        found = store.get_item(tenant, project_id, ref, consistent=True)
        if found is not None:
            return found
    iid = id_for_text(ref)
    return store.get_item(tenant, project_id, iid, consistent=True) if iid else None


def close_items(tenant: str, project_id: str, refs: Iterable[str], session: int, *,
                check_session: bool = True) -> dict[str, Any]:
    """Mark ledger items done by `session`. Each ref is an item id or an item's text.

    Returns {"closed": [items closed now], "already_closed": [ids], "unmatched": [refs]}; closing
    twice is harmless, and a text that names no item is reported, not an error (it may still
    close an item of the handoff by matching a todo of the transcript).
    """
    if check_session:
        from chalicelib.storage.sessions import get_session

        get_session(tenant, project_id, session)  # 404 for a session that does not exist
    closed: list[dict[str, Any]] = []
    already: list[str] = []
    unmatched: list[str] = []
    for ref in dict.fromkeys(r for r in refs if isinstance(r, str) and r.strip()):
        found = _resolve(tenant, project_id, ref)
        if found is None:
            unmatched.append(ref)
            continue
        done = store.close_item(tenant, project_id, found.id, session=session)
        if done is not None:
            closed.append(item_json(done))
        else:
            already.append(found.id)
    return {"closed": closed, "already_closed": already, "unmatched": unmatched}


def record_session(tenant: str, project_id: str, number: int, *, next_steps: Iterable[str],
                   blockers: Iterable[str], done: Iterable[str] = ()) -> int:
    """Open a finished session's next steps and blockers at once, when it is completed.

    The handoff job would add them too (idempotently), but jobs run in the background and may
    finish out of order: written here, they are in the ledger before the next session can even
    complete, so its handoff cannot miss them. Items the session also marks done are skipped.
    """
    done_ids = {id_for_text(r) for r in done if isinstance(r, str)} | {r for r in done if isinstance(r, str)}
    added = 0
    for kind, texts in (("next_step", next_steps), ("blocker", blockers)):
        for text in texts:
            iid = id_for_text(text) if isinstance(text, str) else None
            if iid is None or iid in done_ids:
                continue
            added += store.add_item(tenant, project_id, iid, text=one_line(text)[:MAX_TEXT], kind=kind,
                                    session=number, source="session")
    return added


def added_since(tenant: str, project_id: str, handoff_data: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Open items of the ledger that a handoff does not carry: opened after it was written (by a
    session that ran beside the one it was made from). A session starting from that handoff gets
    them beside it, so parallel sessions cannot leave a next step out of its prompt. 1 Query."""
    carried = {id_for_text(it.get("text", "")) for it in (handoff_data or {}).get("open_items") or []
               if isinstance(it, dict)}
    items, _ = store.list_items(tenant, project_id, status="open", limit=100, cursor=None)
    return [item_json(it) for it in sorted(items, key=lambda i: (int(i.opened_by), i.opened_at or ""))
            if it.id not in carried]


def for_handoff(tenant: str, project_id: str, number: int) -> dict[str, Any]:
    """What the handoff of session `number` starts from, read when the job runs.

    Returns {"open_items": [the builder's `previous["open_items"]` shape], "closed_here": [texts
    this session closed], "empty": no item at all yet}. Items this session closed are handed over
    too, with their texts among its done items, so the document lists them as closed by it (also
    on a regeneration).
    """
    items = store.all_items(tenant, project_id)
    prev: list[dict[str, Any]] = []
    done: list[str] = []
    for it in sorted(items, key=lambda i: (int(i.opened_by), i.opened_at or "")):
        closed_here = it.status == "closed" and it.closed_by is not None and int(it.closed_by) == number
        if it.status == "open" or closed_here:
            prev.append({"id": it.id, "text": it.text, "kind": it.kind, "since_session": int(it.opened_by),
                         "source": "ledger", **({"origin": "handoff"} if it.source == "handoff" else {})})
        if closed_here:
            done.append(it.text)
    return {"open_items": prev, "closed_here": done, "empty": not items}


def done_texts(tenant: str, project_id: str, refs: Iterable[str]) -> list[str]:
    """A session's `done_items` as texts: ids are replaced by their item's text."""
    out: list[str] = []
    for ref in refs:
        if isinstance(ref, str) and _ID.match(ref.strip()):
            found = store.get_item(tenant, project_id, ref.strip())
            out.append(found.text if found is not None else ref)
        else:
            out.append(ref)
    return out


def write_back(tenant: str, project_id: str, number: int, data: dict[str, Any], *,
               carried_too: bool = False) -> dict[str, int]:
    """Record what the handoff of session `number` found: its new open items and the items it closed.

    Carried items are in the ledger already; writing them again could reopen an item another
    session closed meanwhile, so they are skipped (unless the ledger was seeded from an older
    handoff, `carried_too`).
    """
    added = closed = 0
    for it in data.get("open_items") or []:
        if not isinstance(it, dict) or not isinstance(it.get("text"), str):
            continue
        source = str(it.get("source") or "session")
        if source in ("ledger", "carried") and not carried_too:
            continue
        iid = id_for_text(it["text"])
        if iid is None:
            continue
        kind = it.get("kind") if it.get("kind") in KINDS else "next_step"
        since = it.get("since_session")
        opened_by = int(since) if isinstance(since, int) and 0 < since <= number else number
        added += store.add_item(tenant, project_id, iid, text=one_line(it["text"])[:MAX_TEXT], kind=kind,
                                session=opened_by, source="carried" if source == "carried" else source)
    for it in data.get("closed_items") or []:
        if not isinstance(it, dict) or not isinstance(it.get("text"), str):
            continue
        iid = id_for_text(it["text"])
        if iid and store.close_item(tenant, project_id, iid, session=number) is not None:
            closed += 1
    return {"added": added, "closed": closed}
