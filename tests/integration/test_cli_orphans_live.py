"""A crashed Codex session (Codex's SessionEnd does not fire on a crash) recovered at the next start
of any session on the machine, end to end: the real `mso` CLI run by the agents' hook payloads in a
temporary HOME, the app on DynamoDB Local. The same-directory case with Claude Code is
tests/integration/test_cli_capture_live.py::test_a_killed_session_end_is_recovered_at_the_next_start."""

from __future__ import annotations

import json
import os
import time
import uuid

import pytest

from tests.integration.cli_support import CLAUDE_IDS, Home, find_session, handoff_status, wait_for

pytestmark = pytest.mark.integration

IDLE_S = 2 * 3600


def _age(home: Home, agent: str, sid: str, transcript, seconds: float) -> None:
    """Time passes for one session: its transcript was last written, and it last started, `seconds` ago."""
    then = time.time() - seconds
    os.utime(transcript, (then, then))
    [rec] = [p for p in (home.state / "sessions").glob("*.json") if json.loads(p.read_text())["external_id"] == sid]
    data = json.loads(rec.read_text())
    assert data["agent"] == agent
    rec.write_text(json.dumps({**data, "started_at": then}))


def test_a_crashed_codex_session_is_completed_at_the_next_start_in_another_directory(home, tenant):
    cfg = home.home / ".config" / "mso" / "config.toml"
    cfg.parent.mkdir(parents=True)
    cfg.write_text("orphan_after_s = 600\n")  # the default: ten minutes without a write

    crashed = str(uuid.uuid4())
    rollout = home.codex_rollout(crashed)
    full = rollout.read_text()
    lines = full.splitlines(keepends=True)
    rollout.write_text("".join(lines[: len(lines) // 2]))
    home.hook("codex", "session-start", "codex-session-start", crashed)
    home.hook("codex", "stop", "codex-stop", crashed)  # the first turn's snapshot
    home.wait_log("job_delivered", crashed)
    snapshot = find_session(tenant, crashed)
    assert snapshot["status"] == "in_progress"
    rollout.write_text(full)  # more turns, then Codex crashes: no SessionEnd, no Stop after them

    # a Claude Code session in the same directory that is still working (its transcript was just written)
    busy = CLAUDE_IDS[0]
    home.claude_transcript(busy)
    home.hook("claude", "session-start", "claude-session-start", busy)

    _age(home, "codex", crashed, rollout, IDLE_S)
    # two hours later a session starts in another directory
    other = home.home / "work" / "other"
    other.mkdir(parents=True)
    payload = json.loads(home.payload("claude-session-start", CLAUDE_IDS[1]))
    payload.update(cwd=str(other), transcript_path=str(other / "none.jsonl"))
    r = home.mso("hook", "claude", "session-start", stdin=json.dumps(payload))
    assert r.returncode == 0 and r.stderr == "", r

    swept = home.wait_log("orphan_swept", crashed)
    assert swept["reason"] == f"its transcript has not grown for {IDLE_S // 60} min"
    done = wait_for(lambda: (s := find_session(tenant, crashed)) and s["status"] == "completed" and s)
    assert done["transcript"]["messages"] > snapshot["transcript"]["messages"]  # the final upload: all of it
    assert wait_for(lambda: handoff_status(tenant, done["project_id"], done["number"]) == "ready")
    assert home.spool() == []
    assert find_session(tenant, busy)["status"] == "in_progress"  # still writing: not an orphan
    assert [e["external_id"] for e in home.log_events() if e["event"] == "orphan_swept"] == [crashed]
