"""Handoffs: queue a job, run it (rules, or LLM checked against rules), read the result.

`run_job` is the worker: it is called by the SQS Lambda on AWS and by a background thread with
`make dev`. It is idempotent: a duplicate delivery finds the job done (or superseded) and stops.
"""

from __future__ import annotations

import json
import time
import zlib
from typing import Any

from chalicelib import jobs
from chalicelib.config import HANDOFF_BUDGET_CHARS
from chalicelib.domain.projects import project_json
from chalicelib.domain.sessions import session_json
from chalicelib.errors import Conflict, NotFound
from chalicelib.logs import event, get_logger
from chalicelib.storage import files as file_store
from chalicelib.storage import handoffs as store
from chalicelib.storage import transcripts as transcript_store
from chalicelib.storage.models import HandoffItem
from chalicelib.storage.projects import get_project
from chalicelib.storage.sessions import get_session, list_sessions

log = get_logger("handoff")


def handoff_json(h: HandoffItem, *, content: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "project_id": h.project_id,
        "from_session": int(h.number),
        "for_session": int(h.number) + 1,
        "status": h.status,
        "mode": h.mode,
        "method": h.method,
        "reason": h.reason,
        "version": int(h.version or 1),
        "job_id": h.job_id,
        "budget_chars": None if h.budget_chars is None else int(h.budget_chars),
        "input_chars": None if h.input_chars is None else int(h.input_chars),
        "output_chars": None if h.output_chars is None else int(h.output_chars),
        "requested_at": h.requested_at,
        "started_at": h.started_at,
        "finished_at": h.finished_at,
        "timings": h.timings or {},
        "attempts": int(h.attempts or 0),
        "must_keep": h.must_keep or [],
        # the session's transcript was replaced after this document was made: regenerate it
        "older_transcript": bool(h.transcript_replaced_at),
        "transcript_replaced_at": h.transcript_replaced_at,
    }
    if content:
        out["markdown"] = h.markdown
        out["data"] = h.data
    return out


def request(tenant: str, project_id: str, number: int, *, mode: str = "auto", budget_chars: int | None = None,
            session_status: str | None = None) -> dict[str, Any]:
    """Queue the handoff of a finished session (also used to regenerate one).

    `session_status` spares a read when the caller has just written the session.
    """
    status = session_status or get_session(tenant, project_id, number).status
    if status == "in_progress":
        raise Conflict(f"session {number} is still in progress: complete it first "
                       f"(POST .../sessions/{number}/complete)", code="session_in_progress")
    item = store.request_handoff(tenant, project_id, number, mode=mode, budget_chars=budget_chars)
    return queue(tenant, project_id, number, item)


def queue(tenant: str, project_id: str, number: int, item: HandoffItem) -> dict[str, Any]:
    """Hand a pending job item (written already) to the job runner; answers the handoff as it stands."""
    job = {"tenant": tenant, "project_id": project_id, "number": number, "job_id": item.job_id}
    try:
        jobs.enqueue(job, run_job)
    except Exception:
        store.fail(tenant, project_id, number, item.job_id, "the job could not be queued")
        raise
    if jobs.runs_synchronously():  # the job already ran: answer with what it made
        return handoff_json(store.get_handoff(tenant, project_id, number, consistent=True))
    return handoff_json(item)


MIN_CHARS, MAX_CHARS = 2_000, 50_000


def pack_layout(layout: dict[str, Any]) -> bytes:
    """The rules document's layout, compressed (it holds every item up to a 50,000-char budget)."""
    return zlib.compress(json.dumps(layout, ensure_ascii=False, separators=(",", ":")).encode("utf-8"), 6)


def at_budget(h: HandoffItem, max_chars: int | None) -> dict[str, Any]:
    """The handoff rendered at `max_chars` from its stored layout: same ranking, same bytes every time,
    no new job. A document already within the budget is served as it is (an LLM's included); a longer
    LLM document is replaced by the rules rendering at that budget, which the answer says."""
    out = handoff_json(h)
    if max_chars is None or not h.markdown:
        return out
    from chalicelib.handoff.render import render_layout

    if len(h.markdown) <= max_chars and (h.method != "rules" or not h.layout):
        out["max_chars"] = max_chars
        return out
    if not h.layout:  # made before layouts were stored: cut at a section boundary
        md = h.markdown
        while len(md) > max_chars and "\n## " in md:
            md = md[: md.rindex("\n## ")].rstrip() + "\n"
        out.update(markdown=md[:max_chars], output_chars=len(md[:max_chars]), max_chars=max_chars)
        return out
    fitted = render_layout(json.loads(zlib.decompress(h.layout).decode("utf-8")), max_chars)
    out.update(markdown=fitted.markdown, output_chars=len(fitted.markdown), max_chars=max_chars,
               over_budget=fitted.over_budget)
    if h.method != "rules":
        out["rendered_from"] = "rules"
        out["reason"] = (f"the {h.method} document has {len(h.markdown)} characters, over max_chars; this is the "
                         f"rules document at {max_chars}")
    return out


