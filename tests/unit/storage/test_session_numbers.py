"""Session numbers are reserved with an atomic ADD and then filled: a creation that fails after
taking its number gives it back, or fills it with a failed placeholder, and numbers left by
creations that died are filled by the next one, so no number is skipped and counters stay exact."""

from __future__ import annotations

import pytest

from chalicelib.errors import BadRequest, Conflict, NotFound
from chalicelib.storage import keys
from chalicelib.storage import sessions as store
from chalicelib.storage.models import BaseItem, ExternalIdItem, ProjectItem
from chalicelib.storage.projects import create_project, delete_project, get_project


@pytest.fixture
def pid(aws):
    return create_project("acme", name="p", description=None, goal=None).id


class Boom(RuntimeError):
    pass


def test_a_failed_write_gives_its_number_back_when_it_is_the_last(pid, monkeypatch):
    store.create_session("acme", pid, {})
    real = store._fill_number

    def fail(*a, **kw):
        raise Boom("database went away")

    monkeypatch.setattr(store, "_fill_number", fail)
    with pytest.raises(Boom):
        store.create_session("acme", pid, {"credit_budget": 5})
    p = get_project("acme", pid)
    assert int(p.session_count) == 1 and int(p.sessions_in_progress) == 1 and int(p.credit_budget or 0) == 0
    monkeypatch.setattr(store, "_fill_number", real)
    assert int(store.create_session("acme", pid, {})[0].number) == 2


def test_a_failed_write_behind_a_later_reservation_leaves_a_failed_placeholder(pid, monkeypatch):
    real = store._fill_number
    later: list[int] = []

    def fail_after_another_reserved(tenant, project_id, n, head, fields, token):
        before = store._reserve_number(tenant, project_id)
        later.append(int(before.session_count) + 1)
        real(tenant, project_id, later[0], before, {}, None)
        raise Boom("database went away")

    monkeypatch.setattr(store, "_fill_number", fail_after_another_reserved)
    with pytest.raises(Boom):
        store.create_session("acme", pid, {"credit_budget": 5})
    assert later == [2]
    hole = store.get_session("acme", pid, 1)
    assert hole.status == "failed" and hole.start_warnings[0]["code"] == "creation_failed"
    assert store.get_session("acme", pid, 2).status == "in_progress"
    p = get_project("acme", pid)
    assert (int(p.session_count), int(p.sessions_in_progress), int(p.sessions_failed), int(p.credit_budget or 0)) \
        == (2, 1, 1, 0)
    monkeypatch.setattr(store, "_fill_number", real)
    assert int(store.create_session("acme", pid, {})[0].number) == 3


def test_a_project_deleted_while_a_session_is_written_keeps_nothing(pid, monkeypatch):
    real = store._fill_number

    def delete_meanwhile(*a, **kw):
        ProjectItem(keys.tenant_pk("acme"), keys.project_sk(pid)).update(actions=[ProjectItem.state.set("deleting")])
        return real(*a, **kw)

    monkeypatch.setattr(store, "_fill_number", delete_meanwhile)
    with pytest.raises(NotFound):
        store.create_session("acme", pid, {"external_id": "e1"})
    assert list(BaseItem.query(keys.project_pk("acme", pid))) == []
    assert delete_project("acme", pid) == 1


def test_numbers_left_by_creations_that_died_are_filled_by_the_next_one(pid, monkeypatch):
    """A process killed between reserving and writing (or a database lost for the release too)
    leaves holes; the next creation more than HOLE_GRACE_S later fills them, counters exact."""
    store.create_session("acme", pid, {"credit_budget": 2})
    for _ in range(3):  # three creations that took a number and died
        store._reserve_number("acme", pid)
    p = get_project("acme", pid)
    assert int(p.session_count) == 4 and int(p.sessions_in_progress) == 1
    young = store.create_session("acme", pid, {})[0]  # within the grace period: holes are left alone
    assert int(young.number) == 5
    with pytest.raises(NotFound):
        store.get_session("acme", pid, 4)
    for _ in range(2):
        store._reserve_number("acme", pid)
    monkeypatch.setattr(store, "HOLE_GRACE_S", -1.0)  # as if a minute had passed
    s, _ = store.create_session("acme", pid, {"credit_budget": 1})
    assert int(s.number) == 8
    statuses = [store.get_session("acme", pid, k).status for k in range(1, 9)]
    assert statuses == ["in_progress", "failed", "failed", "failed", "in_progress", "failed", "failed",
                        "in_progress"]
    assert store.get_session("acme", pid, 2).start_warnings[0]["code"] == "creation_failed"
    p = get_project("acme", pid)
    assert (int(p.session_count), int(p.sessions_in_progress), int(p.sessions_failed), int(p.credit_budget)) \
        == (8, 3, 5, 3)


