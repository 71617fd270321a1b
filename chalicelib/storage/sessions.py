"""Sessions: numbered per project, gap-free, counted on the project item in the same transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pynamodb.transactions import TransactWrite

from chalicelib.errors import BadRequest, NotFound
from chalicelib.storage import keys
from chalicelib.storage.common import decode_cursor, now_iso, page, run_transaction
from chalicelib.storage.models import AccountItem, ExternalIdItem, HandoffItem, ProjectItem, SessionItem
from chalicelib.storage.projects import get_project

# Session fields whose sums are kept on the project (and, for credits, on the AI account).
SUMMED = ("credit_budget", "credits_used", "tasks_planned", "tasks_completed")


def _parse_ts(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def _account_missing(codes: list[str | None], index: int | None) -> bool:
    return index is not None and index < len(codes) and codes[index] == "ConditionalCheckFailed"


class _ExternalIdTaken(Exception):
    """The agent's session id was claimed by another creation: link to that session instead."""


def create_session(tenant: str, project_id: str, fields: dict[str, Any],
                   ) -> tuple[SessionItem, HandoffItem | None]:
    """Create session N+1 (see create_or_link_session)."""
    session, handoff, _ = create_or_link_session(tenant, project_id, fields)
    return session, handoff


def find_by_external_id(tenant: str, project_id: str, external_id: str, *,
                        consistent: bool = False) -> SessionItem | None:
    """The session an agent's session id belongs to: 1 GetItem (uniqueness item) + 1 GetItem."""
    try:
        ext = ExternalIdItem.get(keys.project_pk(tenant, project_id), keys.external_sk(external_id),
                                 consistent_read=consistent)
    except ExternalIdItem.DoesNotExist:
        return None
    return get_session(tenant, project_id, int(ext.number), consistent=consistent)


def _starting_handoff(tenant: str, project_id: str, session: SessionItem) -> HandoffItem | None:
    """The handoff item a session starts from (any state: it may still be being made)."""
    if session.starting_handoff is None:
        return None
    try:
        return HandoffItem.get(keys.project_pk(tenant, project_id), keys.handoff_sk(int(session.starting_handoff)))
    except HandoffItem.DoesNotExist:
        return None


def _starting_point(project: ProjectItem, prev: SessionItem | None) -> tuple[int | None, list[dict[str, str]]]:
    """Which handoff a new session starts from, and what the person starting it should know.

    The previous session's handoff when that session is finished and its handoff is queued,
    being made or ready, so a session started a second after a completion waits for that handoff
    instead of taking an older one. Otherwise the latest ready one, with a warning saying why.
    """
    latest = None if project.latest_handoff is None else int(project.latest_handoff)
    warnings: list[dict[str, str]] = []
    busy = int(project.sessions_in_progress or 0)
    if busy:
        warnings.append({"code": "sessions_in_progress", "message": (
            f"{busy} other session{'s' if busy > 1 else ''} of this project {'are' if busy > 1 else 'is'} "
            "still in progress: their open items reach the handoffs made after they complete")})
    if prev is None:
        return latest, warnings
    m = int(prev.number)
    older = f"the handoff of session {latest}" if latest is not None else "no handoff"
    if prev.status == "in_progress":
        warnings.append({"code": "previous_in_progress", "message": (
            f"session {m} is still in progress, so this session starts from {older}; complete session {m} "
            "first to start from its handoff")})
        return latest, warnings
    h_status = (prev.handoff or {}).get("status")
    if h_status in ("pending", "running", "ready"):
        return m, warnings
    why = "its handoff failed" if h_status == "failed" else "it was closed without a handoff"
    warnings.append({"code": "previous_handoff_missing", "message": (
        f"session {m} is {prev.status} but {why}: this session starts from {older}; "
        f"regenerate it with POST .../sessions/{m}/handoff")})
    return latest, warnings


