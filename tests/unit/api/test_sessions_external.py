"""Sessions carrying the agent's own session id: one session per id, the agent recorded."""

from __future__ import annotations

import pytest

from bench.request_costs import CallLog


def _calls(fn) -> list[str]:
    from chalicelib.storage.models import client

    log = CallLog()
    log.attach(client())
    try:
        fn()
        return log.take()
    finally:
        client().meta.events.unregister("before-call.dynamodb", log)


@pytest.fixture
def pid(api):
    return api.post("/api/projects", {"name": "p"}).json_body["id"]


def test_same_external_id_links_to_the_same_session(api, pid):
    body = {"external_id": "258c7280-ae70-4798-800f-63464d01a85d", "agent": "claude", "title": "hooked"}
    first = api.post(f"/api/projects/{pid}/sessions", body)
    assert first.status_code == 201
    s = first.json_body
    assert s["created"] is True and s["external_id"] == body["external_id"] and s["agent"] == "claude"
    again = api.post(f"/api/projects/{pid}/sessions", {**body, "title": "other"})
    assert again.status_code == 200
    assert again.json_body["number"] == s["number"] and again.json_body["created"] is False
    assert again.json_body["title"] == "hooked"  # linking changes nothing
    other = api.post(f"/api/projects/{pid}/sessions", {"external_id": "another", "agent": "codex"})
    assert other.status_code == 201 and other.json_body["number"] == s["number"] + 1
    p = api.get(f"/api/projects/{pid}").json_body
    assert p["sessions"]["total"] == 2 and p["sessions"]["in_progress"] == 2
    got = api.get(f"/api/projects/{pid}/sessions/{s['number']}").json_body
    assert got["external_id"] == body["external_id"] and got["agent"] == "claude"


def test_external_id_is_unique_per_project_not_per_tenant(api, pid):
    other = api.post("/api/projects", {"name": "q"}).json_body["id"]
    a = api.post(f"/api/projects/{pid}/sessions", {"external_id": "x1"})
    b = api.post(f"/api/projects/{other}/sessions", {"external_id": "x1"})
    assert a.status_code == b.status_code == 201


def test_a_linked_session_still_gets_the_latest_handoff(api, pid):
    api.post(f"/api/projects/{pid}/sessions", {"external_id": "one"})
    api.post(f"/api/projects/{pid}/sessions/1/complete", {"next_steps": ["write the CLI"], "handoff_mode": "rules"})
    two = api.post(f"/api/projects/{pid}/sessions", {"external_id": "two"}).json_body
    assert "write the CLI" in two["starting_handoff"]["markdown"]
    again = api.post(f"/api/projects/{pid}/sessions", {"external_id": "two"}).json_body
    assert again["number"] == 2 and "write the CLI" in again["starting_handoff"]["markdown"]


@pytest.mark.parametrize("bad,field", [({"external_id": ""}, "external_id"), ({"external_id": "a b"}, "external_id"),
                                       ({"external_id": "x" * 201}, "external_id"), ({"agent": "Claude!"}, "agent"),
                                       ({"external_id": 7}, "external_id")])
def test_bad_external_fields_are_400_naming_the_field(api, pid, bad, field):
    r = api.post(f"/api/projects/{pid}/sessions", bad)
    assert r.status_code == 400 and r.json_body["error"]["field"] == field


def test_deleting_the_project_removes_the_guard_items(api, pid):
    api.post(f"/api/projects/{pid}/sessions", {"external_id": "gone"})
    assert api.delete(f"/api/projects/{pid}").status_code == 200
    from chalicelib.storage import keys
    from chalicelib.storage.models import BaseItem

    assert list(BaseItem.query(keys.project_pk("acme", pid))) == []


def test_request_counts_of_create_and_link(api, pid):
    api.get(f"/api/projects/{pid}")  # warm the token cache
    calls = _calls(lambda: api.post(f"/api/projects/{pid}/sessions", {"external_id": "c1"}))
    # guard lookup, claim the id, reserve the number, transaction
    assert calls == ["GetItem", "PutItem", "UpdateItem", "TransactWriteItems"]
    calls = _calls(lambda: api.post(f"/api/projects/{pid}/sessions", {"external_id": "c1"}))
    assert calls == ["GetItem", "GetItem"]  # guard, session (no starting handoff to read: it is session 1)
    api.post(f"/api/projects/{pid}/sessions/1/complete", {"handoff_mode": "rules"})
    calls = _calls(lambda: api.post(f"/api/projects/{pid}/sessions", {"external_id": "c2"}))
    # guard lookup, claim, reserve, previous session (where to start from), transaction, starting handoff,
    # the open items it does not carry (ledger)
    assert calls == ["GetItem", "PutItem", "UpdateItem", "GetItem", "TransactWriteItems", "GetItem", "Query"]


def test_openapi_documents_the_200_of_a_linked_creation(api):
    doc = api.get("/api/openapi.json").json_body
    responses = doc["paths"]["/api/projects/{project_id}/sessions"]["post"]["responses"]
    assert "201" in responses and "200" in responses