def test_an_unknown_account_takes_no_number(pid):
    with pytest.raises(BadRequest) as e:
        store.create_session("acme", pid, {"ai_account": "nope"})
    assert e.value.field == "ai_account"
    assert int(get_project("acme", pid).session_count) == 0


def test_a_creation_that_died_holding_an_external_id_is_taken_over(pid, monkeypatch):
    ExternalIdItem(keys.project_pk("acme", pid), keys.external_sk("dead"), project_id=pid, external_id="dead",
                   number=0, claim="gone", created_at="2020-01-01T00:00:00.000Z").save()
    s, _, created = store.create_or_link_session("acme", pid, {"external_id": "dead"})
    assert created and int(s.number) == 1
    ext = ExternalIdItem.get(keys.project_pk("acme", pid), keys.external_sk("dead"))
    assert int(ext.number) == 1 and ext.claim is None
    ExternalIdItem(keys.project_pk("acme", pid), keys.external_sk("busy"), project_id=pid, external_id="busy",
                   number=0, claim="live", created_at=store.now_iso()).save()
    monkeypatch.setattr(store, "CLAIM_WAIT_S", 0.1)
    with pytest.raises(Conflict):
        store.create_or_link_session("acme", pid, {"external_id": "busy"})
    assert int(get_project("acme", pid).session_count) == 1


def test_a_reservation_meeting_a_running_transaction_is_retried(pid, monkeypatch):
    from botocore.exceptions import ClientError
    from pynamodb.connection.table import TableConnection
    from pynamodb.exceptions import UpdateError

    real = TableConnection.update_item
    failures = [2]

    def busy(self, *a, **kw):
        if failures[0]:
            failures[0] -= 1
            raise UpdateError("conflict", cause=ClientError(
                {"Error": {"Code": "TransactionConflictException", "Message": "in a transaction"}}, "UpdateItem"))
        return real(self, *a, **kw)

    monkeypatch.setattr(TableConnection, "update_item", busy)
    s, _ = store.create_session("acme", pid, {})
    assert int(s.number) == 1 and failures == [0]
    assert int(get_project("acme", pid).sessions_in_progress) == 1


def test_a_dropped_connection_surfaces_as_the_outage_it_is(pid, monkeypatch):
    """pynamodb's cause_response_code raises AttributeError when the connection dropped (its
    cause has no response); the original error must reach the API, which answers 503."""
    from botocore.exceptions import ConnectionClosedError
    from pynamodb.connection.table import TableConnection
    from pynamodb.exceptions import UpdateError

    from chalicelib.storage.health import is_outage

    def dropped(self, *a, **kw):
        raise UpdateError("dropped", cause=ConnectionClosedError(endpoint_url="http://127.0.0.1:1"))

    monkeypatch.setattr(TableConnection, "update_item", dropped)
    with pytest.raises(UpdateError) as e:
        store.create_session("acme", pid, {})
    assert is_outage(e.value)


def test_a_write_that_committed_but_lost_its_answer_keeps_its_number(pid, monkeypatch):
    real = store._fill_number

    def lost_answer(*a, **kw):
        real(*a, **kw)
        raise Boom("the answer was lost after the commit")

    monkeypatch.setattr(store, "_fill_number", lost_answer)
    with pytest.raises(Boom):
        store.create_session("acme", pid, {})
    monkeypatch.setattr(store, "_fill_number", real)
    assert int(get_project("acme", pid).session_count) == 1  # not given back: session 1 exists
    assert int(store.create_session("acme", pid, {})[0].number) == 2
