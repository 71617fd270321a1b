"""The real `mso` CLI as the agents run it: hooks fed Claude Code and Codex payloads on stdin,
a temporary HOME holding real transcripts, the app on DynamoDB Local, stopped and restarted."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.integration.cli_support import (
    CLAUDE_IDS,
    handoff_status,
    session_start_context,
    tenant_sessions,
    wait_for,
)

pytestmark = pytest.mark.integration


def _handoff_ready(tenant: str, number: int) -> bool:
    """The handoff of session `number` in the tenant's one project is ready."""
    return handoff_status(tenant, tenant_sessions(tenant)[0]["project_id"], number) == "ready"


def test_claude_loop_start_end_next_start_then_server_down_and_flush(home, server, tenant):
    a, b = CLAUDE_IDS
    home.claude_transcript(a)
    home.claude_transcript(b)

    # 1. the first session starts: created and linked to Claude's session id; nothing to inject yet
    r = home.hook("claude", "session-start", "claude-session-start", a)
    assert r.stdout == ""
    [s1] = tenant_sessions(tenant)
    assert (s1["number"], s1["external_id"], s1["agent"], s1["status"]) == (1, a, "claude", "in_progress")
    assert tenant_sessions(tenant)[0]["project_id"]

    # a compaction on the way: a snapshot of the transcript is uploaded, the session stays open
    home.hook("claude", "pre-compact", "claude-pre-compact", a)
    home.wait_log("job_delivered", a)
    s1 = tenant_sessions(tenant)[0]
    assert s1["status"] == "in_progress" and s1["transcript"]["messages"] > 100

    # 2. it ends: the hook only spools; the detached uploader uploads, completes, a handoff is made
    home.hook("claude", "session-end", "claude-session-end", a)
    wait_for(lambda: _handoff_ready(tenant, 1))
    s1 = tenant_sessions(tenant)[0]
    assert s1["status"] == "completed" and s1["transcript"]["format"] == "claude-code"
    assert s1["transcript"]["messages"] > 100 and home.spool() == []

    # 3. the next session starts with that handoff injected (within Claude Code's limit)
    ctx = session_start_context(home.hook("claude", "session-start", "claude-session-start", b))
    assert "handoff written after session 1" in ctx and 1000 < len(ctx) <= 9500
    assert "cut at the agent's context limit" not in ctx  # the server cut it (max_chars), not our guard
    assert "spotter" in ctx  # the handoff's content (the real session's project), not only our header
    assert [s["number"] for s in tenant_sessions(tenant)] == [1, 2]

    # a compaction gives this session's own state, never the previous session's handoff again
    r = home.hook("claude", "session-start", "claude-session-start-compact", b)
    assert "handoff written after session 1" not in r.stdout and len(tenant_sessions(tenant)) == 2

    # 4. the server stops: start answers from the cache, end spools
    server.stop()
    c = str(uuid.uuid4())
    cached = session_start_context(home.hook("claude", "session-start", "claude-session-start", c))
    assert "local cache" in cached and "handoff written after session 1" in cached
    home.hook("claude", "session-end", "claude-session-end", b)
    home.wait_log("job_kept", b)
    assert len(home.spool()) == 1

    # 5. after a restart, `mso flush` delivers once; a second flush and a push make no duplicate
    server.start()
    r = home.mso("flush")
    assert r.returncode == 0 and "delivered 1" in r.stdout, r
    assert home.spool() == []
    wait_for(lambda: _handoff_ready(tenant, 2))
    r = home.mso("flush")
    assert r.returncode == 0 and "delivered 0" in r.stdout
    transcript = home.home / ".claude" / "projects" / home.mangled / f"{b}.jsonl"
    r = home.mso("push", str(transcript))
    assert r.returncode == 0, r
    got = tenant_sessions(tenant)
    assert [(s["number"], s["external_id"], s["status"]) for s in got] == [(1, a, "completed"), (2, b, "completed")]


