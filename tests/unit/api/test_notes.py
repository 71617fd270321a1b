"""The agent's account over the API: stored redacted and versioned, the newest leads the handoff, checked."""

from __future__ import annotations

from tests.support.claude_records import failing_check

NOTE = ("## Current work\nStrict parser done. All tests pass.\n## What is left\n- CLI flag in src/cli.py\n"
        "## Next action\nAdd the flag. The key is sk-ant-api03-" + "A" * 93 + "AA\n")


def _session(api) -> str:
    pid = api.post("/api/projects", {"name": "notes"}).json_body["id"]
    api.post(f"/api/projects/{pid}/sessions", {})
    api.put(f"/api/projects/{pid}/sessions/1/transcript", raw=failing_check(),
            headers={"Content-Type": "application/octet-stream"})
    return pid


def test_a_note_is_stored_redacted_and_versioned(api):
    pid = _session(api)
    r = api.post(f"/api/projects/{pid}/sessions/1/notes", {"text": NOTE, "source": "mso note"})
    assert r.status_code == 201, r.body
    assert r.json_body["version"] == 1 and r.json_body["kind"] == "handoff" and r.json_body["handoff"] is None
    assert "sk-ant-api03" not in r.json_body["text"] and "[REDACTED:" in r.json_body["text"]
    api.post(f"/api/projects/{pid}/sessions/1/notes", {"text": "## Current work\nsecond", "kind": "compact_summary",
                                                        "source": "post-compact"})
    items = api.get(f"/api/projects/{pid}/sessions/1/notes").json_body["items"]
    assert [(n["version"], n["kind"]) for n in items] == [(2, "compact_summary"), (1, "handoff")]


def test_the_newest_note_leads_the_handoff_with_its_contradicted_claim(api):
    pid = _session(api)
    api.post(f"/api/projects/{pid}/sessions/1/notes", {"text": NOTE})
    done = api.post(f"/api/projects/{pid}/sessions/1/complete", {"handoff_mode": "rules"}).json_body
    md = done["handoff"]["markdown"]
    assert md.index("## Current work (the agent's note)") < md.index("## Current work as the transcript shows it")
    assert "**Contradicted:** the note says “All tests pass.”" in md
    assert "`pytest tests/test_parse.py` failed" in md
    assert "sk-ant-api03" not in md
    claims = done["handoff"]["data"]["account"]["claims"]
    assert [c["verdict"] for c in claims if c["kind"] == "check_pass"] == ["contradicted"]


def test_a_note_after_completion_makes_the_handoff_again(api):
    pid = _session(api)
    first = api.post(f"/api/projects/{pid}/sessions/1/complete", {"handoff_mode": "rules"}).json_body["handoff"]
    assert "agent's note" not in first["markdown"]
    r = api.post(f"/api/projects/{pid}/sessions/1/notes", {"text": NOTE}).json_body
    assert r["handoff"] is not None
    h = api.get(f"/api/projects/{pid}/sessions/1/handoff").json_body
    assert h["version"] == first["version"] + 1 and "## Current work (the agent's note)" in h["markdown"]


def test_bad_notes_are_4xx_and_store_nothing(api, other_api):
    pid = _session(api)
    for body in ({}, {"text": ""}, {"text": "x", "kind": "poem"}, {"text": 5}, {"text": "x" * 60_001},
                 {"text": "x", "extra": 1}):
        r = api.post(f"/api/projects/{pid}/sessions/1/notes", body)
        assert r.status_code == 400, (body, r.status_code)
    assert api.post(f"/api/projects/{pid}/sessions/9/notes", {"text": "x"}).status_code == 404
    assert other_api.post(f"/api/projects/{pid}/sessions/1/notes", {"text": "x"}).status_code == 404
    assert other_api.get(f"/api/projects/{pid}/sessions/1/notes").status_code == 404
    assert api.get(f"/api/projects/{pid}/sessions/1/notes").json_body["items"] == []
