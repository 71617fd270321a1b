"""Which handoff a new session starts from: never an older one while the previous one is being made."""

from __future__ import annotations

import pytest

from chalicelib import config, jobs
from chalicelib.domain.handoffs import run_job


@pytest.fixture
def held_jobs(monkeypatch):
    """Handoff jobs are queued but not run until the test runs them (a slow worker)."""
    queued: list[dict] = []
    monkeypatch.setenv("MSO_JOBS", "sqs")
    config.reset()
    monkeypatch.setattr(jobs, "enqueue", lambda job, runner: queued.append(job))
    yield queued
    config.reset()


@pytest.fixture
def pid(api):
    return api.post("/api/projects", {"name": "Start"}).json_body["id"]


def _complete(api, pid, n, **fields):
    r = api.post(f"/api/projects/{pid}/sessions/{n}/complete", {"handoff_mode": "rules", **fields})
    assert r.status_code == 202, r.body
    return r.json_body


def test_a_start_during_the_handoff_waits_for_it_then_is_linked(api, pid, held_jobs):
    api.post(f"/api/projects/{pid}/sessions", {})
    _complete(api, pid, 1, next_steps=["Step one"])
    api.post(f"/api/projects/{pid}/sessions", {})
    _complete(api, pid, 2, next_steps=["Step two"])
    run_job(held_jobs.pop(0))  # handoff 1 is ready, handoff 2 is still queued
    third = api.post(f"/api/projects/{pid}/sessions", {}).json_body
    assert third["starting_handoff"]["status"] == "pending"
    assert third["starting_handoff"]["from_session"] == 2 and third["starting_handoff"]["markdown"] is None
    assert third["started_from_handoff"] == 2 and third["warnings"] == []
    assert api.get(f"/api/projects/{pid}/sessions/3").json_body["starting_handoff"]["status"] == "pending"
    run_job(held_jobs.pop(0))
    got = api.get(f"/api/projects/{pid}/sessions/3").json_body["starting_handoff"]
    h2 = api.get(f"/api/projects/{pid}/sessions/2/handoff").json_body
    assert got["status"] == "ready" and got["from_session"] == 2 and got["markdown"] == h2["markdown"]
    assert "Step two" in got["markdown"]


def test_starting_while_the_previous_session_runs_warns(api, pid):
    api.post(f"/api/projects/{pid}/sessions", {})
    second = api.post(f"/api/projects/{pid}/sessions", {}).json_body
    codes = [w["code"] for w in second["warnings"]]
    assert codes == ["sessions_in_progress", "previous_in_progress"]
    assert "session 1 is still in progress" in second["warnings"][1]["message"]
    assert second["starting_handoff"] is None
    assert api.get(f"/api/projects/{pid}/sessions/2").json_body["warnings"] == second["warnings"]


def test_previous_closed_without_handoff_starts_from_the_latest_with_a_warning(api, pid, monkeypatch):
    monkeypatch.setenv("MSO_JOBS", "sync")
    config.reset()
    api.post(f"/api/projects/{pid}/sessions", {})
    _complete(api, pid, 1)
    api.post(f"/api/projects/{pid}/sessions", {})
    assert api.patch(f"/api/projects/{pid}/sessions/2", {"status": "failed"}).status_code == 200
    third = api.post(f"/api/projects/{pid}/sessions", {}).json_body
    assert third["started_from_handoff"] == 1 and third["starting_handoff"]["status"] == "ready"
    assert [w["code"] for w in third["warnings"]] == ["previous_handoff_missing"]
    config.reset()


def test_a_start_after_a_completion_is_never_cold(api, pid, monkeypatch):
    monkeypatch.setenv("MSO_JOBS", "sync")
    config.reset()
    api.post(f"/api/projects/{pid}/sessions", {})
    _complete(api, pid, 1)
    nxt = api.post(f"/api/projects/{pid}/sessions", {}).json_body
    assert nxt["starting_handoff"]["status"] == "ready" and nxt["warnings"] == []
    config.reset()