def test_codex_hooks_find_the_rollout_by_session_id(home, tenant):
    sid = str(uuid.uuid4())
    home.codex_rollout(sid)
    assert home.hook("codex", "session-start", "codex-session-start", sid).stdout == ""
    home.hook("codex", "stop", "codex-stop", sid)  # a snapshot upload, the session stays open
    home.wait_log("job_delivered", sid)
    [s] = tenant_sessions(tenant)
    assert (s["external_id"], s["agent"], s["status"]) == (sid, "codex", "in_progress")
    assert s["transcript"]["format"] == "codex"
    home.hook("codex", "pre-compact", "codex-pre-compact", sid)
    home.hook("codex", "session-end", "codex-session-end", sid)  # transcript_path null: found by id
    wait_for(lambda: tenant_sessions(tenant)[0]["status"] == "completed")
    wait_for(lambda: home.spool() == [] and _handoff_ready(tenant, 1))
    assert len(tenant_sessions(tenant)) == 1
    # the next Codex session gets the handoff, within Codex's smaller limit
    ctx = session_start_context(home.hook("codex", "session-start", "codex-session-start", str(uuid.uuid4())))
    assert "handoff written after session 1" in ctx and len(ctx) <= 8000


@pytest.mark.parametrize("stdin", ["", "not json", "[1, 2]", '{"session_id": 5}'])
def test_a_hook_never_fails_the_agent_on_bad_input(home, stdin):
    for event in ("session-start", "session-end", "pre-compact", "stop"):
        r = home.mso("hook", "claude", event, stdin=stdin)
        assert (r.returncode, r.stdout, r.stderr) == (0, "", "")


def test_a_hook_without_settings_prints_nothing_and_logs(home):
    env = {"MSO_API_URL": "", "MSO_TOKEN": ""}
    r = home.mso("hook", "claude", "session-start", stdin=home.payload("claude-session-start", "x1"), env=env)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    assert any(e["event"] == "session_start_offline" for e in home.log_events())


def test_commands_login_push_sync_handoff_doctor(home, server, tenant):
    import os
    import time

    token = home.env.pop("MSO_TOKEN")
    url = home.env.pop("MSO_API_URL")
    bad = home.mso("login", "--url", url, "--token", "wrong")
    assert bad.returncode == 1 and "refused the token" in bad.stderr
    ok = home.mso("login", "--url", url + "/api", "--token", token)
    assert ok.returncode == 0, ok
    cfg = (home.home / ".config" / "mso" / "config.toml").read_text()
    assert f'api_url = "{url}"' in cfg and token in cfg
    (home.cwd / ".mso.toml").write_text('project = "Spotter app"\n')
    who = home.mso("whoami")
    assert who.returncode == 0 and "Spotter app" in who.stdout and ".mso.toml" in who.stdout

    # push --latest: the newest Claude Code transcript of this directory, then again: same session
    a, b = CLAUDE_IDS
    old = home.claude_transcript(a)
    t0 = time.time() - 3 * 3600
    os.utime(old, (t0, t0))
    home.claude_transcript(b)
    r = home.mso("push", "--latest", "--handoff-mode", "rules")
    assert r.returncode == 0 and "delivered 1" in r.stdout, r
    assert home.mso("push", "--latest").returncode == 0
    assert [(s["external_id"], s["status"]) for s in tenant_sessions(tenant)] == [(b, "completed")]
    wait_for(lambda: _handoff_ready(tenant, 1))

    # sync: every recent transcript, in the project of the directory it was recorded in; twice
    home.codex_rollout(str(uuid.uuid4()))
    assert "3 transcript(s) found" in home.mso("sync", "--since", "1d", "--dry-run").stdout
    r = home.mso("sync", "--since", "1d")
    assert r.returncode == 0 and "delivered 3" in r.stdout, r
    r = home.mso("sync", "--since", "1d")
    assert r.returncode == 0
    got = {s["external_id"]: s for s in tenant_sessions(tenant)}
    assert len(got) == 3  # no duplicate of the pushed session, nothing new on the second sync
    assert got[a]["status"] == "completed" and got[a]["project_id"] == got[b]["project_id"]  # quiet 3 h: completed
    [codex] = [s for k, s in got.items() if k not in (a, b)]
    assert codex["agent"] == "codex" and codex["status"] == "in_progress"  # still being written: upload only
    assert codex["project_id"] != got[a]["project_id"]  # recorded in /home/dev/proj/calc: project "calc"

    # the handoff, cut to a size, to a file
    out = home.cwd / "next.md"
    r = home.mso("handoff", "--max-chars", "3000", "--out", str(out))
    assert r.returncode == 0 and out.read_text().startswith("#")
    js = home.mso("handoff", "--format", "json")
    assert json.loads(js.stdout)["from_session"] in (got[a]["number"], got[b]["number"])

    assert home.mso("install", "claude").returncode == 0
    doc = home.mso("doctor")
    assert "[ok] server answers" in doc.stdout and "[ok] claude hooks (user): SessionStart ok" in doc.stdout
    assert doc.returncode == 0, doc.stdout
    settings = json.loads((home.home / ".claude" / "settings.json").read_text())
    assert settings["hooks"]["SessionStart"][0]["hooks"][0]["command"].endswith("mso hook claude session-start")


