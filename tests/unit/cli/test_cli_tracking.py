"""Capture that does not depend on SessionEnd: Stop's snapshot throttle and the orphan sweep."""

from __future__ import annotations

import io
import json
import os
import time
from pathlib import Path

import pytest
from mso_cli import hooks, spool, tracking
from mso_cli.config import Config, load


@pytest.fixture
def no_spawn(monkeypatch):
    spawned: list[bool] = []
    monkeypatch.setattr(spool, "spawn_flush", lambda *, sweep=False: spawned.append(sweep))
    return spawned


def _transcript(home: Path, cwd: str, sid: str, size: int = 100) -> Path:
    from mso_cli.agents import claude_transcript

    p = claude_transcript(cwd, sid)
    p.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps({"type": "user", "sessionId": sid, "cwd": cwd,
                       "message": {"role": "user", "content": "add tax rules"}}) + "\n"
    p.write_text(line * max(1, size // len(line)))
    return p


def _hook(event: str, sid: str, cwd: str, path: Path | None = None, source: str = "startup") -> None:
    hooks.STARTED = time.monotonic()  # each call is a new hook process (conftest restores it)
    payload = {"session_id": sid, "cwd": cwd, "transcript_path": str(path) if path else None,
               "hook_event_name": event, "source": source}
    hooks.run("claude", event, io.StringIO(json.dumps(payload)))


def test_stop_uploads_the_first_turn_then_every_few_minutes_or_megabyte(cli_home, no_spawn):
    cfg = Config()
    p = _transcript(cli_home, "/w/calc", "s1")
    kw = {"project": "calc", "cwd": "/w/calc", "transcript_path": str(p), "cfg": cfg}
    assert tracking.stop_due("claude", "s1", **kw)  # the first Stop: the first turn goes up
    assert not tracking.stop_due("claude", "s1", **kw)  # the next turn, seconds later: throttled
    with p.open("a") as f:
        f.write("x" * (cfg.stop_every_bytes - 10))
    assert not tracking.stop_due("claude", "s1", **kw)  # not yet 1 MB more
    with p.open("a") as f:
        f.write("x" * 200)
    assert tracking.stop_due("claude", "s1", **kw)  # 1 MB of new transcript: due at once
    assert not tracking.stop_due("claude", "s1", **kw)
    entry = json.loads(next(tracking.tracked_dir().glob("*.json")).read_text())
    entry["uploaded_at"] -= cfg.stop_every_s  # three minutes later
    next(tracking.tracked_dir().glob("*.json")).write_text(json.dumps(entry))
    assert tracking.stop_due("claude", "s1", **kw)


def test_claude_stop_hooks_spool_one_snapshot_per_window(fake, no_spawn):
    p = _transcript(Path(os.environ["HOME"]), "/w/calc", "s1")
    for _ in range(5):
        _hook("stop", "s1", "/w/calc", p)
    jobs = [json.loads(j.read_text()) for j in spool.pending()]
    assert [(j["event"], j["complete"], j["agent"]) for j in jobs] == [("stop", False, "claude")]
    assert no_spawn == [False]


def _track(sid: str, cwd: str, started_at: float, path: Path | None = None) -> None:
    tracking.track("claude", sid, project="calc", cwd=cwd, transcript_path=str(path) if path else None)
    f = tracking._tracked_file("claude", sid)
    f.write_text(json.dumps({**json.loads(f.read_text()), "started_at": started_at}))


def test_orphans_are_idle_transcripts_or_sessions_a_later_start_replaced(cli_home):
    cfg = Config()
    now = time.time()
    a = _transcript(cli_home, "/w/calc", "a")
    os.utime(a, (now - 120, now - 120))
    _track("a", "/w/calc", now - 3600, a)
    _track("b", "/w/calc", now - 5)  # a new session in the same directory: a ended
    c = _transcript(cli_home, "/w/other", "c")
    os.utime(c, (now - 1200, now - 1200))
    _track("c", "/w/other", now - 7200, c)  # alone in its directory, transcript quiet for 20 min
    d = _transcript(cli_home, "/w/busy", "d")
    _track("d", "/w/busy", now - 7200, d)  # still being written
    e = _transcript(cli_home, "/w/old", "e")
    os.utime(e, (now - 86400, now - 86400))
    _track("e", "/w/old", now - 1, e)  # resumed a moment ago: an old transcript is not an idle session
    got = {entry["external_id"]: why for _, entry, why in tracking.orphans(cfg, now)}
    assert got == {"a": "session b started in the same directory",
                   "c": "its transcript has not grown for 20 min"}


def test_a_session_running_beside_the_new_one_is_not_swept(cli_home):
    now = time.time()
    a = _transcript(cli_home, "/w/calc", "a")
    _track("a", "/w/calc", now - 3600, a)
    _track("b", "/w/calc", now - 60)  # b started a minute ago, and a has written since
    assert tracking.orphans(Config(), now) == []


def test_killed_session_end_is_swept_by_the_next_start_and_completed(fake, no_spawn):
    home = Path(os.environ["HOME"])
    cwd = str(home / "calc")
    a = _transcript(home, cwd, "a")
    _hook("session-start", "a", cwd, a)
    _hook("stop", "a", cwd, a)
    assert spool.flush(load())["delivered"] == 1  # the incremental upload
    [s] = fake.all_sessions()
    assert s["status"] == "in_progress" and s["transcript"]
    with a.open("a") as f:  # the last turn, then SessionEnd never runs (killed)
        f.write(json.dumps({"type": "assistant", "sessionId": "a", "message": {"content": "done"}}) + "\n")
    _hook("session-start", "b", cwd, None)
    assert no_spawn[-1] is True  # the start asked its detached flush to sweep
    r = spool.flush(load(), sweep=True)
    assert r["swept"] == ["a"] and r["delivered"] == 1
    s = next(x for x in fake.all_sessions() if x["external_id"] == "a")
    assert s["status"] == "completed" and fake.uploads[-1] == a.read_bytes()  # the whole transcript
    assert [e["external_id"] for _, e in tracking.tracked()] == ["b"]
    assert spool.flush(load(), sweep=True)["swept"] == []  # b is running: nothing more


def test_a_normal_session_end_leaves_nothing_to_sweep(fake, no_spawn):
    home = Path(os.environ["HOME"])
    a = _transcript(home, "/w/calc", "a")
    _hook("session-start", "a", "/w/calc", a)
    assert len(tracking.tracked()) == 1
    _hook("session-end", "a", "/w/calc", a)
    assert tracking.tracked() == []
    _hook("session-start", "b", "/w/calc", None)
    assert True not in no_spawn  # b is the only session of ours: no sweep asked
    assert spool.flush(load(), sweep=True)["swept"] == []


def test_a_broken_record_is_dropped_not_swept(cli_home):
    tracking.tracked_dir().mkdir(parents=True)
    (tracking.tracked_dir() / "junk.json").write_text("[1]")
    (tracking.tracked_dir() / "bad.json").write_text("{not json")
    assert tracking.orphans(Config()) == [] and list(tracking.tracked_dir().iterdir()) == []


def test_codex_stop_without_a_transcript_path_is_throttled_by_time_alone(cli_home):
    cfg = Config()
    kw = {"project": "calc", "cwd": "/w/calc", "transcript_path": None, "cfg": cfg}
    assert tracking.stop_due("codex", "r1", **kw)
    assert not tracking.stop_due("codex", "r1", **kw)
    [(_, entry)] = tracking.tracked()
    assert entry["uploaded_size"] is None and entry["agent"] == "codex"  # no glob for the rollout in a hook