def create_or_link_session(tenant: str, project_id: str, fields: dict[str, Any],
                           ) -> tuple[SessionItem, HandoffItem | None, bool]:
    """Create session N+1, or return the session that already holds `fields["external_id"]`.

    One transaction: counter bump under a condition + put the session if absent (+ put the
    external id's uniqueness item if absent). Retries when another creation won the number; the
    number is unique and gap-free because the counter only moves when the session item is
    written with it. When the external id's item exists (before, or because a racing creation
    committed it first), the existing session is returned with created=False.
    """
    external_id = fields.get("external_id")
    if external_id:
        found = find_by_external_id(tenant, project_id, external_id)
        if found is not None:
            return found, _starting_handoff(tenant, project_id, found), False
    state: dict[str, Any] = {}

    def build(tx: TransactWrite) -> None:
        project = get_project(tenant, project_id, consistent=True)
        n = int(project.session_count) + 1
        prev = get_session(tenant, project_id, n - 1, consistent=True) if n > 1 else None
        start, warnings = _starting_point(project, prev)
        ts = now_iso()
        session = SessionItem(
            keys.project_pk(tenant, project_id), keys.session_sk(n),
            project_id=project_id, number=n, status="in_progress", started_at=ts, updated_at=ts,
            title=fields.get("title"), goal=fields.get("goal"), ai_account=fields.get("ai_account"),
            model=fields.get("model"), credit_budget=fields.get("credit_budget") or 0,
            credits_used=fields.get("credits_used") or 0, tasks_planned=fields.get("tasks_planned") or 0,
            tasks_completed=fields.get("tasks_completed") or 0,
            starting_handoff=start, start_warnings=warnings or None, rev=0, external_id=external_id,
            agent=fields.get("agent"),
            GSI1PK=keys.in_progress_gsi1pk(tenant), GSI1SK=f"{ts}#{project_id}#{keys.num(n)}",
        )
        tx.update(
            ProjectItem(keys.tenant_pk(tenant), keys.project_sk(project_id)),
            actions=[ProjectItem.session_count.set(n), ProjectItem.sessions_in_progress.add(1)]
            + [getattr(ProjectItem, f).add(getattr(session, f)) for f in SUMMED if getattr(session, f)],
            condition=(ProjectItem.session_count == n - 1) & (ProjectItem.state == "active"),
        )
        tx.save(session, condition=SessionItem.PK.does_not_exist())
        state.update(session=session, project=project, account_index=None, external_index=None)
        idx = 2
        if external_id:
            tx.save(ExternalIdItem(keys.project_pk(tenant, project_id), keys.external_sk(external_id),
                                   project_id=project_id, external_id=external_id, number=n,
                                   agent=fields.get("agent"), created_at=ts),
                    condition=ExternalIdItem.PK.does_not_exist())
            state["external_index"] = idx
            idx += 1
        if session.ai_account:
            tx.update(AccountItem(keys.tenant_pk(tenant), keys.account_sk(session.ai_account)),
                      actions=[AccountItem.sessions.add(1), AccountItem.credits_used.add(session.credits_used)],
                      condition=AccountItem.SK.exists())
            state["account_index"] = idx
        if prev is not None:  # the start decision holds only if the previous session is unchanged
            old_rev = prev.rev or 0
            tx.condition_check(SessionItem, prev.PK, prev.SK, condition=SessionItem.rev == old_rev if old_rev
                               else (SessionItem.rev == 0) | SessionItem.rev.does_not_exist())

    def on_cancel(codes: list[str | None]) -> None:
        ext = state.get("external_index")
        if ext is not None and ext < len(codes) and codes[ext] == "ConditionalCheckFailed":
            raise _ExternalIdTaken
        if _account_missing(codes, state.get("account_index")):
            raise BadRequest(f"ai_account {state['session'].ai_account!r} does not exist: create it first "
                             "with POST /api/accounts", code="unknown_ai_account", field="ai_account")

    try:
        run_transaction(build, on_cancel=on_cancel)
    except _ExternalIdTaken:
        found = find_by_external_id(tenant, project_id, external_id, consistent=True)
        if found is None:  # the guard item exists but its session does not: cannot happen (same transaction)
            raise
        return found, _starting_handoff(tenant, project_id, found), False
    return state["session"], _starting_handoff(tenant, project_id, state["session"]), True


def get_session(tenant: str, project_id: str, number: int, *, consistent: bool = False) -> SessionItem:
    try:
        return SessionItem.get(keys.project_pk(tenant, project_id), keys.session_sk(number),
                               consistent_read=consistent)
    except SessionItem.DoesNotExist:
        raise NotFound(f"session {number} of project {project_id!r} not found", code="session_not_found") from None


def list_sessions(tenant: str, project_id: str, *, limit: int, cursor: str | None,
                  descending: bool = False) -> tuple[list[SessionItem], str | None]:
    pk = keys.project_pk(tenant, project_id)
    start = decode_cursor(cursor, expect={"PK": pk})
    return page(SessionItem.query(pk, SessionItem.SK.startswith(keys.SESSION_PREFIX), limit=limit,
                                  page_size=limit, last_evaluated_key=start, scan_index_forward=not descending))