def test_the_next_hook_delivers_what_the_spool_kept(home, server, tenant):
    a, b = CLAUDE_IDS
    home.claude_transcript(a)
    home.claude_transcript(b)
    server.stop()
    home.hook("claude", "session-end", "claude-session-end", a)
    home.wait_log("job_kept", a)
    assert len(home.spool()) == 1 and tenant_sessions(tenant) == []
    server.start()
    home.hook("claude", "session-start", "claude-session-start", b)  # the server answers: it flushes
    home.wait_log("job_delivered", a)
    assert home.spool() == []
    got = {s["external_id"]: s for s in tenant_sessions(tenant)}
    assert got[a]["status"] == "completed" and got[b]["status"] == "in_progress" and len(got) == 2


def test_a_refused_push_says_why_and_leaves_no_session_running(home, tenant):
    import os
    import re

    noise = home.cwd / "noise.txt"
    noise.write_bytes(os.urandom(4000) + b"\x00")
    r = home.mso("push", str(noise))
    assert r.returncode == 1 and "unreachable" not in r.stdout + r.stderr, r
    assert re.search(r"400 transcript_[a-z0-9_]+: \S+", r.stderr), r.stderr  # the server's code and message
    [s] = tenant_sessions(tenant)
    assert s["status"] == "failed"  # not left in progress forever


def test_private_spans_never_reach_the_server_and_excluded_directories_are_not_captured(home, tenant,
                                                                                        monkeypatch):
    import gzip

    from chalicelib.api import transcripts as route
    from tests.unit.cli import private_spans as ps

    received: list[bytes] = []
    real_body = route._body

    def recording(ctx):
        body = real_body(ctx)
        received.append(body)
        return body

    monkeypatch.setattr(route, "_body", recording)  # the server runs in this process: what it was sent

    a = CLAUDE_IDS[0]
    path = home.claude_transcript(a)
    text = ps.claude_with_spans(path.read_text())
    path.write_text(text)
    home.hook("claude", "session-start", "claude-session-start", a)
    home.hook("claude", "session-end", "claude-session-end", a)
    home.wait_log("job_delivered", a)
    assert len(received) == 1
    ps.assert_no_trace(gzip.decompress(received[0]), text)

    sid = str(uuid.uuid4())
    rollout = home.codex_rollout(sid)
    text = ps.codex_with_spans(rollout.read_text())
    rollout.write_text(text)
    home.hook("codex", "session-start", "codex-session-start", sid)
    home.hook("codex", "session-end", "codex-session-end", sid)
    home.wait_log("job_delivered", sid)
    ps.assert_no_trace(gzip.decompress(received[-1]), text)

    # this directory excluded in config.toml: the hooks send nothing, make no session
    cfg = home.home / ".config" / "mso" / "config.toml"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text(f'exclude = ["{home.cwd}"]\n')
    before = len(tenant_sessions(tenant))
    c = CLAUDE_IDS[1]
    home.claude_transcript(c)
    assert home.hook("claude", "session-start", "claude-session-start", c).stdout == ""
    home.hook("claude", "session-end", "claude-session-end", c)
    assert home.spool() == [] and len(tenant_sessions(tenant)) == before and len(received) == 2
    assert [e for e in home.log_events() if e["event"] == "hook_excluded"]


