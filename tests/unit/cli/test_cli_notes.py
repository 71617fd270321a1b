"""`mso note`, the post-compact and pre-compact hooks, the state injected after a compaction and in
a first session, and the /handoff command file, against the fake API over real HTTP."""

from __future__ import annotations

import io
import json
import stat
import sys
from pathlib import Path

import pytest
from mso_cli import handoff_command, hooks, main, notes, spool
from mso_cli.config import load

NOTE = "## Current work\nadding tax rules\n\n## Next action\nrun `make test` <private>token=abc</private>\n"


@pytest.fixture
def work(cli_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = cli_home / "work" / "billing"
    d.mkdir(parents=True)
    monkeypatch.chdir(d)
    for var in ("CLAUDE_CODE_SESSION_ID", "CODEX_THREAD_ID"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(spool, "spawn_flush", lambda **kw: None)  # the tests flush themselves
    return d


@pytest.fixture
def fixture_payload(cli_home: Path):
    """A recorded hook payload (tests/fixtures/hooks) with its placeholders filled in."""
    def load_payload(name: str, sid: str, cwd: Path) -> dict:
        text = (Path(__file__).parents[2] / "fixtures" / "hooks" / f"{name}.json").read_text()
        for k, v in {"{HOME}": str(cli_home), "{CWD}": str(cwd), "{SESSION_ID}": sid,
                     "{MANGLED_CWD}": str(cwd).replace("/", "-")}.items():
            text = text.replace(k, v)
        return json.loads(text)
    return load_payload


def _note(monkeypatch, capsys, *args: str, stdin: str = NOTE) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main.main(["note", *args])
    out, err = capsys.readouterr()
    return code, out, err


def _start(work: Path, sid: str, source: str = "startup", agent: str = "claude") -> str | None:
    hooks.STARTED = __import__("time").monotonic()
    return hooks.session_start(agent, {"session_id": sid, "cwd": str(work), "source": source}, load())


def test_note_goes_to_the_session_this_machines_hooks_started_here(fake, work, monkeypatch, capsys):
    _start(work, "sess-a")
    _start(work, "sess-b")  # the newest running session of this project
    code, out, _ = _note(monkeypatch, capsys)
    assert code == 0 and "version 1" in out and "session 2" in out
    [n] = fake.notes
    assert (n["number"], n["kind"], n["source"]) == (2, "handoff", "mso note")
    assert "token=abc" not in n["text"] and "[PRIVATE]" in n["text"] and n["text"].startswith("## Current work")
    fake.all_sessions()[1]["status"] = "completed"  # the newest ended: the other one still runs
    assert _note(monkeypatch, capsys)[0] == 0 and fake.notes[-1]["number"] == 1


def test_note_takes_the_agents_session_id_from_the_environment_or_the_flag(fake, work, monkeypatch, capsys):
    _start(work, "sess-a")
    monkeypatch.setenv("CODEX_THREAD_ID", "codex-thread-1")
    assert _note(monkeypatch, capsys)[0] == 0
    s = fake.all_sessions()[-1]
    assert (s["external_id"], s["agent"], fake.notes[-1]["number"]) == ("codex-thread-1", "codex", 2)
    assert _note(monkeypatch, capsys, "--session-id", "sess-a")[0] == 0 and fake.notes[-1]["number"] == 1


def test_note_errors_are_clear_with_exit_codes(fake, work, monkeypatch, capsys):
    code, _, err = _note(monkeypatch, capsys, stdin="  \n")
    assert code == 2 and "empty" in err
    code, _, err = _note(monkeypatch, capsys, stdin="x" * 60_001)
    assert code == 2 and "60,000" in err
    code, _, err = _note(monkeypatch, capsys)  # no session id, no hook-started session here
    assert code == 1 and "--session-id" in err and fake.notes == []
    code, _, err = _note(monkeypatch, capsys, "--file", str(work / "missing.md"))
    assert code == 2 and "cannot read" in err
    (work / "n.md").write_text(NOTE)
    _start(work, "sess-a")
    assert _note(monkeypatch, capsys, "--file", str(work / "n.md"))[0] == 0 and len(fake.notes) == 1


def test_note_waits_in_the_spool_when_the_server_is_down_and_the_next_flush_delivers_it(fake, work, monkeypatch,
                                                                                         capsys):
    _start(work, "sess-a")
    fake.down = True
    code, out, _ = _note(monkeypatch, capsys)
    assert code == 0 and "mso flush" in out and fake.notes == []
    [job] = notes.pending_notes()
    assert stat.S_IMODE(job.stat().st_mode) == 0o600 and "token=abc" not in job.read_text()
    r = spool.flush(load())
    assert r["kept"] == 1 and notes.pending_notes() == [job]
    fake.down = False
    r = spool.flush(load())
    assert (r["delivered"], r["kept"], notes.pending_notes()) == (1, 0, [])
    assert [(n["number"], n["kind"]) for n in fake.notes] == [(1, "handoff")]


def test_post_compact_spools_the_summary_as_a_compact_summary_note(fake, work, fixture_payload):
    payload = fixture_payload("claude-post-compact", "sess-a", work)
    assert payload["hook_event_name"] == "PostCompact" and payload["compact_summary"]
    assert hooks.run("claude", "post-compact", io.StringIO(json.dumps(payload))) == 0
    assert len(notes.pending_notes()) == 1 and fake.received == []  # spooled only: the agent never waits
    spool.flush(load())
    [n] = fake.notes
    assert (n["kind"], n["source"], n["text"]) == ("compact_summary", "post-compact", payload["compact_summary"])
    assert fake.all_sessions()[0]["external_id"] == "sess-a"
    hooks.run("claude", "post-compact", io.StringIO(json.dumps({**payload, "compact_summary": ""})))
    assert notes.pending_notes() == []  # nothing to store


def test_pre_compact_uploads_then_caches_the_checkpoint_and_compact_start_injects_it(fake, work, cli_home,
                                                                                     monkeypatch):
    transcript = work / "t.jsonl"
    transcript.write_text('{"type": "user", "message": {"role": "user", "content": "hi"}}\n')
    fake.checkpoint = "# This session's state after compaction: billing, session 1\n\n## Checks\n- pytest: 2 failed\n"
    _start(work, "sess-a")
    hooks.STARTED = __import__("time").monotonic()
    hooks.pre_compact("claude", {"session_id": "sess-a", "cwd": str(work), "transcript_path": str(transcript)},
                      load())
    assert len(fake.uploads) == 1 and spool.pending() == []  # uploaded synchronously, no job left
    [cache] = (cli_home / ".local" / "state" / "mso" / "cache").glob("checkpoint-*.json")
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    fresh = _start(work, "sess-a", "compact")
    assert "this session's own state" in fresh and "pytest: 2 failed" in fresh and "local cache" not in fresh
    fake.down = True  # the server is gone: the cached checkpoint
    cached = _start(work, "sess-a", "compact")
    assert "local cache" in cached and "pytest: 2 failed" in cached
    assert _start(work, "other", "compact") is None  # no state of that session: not the previous handoff


def test_compact_without_a_checkpoint_gives_the_pins_and_a_first_session_gets_them_too(fake, work):
    proj = fake.add_project("billing")
    fake.pins[proj["id"]] = ["Deploy only from main"]
    fake.open_items[proj["id"]] = ["tax rules for CH"]
    first = _start(work, "sess-a")
    assert "No earlier session" in first and "Deploy only from main" in first and "tax rules for CH" in first
    after = _start(work, "sess-a", "compact")  # the checkpoint answers 404, nothing cached
    assert "holds no state of this session" in after and "Deploy only from main" in after
    fake.checkpoint = "# This session's state after compaction: billing, session 1\n\nnothing yet\n"
    after = _start(work, "sess-a", "compact")  # no transcript uploaded yet: its empty state says less
    assert "holds no state of this session" in after and "nothing yet" not in after
    fake.pins[proj["id"]], fake.open_items[proj["id"]] = [], []
    assert _start(work, "sess-b") is None


@pytest.mark.parametrize("agent,where", [("claude", ".claude/commands/handoff.md"),
                                         ("codex", ".codex/prompts/handoff.md")])
def test_install_writes_the_handoff_command_idempotently_and_never_overwrites_a_users_own(
        cli_home, work, monkeypatch, capsys, agent, where):
    path = cli_home / where
    assert main.main(["install", agent]) == 0
    text = path.read_text()
    for h in handoff_command.HEADINGS:
        assert f"\n{h}\n" in text
    assert "note <<'MSO_NOTE'" in text and handoff_command.MARKER in text
    capsys.readouterr()
    assert main.main(["install", agent]) == 0 and "/handoff" not in capsys.readouterr().out  # nothing to change
    assert main.main(["uninstall", agent]) == 0 and not path.exists()
    path.write_text("my own handoff prompt\n")
    assert main.main(["install", agent]) == 0
    assert "not written by mso" in capsys.readouterr().out and path.read_text() == "my own handoff prompt\n"
    assert main.main(["uninstall", agent]) == 0 and path.read_text() == "my own handoff prompt\n"


def test_project_scope_puts_the_claude_command_in_the_project(cli_home, work):
    assert main.main(["install", "claude", "--scope", "project"]) == 0
    assert (work / ".claude" / "commands" / "handoff.md").exists()
    assert not (cli_home / ".claude" / "commands" / "handoff.md").exists()


def test_pre_compact_with_the_server_down_keeps_the_upload_in_the_spool(fake, work, cli_home, monkeypatch):
    transcript = work / "t.jsonl"
    transcript.write_text('{"type": "user", "message": {"role": "user", "content": "hi"}}\n')
    spawned = []
    monkeypatch.setattr(spool, "spawn_flush", lambda **kw: spawned.append(kw))
    fake.down = True
    hooks.STARTED = __import__("time").monotonic()
    hooks.pre_compact("claude", {"session_id": "sess-a", "cwd": str(work), "transcript_path": str(transcript)},
                      load())
    [job] = spool.pending()
    assert json.loads(job.read_text())["event"] == "pre-compact" and spawned == [{}]  # the uploader tries later
    assert not (cli_home / ".local" / "state" / "mso" / "cache").exists()
    fake.down = False
    assert spool.flush(load())["delivered"] == 1 and len(fake.uploads) == 1


def test_stdin_left_open_with_nothing_coming_is_an_error_not_a_hang():
    import os

    r, w = os.pipe()
    try:
        with os.fdopen(r, "rb", closefd=False) as stream, pytest.raises(notes.NoteError, match="heredoc") as e:
            notes.read_stdin(stream, wait_s=0.1)
        assert e.value.code == 2
        os.write(w, "## Current work\nnaïve\n".encode())
        os.close(w)
        w = -1
        with os.fdopen(r, "rb", closefd=False) as stream:
            assert notes.read_stdin(stream, wait_s=1) == "## Current work\nnaïve\n"
    finally:
        os.close(r)
        if w != -1:
            os.close(w)