def list_in_progress(tenant: str, *, limit: int, cursor: str | None) -> tuple[list[SessionItem], str | None]:
    """Sessions in progress across projects: the sparse part of GSI1."""
    gpk = keys.in_progress_gsi1pk(tenant)
    start = decode_cursor(cursor, expect={"GSI1PK": gpk})
    return page(SessionItem.gsi1.query(gpk, limit=limit, page_size=limit, last_evaluated_key=start))


def update_session(tenant: str, project_id: str, number: int,
                   apply: Callable[[SessionItem], dict[str, Any]]) -> SessionItem:
    """Change a session and keep the project's (and accounts') counters exact, in one transaction.

    `apply` gets the freshly read session, mutates it (domain rules live there) and returns
    nothing or extra info; the counter deltas are computed here from before/after values.
    Concurrent writers are serialized by the session's `rev` (optimistic lock, retried).
    """
    state: dict[str, Any] = {}

    def build(tx: TransactWrite) -> None:
        cur = get_session(tenant, project_id, number, consistent=True)
        before = {f: getattr(cur, f) or 0 for f in SUMMED}
        before_status, before_account = cur.status, cur.ai_account
        before_errors = len((cur.record or {}).get("errors") or [])
        before_duration = cur.duration_s or 0
        old_rev = cur.rev or 0
        apply(cur)
        cur.rev = old_rev + 1
        cur.updated_at = now_iso()
        if cur.status != "in_progress":
            cur.GSI1PK = None
            cur.GSI1SK = None
            if not cur.ended_at:
                cur.ended_at = cur.updated_at
            if cur.duration_s is None:
                cur.duration_s = max(0, int((_parse_ts(cur.ended_at) - _parse_ts(cur.started_at)).total_seconds()))
        tx.save(cur, condition=SessionItem.rev == old_rev if old_rev else
                (SessionItem.rev == 0) | SessionItem.rev.does_not_exist())
        actions = [getattr(ProjectItem, f).add(getattr(cur, f) - before[f]) for f in SUMMED
                   if (getattr(cur, f) or 0) != before[f]]
        if cur.status != before_status:
            actions.append(getattr(ProjectItem, f"sessions_{before_status}").add(-1))
            actions.append(getattr(ProjectItem, f"sessions_{cur.status}").add(1))
        d_err = len((cur.record or {}).get("errors") or []) - before_errors
        if d_err:
            actions.append(ProjectItem.errors.add(d_err))
        d_dur = (cur.duration_s or 0) - before_duration
        if d_dur:
            actions.append(ProjectItem.duration_s.add(d_dur))
        if actions:
            tx.update(ProjectItem(keys.tenant_pk(tenant), keys.project_sk(project_id)), actions=actions,
                      condition=ProjectItem.state == "active")
        idx = 1 + (1 if actions else 0)
        state.update(session=cur, account_index=None)
        d_credits = (cur.credits_used or 0) - before["credits_used"]
        if cur.ai_account != before_account:
            if before_account:
                tx.update(AccountItem(keys.tenant_pk(tenant), keys.account_sk(before_account)),
                          actions=[AccountItem.sessions.add(-1),
                                   AccountItem.credits_used.add(-before["credits_used"])])
                idx += 1
            if cur.ai_account:
                tx.update(AccountItem(keys.tenant_pk(tenant), keys.account_sk(cur.ai_account)),
                          actions=[AccountItem.sessions.add(1), AccountItem.credits_used.add(cur.credits_used or 0)],
                          condition=AccountItem.SK.exists())
                state["account_index"] = idx
        elif cur.ai_account and d_credits:
            tx.update(AccountItem(keys.tenant_pk(tenant), keys.account_sk(cur.ai_account)),
                      actions=[AccountItem.credits_used.add(d_credits)], condition=AccountItem.SK.exists())
            state["account_index"] = idx

    def on_cancel(codes: list[str | None]) -> None:
        if _account_missing(codes, state.get("account_index")):
            raise BadRequest(f"ai_account {state['session'].ai_account!r} does not exist",
                             code="unknown_ai_account", field="ai_account")
        if len(codes) > 1 and codes[1] == "ConditionalCheckFailed" and state.get("account_index") != 1:
            get_project(tenant, project_id, consistent=True)  # raises NotFound if the project went away

    run_transaction(build, on_cancel=on_cancel)
    return state["session"]