def _notes(tenant: str, number: int) -> list[dict]:
    from chalicelib.domain import notes

    pid = tenant_sessions(tenant)[0]["project_id"]
    return notes.list_notes(tenant, pid, number, limit=50)["items"]


HANDOFF_NOTE = """## Current work
Offline set logging for the spotter app: the queue is written, the flush is half done.

## What is left
- Retry with backoff in src/sync/flush.ts

## Decisions and why
- IndexedDB over localStorage: sets outgrow 5 MB.

## Gotchas
- queue.test.ts needs the fake clock advanced.

## Next action
Write the backoff in src/sync/flush.ts, then run `npm test`.
"""


def _append_failing_test_run(path, sid: str) -> None:
    """The session's last check fails: a Bash `mix test` call and its result, in Claude Code's records."""
    common = {"isSidechain": False, "userType": "external", "cwd": str(path.parent), "sessionId": sid,
              "version": "2.1.39", "gitBranch": "spotter-gqc"}
    call = {**common, "type": "assistant", "uuid": "a-fail-1", "timestamp": "2026-02-11T21:50:00.000Z",
            "message": {"model": "claude-opus-4-6", "id": "msg_fail", "type": "message", "role": "assistant",
                        "content": [{"type": "tool_use", "id": "toolu_fail", "name": "Bash",
                                     "input": {"command": "mix test 2>&1", "description": "Run the tests"}}]}}
    out = ("  1) test flush retries with backoff (Spotter.SyncTest)\n     test/spotter/sync_test.exs:12\n"
           "     Assertion with == failed\n\nFinished in 0.4 seconds\n14 doctests, 88 tests, 1 failure")
    result = {**common, "type": "user", "uuid": "u-fail-1", "parentUuid": "a-fail-1",
              "timestamp": "2026-02-11T21:50:05.000Z",
              "message": {"role": "user", "content": [{"tool_use_id": "toolu_fail", "type": "tool_result",
                                                       "content": out, "is_error": True}]},
              "toolUseResult": {"stdout": out, "stderr": "", "interrupted": False}}
    with path.open("a") as f:
        f.write(json.dumps(call) + "\n" + json.dumps(result) + "\n")


