"""Handoff items and their job states: pending -> running -> ready | failed.

Every write is conditional on the job id, so a job delivered twice (SQS is at-least-once) or a
job superseded by a regeneration can never produce a second version or overwrite a newer one.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pynamodb.exceptions import PutError, UpdateError

from chalicelib.errors import NotFound
from chalicelib.storage import keys
from chalicelib.storage.common import Tx, decode_cursor, error_code, new_id, now_iso, page, run_transaction
from chalicelib.storage.models import HandoffItem, HandoffVersionItem, LLMStatusItem, ProjectItem, SessionItem
from chalicelib.storage.sessions import session_ref

JOB_RECORD_TTL_S = 90 * 24 * 3600  # a failed job record expires; ready handoffs are kept


def get_handoff(tenant: str, project_id: str, number: int, *, consistent: bool = False) -> HandoffItem:
    try:
        return HandoffItem.get(keys.project_pk(tenant, project_id), keys.handoff_sk(number),
                               consistent_read=consistent)
    except HandoffItem.DoesNotExist:
        raise NotFound(f"no handoff for session {number} yet: complete the session or POST .../handoff",
                       code="handoff_not_found") from None


def newest_handoff(tenant: str, project_id: str) -> HandoffItem | None:
    """The handoff of the highest session number: begins_with HANDOFF#, descending, limit 1."""
    res = list(HandoffItem.query(keys.project_pk(tenant, project_id),
                                 HandoffItem.SK.startswith(keys.HANDOFF_PREFIX), scan_index_forward=False,
                                 limit=1, page_size=1))
    return res[0] if res else None


def find_handoff(tenant: str, project_id: str, number: int) -> HandoffItem | None:
    try:
        return get_handoff(tenant, project_id, number)
    except NotFound:
        return None


def _pending(tenant: str, project_id: str, number: int, current: HandoffItem | None, *, mode: str,
             budget_chars: int | None) -> tuple[HandoffItem, Any]:
    """The pending job item replacing `current` (None: the first), and the condition to write it
    under: `current` unchanged, so of two racing requests one supersedes, the other retries."""
    pk, sk = keys.project_pk(tenant, project_id), keys.handoff_sk(number)
    item = HandoffItem(pk, sk, project_id=project_id, number=number, status="pending", mode=mode,
                       job_id=new_id(), version=(int(current.version) + 1) if current else 1,
                       budget_chars=budget_chars, requested_at=now_iso(), attempts=0)
    if current is not None and current.status == "ready":
        # keep serving the ready document while the new one is made
        item.markdown, item.data, item.method = current.markdown, current.data, current.method
        item.must_keep, item.input_chars, item.output_chars = (current.must_keep, current.input_chars,
                                                               current.output_chars)
        item.finished_at = current.finished_at
        item.transcript_replaced_at = current.transcript_replaced_at  # the document served is still the old one
    cond = (HandoffItem.job_id == current.job_id) if current else HandoffItem.PK.does_not_exist()
    return item, cond


def mirror_of(h: HandoffItem) -> dict[str, Any]:
    """What the session item carries of its handoff (lists and the dashboard need no extra read)."""
    return {"status": h.status, "method": h.method, "version": int(h.version or 1), "finished_at": h.finished_at,
            "older_transcript": bool(h.transcript_replaced_at)}


def add_request(tx: Tx, tenant: str, project_id: str, number: int, *, mode: str,
                budget_chars: int | None) -> HandoffItem:
    """Add the pending job for session `number`'s handoff to a transaction (operation "handoff"),
    for a caller that writes the session in the same transaction, its `handoff` set to `mirror_of`."""
    try:
        current = HandoffItem.get(keys.project_pk(tenant, project_id), keys.handoff_sk(number), consistent_read=True)
    except HandoffItem.DoesNotExist:
        current = None
    item, cond = _pending(tenant, project_id, number, current, mode=mode, budget_chars=budget_chars)
    tx.save("handoff", item, condition=cond)
    return item


def request_handoff(tenant: str, project_id: str, number: int, *, mode: str,
                    budget_chars: int | None) -> HandoffItem:
    """Create (or supersede) the pending job for session `number`'s handoff; returns the item."""
    for _ in range(10):
        current = find_handoff(tenant, project_id, number)
        item, cond = _pending(tenant, project_id, number, current, mode=mode, budget_chars=budget_chars)
        try:
            item.save(condition=cond)
            _mirror(tenant, project_id, number, item)
            return item
        except PutError as e:
            if error_code(e) != "ConditionalCheckFailedException":
                raise
    raise RuntimeError("could not queue the handoff job: too much contention")


