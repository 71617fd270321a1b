"""Handoff jobs that failed because the database was out of reach are run again; a job whose content
fails stays failed with its reason; however many times a job runs, it stores one version (issue 20,
item 3: 14 jobs that failed during an outage stayed failed for good)."""

from __future__ import annotations

import pytest
from botocore.exceptions import EndpointConnectionError

from chalicelib import jobs
from chalicelib.domain import handoffs as domain
from chalicelib.storage import handoffs as store
from chalicelib.storage import keys
from chalicelib.storage.models import HandoffVersionItem
from chalicelib.storage.projects import get_project


def _down(*a, **kw):
    raise EndpointConnectionError(endpoint_url="http://dynamodb.test")


def _failing(monkeypatch, target, name, times: int, exc=_down):
    """`target.name` fails `times` times, then works."""
    real = getattr(target, name)
    calls = []

    def flaky(*a, **kw):
        calls.append(1)
        if len(calls) <= times:
            exc()
        return real(*a, **kw)

    monkeypatch.setattr(target, name, flaky)
    return calls


@pytest.fixture
def inline(monkeypatch):
    """The `make dev` runner (a background thread), with no waiting between its retries."""
    from chalicelib import config

    monkeypatch.setenv("MSO_JOBS", "inline")
    monkeypatch.setattr(jobs, "INLINE_RETRY_DELAYS_S", (0, 0, 0, 0), raising=False)
    config.reset()
    yield
    assert jobs.wait_idle(30)
    config.reset()


@pytest.fixture
def pid(api):
    pid = api.post("/api/projects", {"name": "p"}).json_body["id"]
    assert api.post(f"/api/projects/{pid}/sessions", {}).status_code == 201
    return pid


def _complete(api, pid):
    r = api.post(f"/api/projects/{pid}/sessions/1/complete", {"handoff_mode": "rules", "accomplishments": ["a"]})
    assert r.status_code == 202, r.body
    assert jobs.wait_idle(30)
    return store.get_handoff("acme", pid, 1, consistent=True)


def _versions(pid) -> int:
    return len(list(HandoffVersionItem.query(keys.project_pk("acme", pid),
                                             HandoffVersionItem.SK.startswith("HANDOFFV#"))))


def test_a_job_failed_while_the_database_was_down_is_run_again(api, pid, inline, monkeypatch):
    calls = _failing(monkeypatch, domain, "build_inputs", times=2)
    h = _complete(api, pid)
    assert h.status == "ready" and h.attempts == 3 and len(calls) == 3 and not h.retryable
    assert _versions(pid) == 1 and get_project("acme", pid).handoffs_ready == 1


def test_a_job_whose_failure_could_not_even_be_recorded_is_run_again(api, pid, inline, monkeypatch):
    _failing(monkeypatch, domain, "build_inputs", times=1)
    _failing(monkeypatch, store, "fail", times=1)  # the database is still down when the job records it
    h = _complete(api, pid)
    assert h.status == "ready" and h.attempts == 2


def test_a_job_failed_by_its_content_stays_failed_with_its_reason(api, pid, inline, monkeypatch):
    def broken(*a, **kw):
        raise ValueError("no handoff can be made of this")

    calls = _failing(monkeypatch, domain, "generate", times=99, exc=broken)
    h = _complete(api, pid)
    assert h.status == "failed" and h.reason == "ValueError: the handoff could not be built"
    assert h.attempts == 1 and len(calls) == 1 and not h.retryable


def test_a_job_whose_stored_result_lost_its_answer_stores_one_version(api, pid, inline, monkeypatch):
    real = store.finish
    runs = []

    def committed_then_lost(*a, **kw):
        runs.append(real(*a, **kw))
        if len(runs) == 1:
            _down()
        return runs[-1]

    monkeypatch.setattr(store, "finish", committed_then_lost)
    h = _complete(api, pid)
    assert h.status == "ready" and h.version == 1 and runs == [True]  # the retry found it done
    assert _versions(pid) == 1 and get_project("acme", pid).handoffs_ready == 1


def test_a_job_run_twice_at_once_stores_one_version(api, pid, sync_jobs):
    item = store.request_handoff("acme", pid, 1, mode="rules", budget_chars=None)
    api.patch(f"/api/projects/{pid}/sessions/1", {"status": "completed"})
    job = {"tenant": "acme", "project_id": pid, "number": 1, "job_id": item.job_id}
    first = store.claim("acme", pid, 1, item.job_id)
    second = store.claim("acme", pid, 1, item.job_id)  # a redelivery while the first still runs
    assert first is not None and second is not None
    result = domain.generate(domain.build_inputs("acme", pid, 1), mode="rules", budget_chars=9_500)
    assert store.finish("acme", pid, 1, item.job_id, result) is True
    assert store.finish("acme", pid, 1, item.job_id, result) is False
    assert domain.run_job(job) == "duplicate"
    assert _versions(pid) == 1 and get_project("acme", pid).handoffs_ready == 1


def test_the_dev_server_reruns_jobs_failed_for_the_database_not_for_their_content(api, pid, sync_jobs):
    from devtools.dev import resume_interrupted_jobs

    assert api.post(f"/api/projects/{pid}/sessions", {}).status_code == 201
    for n in (1, 2):
        api.patch(f"/api/projects/{pid}/sessions/{n}", {"status": "completed"})
    outage = store.request_handoff("acme", pid, 1, mode="rules", budget_chars=None)
    store.fail("acme", pid, 1, outage.job_id, "EndpointConnectionError: ...", retryable=True)
    content = store.request_handoff("acme", pid, 2, mode="rules", budget_chars=None)
    store.fail("acme", pid, 2, content.job_id, "ValueError: the handoff could not be built")
    assert resume_interrupted_jobs() == 1
    assert store.get_handoff("acme", pid, 1).status == "ready"
    assert store.get_handoff("acme", pid, 2).status == "failed"
