"""GET /api/projects/{p}/timeline: sessions on a time axis, with marks stored by the handoff job."""

from __future__ import annotations

import json

import pytest


def _tool_turn(i: int, command: str, output: str, is_error: bool = False) -> list[dict]:
    ts = f"2026-11-01T10:{i:02d}:00Z"
    tid = f"toolu_{i:03d}"
    return [
        {"type": "assistant", "uuid": f"a{i}", "timestamp": ts, "cwd": "/w", "sessionId": "s1",
         "message": {"id": f"msg_{i}", "role": "assistant", "model": "claude-opus-4-6",
                     "content": [{"type": "tool_use", "id": tid, "name": "Bash", "input": {"command": command}}],
                     "usage": {"input_tokens": 10, "output_tokens": 20, "cache_read_input_tokens": 0,
                               "cache_creation_input_tokens": 0}}},
        {"type": "user", "uuid": f"r{i}", "timestamp": ts, "cwd": "/w", "sessionId": "s1",
         "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tid, "content": output,
                                                  "is_error": is_error}]}},
    ]


def _transcript() -> bytes:
    recs = [{"type": "user", "uuid": "u0", "timestamp": "2026-11-01T09:58:00Z", "cwd": "/w", "sessionId": "s1",
             "message": {"role": "user", "content": "fix the login test"}}]
    recs += _tool_turn(1, "pytest -q tests/test_login.py", "Exit code 1\nF\n1 failed in 0.1s", is_error=True)
    recs += _tool_turn(2, "pytest -q tests/test_login.py", "....\n4 passed in 0.1s")
    recs += _tool_turn(3, 'git commit -am "fix: login expiry"', "[main abc1234] fix: login expiry\n 1 file changed")
    recs += _tool_turn(4, "npm test", "Tests: 1 failed, 3 passed", is_error=True)
    return "\n".join(json.dumps(r) for r in recs).encode()