def _mirror_actions(h: HandoffItem, status: str, method: str | None, finished_at: str | None,
                    older: bool | None = None) -> list:
    # The session item carries its handoff's state so lists and the dashboard need no extra read.
    # The update bumps `rev` unchecked (session_ref), so a concurrent session update retries.
    return [SessionItem.handoff.set({"status": status, "method": method, "version": int(h.version or 1),
                                     "finished_at": finished_at,
                                     "older_transcript": bool(h.transcript_replaced_at) if older is None else older})]


def _mirror(tenant: str, project_id: str, number: int, h: HandoffItem, status: str | None = None,
            method: str | None = None, finished_at: str | None = None) -> None:
    session_ref(tenant, project_id, number).update(
        actions=_mirror_actions(h, status or h.status, method if status else h.method,
                                finished_at if status else h.finished_at),
        condition=SessionItem.PK.exists(), add_version_condition=False)


def mark_transcript_replaced(tenant: str, project_id: str, number: int) -> bool:
    """Say that session `number`'s handoff was made from a transcript since replaced (until a
    regeneration finishes); the session's mirror shows it too. False when there is no handoff yet."""
    item = HandoffItem(keys.project_pk(tenant, project_id), keys.handoff_sk(number))
    try:
        item.update(actions=[HandoffItem.transcript_replaced_at.set(now_iso())],
                    condition=HandoffItem.PK.exists(), add_version_condition=False)
    except UpdateError as e:
        if error_code(e) == "ConditionalCheckFailedException":
            return False
        raise
    _mirror(tenant, project_id, number, item)
    return True


def claim(tenant: str, project_id: str, number: int, job_id: str) -> HandoffItem | None:
    """Mark the job running; None if it is done already or superseded (a duplicate delivery).

    A job that failed may be claimed again by a redelivery of the same message (SQS retries a
    message whose handler raised): that is how a transient fault heals without a new version.
    """
    item = HandoffItem(keys.project_pk(tenant, project_id), keys.handoff_sk(number))
    try:
        item.update(actions=[HandoffItem.status.set("running"), HandoffItem.started_at.set(now_iso()),
                             HandoffItem.attempts.add(1), HandoffItem.expires_at.remove(),
                             HandoffItem.retryable.remove()],
                    condition=(HandoffItem.job_id == job_id)
                    & HandoffItem.status.is_in("pending", "running", "failed"))
    except UpdateError as e:
        if error_code(e) == "ConditionalCheckFailedException":
            return None
        raise
    return item


def finish(tenant: str, project_id: str, number: int, job_id: str, result: dict[str, Any]) -> bool:
    """Store the document and move the project's latest pointer forward, in one transaction.

    Returns False when the job was superseded or already finished (nothing is written).
    """
    pk = keys.project_pk(tenant, project_id)
    done = {"ok": True}

    def build(tx: Tx) -> None:
        project = ProjectItem.get(keys.tenant_pk(tenant), keys.project_sk(project_id), consistent_read=True,
                                  attributes_to_get=["latest_handoff", "state"])
        current = HandoffItem.get(pk, keys.handoff_sk(number), consistent_read=True)
        if current.job_id != job_id or current.status not in ("pending", "running"):
            done["ok"] = False
            raise _Superseded
        first_ready = current.version == 1 or current.markdown is None
        finished = now_iso()
        # replaced while this job ran (after it read the transcript): the new document is still older
        older = bool(current.transcript_replaced_at) and current.transcript_replaced_at > (current.started_at or "")
        tx.update("handoff", HandoffItem(pk, keys.handoff_sk(number)), actions=[
            HandoffItem.status.set("ready"), HandoffItem.method.set(result["method"]),
            HandoffItem.markdown.set(result["markdown"]), HandoffItem.data.set(result["data"]),
            HandoffItem.must_keep.set(result["must_keep"]), HandoffItem.input_chars.set(result["input_chars"]),
            HandoffItem.output_chars.set(result["output_chars"]), HandoffItem.finished_at.set(finished),
            HandoffItem.timings.set(result.get("timings") or {}),
        ] + ([HandoffItem.layout.set(result["layout"])] if result.get("layout") else [HandoffItem.layout.remove()]) + ([HandoffItem.reason.set(result["reason"])] if result.get("reason") else [HandoffItem.reason.remove()])
          + ([] if older else [HandoffItem.transcript_replaced_at.remove()]),
            condition=(HandoffItem.job_id == job_id) & HandoffItem.status.is_in("pending", "running"))
        tx.update("session", session_ref(tenant, project_id, number),
                  actions=_mirror_actions(current, "ready", result["method"], finished, older),
                  add_version_condition=False)
        version = int(current.version or 1)
        tx.save("version", HandoffVersionItem(  # kept when a later regeneration replaces it
            pk, keys.handoff_version_sk(number, version), project_id=project_id, number=number, version=version,
            mode=current.mode, method=result["method"], reason=result.get("reason"), markdown=result["markdown"],
            data=result["data"], must_keep=result["must_keep"], input_chars=result["input_chars"],
            output_chars=result["output_chars"], requested_at=current.requested_at, finished_at=finished))
        latest = project.latest_handoff
        actions = []
        if latest is None or int(latest) <= number:
            actions.append(ProjectItem.latest_handoff.set(number))
        if first_ready:
            actions.append(ProjectItem.handoffs_ready.add(1))
        if actions:
            cond = ProjectItem.state == "active"
            cond &= (ProjectItem.latest_handoff.does_not_exist() if latest is None
                     else ProjectItem.latest_handoff == latest)
            tx.update("project", ProjectItem(keys.tenant_pk(tenant), keys.project_sk(project_id)), actions=actions,
                      condition=cond)

    def on_cancel(failed: frozenset[str]) -> None:
        if "handoff" in failed:
            done["ok"] = False
            raise _Superseded

    try:
        run_transaction(build, on_cancel=on_cancel)
    except _Superseded:
        return False
    except ProjectItem.DoesNotExist:
        return False
    return done["ok"]


