"""Completing a session under faults (issue 20, item 3): the status change and the handoff job are
one transaction, and a retry of a complete whose job never ran finishes it (202), never a 409 that
leaves the session without its handoff."""

from __future__ import annotations

import pytest
from botocore.exceptions import EndpointConnectionError

from chalicelib.storage.handoffs import find_handoff
from chalicelib.storage.projects import get_project


@pytest.fixture
def pid(api, sync_jobs):
    pid = api.post("/api/projects", {"name": "Billing"}).json_body["id"]
    assert api.post(f"/api/projects/{pid}/sessions", {"title": "Invoices"}).status_code == 201
    return pid


def _complete(api, pid, **fields):
    return api.post(f"/api/projects/{pid}/sessions/1/complete",
                    {"status": "completed", "handoff_mode": "rules", "next_steps": ["Add tax rules"], **fields})


def _once(monkeypatch, target, name):
    """Make `target.name` raise a database outage on its first call only."""
    real = getattr(target, name)
    calls = []

    def flaky(*a, **kw):
        calls.append(1)
        if len(calls) == 1:
            raise EndpointConnectionError(endpoint_url="http://dynamodb.test")
        return real(*a, **kw)

    monkeypatch.setattr(target, name, flaky)
    return calls


def _faults():
    from chalicelib import jobs
    from chalicelib.domain import open_items
    from chalicelib.storage import handoffs

    return {"open_items": (open_items, "record_session"),  # a write after the session's
            "handoff_request": (handoffs, "request_handoff"),  # what used to be the second write
            "enqueue": (jobs, "enqueue")}  # the job runner (SQS) out of reach


@pytest.mark.parametrize("where", ["open_items", "handoff_request", "enqueue"])
def test_a_retry_after_a_fault_finishes_the_handoff_instead_of_409(api, pid, monkeypatch, where):
    target, name = _faults()[where]
    _once(monkeypatch, target, name)
    first = _complete(api, pid)
    if first.status_code != 202:  # the fault reached the client: it retries the same complete
        assert first.status_code == 503, first.body
        again = _complete(api, pid)
        assert again.status_code == 202, again.body
        assert again.json_body["session"]["status"] == "completed"
    h = api.get(f"/api/projects/{pid}/sessions/1/handoff").json_body
    assert h["status"] == "ready" and "Add tax rules" in h["markdown"], h
    s = api.get(f"/api/projects/{pid}/sessions/1").json_body
    assert s["handoff"]["status"] == "ready" and s["handoff"]["version"] == h["version"]
    p = get_project("acme", pid)
    assert (p.sessions_completed, p.sessions_in_progress, p.handoffs_ready) == (1, 0, 1)
    assert [i["text"] for i in api.get(f"/api/projects/{pid}/open-items").json_body["items"]] == ["Add tax rules"]


def test_a_fault_inside_the_transaction_changes_nothing(api, pid, monkeypatch):
    from chalicelib.storage import handoffs

    _once(monkeypatch, handoffs, "add_request")
    assert _complete(api, pid).status_code == 503
    s = api.get(f"/api/projects/{pid}/sessions/1").json_body
    assert s["status"] == "in_progress" and s["handoff"] is None
    assert find_handoff("acme", pid, 1) is None and get_project("acme", pid).sessions_in_progress == 1
    r = _complete(api, pid)
    assert r.status_code == 202 and r.json_body["handoff"]["status"] == "ready"


def test_a_retry_whose_job_was_written_but_never_queued_runs_that_job(api, pid, monkeypatch):
    from chalicelib.domain import handoffs

    def lost(*a, **kw):  # the process died after the transaction: the job item exists, nobody runs it
        raise EndpointConnectionError(endpoint_url="http://sqs.test")

    monkeypatch.setattr(handoffs, "queue", lost)
    assert _complete(api, pid).status_code == 503
    pending = find_handoff("acme", pid, 1)
    assert pending.status == "pending" and pending.version == 1
    monkeypatch.undo()
    r = _complete(api, pid)
    assert r.status_code == 202, r.body
    done = find_handoff("acme", pid, 1)
    assert done.status == "ready" and done.job_id == pending.job_id and done.version == 1  # the same job


def test_completing_a_session_whose_handoff_is_made_is_still_409(api, pid):
    assert _complete(api, pid).status_code == 202
    for status in ("completed", "failed"):
        r = _complete(api, pid, status=status)
        assert r.status_code == 409 and r.json_body["error"]["code"] == "invalid_transition"
    assert find_handoff("acme", pid, 1).version == 1  # no second job