def get(tenant: str, project_id: str, number: int, max_chars: int | None = None) -> dict[str, Any]:
    return at_budget(store.get_handoff(tenant, project_id, number), max_chars)


def latest(tenant: str, project_id: str, max_chars: int | None = None) -> dict[str, Any]:
    """The newest handoff with content: one Query (newest HANDOFF# item) in the usual case.

    A regeneration keeps serving the previous document while it runs, so the newest item has
    content unless it is a first version still pending or failed; then the project's
    `latest_handoff` pointer (moved only by finished jobs) names the one to serve.
    """
    newest = store.newest_handoff(tenant, project_id)
    if newest is not None and newest.markdown:
        return at_budget(newest, max_chars)
    project = get_project(tenant, project_id)
    if project.latest_handoff is None:
        raise NotFound("this project has no ready handoff yet: complete a session first",
                       code="handoff_not_found")
    return at_budget(store.get_handoff(tenant, project_id, int(project.latest_handoff)), max_chars)


def _previous_data(tenant: str, project_id: str, session: Any) -> dict[str, Any] | None:
    """The structured form of the handoff this session started from (carry-forward source)."""
    prev_n = session.starting_handoff
    if prev_n is None:
        return None
    h = store.find_handoff(tenant, project_id, int(prev_n))
    return h.data if h is not None and h.data else None


def _measured_series(tenant: str, project_id: str, upto: int) -> list[dict[str, Any]]:
    items, cursor, out = [], None, []
    while True:
        page, cursor = list_sessions(tenant, project_id, limit=100, cursor=cursor)
        items += page
        if not cursor or (items and int(items[-1].number) >= upto):
            break
    for s in items:
        if int(s.number) <= upto:
            out.append(session_json(s))
    return out


def build_inputs(tenant: str, project_id: str, number: int) -> dict[str, Any]:
    """Everything a handoff is made from, as plain data (the generator itself is pure)."""
    from chalicelib.transcripts.model import FileChange, Message

    project = get_project(tenant, project_id)
    session = get_session(tenant, project_id, number)
    messages: list[Message] = []
    if session.transcript is not None:
        messages = [Message.from_dict(d) for d in transcript_store.iter_messages(
            tenant, project_id, number, session.transcript.upload_id)]
    changes = [FileChange.from_dict({**f.attribute_values, "summary": f.summary or ""})
               for f in file_store.all_session_files(tenant, project_id, number)]
    s = session_json(session)
    s["metrics"] = _metrics_for(tenant, project_id, number)
    from chalicelib.domain.notes import account_for

    s["account"] = account_for(tenant, project_id, number)
    if session.ai_account:  # people read account names, not ids
        from chalicelib.storage.accounts import get_account

        try:
            acc = get_account(tenant, session.ai_account)
            s["ai_account"] = f"{acc.name} ({acc.provider})"
        except NotFound:
            pass
    previous, seed = _with_ledger(tenant, project_id, number, s, _previous_data(tenant, project_id, session))
    from chalicelib.domain.knowledge import for_handoff

    return {"project": project_json(project), "session": s, "messages": messages, "file_changes": changes,
            "previous": previous, "pins": list(project.pins or []), "ledger_seed": seed,
            "knowledge": for_handoff(tenant, project_id)}


def _with_ledger(tenant: str, project_id: str, number: int, session: dict[str, Any],
                 previous: dict[str, Any] | None) -> tuple[dict[str, Any] | None, bool]:
    """Open items come from the project's ledger as it is now, not from the handoff the session
    started from (which may be older than another session's items). Done items given by id are
    turned into their texts, and items closed for this session (checklist, MCP) count as done.

    A project whose ledger is still empty but whose previous handoff lists open items (made
    before the ledger existed) keeps those: they seed the ledger (second value True).
    """
    from chalicelib.domain import open_items

    ledger = open_items.for_handoff(tenant, project_id, number)
    session["done_items"] = (open_items.done_texts(tenant, project_id, session.get("done_items") or [])
                             + ledger["closed_here"])
    if ledger["empty"] and previous and previous.get("open_items"):
        return previous, True
    return {**(previous or {}), "open_items": ledger["open_items"]}, False


