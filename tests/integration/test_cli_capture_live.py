"""Capture that does not depend on SessionEnd, and memory files, with the real `mso` CLI: Claude
Code hook payloads on stdin, a temporary HOME holding real transcripts, the app on DynamoDB Local."""

from __future__ import annotations

import pytest

from tests.integration.cli_support import CLAUDE_IDS, find_session, handoff_status, tenant_sessions, wait_for

pytestmark = pytest.mark.integration

USER_TEXT = "# Spotter\n\nRules of the team: run `make test` before a commit.\n\n<!-- keep this comment -->\n"


def test_a_killed_session_end_is_recovered_at_the_next_start(home, tenant):
    a, b = CLAUDE_IDS
    path = home.claude_transcript(a)
    full = path.read_text()
    lines = full.splitlines(keepends=True)
    path.write_text("".join(lines[: len(lines) // 2]))  # the session so far

    home.hook("claude", "session-start", "claude-session-start", a)
    home.hook("claude", "stop", "claude-stop", a)  # the first turn's Stop: an incremental upload
    home.wait_log("job_delivered", a)
    first = find_session(tenant, a)
    assert first["status"] == "in_progress" and first["transcript"]["messages"] > 10
    home.hook("claude", "stop", "claude-stop", a)  # the next turn, seconds later: throttled, nothing spooled
    assert home.spool() == []

    path.write_text(full)  # the rest of the session; then Claude Code is killed: no SessionEnd at all
    home.claude_transcript(b)
    home.hook("claude", "session-start", "claude-session-start", b)  # the next session in this directory
    swept = home.wait_log("orphan_swept", a)
    assert swept["reason"] == f"session {b} started in the same directory"
    wait_for(lambda: find_session(tenant, a)["status"] == "completed")
    got = {s["external_id"]: s for s in tenant_sessions(tenant)}
    old = got[a]
    assert old["transcript"]["messages"] > first["transcript"]["messages"]  # the whole transcript
    assert wait_for(lambda: handoff_status(tenant, old["project_id"], old["number"]) == "ready")
    assert got[b]["status"] == "in_progress" and len(got) == 2
    assert home.spool() == []
    # a second start sweeps nothing more: b is running, a was forgotten
    home.hook("claude", "session-start", "claude-session-start", b)
    assert [e for e in home.log_events() if e["event"] == "orphan_swept"] == [swept]


def test_memory_file_round_trip(home, tenant):
    from chalicelib.domain import handoffs

    claude_md = home.cwd / "CLAUDE.md"
    claude_md.write_text(USER_TEXT)
    r = home.mso("install", "claude", "--memory-file", "--compact-instructions")
    assert r.returncode == 0 and "wrote the mso block" in r.stdout, r
    first = claude_md.read_text()
    assert first.startswith(USER_TEXT) and "<!-- mso:begin -->" in first and "# Compact instructions" in first
    assert (home.cwd / "CLAUDE.md.mso-backup").read_text() == USER_TEXT

    a = CLAUDE_IDS[0]
    home.claude_transcript(a)
    home.hook("claude", "session-start", "claude-session-start", a)
    home.hook("claude", "session-end", "claude-session-end", a)
    wait_for(lambda: any(e["event"] == "memory_written" for e in home.log_events()))
    s = find_session(tenant, a)
    state = handoffs.checkpoint(tenant, s["project_id"], s["number"], max_chars=1500)["markdown"]
    body = state.split("\n", 1)[1].strip()  # the server's own heading is replaced by the block's
    text = claude_md.read_text()
    assert text.startswith(USER_TEXT) and body[:400] in text and text.count("<!-- mso:begin -->") == 1
    assert "# Compact instructions" in text

    again = home.mso("install", "claude", "--memory-file", "--compact-instructions")
    assert again.returncode == 0 and claude_md.read_text() == text  # idempotent

    r = home.mso("uninstall", "claude")
    assert r.returncode == 0 and "removed the mso block" in r.stdout, r
    assert claude_md.read_text() == USER_TEXT
