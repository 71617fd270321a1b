"""A hook whose stdin is never closed still exits: the read stops at a whole JSON payload, or
after its time budget with what arrived (here: nothing, or half a payload)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from mso_cli import hooks


def _hook(cli_home, event: str, written: bytes) -> tuple[subprocess.Popen, int]:
    env = {"HOME": str(cli_home), "MSO_API_URL": "http://127.0.0.1:9", "MSO_TOKEN": "t", "PATH": "/usr/bin:/bin"}
    proc = subprocess.Popen([sys.executable, "-m", "mso_cli", "hook", "claude", event], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cli_home)
    proc.stdin.write(written)
    proc.stdin.flush()  # and never closed while the hook runs
    try:
        code = proc.wait(timeout=20)  # a hang shows as TimeoutExpired, far past the 1 s read budget
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdin.close()
    return proc, code


def _spooled(cli_home) -> list[dict]:
    d = cli_home / ".local" / "state" / "mso" / "spool"
    return [json.loads(p.read_text()) for p in sorted(d.glob("*.json"))]


def test_a_whole_payload_on_an_open_pipe_is_used(cli_home):
    payload = {"session_id": "open-pipe-1", "cwd": str(cli_home), "transcript_path": None}
    proc, code = _hook(cli_home, "session-end", json.dumps(payload).encode())
    assert code == 0 and proc.stdout.read() == b"" and proc.stderr.read() == b""
    assert [j["external_id"] for j in _spooled(cli_home)] == ["open-pipe-1"]


@pytest.mark.parametrize("written", [b"", b'{"session_id": "half'])
@pytest.mark.parametrize("event", ["session-start", "session-end"])
def test_a_pipe_that_stays_open_ends_the_read_at_its_budget(cli_home, event, written):
    proc, code = _hook(cli_home, event, written)
    assert code == 0 and proc.stdout.read() == b"" and proc.stderr.read() == b""
    assert _spooled(cli_home) == []  # nothing usable arrived: nothing spooled


def test_the_read_is_bounded_by_size(tmp_path):
    big = tmp_path / "big"
    big.write_bytes(b'{"a": "' + b"x" * (hooks.MAX_STDIN * 2) + b'"}')
    with big.open("rb") as f:
        assert hooks.read_payload(f) == {}  # cut at MAX_STDIN: not a whole object
        assert f.tell() == hooks.MAX_STDIN
