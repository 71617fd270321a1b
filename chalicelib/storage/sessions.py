"""Sessions: numbered per project (reserved, then filled; gap-free), counted on the project item in the
same transaction as the session item they count."""

from __future__ import annotations

import contextlib
import random
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import PutError, UpdateError

from chalicelib.errors import BadRequest, Conflict, NotFound
from chalicelib.logs import event, get_logger
from chalicelib.storage import keys
from chalicelib.storage.common import Tx, decode_cursor, error_code, now_iso, page, run_transaction
from chalicelib.storage.models import AccountItem, ExternalIdItem, HandoffItem, ProjectItem, SessionItem
from chalicelib.storage.projects import get_project

log = get_logger("sessions")
CLAIM_WAIT_S = 10.0  # how long a creation waits for a racing one with the same external id
HOLE_GRACE_S = 60.0  # a number missing this long after the next was taken: its creation died
MAX_HOLES = 500  # holes filled by one creation at most (the rest by the next ones)
RESERVE_ATTEMPTS = 20  # a reservation meeting a running transaction on the project item is retried
CLAIM_STALE_S = 30.0  # a claim this old without a number was left by a creation that died

# Session fields whose sums are kept on the project (and, for credits, on the AI account).
SUMMED = ("credit_budget", "credits_used", "tasks_planned", "tasks_completed")


