"""The spool never blocks: malformed jobs and unreadable or refused transcripts are parked in
spool/failed/ with their reason while the others are delivered, and no session is left running."""

from __future__ import annotations

import contextlib
import io
import json
import os
import stat
from pathlib import Path

import pytest
from mso_cli import hooks, main, spool
from mso_cli.config import load

from tests.conftest import ROOT

ROLLOUT = ROOT / "tests" / "fixtures" / "transcripts" / "codex_rollout.jsonl"


def _job(sid: str, transcript: Path | None, **over) -> dict:
    job = spool.job_for("codex", external_id=sid, project="calc", cwd="/w/calc",
                        transcript_path=None if transcript is None else str(transcript), complete=True,
                        handoff_mode="rules", event="session-end")
    return {**job, **over}


def _failed_reasons() -> dict[str, str]:
    """Failed job name -> its reason (the `error` field, or the `.reason` sidecar)."""
    out = {}
    for p in sorted(spool.failed_dir().iterdir()):
        if p.name.endswith(".reason"):
            out[p.name[: -len(".reason")]] = json.loads(p.read_text())["error"]
        else:
            data = None
            with contextlib.suppress(ValueError):
                data = json.loads(p.read_bytes())
            if isinstance(data, dict) and "error" in data:
                out[p.name] = data["error"]
    return out


def test_poisoned_jobs_go_to_failed_with_their_reason_and_the_rest_is_delivered(fake, tmp_path, capsys):
    good = []
    for i in range(3):
        t = tmp_path / f"good{i}.jsonl"
        t.write_bytes(ROLLOUT.read_bytes())
        good.append(f"good-{i}")
        spool.write_job(_job(f"good-{i}", t))
    binary = tmp_path / "noise.jsonl"
    binary.write_bytes(os.urandom(2000) + b"\x00")
    a_dir = tmp_path / "a-dir"
    a_dir.mkdir()
    d = spool.spool_dir()
    bad = {
        "number.json": json.dumps(_job("n1", None, transcript_path=5)),
        "list.json": json.dumps(_job("l1", None, transcript_path=["a", "b"])),
        "no-keys.json": json.dumps({"agent": "claude", "transcript_path": "/x"}),
        "not-an-object.json": "[1, 2, 3]",
        "invalid.json": '{"external_id": "x", ',
        "binary-job.json": os.urandom(300),
        "binary-transcript.json": json.dumps(_job("bin-1", binary)),
        "dir-transcript.json": json.dumps(_job("dir-1", a_dir)),
        "complete-not-bool.json": json.dumps(_job("cb", None, complete="yes")),
    }
    for name, body in bad.items():
        (d / name).write_bytes(body if isinstance(body, bytes) else body.encode())
    (d / "folder.json").mkdir()  # not a job at all: ignored, never a crash

    assert main.main(["flush"]) == 0
    out = capsys.readouterr()
    assert "delivered 3, kept 0, failed 9" in out.out

    got = {s["external_id"]: s for s in fake.all_sessions()}
    assert all(got[g]["status"] == "completed" and got[g]["transcript"] for g in good)
    reasons = _failed_reasons()
    assert set(reasons) == set(bad), reasons
    assert "'transcript_path' is a int" in reasons["number.json"]
    assert "'transcript_path' is a list" in reasons["list.json"]
    assert "'external_id' is missing" in reasons["no-keys.json"]
    assert "not an object" in reasons["not-an-object.json"]
    assert "not JSON" in reasons["invalid.json"] and "not JSON" in reasons["binary-job.json"]
    assert "400 transcript_binary" in reasons["binary-transcript.json"]
    assert "is a directory" in reasons["dir-transcript.json"]
    assert "'complete' is not true or false" in reasons["complete-not-bool.json"]
    # the originals of what was not a job object are kept byte for byte
    assert (spool.failed_dir() / "binary-job.json").read_bytes() == bad["binary-job.json"]
    assert spool.pending() == []
    # a job that failed with a session never leaves it running
    assert got["bin-1"]["status"] == "failed" and "transcript_binary" in got["bin-1"]["errors"][0]
    assert got["dir-1"]["status"] == "failed" and "is a directory" in got["dir-1"]["errors"][0]
    assert not {"n1", "l1", "cb"} & set(got)  # malformed: nothing was sent for them
    # and the next flush has nothing left to trip on
    assert main.main(["flush"]) == 0 and "delivered 0, kept 0, failed 0" in capsys.readouterr().out


def test_a_bug_on_one_job_does_not_block_the_others(fake, tmp_path, monkeypatch):
    t = tmp_path / "t.jsonl"
    t.write_bytes(ROLLOUT.read_bytes())
    spool.write_job(_job("boom", t))
    spool.write_job(_job("fine", t))
    real = spool.deliver

    def deliver(api, job, cfg=None):
        if job["external_id"] == "boom":
            raise KeyError("an unexpected answer")
        return real(api, job, cfg)

    monkeypatch.setattr(spool, "deliver", deliver)
    r = spool.flush(load())
    assert (r["delivered"], r["failed"], r["kept"]) == (1, 1, 0)
    assert "internal error: KeyError" in r["errors"][0]["reason"]
    assert [s["external_id"] for s in fake.all_sessions()] == ["fine"]


