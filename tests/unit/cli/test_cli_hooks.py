"""Hook helpers without a server: what goes into the agent's context, transcripts found and described."""

from __future__ import annotations

import gzip
import io
import json
import os
import time

import pytest
from mso_cli import agents, hooks, spool

HANDOFF = "# Handoff: billing, session 3 -> 4\n\n## Summary\nDid things.\n\n## Next steps\n1. add tax rules\n" \
          "2. ship\n\n## Checklist\n- [ ] run tests\n"


def test_full_context_is_factual_and_within_each_agents_limit():
    text = hooks.compose("claude", "startup", markdown=HANDOFF, project="billing", session=4, from_session=3,
                         cached=False)
    assert text.startswith("This conversation is mso project 'billing', session 4.")
    assert "handoff written after session 3" in text and HANDOFF in text
    long = HANDOFF + "x" * 20_000
    for agent, limit in (("claude", 9_500), ("codex", 8_000)):
        cut = hooks.compose(agent, "resume", markdown=long, project="p", session=1, from_session=1, cached=False)
        assert len(cut) <= limit and "cut at the agent's context limit" in cut


def test_state_after_compaction_is_this_sessions_own_and_never_cut_before_next_action():
    state = "# This session's state after compaction: billing, session 4\n\n## Next action\nrun make test\n"
    text = hooks.compose_state("claude", "checkpoint", markdown=state, project="billing", session=4)
    assert text.startswith("This conversation is mso project 'billing', session 4. The context was just compacted.")
    assert "this session's own state" in text and text.endswith("run make test\n")
    assert "handoff written after" not in text and "next steps:" not in text
    long = state + "x" * 3000  # larger than the old 1,500-character re-anchor: kept whole
    assert hooks.compose_state("codex", "checkpoint", markdown=long, project="p", session=1).endswith("x" * 3000)
    cached = hooks.compose_state("claude", "checkpoint", markdown=state, project="b", session=4, cached=True)
    assert "local cache" in cached
    assert hooks.compose_state("claude", "pins", markdown=None, project="p", session=1) is None
    assert "No earlier session" in hooks.compose_state("claude", "pins", markdown="- x", project="p", session=1)


def test_cached_context_says_so_and_nothing_without_a_handoff():
    text = hooks.compose("codex", "startup", markdown=HANDOFF, project="p", session=None, from_session=3, cached=True)
    assert "local cache" in text
    assert hooks.compose("claude", "startup", markdown=None, project="p", session=1, from_session=None,
                         cached=False) is None


@pytest.mark.parametrize("raw", ["", "nope", "[]", "null", "\xff"])
def test_bad_stdin_is_an_empty_payload(raw):
    assert hooks.read_payload(io.StringIO(raw)) == {}


def test_run_never_raises_and_prints_nothing_on_error(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("MSO_API_URL", "http://127.0.0.1:9")  # nothing listens on the discard port
    monkeypatch.setenv("MSO_TOKEN", "t")

    def boom(*a, **k):
        raise RuntimeError("bug")

    monkeypatch.setattr(hooks, "session_start", boom)
    assert hooks.run("claude", "session-start", io.StringIO('{"session_id": "a"}')) == 0
    assert capsys.readouterr() == ("", "")
    log = (tmp_path / ".local" / "state" / "mso" / "mso.log").read_text()
    assert "hook_failed" in log and "RuntimeError" in log


def test_transcripts_describe_themselves(tmp_path, monkeypatch, transcripts_dir):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    monkeypatch.delenv("CODEX_HOME", raising=False)
    sid = "258c7280-ae70-4798-800f-63464d01a85d"
    p = agents.claude_transcript("/home/u/my_proj.x", sid)
    assert p == tmp_path / ".claude" / "projects" / "-home-u-my-proj-x" / f"{sid}.jsonl"
    p.parent.mkdir(parents=True)
    p.write_bytes(gzip.decompress((transcripts_dir / "claude-code" / f"{sid}.jsonl.gz").read_bytes()))
    t = agents.describe(p)
    assert (t.agent, t.session_id, t.upload_format) == ("claude", sid, "claude-code")
    assert t.cwd and t.cwd.startswith("/home/USER/projects/")
    rollout = tmp_path / ".codex" / "sessions" / "2025" / "10" / "02" / "rollout-2025-10-02T09-14-03-abc.jsonl"
    rollout.parent.mkdir(parents=True)
    rollout.write_text(json.dumps({"type": "session_meta", "payload": {"id": "abc", "cwd": "/w/calc"}}) + "\n")
    t = agents.describe(rollout)
    assert (t.agent, t.session_id, t.cwd, t.external_id) == ("codex", "abc", "/w/calc", "abc")
    assert agents.codex_rollout("abc") == rollout
    old = time.time() - 10 * 86400
    os.utime(rollout, (old, old))
    assert agents.find(("claude", "codex"), 86400, tmp_path) == [p]
    plain = tmp_path / "notes.md"
    plain.write_text("User: hi\n")
    t = agents.describe(plain)
    assert t.session_id is None and t.external_id.startswith("file-") and t.external_id == agents.describe(plain).external_id


def test_uploads_are_gzipped_and_refused_over_the_limit(tmp_path, monkeypatch):
    small = tmp_path / "s.jsonl"
    small.write_text('{"a": 1}\n' * 1000)
    assert gzip.decompress(spool.read_transcript(small)) == small.read_bytes()
    monkeypatch.setattr(spool, "MAX_UPLOAD_BYTES", 100)
    big = tmp_path / "b.bin"
    big.write_bytes(os.urandom(5000))
    with pytest.raises(spool.Refused, match="compressed"):
        spool.read_transcript(big)
    monkeypatch.setattr(spool, "MAX_FILE_BYTES", 10)
    with pytest.raises(spool.Refused, match="at most"):
        spool.read_transcript(small)


def test_flush_keeps_jobs_when_the_server_is_down(tmp_path, monkeypatch):
    from mso_cli.config import Config

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    job = spool.job_for("claude", external_id="s1", project="p", cwd=str(tmp_path), transcript_path=None,
                        complete=True, handoff_mode="rules", event="session-end")
    spool.write_job(job)
    spool.write_job({**job, "complete": False, "event": "pre-compact"})
    r = spool.flush(Config(api_url="http://127.0.0.1:9", token="t"))
    assert (r["delivered"], r["kept"], r["failed"]) == (0, 2, 0)
    kept = [json.loads(p.read_text()) for p in spool.pending()]
    assert [j["attempts"] for j in kept] == [1, 1] and {j["event"] for j in kept} == {"session-end", "pre-compact"}
    (spool.spool_dir() / "junk.json").write_text("{}")
    r = spool.flush(Config(api_url="http://127.0.0.1:9", token="t"))
    assert r["failed"] == 1 and len(spool.pending()) == 2 and (spool.spool_dir() / "failed" / "junk.json").exists()


def test_which_server_answers_are_worth_retrying():
    from mso_cli.client import ApiError

    assert ApiError(503, "database_unavailable", "x").retryable and ApiError(429, "throttled", "x").retryable
    assert ApiError(409, "import_in_progress", "another upload of this session is running").retryable
    assert not ApiError(409, "invalid_transition", "x").retryable and not ApiError(400, "bad", "x").retryable