def _metrics_for(tenant: str, project_id: str, number: int) -> dict[str, Any]:
    from chalicelib import metrics

    return metrics.session_metrics(_measured_series(tenant, project_id, number), number)


CHECKPOINT_CHARS = 2_500
# What a running session needs back after its context was compacted: where it stands, not its history.
CHECKPOINT_SECTIONS = ("account_current_work", "account_checked", "account_left", "account_next_action",
                       "current_work", "next_action", "state", "open_items", "pins")


def checkpoint(tenant: str, project_id: str, number: int, max_chars: int | None = None) -> dict[str, Any]:
    """The state of a session as its transcript so far shows it, for the agent after a compaction.

    Synchronous and rules only (no job, no LLM: the agent is waiting): the same facts and checks as
    the handoff, cut to the sections that say where the work stands, headed as this session's own
    state so it is never mistaken for the previous session's handoff."""
    from chalicelib.handoff.render import render_layout
    from chalicelib.handoff.rules import build_handoff

    inputs = build_inputs(tenant, project_id, number)
    s = inputs["session"]
    doc = build_handoff(project=inputs["project"], session=s, messages=inputs["messages"],
                        file_changes=inputs["file_changes"], previous=inputs["previous"], pins=inputs["pins"],
                        generated_at=_now())
    when = (s.get("transcript") or {}).get("ended_at") or _now()
    header = (f"# This session's state after compaction: {inputs['project']['name']}, session {number}\n\n"
              f"From the transcript up to {when}: checks, git and tasks as they stand now.\n")
    # the session is still running: its state is as of now, not "at the end of session n"
    sections = [{**sec, "title": f"State of session {number} so far"} if sec.get("key") == "state" else sec
                for sec in doc.layout.get("sections") or [] if sec.get("key") in CHECKPOINT_SECTIONS]
    layout = {**doc.layout, "header": header, "sections": sections}
    fitted = render_layout(layout, max_chars or CHECKPOINT_CHARS)
    return {"project_id": project_id, "number": number, "markdown": fitted.markdown, "chars": len(fitted.markdown),
            "messages": len(inputs["messages"]), "generated_at": _now()}


def run_job(job: dict[str, Any]) -> str:
    """Do one handoff job. Returns "ready", "duplicate" or "failed" (and says so in the item).

    A failure of the infrastructure is raised after the item says so (retryable), for the runner to
    try again; the same job id claims the failed item, and `finish` stores one version whatever
    the number of runs. A failure of content is final: "failed" with its reason."""
    tenant, project_id, number, job_id = job["tenant"], job["project_id"], int(job["number"]), job["job_id"]
    claimed = store.claim(tenant, project_id, number, job_id)
    if claimed is None:
        event(log, "job_skipped", job_id=job_id, reason="duplicate or superseded")
        return "duplicate"
    t0 = time.monotonic()
    try:
        inputs = build_inputs(tenant, project_id, number)
        t_load = time.monotonic()
        budget = int(claimed.budget_chars or HANDOFF_BUDGET_CHARS)
        result = generate(inputs, mode=claimed.mode, budget_chars=budget)
        result["timings"] = {"load_s": round(t_load - t0, 3), "generate_s": round(time.monotonic() - t_load, 3)}
        from chalicelib.domain.open_items import write_back

        # before finish: the writes are idempotent, so a crash here heals on the job's retry
        write_back(tenant, project_id, number, result["data"], carried_too=bool(inputs.get("ledger_seed")))
        fit_result(result)
        ok = store.finish(tenant, project_id, number, job_id, result)
    except Exception as e:
        # whatever went wrong, the handoff says so (a job never stays "running" while the database answers)
        transient = jobs.is_transient(e)
        reason = (f"{type(e).__name__}: the database could not be reached; the job is retried" if transient
                  else f"{type(e).__name__}: the handoff could not be built")
        try:
            store.fail(tenant, project_id, number, job_id, reason, retryable=transient)
        except Exception as fail_error:  # noqa: BLE001 - still out of reach: the job stays running, retried
            event(log, "job_fail_not_recorded", 40, job_id=job_id, error=type(fail_error).__name__)
        log.exception("job_failed", extra={"fields": {"job_id": job_id, "retryable": transient}})
        if transient:
            raise  # the runner tries again: SQS redelivers the message, the inline runner retries
        return "failed"  # its content cannot make a handoff: running it again would fail the same way
    if ok:
        _after_ready(tenant, project_id, number, claimed.mode, result, inputs)
        from chalicelib.search.service import queue_index

        queue_index(tenant, project_id, number)  # the handoff and the open items it wrote become searchable
    event(log, "job_done" if ok else "job_superseded", job_id=job_id, method=result["method"],
          input_chars=result["input_chars"], output_chars=result["output_chars"])
    return "ready" if ok else "duplicate"