@pytest.mark.parametrize("value", [5, ["a"], {"p": 1}, True])
def test_a_hook_payload_with_a_non_text_transcript_path_spools_a_valid_job(cli_home, monkeypatch, value):
    monkeypatch.setenv("MSO_API_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("MSO_TOKEN", "t")
    monkeypatch.setattr(spool, "spawn_flush", lambda: None)
    payload = {"session_id": "s-1", "cwd": str(cli_home), "transcript_path": value, "hook_event_name": "SessionEnd"}
    assert hooks.run("claude", "session-end", io.StringIO(json.dumps(payload))) == 0
    [p] = spool.pending()
    job = json.loads(p.read_text())
    assert spool.job_problem(job) is None and job["transcript_path"] is None


def _unreadable(kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    p = tmp_path / f"{kind}.jsonl"
    if kind == "directory":
        p.mkdir()
    elif kind == "permission":
        p.write_bytes(ROLLOUT.read_bytes())
        p.chmod(0)
        # root reads a file whatever its mode (the tests may run as root): open() fails as for a user
        real_open = Path.open

        def denied(self, *a, **k):
            if self == p:
                raise PermissionError(13, "Permission denied", str(p))
            return real_open(self, *a, **k)

        monkeypatch.setattr(Path, "open", denied)
    return p  # "deleted": never written


@pytest.mark.parametrize("kind", ["deleted", "permission", "directory"])
def test_an_unreadable_transcript_still_finishes_its_session(fake, tmp_path, kind, monkeypatch):
    # a session with an earlier snapshot is completed with the reason; one with nothing is marked failed
    snap = tmp_path / "snap.jsonl"
    snap.write_bytes(ROLLOUT.read_bytes())
    spool.write_job(_job("with-snapshot", snap, complete=False, event="pre-compact"))
    assert spool.flush(load())["delivered"] == 1
    path = _unreadable(kind, tmp_path, monkeypatch)
    spool.write_job(_job("with-snapshot", path))
    spool.write_job(_job("never-uploaded", path))
    r = spool.flush(load())
    assert (r["delivered"], r["failed"], r["kept"]) == (0, 2, 0)
    got = {s["external_id"]: s for s in fake.all_sessions()}
    want = {"deleted": "does not exist", "permission": "permission denied", "directory": "is a directory"}[kind]
    assert got["with-snapshot"]["status"] == "completed" and want in got["with-snapshot"]["errors"][0]
    assert got["never-uploaded"]["status"] == "failed" and want in got["never-uploaded"]["errors"][0]
    assert all(want in e["reason"] for e in r["errors"])
    assert not [s for s in fake.all_sessions() if s["status"] == "in_progress"]


def test_an_unreadable_snapshot_sends_nothing(fake, tmp_path):
    spool.write_job(_job("snap", tmp_path / "gone.jsonl", complete=False, event="stop"))
    r = spool.flush(load())
    assert r["failed"] == 1 and "does not exist" in r["errors"][0]["reason"]
    assert fake.received == []


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_state_files_are_private_and_older_loose_ones_are_tightened(fake, tmp_path):
    from mso_cli import state
    from mso_cli.config import save, state_dir

    old = os.umask(0o022)
    try:
        # what an older version left: world-readable folders and files
        sd = state_dir()
        for d in (sd, sd / "spool", sd / "handoffs"):
            d.mkdir(parents=True, exist_ok=True)
            d.chmod(0o755)
        for f in (sd / "mso.log", sd / "projects.json", sd / "spool" / ".lock"):
            f.write_text("{}\n" if f.suffix == ".json" else "")
            f.chmod(0o644)
        state.log("hello")
        t = tmp_path / "t.jsonl"
        t.write_bytes(ROLLOUT.read_bytes())
        job = spool.write_job(_job("m1", t))
        assert _mode(job) == 0o600
        state.cache_handoff("http://x", "calc", {"markdown": "# h"})
        spool.write_job(_job("bad", None, transcript_path=5))
        assert spool.flush(load())["delivered"] == 1
        save({"exclude": ["~/secret"]})
        files = [sd / "mso.log", sd / "projects.json", sd / "spool" / ".lock", *(sd / "handoffs").iterdir(),
                 *spool.failed_dir().iterdir()]
        assert files and {str(f): _mode(f) for f in files} == {str(f): 0o600 for f in files}
        dirs = [sd, sd / "spool", sd / "handoffs", spool.failed_dir()]
        assert {str(d): _mode(d) for d in dirs} == {str(d): 0o700 for d in dirs}
        from mso_cli.config import config_dir, config_path

        assert (_mode(config_dir()), _mode(config_path())) == (0o700, 0o600)
        assert load().exclude == ("~/secret",)  # a list survives a save
    finally:
        os.umask(old)
