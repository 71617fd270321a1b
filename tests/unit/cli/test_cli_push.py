"""`mso push` says why the server refused a transcript (its error code and message), and never
leaves a session behind that nothing will complete."""

from __future__ import annotations

import os

from mso_cli import main

from tests.conftest import ROOT

ROLLOUT = ROOT / "tests" / "fixtures" / "transcripts" / "codex_rollout.jsonl"


def test_a_refused_push_prints_the_servers_reason_and_leaves_no_running_session(fake, tmp_path, capsys):
    noise = tmp_path / "noise.txt"
    noise.write_bytes(os.urandom(3000) + b"\x00")
    assert main.main(["--project", "calc", "push", str(noise)]) == 1
    out = capsys.readouterr()
    assert "400 transcript_binary: the body is binary data, not a text transcript" in out.err
    assert "unreachable" not in out.out + out.err
    [s] = fake.all_sessions()
    assert s["status"] == "failed" and "transcript_binary" in s["errors"][0]


def test_a_refused_upload_only_push_leaves_no_running_session_either(fake, tmp_path, capsys):
    fake.refuse_upload = (413, "transcript_too_large", "the transcript unpacks past the limit")
    t = tmp_path / "t.jsonl"
    t.write_bytes(ROLLOUT.read_bytes())
    assert main.main(["--project", "calc", "push", "--no-complete", str(t)]) == 1
    assert "413 transcript_too_large: the transcript unpacks past the limit" in capsys.readouterr().err
    assert [s["status"] for s in fake.all_sessions()] == ["failed"]


def test_a_file_that_cannot_be_read_creates_nothing(fake, tmp_path, capsys, monkeypatch):
    from pathlib import Path

    t = tmp_path / "t.jsonl"
    t.write_bytes(ROLLOUT.read_bytes())
    real_open = Path.open

    def denied(self, *a, **k):
        if self == t:
            raise PermissionError(13, "Permission denied", str(t))
        return real_open(self, *a, **k)

    monkeypatch.setattr(Path, "open", denied)
    assert main.main(["--project", "calc", "push", str(t)]) == 1
    assert "Permission denied" in capsys.readouterr().err
    assert fake.received == []


def test_a_push_the_server_accepts_is_completed(fake, tmp_path, capsys):
    t = tmp_path / "t.jsonl"
    t.write_bytes(ROLLOUT.read_bytes())
    assert main.main(["--project", "calc", "push", str(t)]) == 0
    assert "delivered 1, kept 0, failed 0" in capsys.readouterr().out
    assert [s["status"] for s in fake.all_sessions()] == ["completed"]


def test_a_server_that_does_not_answer_is_named_as_such(cli_home, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MSO_API_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("MSO_TOKEN", "t")
    t = tmp_path / "t.jsonl"
    t.write_bytes(ROLLOUT.read_bytes())
    assert main.main(["--project", "calc", "push", str(t)]) == 1
    assert "kept 1 (http://127.0.0.1:9 did not answer" in capsys.readouterr().out