def _after_ready(tenant: str, project_id: str, number: int, mode: str, result: dict[str, Any],
                 inputs: dict[str, Any]) -> None:
    """Bookkeeping once the handoff is stored: a failure here is logged, the handoff stays ready."""
    try:  # the timeline's marks: one UpdateItem, before the extras below can fail
        from chalicelib.domain.project_timeline import activity_summary
        from chalicelib.storage.sessions import set_activity

        set_activity(tenant, project_id, number, activity_summary(result.get("data")))
    except Exception:  # noqa: BLE001 - best effort: the timeline shows no marks, the handoff stays ready
        log.exception("job_activity_failed", extra={"fields": {"project_id": project_id, "number": number}})
    try:
        if mode != "rules":
            record_llm_outcome(tenant, project_id, number, result)
        from chalicelib.domain.knowledge import count_uses, offer_learnings

        count_uses(tenant, project_id, (result.get("data") or {}).get("knowledge_used") or [])
        offer_learnings(tenant, project_id, number, list(inputs["session"].get("learnings") or []))
    except Exception:  # noqa: BLE001 - the document is stored; these extras must not undo that
        log.exception("job_after_ready_failed", extra={"fields": {"project_id": project_id, "number": number}})


# A handoff document (markdown + data + must_keep) is stored twice, on the handoff and its version
# item, each under DynamoDB's 400 KB: past this, the biggest parts of `data` are trimmed to fit.
MAX_DOCUMENT_BYTES = 300_000


