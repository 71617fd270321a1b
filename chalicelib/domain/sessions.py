"""Sessions: lifecycle rules and the session record. Storage keeps the counters exact."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib.domain.common import json_number, page_json
from chalicelib.errors import BadRequest, Conflict, NotFound
from chalicelib.logs import event, get_logger
from chalicelib.pricing import session_cost
from chalicelib.storage import sessions as store
from chalicelib.storage.common import Tx
from chalicelib.storage.models import HandoffItem, SessionItem
from chalicelib.transcripts.redact import redact_fields

RECORD_FIELDS = ("accomplishments", "blockers", "decisions", "learnings", "next_steps", "errors", "links",
                 "done_items")
SCALAR_FIELDS = ("title", "goal", "ai_account", "model", "credit_budget", "credits_used", "tasks_planned",
                 "tasks_completed", "duration_s")
# A session is one DynamoDB item (400 KB at most): its record lists together keep well inside that.
RECORD_MAX_BYTES = 256 * 1024
# User-typed text, redacted on write (the ai_account id is an id, kept).
TEXT_FIELDS = ("title", "goal", "model", "agent", *RECORD_FIELDS)
# The agent's session id is chosen by the client and could hold anything: redacted on write and,
# the same way, on lookup, so the same id still finds its session.
ID_FIELDS = ("external_id",)
log = get_logger("sessions")
TRANSITIONS = {"in_progress": {"completed", "failed"}, "completed": set(), "failed": set()}


def session_json(s: SessionItem) -> dict[str, Any]:
    rec = s.record or {}
    out: dict[str, Any] = {
        "project_id": s.project_id,
        "number": int(s.number),
        "status": s.status,
        "title": s.title,
        "goal": s.goal,
        "ai_account": s.ai_account,
        "model": s.model,
        "credit_budget": json_number(s.credit_budget),
        "credits_used": json_number(s.credits_used),
        "tasks_planned": json_number(s.tasks_planned),
        "tasks_completed": json_number(s.tasks_completed),
        "started_at": s.started_at,
        "ended_at": s.ended_at,
        "duration_s": None if s.duration_s is None else json_number(s.duration_s),
        "files": json_number(s.files),
        "handoff_mode": s.handoff_mode,
        "started_from_handoff": None if s.starting_handoff is None else int(s.starting_handoff),
        "handoff": s.handoff,
        "warnings": list(s.start_warnings or []),
        "transcript": None,
        "cost": None,  # dollars from the transcript's tokens (see chalicelib.pricing); credits stay as typed
        "external_id": s.external_id,
        "agent": s.agent,
    }
    for f in RECORD_FIELDS:
        out[f] = list(rec.get(f) or [])
    if s.transcript is not None:
        t = s.transcript
        out["transcript"] = {
            "format": t.format, "messages": json_number(t.messages), "chars": json_number(t.chars),
            "tool_calls": json_number(t.tool_calls), "tool_errors": json_number(t.tool_errors), "tokens": json_number(t.tokens),
            **{k: None if getattr(t, k) is None else json_number(getattr(t, k))
               for k in ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")},
            "redactions": t.redactions or {}, "uploaded_at": t.uploaded_at,
            "peak_context_tokens": None if t.peak_context_tokens is None else json_number(t.peak_context_tokens),
            "started_at": t.started_at, "ended_at": t.ended_at,
        }
        out["cost"] = session_cost(t.usage_by_model, s.model, out["transcript"])
    return out


def handoff_summary(h: HandoffItem | None, number: int | None = None) -> dict[str, Any] | None:
    """The starting context of a session: the handoff it starts from, ready or still being made.

    `number` is the session whose handoff the session starts from; while that handoff is queued
    or running (or its item not written yet) the answer says `pending`, never an older document.
    """
    if h is None:
        if number is None:
            return None
        return {"status": "pending", "from_session": number, "method": None, "markdown": None, "data": None,
                "finished_at": None, "reason": None}
    status = "pending" if h.status in ("pending", "running") else h.status
    ready = h.status == "ready" or bool(h.markdown)  # a regeneration keeps serving the ready document
    return {
        "status": "ready" if ready else status,
        "from_session": int(h.number),
        "mode": h.mode,
        "method": h.method,
        "markdown": h.markdown if ready else None,
        "data": h.data if ready else None,
        "finished_at": h.finished_at,
        "reason": h.reason,
        "older_transcript": bool(h.transcript_replaced_at),
    }


def _with_newer_items(tenant: str, project_id: str, status: str, sh: dict[str, Any] | None) -> dict[str, Any] | None:
    """A running session's ready starting handoff, with the open items it does not carry yet."""
    if sh is not None and status == "in_progress" and sh["status"] == "ready":
        from chalicelib.domain.open_items import added_since

        sh["open_items_since"] = added_since(tenant, project_id, sh.get("data"))
    return sh


