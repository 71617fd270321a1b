"""Privacy on the way out: `<private>` spans are cut from transcripts before upload, and the
directories and projects listed in `exclude` are never captured."""

from __future__ import annotations

import gzip
import io
import json

import pytest
from mso_cli import hooks, main, spool
from mso_cli.config import load
from mso_cli.privacy import scrub_stream, scrub_text

from tests.unit.cli import private_spans as ps


@pytest.mark.parametrize(("text", "want"), [
    ("a <private>b</private> c", "a [PRIVATE] c"),
    ("a <PRIVATE>b</Private> c <private >d</private> e", "a [PRIVATE] c [PRIVATE] e"),
    ("a <private>line 1\nline 2</private> c", "a [PRIVATE] c"),
    ("a <private>never closed\nrest", "a [PRIVATE]"),
    ("no tags here, private or not", "no tags here, private or not"),
])
def test_spans_are_cut_from_a_message(text, want):
    assert scrub_text(text) == want


def test_plain_text_spans_cross_lines_and_an_unclosed_one_runs_to_the_end():
    src = b"#### user\nkeep <private>drop\ndrop too\n</private> kept\nmore <Private>gone\n#### assistant\ngone\n"
    out = io.BytesIO()
    scrub_stream(io.BytesIO(src), out, limit=10_000)
    assert out.getvalue() == b"#### user\nkeep [PRIVATE] kept\nmore [PRIVATE]"


def test_jsonl_records_stay_valid_and_untouched_lines_are_byte_identical():
    recs = [b'{"a":1,  "b":"kept as written"}\n', json.dumps({"m": 'x <private>"y"</private>'}).encode() + b"\n",
            b'{"p": "no tag, only the word private"}\n']
    out = io.BytesIO()
    scrub_stream(io.BytesIO(b"".join(recs)), out, limit=10_000)
    lines = out.getvalue().splitlines(keepends=True)
    assert lines[0] == recs[0] and lines[2] == recs[2]
    assert json.loads(lines[1]) == {"m": "x [PRIVATE]"}


def test_a_real_claude_code_transcript_is_uploaded_without_its_spans(fake, tmp_path, capsys):
    text = ps.claude_with_spans()
    t = ps.write(tmp_path / "258c7280-ae70-4798-800f-63464d01a85d.jsonl", text)
    assert main.main(["--project", "spotter", "push", str(t)]) == 0, capsys.readouterr()
    [sent] = fake.uploads
    ps.assert_no_trace(sent, text)
    assert "visible tail" in sent.decode()  # only the span goes, not what follows it
    raw = b"".join(body for method, _, body in fake.received)
    assert b"SECRET-" not in raw and b"SECRET-" not in gzip.decompress(
        next(b for m, p, b in fake.received if p.endswith("/transcript")))


def test_a_gzipped_transcript_is_unpacked_filtered_and_packed_again(fake, tmp_path, capsys):
    text = ps.claude_with_spans()
    t = tmp_path / "8463c716-a2ea-4c14-9efa-87158ebd9f20.jsonl.gz"
    t.write_bytes(gzip.compress(text.encode()))
    assert main.main(["--project", "spotter", "push", "--agent", "claude", str(t)]) == 0, capsys.readouterr()
    ps.assert_no_trace(fake.uploads[-1], text)


def test_a_codex_rollout_found_by_the_hook_is_uploaded_without_its_spans(fake, cli_home, monkeypatch):
    sid = "0199a1c2-7b7e-7d31-9a55-2f0c6f1e4b10"
    text = ps.codex_with_spans()
    ps.write(cli_home / ".codex" / "sessions" / "2025" / "10" / "02" / f"rollout-2025-10-02T09-14-03-{sid}.jsonl",
             text)
    monkeypatch.setattr(spool, "spawn_flush", lambda: None)
    payload = {"session_id": sid, "cwd": str(cli_home), "transcript_path": None, "hook_event_name": "SessionEnd"}
    assert hooks.run("codex", "session-end", io.StringIO(json.dumps(payload))) == 0
    assert spool.flush(load())["delivered"] == 1
    ps.assert_no_trace(fake.uploads[-1], text)


@pytest.fixture
def excluding(cli_home):
    cfg = cli_home / ".config" / "mso" / "config.toml"
    cfg.parent.mkdir(parents=True)
    cfg.write_text('exclude = ["~/secret-project", "Billing*"]\n')
    secret = cli_home / "secret-project" / "src"
    secret.mkdir(parents=True)
    billing = cli_home / "work" / "billing-api"
    billing.mkdir(parents=True)
    (billing / ".mso.toml").write_text('project = "Billing service"\n')
    open_dir = cli_home / "work" / "calc"
    open_dir.mkdir(parents=True)
    return {"secret": secret, "billing": billing, "open": open_dir}


def test_excluded_directories_and_projects_are_never_captured(fake, excluding, monkeypatch, capsys):
    monkeypatch.setattr(spool, "spawn_flush", lambda: None)
    for name in ("secret", "billing"):
        for event in ("session-start", "pre-compact", "stop", "session-end"):
            payload = {"session_id": f"s-{name}", "cwd": str(excluding[name]), "source": "startup",
                       "transcript_path": str(excluding[name] / "t.jsonl")}
            assert hooks.run("claude", event, io.StringIO(json.dumps(payload))) == 0
    assert capsys.readouterr().out == ""
    assert fake.received == [] and spool.pending() == []
    # a directory not listed is captured as before
    payload = {"session_id": "s-open", "cwd": str(excluding["open"]), "source": "startup"}
    assert hooks.run("claude", "session-start", io.StringIO(json.dumps(payload))) == 0
    assert [s["external_id"] for s in fake.all_sessions()] == ["s-open"]


def test_push_refuses_and_doctor_names_the_exclusion(fake, excluding, monkeypatch, capsys, tmp_path):
    t = ps.write(tmp_path / "t.jsonl", ps.codex_with_spans())
    monkeypatch.chdir(excluding["billing"])
    assert main.main(["push", str(t)]) == 1
    assert "exclude pattern 'Billing*' matches the project name 'Billing service'" in capsys.readouterr().err
    main.main(["doctor"])
    assert "capture here: off: exclude pattern 'Billing*'" in capsys.readouterr().out
    monkeypatch.chdir(excluding["secret"])
    main.main(["doctor"])
    assert f"exclude pattern '~/secret-project' matches the directory {excluding['secret']}" in capsys.readouterr().out
    monkeypatch.chdir(excluding["open"])
    main.main(["doctor"])
    assert "capture here: on (2 exclude pattern(s)" in capsys.readouterr().out
    assert fake.all_sessions() == []


def test_a_job_spooled_before_the_exclusion_is_never_sent(fake, excluding):
    spool.write_job(spool.job_for("claude", external_id="late", project="Billing service", cwd=str(excluding["billing"]),
                                  transcript_path=None, complete=True, handoff_mode="rules", event="session-end"))
    r = spool.flush(load())
    assert r["failed"] == 1 and "not captured" in r["errors"][0]["reason"] and fake.received == []
