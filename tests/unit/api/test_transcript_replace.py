"""A finished session's transcript is what its handoff was made from: replacing it is deliberate
(`?replace=true`, 409 otherwise) and marks the handoff as made from the older transcript until a
regeneration reads the new one (issue 20, item 7)."""

from __future__ import annotations

import pytest

OLD = b"User: fix the login bug\nAssistant: fixed it in auth.py\n"
NEW = b"User: fix the login bug\nAssistant: fixed it in auth.py\nUser: and the logout one\nAssistant: done\n"


@pytest.fixture
def done(api) -> str:
    """A project whose session 1 has a transcript and a ready handoff."""
    pid = api.post("/api/projects", {"name": "p"}).json_body["id"]
    api.post(f"/api/projects/{pid}/sessions", {})
    assert api.put(f"/api/projects/{pid}/sessions/1/transcript?format=text", raw=OLD).status_code == 200
    assert api.post(f"/api/projects/{pid}/sessions/1/complete", {"handoff_mode": "rules"}).status_code == 202
    return pid


def _put(api, pid: str, query: str = ""):
    return api.put(f"/api/projects/{pid}/sessions/1/transcript?format=text{query}", raw=NEW)


def test_a_put_over_a_finished_sessions_transcript_is_409_and_keeps_it(api, done):
    r = _put(api, done)
    assert r.status_code == 409, r.body
    err = r.json_body["error"]
    assert err["code"] == "transcript_exists" and "replace=true" in err["message"]
    assert api.get(f"/api/projects/{done}/sessions/1").json_body["transcript"]["messages"] == 2
    h = api.get(f"/api/projects/{done}/sessions/1/handoff").json_body
    assert h["older_transcript"] is False and h["transcript_replaced_at"] is None


def test_replace_true_replaces_and_marks_the_handoff_until_it_is_regenerated(api, done):
    r = _put(api, done, "&replace=true")
    assert r.status_code == 200 and r.json_body["messages"] == 4
    h = api.get(f"/api/projects/{done}/sessions/1/handoff").json_body
    assert h["older_transcript"] is True and h["transcript_replaced_at"] and h["markdown"]
    s = api.get(f"/api/projects/{done}/sessions/1").json_body
    assert s["transcript"]["messages"] == 4 and s["handoff"]["older_transcript"] is True
    listed = api.get(f"/api/projects/{done}/sessions").json_body["items"][0]
    assert listed["handoff"]["older_transcript"] is True  # the dashboard's lists read the mirror
    nxt = api.post(f"/api/projects/{done}/sessions", {}).json_body
    assert nxt["starting_handoff"]["older_transcript"] is True
    assert api.post(f"/api/projects/{done}/sessions/1/handoff", {"mode": "rules"}).status_code == 202
    h = api.get(f"/api/projects/{done}/sessions/1/handoff").json_body
    assert h["status"] == "ready" and h["older_transcript"] is False and h["transcript_replaced_at"] is None
    assert api.get(f"/api/projects/{done}/sessions/1").json_body["handoff"]["older_transcript"] is False


def test_a_running_session_replaces_its_transcript_freely(api):
    pid = api.post("/api/projects", {"name": "p"}).json_body["id"]
    api.post(f"/api/projects/{pid}/sessions", {})
    assert _put(api, pid).status_code == 200
    assert _put(api, pid).status_code == 200  # hooks send the growing transcript again and again


def test_a_finished_session_without_a_transcript_takes_its_first_one(api):
    pid = api.post("/api/projects", {"name": "p"}).json_body["id"]
    api.post(f"/api/projects/{pid}/sessions", {})
    api.post(f"/api/projects/{pid}/sessions/1/complete", {"handoff_mode": "rules"})
    assert _put(api, pid).status_code == 200
    assert api.get(f"/api/projects/{pid}/sessions/1/handoff").json_body["older_transcript"] is True


def test_replace_is_documented(api):
    spec = api.get("/api/openapi.json").json_body
    params = spec["paths"]["/api/projects/{project_id}/sessions/{number}/transcript"]["put"]["parameters"]
    rep = next(p for p in params if p["name"] == "replace")
    assert rep["schema"]["enum"] == ["false", "true"] and "409" in rep["description"]
    assert rep["schema"]["default"] == "false"


def test_the_mcp_upload_follows_the_same_rule(api, done):
    import json

    def upload(**extra):
        msg = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "upload_transcript", "arguments": {
            "content": NEW.decode(), "format": "text", "project": done, "session": 1, **extra}}}
        return api.request("POST", "/mcp", raw=json.dumps(msg).encode()).json_body["result"]

    refused = upload()
    assert refused["isError"] is True and "replace" in refused["content"][0]["text"]
    assert upload(replace=True)["isError"] is False
    assert api.get(f"/api/projects/{done}/sessions/1/handoff").json_body["older_transcript"] is True