def create(tenant: str, project_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Start a session; with `external_id`, the agent's session id, the same id always gets the same
    session (`created` says whether this call made it), however many calls race."""
    session, handoff, created = store.create_or_link_session(tenant, project_id,
                                                             redact_fields(body, (*TEXT_FIELDS, *ID_FIELDS)))
    out = session_json(session)
    out["starting_handoff"] = _with_newer_items(tenant, project_id, session.status,
                                                handoff_summary(handoff, out["started_from_handoff"]))
    out["created"] = created
    return out


def find_external(tenant: str, project_id: str, external_id: str) -> dict[str, Any] | None:
    """The session of an agent's session id, or None."""
    external_id = redact_fields({"external_id": external_id}, ID_FIELDS)["external_id"]
    s = store.find_by_external_id(tenant, project_id, external_id)
    return None if s is None else session_json(s)


def get(tenant: str, project_id: str, number: int) -> dict[str, Any]:
    """A session with the handoff it started from (read now: a pending one may be ready since)."""
    from chalicelib.storage.handoffs import find_handoff

    s = store.get_session(tenant, project_id, number)
    out = session_json(s)
    start = out["started_from_handoff"]
    out["starting_handoff"] = None if start is None else _with_newer_items(
        tenant, project_id, s.status, handoff_summary(find_handoff(tenant, project_id, start), start))
    return out


def list_page(tenant: str, project_id: str, *, limit: int, cursor: str | None,
              descending: bool = False) -> dict[str, Any]:
    from chalicelib.storage.projects import get_project

    items, nxt = store.list_sessions(tenant, project_id, limit=limit, cursor=cursor, descending=descending)
    return page_json(items, nxt, cursor=cursor, render=session_json, parent=lambda: get_project(tenant, project_id))


def list_in_progress(tenant: str, *, limit: int, cursor: str | None) -> dict[str, Any]:
    items, nxt = store.list_in_progress(tenant, limit=limit, cursor=cursor)
    return {"items": [session_json(s) for s in items], "next_cursor": nxt}


def check_record_size(rec: dict[str, Any]) -> None:
    """Refuse record lists that, together, would not fit the session's item (400 naming the largest)."""
    sizes = {f: sum(len(x.encode("utf-8")) for x in rec.get(f) or []) for f in RECORD_FIELDS}
    total = sum(sizes.values())
    if total > RECORD_MAX_BYTES:
        largest = max(sizes, key=lambda f: sizes[f])
        raise BadRequest(f"the session's lists would total {total:,} bytes; a session keeps at most "
                         f"{RECORD_MAX_BYTES:,} ({largest} is the largest at {sizes[largest]:,}): summarise, or "
                         "move long text to the knowledge base", code="record_too_large", field=largest)


def apply_changes(s: SessionItem, body: dict[str, Any]) -> None:
    """Apply a validated PATCH/complete body to a session, enforcing the lifecycle."""
    new_status = body.get("status")
    if new_status and new_status != s.status:
        if new_status not in TRANSITIONS[s.status]:
            raise Conflict(f"session {int(s.number)} is {s.status}; it cannot become {new_status}",
                           code="invalid_transition")
        s.status = new_status
    elif new_status and new_status != "in_progress":
        raise Conflict(f"session {int(s.number)} is already {s.status}", code="invalid_transition")
    for f in SCALAR_FIELDS:
        if f in body:
            setattr(s, f, body[f])
    if any(f in body for f in RECORD_FIELDS):
        rec = dict(s.record or {})
        for f in RECORD_FIELDS:
            if f in body:
                rec[f] = list(body[f])
        check_record_size(rec)
        s.record = rec
    if "handoff_mode" in body:
        s.handoff_mode = body["handoff_mode"]
        if new_status and new_status != "in_progress":
            # completing queues the handoff: say so in the same write, so a session started right
            # after this one waits for that handoff instead of taking an older one
            version = int((s.handoff or {}).get("version") or 0) + 1
            s.handoff = {"status": "pending", "method": None, "version": version, "finished_at": None}


def update(tenant: str, project_id: str, number: int, body: dict[str, Any], *,
           also: Callable[[Tx, SessionItem], None] | None = None) -> dict[str, Any]:
    """Change a session; its `done_items` (ids or texts) close ledger items at once, before any
    handoff job of this session reads the ledger. `also` adds writes to the session's transaction."""
    from chalicelib.domain import open_items

    body = redact_fields(body, TEXT_FIELDS)
    session = store.update_session(tenant, project_id, number, lambda s: apply_changes(s, body), also=also)
    out = session_json(session)
    if session.status != "in_progress" and (body.get("next_steps") or body.get("blockers")):
        open_items.record_session(tenant, project_id, number, next_steps=out["next_steps"],
                                  blockers=out["blockers"], done=out["done_items"])
    if body.get("done_items"):
        out["closed_items"] = open_items.close_items(tenant, project_id, body["done_items"], number,
                                                     check_session=False)
    return out


def complete(tenant: str, project_id: str, number: int, body: dict[str, Any], *, mode: str = "auto",
             budget_chars: int | None = None) -> dict[str, Any]:
    """Finish a session and queue its handoff: `{"session", "handoff"}`.

    The status change and the pending handoff job are one transaction, so no fault can leave a
    finished session without its job. What follows it (the open items, handing the job to the
    runner) can still be cut short by a fault or a lost answer: a retry of the same complete then
    finishes that work and answers as the first would have, instead of 409; only a complete whose
    handoff is already claimed by a runner (or asking another status) is a 409 `invalid_transition`."""
    from chalicelib.domain import handoffs
    from chalicelib.storage import handoffs as handoff_store

    status = body.get("status") or "completed"
    queued: dict[str, Any] = {}

    def also(tx: Tx, s: SessionItem) -> None:
        item = handoff_store.add_request(tx, tenant, project_id, number, mode=mode, budget_chars=budget_chars)
        s.handoff = handoff_store.mirror_of(item)
        queued["item"] = item

    try:
        session = update(tenant, project_id, number, {**body, "status": status, "handoff_mode": mode}, also=also)
    except Conflict as e:
        if e.code != "invalid_transition":
            raise
        return _complete_again(tenant, project_id, number, status, mode, budget_chars, e)
    return {"session": session, "handoff": handoffs.queue(tenant, project_id, number, queued["item"])}


def _complete_again(tenant: str, project_id: str, number: int, status: str, mode: str, budget_chars: int | None,
                    conflict: Conflict) -> dict[str, Any]:
    """A complete of a session already `status`: finish what a fault cut short, or the 409."""
    from chalicelib.domain import handoffs, open_items
    from chalicelib.storage import handoffs as handoff_store

    s = store.get_session(tenant, project_id, number, consistent=True)
    try:
        h = handoff_store.get_handoff(tenant, project_id, number, consistent=True)
    except NotFound:
        h = None  # completed before completing wrote its job in the same transaction
    claimed = h is not None and h.status in ("running", "ready")  # a failed one is queued again
    if s.status != status or claimed:
        raise conflict
    rec = s.record or {}
    if rec.get("next_steps") or rec.get("blockers"):  # idempotent: items already open stay as they are
        open_items.record_session(tenant, project_id, number, next_steps=list(rec.get("next_steps") or []),
                                  blockers=list(rec.get("blockers") or []), done=list(rec.get("done_items") or []))
    if h is None or h.status == "failed":
        handoff = handoffs.request(tenant, project_id, number, mode=mode, budget_chars=budget_chars,
                                   session_status=s.status)
    else:  # pending and never claimed: its job never reached the runner (or its queueing was lost)
        handoff = handoffs.queue(tenant, project_id, number, h)
    event(log, "complete_resumed", project_id=project_id, number=number, handoff=None if h is None else h.status)
    return {"session": session_json(store.get_session(tenant, project_id, number, consistent=True)),
            "handoff": handoff}


def append_record(tenant: str, project_id: str, number: int, field: str, text: str) -> dict[str, Any]:
    """Add one item to a session's record list (decisions, blockers, ...) under the session's rev
    lock, so two agents reporting at once both land (a read-then-PATCH would lose one)."""
    if field not in RECORD_FIELDS:
        raise BadRequest(f"{field} is not a record list", field="field")
    text = redact_fields({field: [text]}, TEXT_FIELDS)[field][0]

    def apply(s: SessionItem) -> None:
        rec = dict(s.record or {})
        items = [*(rec.get(field) or []), text]
        if len(items) > 200:
            raise BadRequest(f"session {number} already holds 200 {field}", field="text")
        rec[field] = items
        check_record_size(rec)
        s.record = rec

    return session_json(store.update_session(tenant, project_id, number, apply))
