"""The agent's own account of a session: notes it writes (`/handoff`, `mso note`, MCP) and the
summaries its harness writes when it compacts the context.

Stored redacted and versioned with the session; the newest version leads the session's handoff,
checked claim by claim against the transcript (chalicelib.handoff.account). A note that arrives
after the session's handoff was made asks for the handoff again, so the account is never lost to
the order in which hooks run.
"""

from __future__ import annotations

from typing import Any

from chalicelib.domain.common import json_number
from chalicelib.errors import Conflict
from chalicelib.logs import event, get_logger
from chalicelib.storage import notes as store
from chalicelib.storage.models import NoteItem
from chalicelib.storage.sessions import get_session
from chalicelib.transcripts.redact import redact_fields

log = get_logger("notes")
KINDS = ("handoff", "compact_summary")
MAX_NOTE_CHARS = 60_000
SOURCES = ("mso note", "mcp", "post-compact", "api", "dashboard")


def note_json(n: NoteItem, *, content: bool = True) -> dict[str, Any]:
    out = {"project_id": n.project_id, "number": json_number(n.number), "version": json_number(n.version),
           "kind": n.kind, "source": n.source, "created_at": n.created_at, "chars": len(n.text)}
    if content:
        out["text"] = n.text
    return out


def add(tenant: str, project_id: str, number: int, body: dict[str, Any]) -> dict[str, Any]:
    """Store the next version of the session's account; regenerate its handoff when one exists."""
    session = get_session(tenant, project_id, number)  # 404 for a session that is not there
    text = redact_fields({"text": body["text"]}, ("text",))["text"]
    item = store.add_note(tenant, project_id, number, kind=body.get("kind") or "handoff", text=text,
                          source=body.get("source") or "api")
    out = note_json(item)
    out["handoff"] = None
    from chalicelib.search.service import queue_index

    queue_index(tenant, project_id, number)
    if session.status != "in_progress" and session.handoff:
        from chalicelib.domain import handoffs

        try:
            h = handoffs.request(tenant, project_id, number, mode=session.handoff_mode or "auto",
                                 session_status=session.status)
            out["handoff"] = {"status": h.get("status"), "version": h.get("version")}
        except Conflict as e:  # a regeneration already running picks the note up when it next runs
            event(log, "note_handoff_not_requested", project_id=project_id, number=number, code=e.code)
    return out


def list_notes(tenant: str, project_id: str, number: int, *, limit: int) -> dict[str, Any]:
    get_session(tenant, project_id, number)
    return {"items": [note_json(n) for n in store.list_notes(tenant, project_id, number, limit=limit)],
            "next_cursor": None}


def account_for(tenant: str, project_id: str, number: int) -> dict[str, Any] | None:
    """The account a handoff leads with: the newest note, as the handoff builder reads it."""
    n = store.latest_note(tenant, project_id, number)
    if n is None:
        return None
    return {"text": n.text, "source": "note" if n.kind == "handoff" else "compact_summary",
            "version": int(n.version), "created_at": n.created_at}