class _Superseded(Exception):
    pass


def fail(tenant: str, project_id: str, number: int, job_id: str, reason: str, *, retryable: bool = False) -> bool:
    """Mark the job failed with its reason. `retryable`: it failed because the database was out of
    reach, not because of its content, so it is to be run again (the same job id may claim it)."""
    item = HandoffItem(keys.project_pk(tenant, project_id), keys.handoff_sk(number))
    try:
        item.update(actions=[HandoffItem.status.set("failed"), HandoffItem.reason.set(reason[:500]),
                             HandoffItem.finished_at.set(now_iso()),
                             HandoffItem.expires_at.set(timedelta(seconds=JOB_RECORD_TTL_S)),
                             HandoffItem.retryable.set(True) if retryable else HandoffItem.retryable.remove()],
                    condition=(HandoffItem.job_id == job_id) & HandoffItem.status.is_in("pending", "running"))
    except UpdateError as e:
        if error_code(e) == "ConditionalCheckFailedException":
            return False
        raise
    _mirror(tenant, project_id, number, item, status="failed", method=None, finished_at=now_iso())
    return True


def list_versions(tenant: str, project_id: str, number: int, *, limit: int, cursor: str | None,
                  ) -> tuple[list[HandoffVersionItem], str | None]:
    """The ready versions of session `number`'s handoff, newest first (without their documents)."""
    pk = keys.project_pk(tenant, project_id)
    start = decode_cursor(cursor, expect={"PK": pk}, prefix={"SK": keys.handoff_version_prefix(number)})
    return page(HandoffVersionItem.query(
        pk, HandoffVersionItem.SK.startswith(keys.handoff_version_prefix(number)), scan_index_forward=False,
        limit=limit, page_size=limit, last_evaluated_key=start,
        attributes_to_get=["PK", "SK", "project_id", "number", "version", "mode", "method", "reason",
                           "input_chars", "output_chars", "requested_at", "finished_at"]))


def get_version(tenant: str, project_id: str, number: int, version: int) -> HandoffVersionItem:
    try:
        return HandoffVersionItem.get(keys.project_pk(tenant, project_id), keys.handoff_version_sk(number, version))
    except HandoffVersionItem.DoesNotExist:
        raise NotFound(f"version {version} of session {number}'s handoff not found",
                       code="handoff_version_not_found") from None


def record_llm_outcome(tenant: str, *, ok: bool, detail: dict[str, Any]) -> None:
    """Remember the tenant's last LLM success or failure (last write wins: it is a status, not a log)."""
    item = LLMStatusItem(keys.tenant_pk(tenant), keys.LLM_STATUS_SK)
    attr = LLMStatusItem.last_success if ok else LLMStatusItem.last_failure
    item.update(actions=[attr.set(detail)])


def llm_outcomes(tenant: str) -> LLMStatusItem | None:
    try:
        return LLMStatusItem.get(keys.tenant_pk(tenant), keys.LLM_STATUS_SK)
    except LLMStatusItem.DoesNotExist:
        return None
