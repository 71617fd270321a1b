"""GET .../sessions/{n}/checkpoint: a running session's own state, for the agent after a compaction."""

from __future__ import annotations

from tests.support.claude_records import failing_check


def test_checkpoint_is_this_sessions_state_with_its_failing_check_and_pins(api):
    pid = api.post("/api/projects", {"name": "cp"}).json_body["id"]
    api.put(f"/api/projects/{pid}/pins", ["Never push to main"])
    api.post(f"/api/projects/{pid}/sessions", {})
    api.post(f"/api/projects/{pid}/sessions/1/complete", {"handoff_mode": "rules", "next_steps": ["old step"]})
    api.post(f"/api/projects/{pid}/sessions", {})  # session 2 runs; session 1's handoff exists
    api.put(f"/api/projects/{pid}/sessions/2/transcript", raw=failing_check(),
            headers={"Content-Type": "application/octet-stream"})
    r = api.get(f"/api/projects/{pid}/sessions/2/checkpoint")
    assert r.status_code == 200, r.body
    md = r.json_body["markdown"]
    assert md.startswith("# This session's state after compaction: cp, session 2")
    assert "# Handoff:" not in md  # never the previous session's header
    assert "pytest tests/test_parse.py" in md and "Never push to main" in md
    assert r.json_body["chars"] == len(md) <= 2_500
    assert "## What the user asked" not in md and "## Files changed" not in md
    assert "## State of session 2 so far" in md and "at the end of session" not in md  # it is still running
    small = api.get(f"/api/projects/{pid}/sessions/2/checkpoint?max_chars=600&format=md")
    assert small.status_code == 200 and small.headers["Content-Type"].startswith("text/markdown")


def test_checkpoint_of_a_session_without_transcript_still_answers_and_bad_input_is_4xx(api, other_api):
    pid = api.post("/api/projects", {"name": "cp2"}).json_body["id"]
    api.post(f"/api/projects/{pid}/sessions", {})
    r = api.get(f"/api/projects/{pid}/sessions/1/checkpoint")
    assert r.status_code == 200 and r.json_body["messages"] == 0
    assert api.get(f"/api/projects/{pid}/sessions/7/checkpoint").status_code == 404
    assert api.get(f"/api/projects/{pid}/sessions/1/checkpoint?max_chars=10").status_code == 400
    assert other_api.get(f"/api/projects/{pid}/sessions/1/checkpoint").status_code == 404