def _parse_ts(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def transcript_duration(s: SessionItem) -> int | None:
    """Seconds between the first and last timestamps of the session's transcript: the real length of
    the work (the API's own clock only sees when hooks called it). None without both."""
    t = s.transcript
    if t is None or not t.started_at or not t.ended_at:
        return None
    try:
        return max(0, int((_parse_ts(t.ended_at) - _parse_ts(t.started_at)).total_seconds()))
    except ValueError:
        return None


def session_ref(tenant: str, project_id: str, number: int) -> SessionItem:
    """A session to update without reading it, with `add_version_condition=False`: the update
    then bumps the stored `rev` (ADD 1, so concurrent read-modify-writers retry) without checking it.
    The placeholder rev only selects that ADD; it is never written or compared."""
    return SessionItem(keys.project_pk(tenant, project_id), keys.session_sk(number), rev=0)


def unchanged(item: SessionItem) -> Any:
    """The condition "this session still has the rev it was read with" (for a condition check)."""
    return SessionItem.rev.does_not_exist() if item.rev is None else SessionItem.rev == item.rev


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
    if not int(ext.number or 0):
        return None  # claimed by a creation still being written
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


def _not_found(project_id: str) -> NotFound:
    return NotFound(f"project {project_id!r} not found", code="project_not_found")


def _reserve_number(tenant: str, project_id: str) -> ProjectItem:
    """Take the next session number: one UpdateItem that ADDs 1 to `session_count` and stamps
    `last_reserved_at` on an active project, answering the item as it was before (ALL_OLD): its
    count + 1 is this session's number, its `last_reserved_at` when the number before was taken.
    No read first and no condition on the count, so N concurrent creations get N numbers at once
    instead of racing for one. The other counters move only when the session is written."""
    conn = ProjectItem._get_connection()
    actions = [ProjectItem.session_count.add(1), ProjectItem.last_reserved_at.set(now_iso())]
    delay = 0.01
    for attempt in range(RESERVE_ATTEMPTS):
        try:
            data = conn.update_item(keys.tenant_pk(tenant), range_key=keys.project_sk(project_id), actions=actions,
                                    condition=ProjectItem.state == "active", return_values="ALL_OLD")
            return ProjectItem.from_raw_data(data["Attributes"])
        except UpdateError as e:
            if error_code(e) == "ConditionalCheckFailedException":
                raise _not_found(project_id) from None
            # a session change's transaction holds the project item this instant: nothing was applied
            if error_code(e) != "TransactionConflictException" or attempt == RESERVE_ATTEMPTS - 1:
                raise
        time.sleep(delay * (1 + random.random()))
        delay = min(delay * 2, 0.2)
    raise AssertionError("unreachable")


def _placeholder(tenant: str, project_id: str, n: int, why: str) -> bool:
    """Write session n as `failed` (start warning `creation_failed`) and count it, in one
    transaction, if no session n exists: a number whose creation failed still has its session.
    Returns False when session n exists (its creation got there first)."""
    ts = now_iso()
    item = SessionItem(
        keys.project_pk(tenant, project_id), keys.session_sk(n), project_id=project_id, number=n,
        status="failed", started_at=ts, updated_at=ts, ended_at=ts, duration_s=0,
        start_warnings=[{"code": "creation_failed", "message": why}])
    failed: frozenset[str] = frozenset()

    def build(tx: Tx) -> None:
        tx.save("session", item, condition=SessionItem.PK.does_not_exist())
        tx.update("project", ProjectItem(keys.tenant_pk(tenant), keys.project_sk(project_id)),
                  actions=[ProjectItem.sessions_failed.add(1)], condition=ProjectItem.SK.exists())

    def on_cancel(names: frozenset[str]) -> None:
        nonlocal failed
        failed = names
        if names:
            raise _Done

    try:
        run_transaction(build, on_cancel=on_cancel)
    except _Done:
        return False
    event(log, "session_number_filled", project_id=project_id, number=n)
    return True


class _Done(Exception):
    """A placeholder was not needed (the session exists, or the project is gone)."""


def _release_number(tenant: str, project_id: str, n: int) -> None:
    """Undo a reservation whose session could not be written, without leaving a gap: given back
    (`session_count` n -> n-1 under that condition) when nobody took a later number, else session n
    becomes a `failed` placeholder. Nothing is undone when session n exists after all (its write
    committed though its answer was lost): giving n back then would hand it out twice. Best effort (this runs after a failure): if the database is out
    of reach here too, the next creation after HOLE_GRACE_S fills the hole (_fill_holes)."""
    head = ProjectItem(keys.tenant_pk(tenant), keys.project_sk(project_id))
    try:
        try:  # the write may have committed although its answer was lost: then n is taken for good
            get_session(tenant, project_id, n, consistent=True)
            return
        except NotFound:
            pass
        try:
            head.update(actions=[ProjectItem.session_count.set(n - 1)], condition=ProjectItem.session_count == n)
            return
        except UpdateError as e:
            if error_code(e) != "ConditionalCheckFailedException":
                raise
        _placeholder(tenant, project_id, n, "this session's creation failed after its number was taken; "
                                            "it holds the number so that none is skipped")
    except Exception as e:  # noqa: BLE001 - the original error is what the caller reports
        event(log, "session_number_gap", project_id=project_id, number=n, error=type(e).__name__)


def _holes_possible(before: ProjectItem) -> bool:
    """True when, just before our reservation, more numbers were taken than sessions are counted
    (in progress + completed + failed) and the last number was taken over HOLE_GRACE_S ago: then no
    creation is still writing one, and the difference are numbers whose creation died."""
    counted = sum(int(getattr(before, f) or 0) for f in ("sessions_in_progress", "sessions_completed",
                                                            "sessions_failed"))
    return int(before.session_count or 0) > counted and _stale(before.last_reserved_at)


def _fill_holes(tenant: str, project_id: str, below: int) -> None:
    """Fill the numbers below `below` whose creation died between reserving and writing (the
    process killed, or the database lost for the release too): one keys-only Query of the
    project's sessions, then a `failed` placeholder for each missing number (at most MAX_HOLES per
    call). Called only when _holes_possible, so none of them can still be written by its creation."""
    pk = keys.project_pk(tenant, project_id)
    have = {int(item.SK.split("#")[1]) for item in
            SessionItem.query(pk, SessionItem.SK.startswith(keys.SESSION_PREFIX), attributes_to_get=["PK", "SK"])}
    missing = [k for k in range(1, below) if k not in have][:MAX_HOLES]
    for k in missing:
        _placeholder(tenant, project_id, k, "this session's creation died after its number was taken; "
                                            "a later creation filled the number so that none is skipped")


def _stale(ts: str | None) -> bool:
    return ts is not None and (datetime.now(UTC) - _parse_ts(ts)).total_seconds() > HOLE_GRACE_S


def _claim_external_id(tenant: str, project_id: str, external_id: str, agent: str | None,
                       ) -> tuple[str | None, SessionItem | None]:
    """Claim an agent's session id before taking a number: (claim token, None) when this creation
    owns it, (None, session) when another creation holds it (waiting while that one is still
    being made). A claim left by a creation that died (older than CLAIM_STALE_S) is taken over.
    Claiming first means a creation that loses the external id never holds a number it cannot use."""
    pk, sk = keys.project_pk(tenant, project_id), keys.external_sk(external_id)
    deadline = time.monotonic() + CLAIM_WAIT_S
    while True:
        token = secrets.token_hex(8)
        try:
            ExternalIdItem(pk, sk, project_id=project_id, external_id=external_id, number=0, agent=agent,
                           claim=token, created_at=now_iso()).save(condition=ExternalIdItem.PK.does_not_exist())
            return token, None
        except PutError as e:
            if error_code(e) != "ConditionalCheckFailedException":
                raise
        try:
            ext = ExternalIdItem.get(pk, sk, consistent_read=True)
        except ExternalIdItem.DoesNotExist:
            continue  # the holder gave it up: claim again
        if int(ext.number or 0):
            return None, get_session(tenant, project_id, int(ext.number), consistent=True)
        age = (datetime.now(UTC) - _parse_ts(ext.created_at)).total_seconds()
        if age > CLAIM_STALE_S:
            try:
                ExternalIdItem(pk, sk).update(actions=[ExternalIdItem.claim.set(token),
                                                       ExternalIdItem.created_at.set(now_iso())],
                                              condition=ExternalIdItem.claim == ext.claim)
                return token, None
            except UpdateError as e:
                if error_code(e) != "ConditionalCheckFailedException":
                    raise
                continue
        if time.monotonic() > deadline:
            raise Conflict(f"session {external_id!r} is being created by another request; retry",
                           code="session_being_created", field="external_id")
        time.sleep(0.02 + random.random() * 0.03)


def _drop_claim(tenant: str, project_id: str, external_id: str, token: str) -> None:
    try:
        ExternalIdItem(keys.project_pk(tenant, project_id), keys.external_sk(external_id)).delete(
            condition=ExternalIdItem.claim == token)
    except Exception as e:  # noqa: BLE001 - best effort; a stale claim is taken over later
        event(log, "external_claim_left", project_id=project_id, error=type(e).__name__)


def create_or_link_session(tenant: str, project_id: str, fields: dict[str, Any],
                           ) -> tuple[SessionItem, HandoffItem | None, bool]:
    """Create session N+1, or return the session that already holds `fields["external_id"]`.

    Numbers are reserved, then filled, so that concurrent creations do not race for one number:
    1. with an external id, claim it (see _claim_external_id): a racing creation links instead;
    2. check the AI account exists (accounts are never deleted, so this holds at commit);
    3. reserve the number n with an atomic ADD on the project (_reserve_number): N concurrent
       creations get N distinct numbers at once, with no retry;
    4. one transaction puts session n, counts it on the project (in progress, sums; **if** the
       project is active) and on the account, sets the external id's number, and checks that the
       previous session did not change since its state decided which handoff this one starts
       from; only that check can fail under contention, and it is retried with the same n.

    Gap-free, honestly: every failure a request can cause (unknown project or account, a taken
    external id) is detected before step 3, and nothing can take n from its creation, so a
    reserved number is normally written by its creation. When step 4 fails anyway (the database
    failing), n is released (_release_number): given back when still the last, else filled with a
    `failed` placeholder. When the process dies between steps 3 and 4, or the database is lost
    for the release too, n stays a hole until the next creation on the project more than
    HOLE_GRACE_S later fills it with a placeholder (_fill_holes). Counters stay exact throughout:
    they move with the session item they count, never with the reservation; `session_count`
    (sessions.total) counts the numbers taken, including ones being written.
    """
    external_id = fields.get("external_id")
    token = None
    if external_id:
        found = find_by_external_id(tenant, project_id, external_id)
        if found is not None:
            return found, _starting_handoff(tenant, project_id, found), False
        token, found = _claim_external_id(tenant, project_id, external_id, fields.get("agent"))
        if found is not None:
            return found, _starting_handoff(tenant, project_id, found), False
    try:
        if fields.get("ai_account"):
            try:
                AccountItem.get(keys.tenant_pk(tenant), keys.account_sk(fields["ai_account"]))
            except AccountItem.DoesNotExist:
                raise BadRequest(f"ai_account {fields['ai_account']!r} does not exist: create it first "
                                 "with POST /api/accounts", code="unknown_ai_account", field="ai_account") from None
        before = _reserve_number(tenant, project_id)
    except BaseException:
        if token:
            _drop_claim(tenant, project_id, external_id, token)
        raise
    n = int(before.session_count or 0) + 1
    try:
        session = _fill_number(tenant, project_id, n, before, fields, token)
    except NotFound:  # the project is being deleted: nothing was written, and no number to keep
        if token:
            _drop_claim(tenant, project_id, external_id, token)
        raise
    except BaseException:
        _release_number(tenant, project_id, n)
        if token:
            _drop_claim(tenant, project_id, external_id, token)
        raise
    return session, _starting_handoff(tenant, project_id, session), True


def _fill_number(tenant: str, project_id: str, n: int, before: ProjectItem, fields: dict[str, Any],
                 token: str | None) -> SessionItem:
    """Step 4 of create_or_link_session: write session n (retried on contention, never renumbered).
    `before` is the project as it was just before the reservation."""
    state: dict[str, Any] = {}
    external_id = fields.get("external_id")

    def build(tx: Tx) -> None:
        prev = None
        if n > 1:
            if _holes_possible(before) and not state.get("holes_filled"):  # creations that died
                _fill_holes(tenant, project_id, n)
                state["holes_filled"] = True
            with contextlib.suppress(NotFound):  # missing: reserved by a creation still writing it
                prev = get_session(tenant, project_id, n - 1, consistent=True)
        stand_in = prev if prev is not None or n == 1 else SessionItem(number=n - 1, status="in_progress")
        start, warnings = _starting_point(before, stand_in)
        ts = now_iso()
        session = SessionItem(
            keys.project_pk(tenant, project_id), keys.session_sk(n),
            project_id=project_id, number=n, status="in_progress", started_at=ts, updated_at=ts,
            title=fields.get("title"), goal=fields.get("goal"), ai_account=fields.get("ai_account"),
            model=fields.get("model"), credit_budget=fields.get("credit_budget") or 0,
            credits_used=fields.get("credits_used") or 0, tasks_planned=fields.get("tasks_planned") or 0,
            tasks_completed=fields.get("tasks_completed") or 0,
            starting_handoff=start, start_warnings=warnings or None, external_id=external_id,
            agent=fields.get("agent"),
            GSI1PK=keys.in_progress_gsi1pk(tenant), GSI1SK=f"{ts}#{project_id}#{keys.num(n)}",
        )
        tx.save("session", session, condition=SessionItem.PK.does_not_exist())  # + rev does not exist
        tx.update("project", ProjectItem(keys.tenant_pk(tenant), keys.project_sk(project_id)),
                  actions=[ProjectItem.sessions_in_progress.add(1)]
                  + [getattr(ProjectItem, f).add(getattr(session, f)) for f in SUMMED if getattr(session, f)],
                  condition=ProjectItem.state == "active")
        state.update(session=session)
        if external_id:
            tx.update("external_id", ExternalIdItem(keys.project_pk(tenant, project_id), keys.external_sk(external_id)),
                      actions=[ExternalIdItem.number.set(n), ExternalIdItem.claim.remove()],
                      condition=ExternalIdItem.claim == token)
        if session.ai_account:
            tx.update("account", AccountItem(keys.tenant_pk(tenant), keys.account_sk(session.ai_account)),
                      actions=[AccountItem.sessions.add(1), AccountItem.credits_used.add(session.credits_used)],
                      condition=AccountItem.SK.exists())
        if prev is not None:  # the start decision holds only if the previous session is unchanged
            tx.condition_check("previous", SessionItem, prev.PK, prev.SK, condition=unchanged(prev))

    def on_cancel(failed: frozenset[str]) -> None:
        if "account" in failed:
            raise BadRequest(f"ai_account {state['session'].ai_account!r} does not exist: create it first "
                             "with POST /api/accounts", code="unknown_ai_account", field="ai_account")
        if "project" in failed:  # deleted meanwhile
            raise _not_found(project_id)
        if "session" in failed:  # session n exists (a late creation whose number was filled): never overwrite
            raise Conflict(f"session {n} was written by another request; retry", code="session_number_taken")
        if "external_id" in failed:  # a stale claim of ours was taken over by another creation
            raise Conflict(f"session {external_id!r} is being created by another request; retry",
                           code="session_being_created", field="external_id")
        # "previous" changed since it was read: read again, retry

    run_transaction(build, on_cancel=on_cancel)
    return state["session"]


def get_session(tenant: str, project_id: str, number: int, *, consistent: bool = False) -> SessionItem:
    try:
        return SessionItem.get(keys.project_pk(tenant, project_id), keys.session_sk(number),
                               consistent_read=consistent)
    except SessionItem.DoesNotExist:
        raise NotFound(f"session {number} of project {project_id!r} not found", code="session_not_found") from None


def list_sessions(tenant: str, project_id: str, *, limit: int, cursor: str | None,
                  descending: bool = False) -> tuple[list[SessionItem], str | None]:
    pk = keys.project_pk(tenant, project_id)
    start = decode_cursor(cursor, expect={"PK": pk}, prefix={"SK": keys.SESSION_PREFIX})
    return page(SessionItem.query(pk, SessionItem.SK.startswith(keys.SESSION_PREFIX), limit=limit,
                                  page_size=limit, last_evaluated_key=start, scan_index_forward=not descending))


def list_in_progress(tenant: str, *, limit: int, cursor: str | None) -> tuple[list[SessionItem], str | None]:
    """Sessions in progress across projects: the sparse part of GSI1."""
    gpk = keys.in_progress_gsi1pk(tenant)
    start = decode_cursor(cursor, expect={"GSI1PK": gpk},
                          prefix={"PK": keys.project_pk(tenant, ""), "SK": keys.SESSION_PREFIX})
    return page(SessionItem.gsi1.query(gpk, limit=limit, page_size=limit, last_evaluated_key=start))


def update_session(tenant: str, project_id: str, number: int,
                   apply: Callable[[SessionItem], dict[str, Any]], *,
                   also: Callable[[Tx, SessionItem], None] | None = None) -> SessionItem:
    """Change a session and keep the project's (and accounts') counters exact, in one transaction.

    `apply` gets the freshly read session, mutates it (domain rules live there) and returns
    nothing or extra info; the counter deltas are computed here from before/after values.
    `also` adds more writes to the same transaction (completing queues the handoff job this way,
    so a fault can never leave a completed session without its job); it may still change the
    session, and a failed condition of its own is retried like a changed rev.
    Concurrent writers are serialized by the session's `rev` (its VersionAttribute: the put is
    conditional on the rev read, and bumps it), retried.
    """
    state: dict[str, Any] = {}

    def build(tx: Tx) -> None:
        cur = get_session(tenant, project_id, number, consistent=True)
        before = {f: getattr(cur, f) or 0 for f in SUMMED}
        before_status, before_account = cur.status, cur.ai_account
        before_errors = len((cur.record or {}).get("errors") or [])
        before_duration = cur.duration_s or 0
        apply(cur)
        cur.updated_at = now_iso()
        if cur.status != "in_progress":
            cur.GSI1PK = None
            cur.GSI1SK = None
            if not cur.ended_at:
                cur.ended_at = cur.updated_at
            if cur.duration_s is None:
                span = transcript_duration(cur)
                cur.duration_s = span if span is not None else max(
                    0, int((_parse_ts(cur.ended_at) - _parse_ts(cur.started_at)).total_seconds()))
        if also is not None:
            also(tx, cur)
        tx.save("session", cur)  # on condition that rev is still the one read
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
            tx.update("project", ProjectItem(keys.tenant_pk(tenant), keys.project_sk(project_id)), actions=actions,
                      condition=ProjectItem.state == "active")
        state.update(session=cur)
        d_credits = (cur.credits_used or 0) - before["credits_used"]
        if cur.ai_account != before_account:
            if before_account:
                tx.update("old_account", AccountItem(keys.tenant_pk(tenant), keys.account_sk(before_account)),
                          actions=[AccountItem.sessions.add(-1),
                                   AccountItem.credits_used.add(-before["credits_used"])])
            if cur.ai_account:
                tx.update("account", AccountItem(keys.tenant_pk(tenant), keys.account_sk(cur.ai_account)),
                          actions=[AccountItem.sessions.add(1), AccountItem.credits_used.add(cur.credits_used or 0)],
                          condition=AccountItem.SK.exists())
        elif cur.ai_account and d_credits:
            tx.update("account", AccountItem(keys.tenant_pk(tenant), keys.account_sk(cur.ai_account)),
                      actions=[AccountItem.credits_used.add(d_credits)], condition=AccountItem.SK.exists())

    def on_cancel(failed: frozenset[str]) -> None:
        if "account" in failed:
            raise BadRequest(f"ai_account {state['session'].ai_account!r} does not exist",
                             code="unknown_ai_account", field="ai_account")
        if "project" in failed:
            get_project(tenant, project_id, consistent=True)  # raises NotFound if the project went away
        # "session" (another writer changed it since it was read) or an `also` operation: read again, retry

    run_transaction(build, on_cancel=on_cancel)
    return state["session"]


def set_activity(tenant: str, project_id: str, number: int, activity: dict[str, int]) -> None:
    """Store a session's activity summary (commits, checks) in one UpdateItem, without reading it:
    the project timeline then needs only the Query of the sessions, never their transcripts."""
    session_ref(tenant, project_id, number).update(
        actions=[SessionItem.activity.set(activity)], condition=SessionItem.PK.exists(), add_version_condition=False)