def test_handoff_command_note_post_compact_and_the_compaction_reanchor(home, server, tenant):
    from chalicelib.domain import handoffs, projects

    a = CLAUDE_IDS[0]
    _append_failing_test_run(home.claude_transcript(a), a)
    # /handoff is installed with the hooks (PostCompact among them), in Claude Code's user scope
    assert home.mso("install", "claude").returncode == 0
    command = (home.home / ".claude" / "commands" / "handoff.md").read_text()
    assert all(h in command for h in ("## Current work", "## What is left", "## Decisions and why", "## Gotchas",
                                      "## Next action")) and "note <<'MSO_NOTE'" in command
    settings = json.loads((home.home / ".claude" / "settings.json").read_text())
    assert settings["hooks"]["PostCompact"][0]["hooks"][0]["command"].endswith("mso hook claude post-compact")

    # a project's first session: no handoff yet, its pins are injected instead of nothing
    proj = projects.create(tenant, {"name": "spotter"})
    projects.set_pins(tenant, proj["id"], ["Never log a set twice: sync is at-least-once"])
    first = session_start_context(home.hook("claude", "session-start", "claude-session-start", a))
    assert "No earlier session of this project has a handoff yet" in first and "Never log a set twice" in first

    # pre-compact uploads synchronously (the session has its transcript when the hook returns) and
    # caches this session's checkpoint; session-start(compact) then injects this session's state
    home.hook("claude", "pre-compact", "claude-pre-compact", a)
    [s] = tenant_sessions(tenant)
    assert s["status"] == "in_progress" and s["transcript"]["messages"] > 100 and home.spool() == []
    [cache] = (home.state / "cache").glob("checkpoint-*.json")
    assert cache.stat().st_mode & 0o777 == 0o600
    checkpoint = handoffs.checkpoint(tenant, proj["id"], 1, max_chars=2500)["markdown"]
    ctx = session_start_context(home.hook("claude", "session-start", "claude-session-start-compact", a))
    assert ctx.startswith("This conversation is mso project 'spotter', session 1. The context was just compacted. "
                          "What follows is this session's own state")
    assert "# This session's state after compaction: spotter, session 1" in ctx
    assert "handoff written after" not in ctx and "lists these next steps" not in ctx
    failing = "`mix test` **FAILED** (`14 doctests, 88 tests, 1 failure`)"  # the check appended above
    assert failing in checkpoint and failing in ctx and "Make `mix test` pass" in ctx
    assert checkpoint.strip() in ctx  # the server's checkpoint, whole: not cut at 1,500 characters
    # the server goes down: the cached checkpoint, said to be cached
    server.stop()
    cached = session_start_context(home.hook("claude", "session-start", "claude-session-start-compact", a))
    assert "local cache" in cached and "# This session's state after compaction" in cached
    assert failing in cached
    server.start()

    # PostCompact: the summary Claude Code just wrote becomes this session's compact_summary note
    home.hook("claude", "post-compact", "claude-post-compact", a)
    home.wait_log("note_delivered", a)
    [summary] = _notes(tenant, 1)
    assert (summary["kind"], summary["source"]) == ("compact_summary", "post-compact")
    assert "Retry with backoff in src/sync/flush.ts" in summary["text"]

    # /handoff's delivery: `mso note` finds the session (here from the agent's environment variable)
    r = home.mso("note", stdin=HANDOFF_NOTE, env={"CLAUDE_CODE_SESSION_ID": a})
    assert r.returncode == 0 and "session 1" in r.stdout, r
    latest = _notes(tenant, 1)[0]
    assert (latest["version"], latest["kind"], latest["source"]) == (2, "handoff", "mso note")
    # the session ends: its handoff leads with the agent's note
    home.hook("claude", "session-end", "claude-session-end", a)
    wait_for(lambda: _handoff_ready(tenant, 1))
    md = handoffs.get(tenant, proj["id"], 1)["markdown"]
    assert "Offline set logging for the spotter app" in md
    assert md.index("## Current work (the agent's note)") < md.index("## Current work as the transcript shows it")


def test_mso_note_without_a_session_id_finds_the_hook_started_session_and_spools_when_down(home, server, tenant):
    a = CLAUDE_IDS[1]
    home.claude_transcript(a)
    bad = home.mso("note", stdin=HANDOFF_NOTE)
    assert bad.returncode == 1 and "--session-id" in bad.stderr  # no session started here yet
    home.hook("claude", "session-start", "claude-session-start", a)
    assert home.mso("note", stdin="   ").returncode == 2
    server.stop()
    r = home.mso("note", stdin=HANDOFF_NOTE)
    assert r.returncode == 0 and "mso flush" in r.stdout, r
    assert len(list((home.state / "spool" / "notes").glob("*.json"))) == 1
    server.start()
    r = home.mso("flush")
    assert r.returncode == 0 and "delivered 1" in r.stdout, r
    [n] = _notes(tenant, 1)
    assert (n["kind"], n["source"]) == ("handoff", "mso note") and n["text"] == HANDOFF_NOTE.strip()