def _json_bytes(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8"))


def _shrink(value: Any) -> Any:
    """`value` with its largest part halved (lists keep their first half, strings their start)."""
    if isinstance(value, str):
        return value[: len(value) // 2] + "…"
    if isinstance(value, list):
        if len(value) > 1:
            return value[: len(value) // 2]
        return [_shrink(v) for v in value]
    if isinstance(value, dict) and value:
        key = max(value, key=lambda k: _json_bytes(value[k]))
        return {**value, key: _shrink(value[key])}
    return value


def fit_result(result: dict[str, Any], max_bytes: int = MAX_DOCUMENT_BYTES) -> bool:
    """Trim `result` in place until its document fits an item; True when something was cut.

    `data` and `must_keep` shrink first (largest part first); the Markdown, which is what a session
    reads, is cut last and only if it alone is too large. `data["trimmed"]` then says so."""
    def size() -> int:
        return _json_bytes([result["markdown"], result["data"], result["must_keep"]])

    if size() <= max_bytes:
        return False
    for _ in range(200):
        over = size() - max_bytes
        if over <= 0:
            break
        md = _json_bytes(result["markdown"])
        if _json_bytes(result["data"]) + _json_bytes(result["must_keep"]) < 64:  # nothing left but Markdown
            result["markdown"] = result["markdown"].encode("utf-8")[: max(0, md - over - 64)].decode(
                "utf-8", "ignore") + "\n\n[… cut to fit storage]"
            continue
        if _json_bytes(result["must_keep"]) > _json_bytes(result["data"]):
            result["must_keep"] = _shrink(result["must_keep"])
        else:
            result["data"] = _shrink(result["data"])
    result["data"] = {**result["data"], "trimmed": True}
    result["output_chars"] = len(result["markdown"])
    return True


def generate(inputs: dict[str, Any], *, mode: str, budget_chars: int) -> dict[str, Any]:
    """Rules always; then the LLM when asked and configured, checked against the rules' facts."""
    from chalicelib.handoff.rules import build_handoff
    from chalicelib.storage.common import now_iso

    doc = build_handoff(project=inputs["project"], session=inputs["session"], messages=inputs["messages"],
                        file_changes=inputs["file_changes"], previous=inputs["previous"], pins=inputs["pins"],
                        budget_chars=budget_chars, generated_at=now_iso(), knowledge=inputs.get("knowledge"))
    out = {"markdown": doc.markdown, "data": doc.data, "must_keep": doc.must_keep, "method": "rules",
           "reason": None, "input_chars": doc.input_chars, "output_chars": len(doc.markdown),
           "layout": pack_layout(doc.layout)}
    if mode == "rules":
        return out
    try:
        from chalicelib.llm.factory import make_client

        client = make_client()
    except Exception as exc:  # noqa: BLE001 - a broken LLM setup costs the LLM, never the handoff
        log.exception("handoff_llm_setup_failed")
        out["reason"] = f"LLM setup failed ({type(exc).__name__}): rules used"
        return out
    if not client.configured:
        out["reason"] = f"LLM not configured ({client.settings.not_configured_hint()}): rules used"
        return out
    from chalicelib.handoff.llm_writer import generate_llm_handoff

    try:
        res = generate_llm_handoff(rules_doc=doc, messages=inputs["messages"], client=client,
                                   project=inputs["project"], session=inputs["session"], budget_chars=budget_chars)
    finally:
        try:
            client.close()
        except Exception:  # noqa: BLE001 - closing a connection pool must not lose the document
            log.warning("handoff_llm_close_failed")
    out.update(markdown=res.markdown, method=res.method, reason=res.reason, output_chars=len(res.markdown))
    out["data"] = {**doc.data, "llm": {"model": res.model, "calls": res.llm_calls, "restored": res.restored,
                                       "elapsed_s": round(res.elapsed_s, 3)}}
    if res.method != "rules":
        out["data"]["llm"]["confidence"] = confidence(doc.must_keep, res.restored)
    return out


def confidence(must_keep: list[dict[str, Any]], restored: list[dict[str, Any]]) -> dict[str, Any]:
    """The "AI confidence score": the share of the must-keep facts the model's own answer kept,
    before the check put the dropped ones back. A repaired handoff holds them all; this says how
    far the model alone could be trusted."""
    facts = {str(f.get("text", "")) for f in must_keep or [] if isinstance(f, dict) and str(f.get("text", "")).strip()}
    dropped = {str(f.get("text", "")) for f in restored or [] if isinstance(f, dict)} & facts
    total = len(facts)
    return {"score": None if not total else round((total - len(dropped)) / total, 4),
            "kept": total - len(dropped), "total": total,
            "definition": "share of the must-keep facts the model kept before repair"}


def record_llm_outcome(tenant: str, project_id: str, number: int, result: dict[str, Any]) -> None:
    """The tenant's last LLM success and last failure (with its reason), shown in Settings."""
    at = result.get("finished_at") or _now()
    where = {"project_id": project_id, "session": number, "at": at}
    try:
        if result["method"] in ("llm", "llm+rules"):
            llm = (result.get("data") or {}).get("llm") or {}
            store.record_llm_outcome(tenant, ok=True, detail={**where, "method": result["method"],
                                                               "model": llm.get("model"), "reason": result.get("reason")})
        elif result.get("reason"):
            store.record_llm_outcome(tenant, ok=False, detail={**where, "reason": result["reason"]})
    except Exception:  # noqa: BLE001 - a status line must never fail the handoff
        log.exception("llm_status_not_recorded")


def _now() -> str:
    from chalicelib.storage.common import now_iso

    return now_iso()


def _version_json(v: Any, *, content: bool) -> dict[str, Any]:
    out = {"project_id": v.project_id, "from_session": int(v.number), "for_session": int(v.number) + 1,
           "version": int(v.version), "mode": v.mode, "method": v.method, "reason": v.reason,
           "input_chars": None if v.input_chars is None else int(v.input_chars),
           "output_chars": None if v.output_chars is None else int(v.output_chars),
           "requested_at": v.requested_at, "finished_at": v.finished_at, "status": "ready"}
    if content:
        out.update(markdown=v.markdown, data=v.data, must_keep=v.must_keep or [])
    return out


def versions(tenant: str, project_id: str, number: int, *, limit: int, cursor: str | None) -> dict[str, Any]:
    """Every ready version of a session's handoff, newest first, each with its method and reason."""
    items, nxt = store.list_versions(tenant, project_id, number, limit=limit, cursor=cursor)
    if not items and cursor is None:
        store.get_handoff(tenant, project_id, number)  # 404 when the session has no handoff at all
    return {"items": [_version_json(v, content=False) for v in items], "next_cursor": nxt}


def version(tenant: str, project_id: str, number: int, v: int) -> dict[str, Any]:
    return _version_json(store.get_version(tenant, project_id, number, v), content=True)
