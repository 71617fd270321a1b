"""Session writes on moto: named transaction operations and the `rev` version lock."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.storage import files as file_store
from chalicelib.storage import sessions as store
from chalicelib.storage.accounts import create_account, get_account
from chalicelib.storage.common import Tx
from chalicelib.storage.models import SessionItem
from chalicelib.storage.projects import create_project, get_project

TENANT = "t1"


class RecordingTx:
    """Stands in for pynamodb's TransactWrite: records what Tx forwards."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __getattr__(self, kind: str) -> Any:
        return lambda *a, **kw: self.calls.append(kind)


def test_names_follow_the_order_dynamodb_reports_on() -> None:
    raw = RecordingTx()
    tx = Tx(raw)  # type: ignore[arg-type]
    tx.update("project", object(), [])
    tx.save("session", object())
    tx.condition_check("previous", SessionItem, "pk", "sk", condition=SessionItem.rev == 1)
    tx.save("external_id", object())
    tx.delete("old", object())
    assert raw.calls == ["update", "save", "condition_check", "save", "delete"]
    assert tx.names == ["previous", "old", "session", "external_id", "project"]  # checks, deletes, puts, updates
    with pytest.raises(ValueError, match="named twice"):
        tx.save("session", object())


def test_a_changed_previous_session_retries_even_with_an_account(aws, monkeypatch) -> None:
    """Session n-1 changes between the read that decided where session n starts and the commit:
    the creation reads again and commits with the same number (the condition check comes first in
    the transaction; it must not be taken for "session n exists" or "the account is missing")."""
    project = create_project(TENANT, name="p", description=None, goal=None)
    account = create_account(TENANT, name="a", provider="openai", credit_budget=10)
    store.create_session(TENANT, project.id, {"ai_account": account.id})
    stale = store.get_session(TENANT, project.id, 1, consistent=True)

    def retitle(s: SessionItem) -> None:
        s.title = "changed meanwhile"

    store.update_session(TENANT, project.id, 1, retitle)
    reads = {"stale": 0}
    real_get = store.get_session

    def stale_once(tenant: str, project_id: str, number: int, **kw: Any) -> SessionItem:
        if number == 1 and not reads["stale"]:
            reads["stale"] += 1
            return stale
        return real_get(tenant, project_id, number, **kw)

    monkeypatch.setattr(store, "get_session", stale_once)
    session, _ = store.create_session(TENANT, project.id, {"ai_account": account.id})
    assert int(session.number) == 2 and reads["stale"] == 1
    assert int(get_project(TENANT, project.id).session_count) == 2
    assert int(get_account(TENANT, account.id).sessions) == 2


def test_rev_is_a_version_every_write_checks_and_bumps(aws) -> None:
    project = create_project(TENANT, name="p", description=None, goal=None)
    session, _ = store.create_session(TENANT, project.id, {})
    assert session.rev == 1
    stale = store.get_session(TENANT, project.id, 1, consistent=True)

    def retitle(s: SessionItem) -> None:
        s.title = "first"

    updated = store.update_session(TENANT, project.id, 1, retitle)
    assert updated.rev == 2 == store.get_session(TENANT, project.id, 1, consistent=True).rev
    stale.title = "lost update"
    with pytest.raises(Exception, match="ConditionalCheckFailed"):
        stale.save()  # a write from an old read is refused, not applied
    n = file_store.replace_session_files(TENANT, project.id, 1, [{"path": "a.py"}], rev=2)
    assert n == 1 and store.get_session(TENANT, project.id, 1, consistent=True).rev == 3
    # a stale rev handed in is read again, not written over
    assert file_store.replace_session_files(TENANT, project.id, 1, [{"path": "b.py"}], rev=2) == 1
    fresh = store.get_session(TENANT, project.id, 1, consistent=True)
    assert (fresh.rev, fresh.title, int(fresh.files)) == (4, "first", 1)
    store.session_ref(TENANT, project.id, 1).update(actions=[SessionItem.agent.set("codex")],
                                                    add_version_condition=False)
    assert store.get_session(TENANT, project.id, 1, consistent=True).rev == 5  # bumped, not reset
