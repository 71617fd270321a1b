"""Sessions on moto: numbering, lifecycle, counters kept in step on the project and accounts."""

from __future__ import annotations

import pytest


@pytest.fixture
def pid(api):
    return api.post("/api/projects", {"name": "p"}).json_body["id"]


def test_numbers_are_sequential_and_start_in_progress(api, pid):
    created = [api.post(f"/api/projects/{pid}/sessions", {"title": f"s{i}"}) for i in range(3)]
    assert [r.status_code for r in created] == [201] * 3
    assert [r.json_body["number"] for r in created] == [1, 2, 3]
    first = created[0].json_body
    assert first["status"] == "in_progress" and first["started_at"] and first["starting_handoff"] is None
    listed = api.get(f"/api/projects/{pid}/sessions").json_body["items"]
    assert [s["number"] for s in listed] == [3, 2, 1]  # newest first, as the dashboard and MCP list them
    desc = api.get(f"/api/projects/{pid}/sessions?order=desc&limit=2").json_body
    assert [s["number"] for s in desc["items"]] == [3, 2] and desc["next_cursor"]
    rest = api.get(f"/api/projects/{pid}/sessions?order=desc&limit=2&cursor={desc['next_cursor']}").json_body
    assert [s["number"] for s in rest["items"]] == [1]
    asc = api.get(f"/api/projects/{pid}/sessions?order=asc").json_body["items"]
    assert [s["number"] for s in asc] == [1, 2, 3]


def test_session_order_is_documented_with_newest_first_as_default(api):
    spec = api.get("/api/openapi.json").json_body
    params = spec["paths"]["/api/projects/{project_id}/sessions"]["get"]["parameters"]
    order = next(p for p in params if p["name"] == "order")
    assert order["in"] == "query" and order["schema"]["enum"] == ["asc", "desc"]
    assert order["schema"]["default"] == "desc" and "newest first" in order["description"]


def test_a_bad_order_is_400_naming_it(api, pid):
    r = api.get(f"/api/projects/{pid}/sessions?order=newest")
    assert r.status_code == 400 and r.json_body["error"]["field"] == "order"


def test_lifecycle_transitions(api, pid):
    api.post(f"/api/projects/{pid}/sessions", {})
    api.post(f"/api/projects/{pid}/sessions", {})
    r = api.patch(f"/api/projects/{pid}/sessions/1", {"status": "completed"})
    assert r.status_code == 200 and r.json_body["status"] == "completed"
    assert r.json_body["ended_at"] and r.json_body["duration_s"] is not None
    for bad in ("in_progress", "failed", "completed"):
        r = api.patch(f"/api/projects/{pid}/sessions/1", {"status": bad})
        assert r.status_code == 409, bad
        assert r.json_body["error"]["code"] == "invalid_transition"
    assert api.patch(f"/api/projects/{pid}/sessions/2", {"status": "failed"}).status_code == 200
    p = api.get(f"/api/projects/{pid}").json_body
    assert p["sessions"] == {"total": 2, "in_progress": 0, "completed": 1, "failed": 1}


def test_counters_follow_every_change(api, pid):
    api.post(f"/api/projects/{pid}/sessions", {"credit_budget": 100, "tasks_planned": 4})
    api.post(f"/api/projects/{pid}/sessions", {"credit_budget": 50, "credits_used": 5})
    api.patch(f"/api/projects/{pid}/sessions/1", {"credits_used": 30, "tasks_completed": 3})
    api.patch(f"/api/projects/{pid}/sessions/1", {"credits_used": 20})  # corrections count as deltas
    api.patch(f"/api/projects/{pid}/sessions/2", {"status": "completed", "errors": ["boom", "bang"],
                                                  "duration_s": 600})
    p = api.get(f"/api/projects/{pid}").json_body
    assert p["credit_budget"] == 150
    assert p["credits_used"] == 25
    assert p["tasks_planned"] == 4 and p["tasks_completed"] == 3
    assert p["errors"] == 2 and p["duration_s"] == 600
    s = api.get("/api/stats").json_body
    assert s["credits_used"] == 25 and s["sessions"]["total"] == 2 and s["task_completion"] == 0.75


def test_record_fields_round_trip(api, pid):
    api.post(f"/api/projects/{pid}/sessions", {"goal": "ship v1", "model": "claude-x"})
    record = {"accomplishments": ["built API"], "blockers": ["CI flaky"], "decisions": ["use pynamodb"],
              "learnings": ["moto is fast"], "next_steps": ["write docs"], "links": ["https://x.test/pr/1"]}
    r = api.patch(f"/api/projects/{pid}/sessions/1", record)
    assert r.status_code == 200
    got = api.get(f"/api/projects/{pid}/sessions/1").json_body
    for k, v in record.items():
        assert got[k] == v
    assert got["goal"] == "ship v1" and got["model"] == "claude-x"


def test_ai_accounts_track_spend(api, pid):
    acc = api.post("/api/accounts", {"name": "Team Claude", "provider": "anthropic", "credit_budget": 1000})
    assert acc.status_code == 201
    aid = acc.json_body["id"]
    api.post(f"/api/projects/{pid}/sessions", {"ai_account": aid, "credits_used": 10})
    api.patch(f"/api/projects/{pid}/sessions/1", {"credits_used": 40})
    a = api.get(f"/api/accounts/{aid}").json_body
    assert a["credits_used"] == 40 and a["sessions"] == 1 and a["credits_left"] == 960
    other = api.post("/api/accounts", {"name": "OpenAI", "provider": "openai"}).json_body["id"]
    api.patch(f"/api/projects/{pid}/sessions/1", {"ai_account": other})  # moving the session moves its spend
    assert api.get(f"/api/accounts/{aid}").json_body["credits_used"] == 0
    assert api.get(f"/api/accounts/{other}").json_body["credits_used"] == 40
    assert [x["name"] for x in api.get("/api/accounts").json_body["items"]] == ["Team Claude", "OpenAI"]


def test_unknown_ai_account_is_400_and_creates_nothing(api, pid):
    r = api.post(f"/api/projects/{pid}/sessions", {"ai_account": "nope"})
    assert r.status_code == 400 and r.json_body["error"]["code"] == "unknown_ai_account"
    assert api.get(f"/api/projects/{pid}").json_body["sessions"]["total"] == 0
    assert api.post(f"/api/projects/{pid}/sessions", {}).json_body["number"] == 1


def test_in_progress_across_projects(api, pid):
    pid2 = api.post("/api/projects", {"name": "q"}).json_body["id"]
    api.post(f"/api/projects/{pid}/sessions", {})
    api.post(f"/api/projects/{pid2}/sessions", {})
    api.post(f"/api/projects/{pid2}/sessions", {})
    api.patch(f"/api/projects/{pid2}/sessions/1", {"status": "completed"})
    items = api.get("/api/sessions/in-progress").json_body["items"]
    assert sorted((s["project_id"], s["number"]) for s in items) == sorted([(pid, 1), (pid2, 2)])


def test_missing_session_is_404(api, pid):
    r = api.get(f"/api/projects/{pid}/sessions/7")
    assert r.status_code == 404 and r.json_body["error"]["code"] == "session_not_found"
    assert api.patch(f"/api/projects/{pid}/sessions/7", {"title": "x"}).status_code == 404