@pytest.fixture
def project(api, sync_jobs):
    pid = api.post("/api/projects", {"name": "timeline"}).json_body["id"]
    api.post(f"/api/projects/{pid}/sessions", {"title": "first"})
    r = api.put(f"/api/projects/{pid}/sessions/1/transcript", raw=_transcript(),
                headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 200, r.body
    r = api.post(f"/api/projects/{pid}/sessions/1/complete", {"errors": ["the UI suite still fails"],
                                                               "handoff_mode": "rules"})
    assert r.status_code == 202, r.body
    api.post(f"/api/projects/{pid}/sessions", {"title": "second"})
    return pid


def test_sessions_carry_their_real_span_cost_and_marks(api, project):
    r = api.get(f"/api/projects/{project}/timeline")
    assert r.status_code == 200, r.body
    body = r.json_body
    assert body["project_id"] == project
    first, second = body["sessions"]
    session = api.get(f"/api/projects/{project}/sessions/1").json_body
    # the transcript's own span, not when the API saw the session start
    assert (first["started_at"], first["ended_at"]) == ("2026-11-01T09:58:00Z", "2026-11-01T10:04:00Z")
    assert first["started_at"] != session["started_at"]
    assert first["title"] == "first" and first["status"] == "completed"
    assert first["tokens"] == session["transcript"]["tokens"] and first["tokens"] > 0
    assert first["cost_usd"] == session["cost"]["usd"] and first["cost_usd"] > 0
    assert first["commits"] == 1
    # each check by its last outcome: pytest failed then passed, npm test failed
    assert first["checks"] == {"pass": 1, "fail": 1}
    # one recorded error plus the transcript's two failed tool calls
    assert first["errors"] == 1 + session["transcript"]["tool_errors"] == 3
    assert first["handoff"] == {"status": "ready", "version": 1, "method": "rules"}
    # the running session: no transcript, so the API's own clock; no marks, no handoff yet
    assert second["number"] == 2 and second["status"] == "in_progress" and second["ended_at"] is None
    assert second["commits"] == 0 and second["checks"] == {"pass": 0, "fail": 0} and second["handoff"] is None
    assert second["tokens"] is None and second["cost_usd"] is None


def test_the_marks_come_from_the_session_item_not_the_transcript(api, project, monkeypatch):
    from chalicelib.storage import transcripts

    def no_reads(*a, **k):
        raise AssertionError("the timeline must not read transcripts")

    for name in dir(transcripts):
        if name.startswith(("read", "load", "get", "iter")) and callable(getattr(transcripts, name)):
            monkeypatch.setattr(transcripts, name, no_reads)
    assert api.get(f"/api/projects/{project}/timeline").json_body["sessions"][0]["commits"] == 1


def test_a_failed_summary_write_leaves_the_handoff_ready(api, sync_jobs, monkeypatch):
    from chalicelib.storage import sessions as store

    def broken(*a, **k):
        raise RuntimeError("throttled")

    monkeypatch.setattr(store, "set_activity", broken)
    pid = api.post("/api/projects", {"name": "best effort"}).json_body["id"]
    api.post(f"/api/projects/{pid}/sessions", {})
    api.put(f"/api/projects/{pid}/sessions/1/transcript", raw=_transcript(),
            headers={"Content-Type": "application/octet-stream"})
    api.post(f"/api/projects/{pid}/sessions/1/complete", {"handoff_mode": "rules"})
    assert api.get(f"/api/projects/{pid}/sessions/1/handoff").json_body["status"] == "ready"
    s = api.get(f"/api/projects/{pid}/timeline").json_body["sessions"][0]
    assert s["commits"] == 0 and s["handoff"]["status"] == "ready"


def test_a_project_with_no_sessions_has_an_empty_timeline(api):
    pid = api.post("/api/projects", {"name": "empty"}).json_body["id"]
    r = api.get(f"/api/projects/{pid}/timeline")
    assert r.status_code == 200 and r.json_body == {"project_id": pid, "sessions": []}


def test_another_tenant_sees_nothing(api, other_api, project):
    r = other_api.get(f"/api/projects/{project}/timeline")
    assert r.status_code == 404 and r.json_body["error"]["code"] == "project_not_found"
    assert api.get("/api/projects/nope/timeline", ).status_code == 404
    assert api.get(f"/api/projects/{project}/timeline", token=None).status_code == 401


def test_it_is_in_the_openapi_document_with_its_schema(api):
    doc = api.get("/api/openapi.json").json_body
    op = doc["paths"]["/api/projects/{project_id}/timeline"]["get"]
    schema = op["responses"]["200"]["content"]["application/json"]["schema"]
    assert "sessions" in json.dumps(schema) and "checks" in json.dumps(schema)


def test_every_session_is_there_oldest_first_across_pages(api, monkeypatch):
    from chalicelib.domain import project_timeline

    monkeypatch.setattr(project_timeline, "PAGE", 2)  # five sessions: three DynamoDB pages
    pid = api.post("/api/projects", {"name": "paged"}).json_body["id"]
    for i in range(5):
        api.post(f"/api/projects/{pid}/sessions", {"title": f"s{i + 1}"})
    sessions = api.get(f"/api/projects/{pid}/timeline").json_body["sessions"]
    assert [s["number"] for s in sessions] == [1, 2, 3, 4, 5]
    assert [s["title"] for s in sessions] == ["s1", "s2", "s3", "s4", "s5"]


def test_the_summary_counts_what_a_handoff_holds_and_ignores_junk():
    from chalicelib.domain.project_timeline import activity_summary

    data = {"commits": [{"sha": "a"}, {"sha": "b"}, "not a commit"],
            "checks": [[{"command": "pytest", "outcome": "pass"}, {"command": "npm test", "outcome": "fail"}],
                       {"command": "ruff", "outcome": "pass"}, [{"command": "tsc", "outcome": "running"}], 7]}
    assert activity_summary(data) == {"commits": 2, "checks_pass": 2, "checks_fail": 1}
    assert activity_summary(None) == {"commits": 0, "checks_pass": 0, "checks_fail": 0}
    assert activity_summary({"checks": None, "commits": None}) == {"commits": 0, "checks_pass": 0, "checks_fail": 0}
