"""`make dev` as a user runs it: DynamoDB Local + chalice local, data kept across a restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from devtools import ddb
from tests.conftest import ROOT

pytestmark = pytest.mark.integration


def _user_env(**extra: str) -> dict[str, str]:
    """The environment a user's shell has: none of the test session's MSO_/AWS_ settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MSO_", "AWS_"))}
    env.update(extra)
    return env


def _start(data_dir: Path, port: int, ddb_port: int) -> subprocess.Popen:
    env = _user_env(PORT=str(port), MSO_DATA_DIR=str(data_dir), MSO_DYNAMODB_PORT=str(ddb_port))
    proc = subprocess.Popen([sys.executable, "-m", "devtools.dev"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError("make dev exited early:\n" + proc.stdout.read().decode(errors="replace"))
        try:
            if requests.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                return proc
        except requests.RequestException:
            pass
        time.sleep(0.3)
    proc.kill()
    raise AssertionError("make dev did not answer /api/health in 90 s")


def _stop(proc: subprocess.Popen, ddb_port: int, *, term: bool = False) -> str:
    if term:
        proc.terminate()  # `kill <pid>`: only the server gets it, and it must stop the database itself
    else:
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C sends to the foreground process group
    try:
        out, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
    deadline = time.monotonic() + 15
    while ddb.port_open(ddb_port) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not ddb.port_open(ddb_port), "DynamoDB Local still running after Ctrl-C"
    return out.decode(errors="replace")


def _queue_without_running(ddb_port: int, pid: str) -> None:
    """Write a pending handoff job straight into the dev database, as a killed server leaves it."""
    code = ("from chalicelib import config; from chalicelib.storage.models import configure; "
            "from chalicelib.storage.handoffs import request_handoff; config.reset(); configure(); "
            f"request_handoff('dev', {pid!r}, 1, mode='rules', budget_chars=None)")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, env=_user_env(
        MSO_DYNAMODB_ENDPOINT=f"http://127.0.0.1:{ddb_port}", AWS_ACCESS_KEY_ID="local",
        AWS_SECRET_ACCESS_KEY="local", AWS_DEFAULT_REGION="us-east-1"))


def _wait_for_handoff(base: str, headers: dict, pid: str) -> dict:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        h = requests.get(f"{base}/projects/{pid}/sessions/1/handoff", headers=headers, timeout=10).json()
        if h["status"] == "ready":
            return h
        time.sleep(0.3)
    raise AssertionError("the interrupted handoff job was not resumed")


def test_make_dev_keeps_data_across_restart(tmp_path):
    if not ddb.java_available():
        pytest.fail("Java 17 is needed for make dev's DynamoDB Local")
    port, ddb_port = ddb.free_port(), ddb.free_port()
    proc = _start(tmp_path, port, ddb_port)
    base = f"http://127.0.0.1:{port}/api"
    try:
        token = (tmp_path / "dev-token").read_text().strip()
        h = {"Authorization": f"Bearer {token}"}
        pid = requests.post(f"{base}/projects", json={"name": "thirty"}, headers=h, timeout=10).json()["id"]
        with ThreadPoolExecutor(max_workers=30) as pool:
            rs = list(pool.map(lambda _: requests.post(f"{base}/projects/{pid}/sessions", json={}, headers=h,
                                                       timeout=60), range(30)))
        assert sorted(r.json()["number"] for r in rs) == list(range(1, 31))
        other = subprocess.run([sys.executable, "-m", "devtools.token", "intruder"], cwd=ROOT, check=True,
                               capture_output=True, text=True,
                               env=_user_env(MSO_DATA_DIR=str(tmp_path), MSO_DYNAMODB_PORT=str(ddb_port)),
                               ).stdout.strip()
        oh = {"Authorization": f"Bearer {other}"}
        assert requests.get(f"{base}/projects/{pid}", headers=oh, timeout=10).status_code == 404
        assert requests.get(f"{base}/projects/{pid}/sessions/7", headers=oh, timeout=10).status_code == 404
        assert requests.get(f"http://127.0.0.1:{port}/", timeout=10).status_code == 200  # the dashboard
        # a handoff job the server was running when it stopped (queued here without a worker thread)
        requests.patch(f"{base}/projects/{pid}/sessions/1", json={"status": "completed",
                                                                  "next_steps": ["resume me"]}, headers=h, timeout=10)
        _queue_without_running(ddb_port, pid)
        assert requests.get(f"{base}/projects/{pid}/sessions/1/handoff", headers=h, timeout=10).json()[
            "status"] == "pending"
    finally:
        out = _stop(proc, ddb_port)
    assert "#token=" in out and "Dashboard" in out

    proc = _start(tmp_path, port, ddb_port)
    try:
        assert (tmp_path / "dev-token").read_text().strip() == token  # same token after restart
        p = requests.get(f"{base}/projects/{pid}", headers=h, timeout=10).json()
        assert p["sessions"]["total"] == 30
        listed = requests.get(f"{base}/projects/{pid}/sessions?limit=100", headers=h, timeout=10).json()["items"]
        assert [s["number"] for s in listed] == list(range(1, 31))
        assert "resume me" in _wait_for_handoff(base, h, pid)["markdown"]
    finally:
        out = _stop(proc, ddb_port, term=True)
    assert "resuming 1 handoff job(s) interrupted" in out


def test_without_java_falls_back_to_moto_and_says_so(monkeypatch, capsys, tmp_path):
    from devtools import dev

    monkeypatch.setattr(ddb, "java_available", lambda: False)
    monkeypatch.setenv("MSO_DYNAMODB_PORT", str(ddb.free_port()))
    endpoint, handle, persistent = dev.start_database(tmp_path)
    try:
        assert persistent is False
        assert ddb.is_dynamodb(endpoint)
        assert "DATA WILL NOT BE KEPT" in capsys.readouterr().out
    finally:
        handle.stop()


@pytest.mark.parametrize("method", ["QUERY", "TRACE", "CONNECT", "BREW"])
def test_unsupported_methods_get_a_json_405(_server, method):
    import http.client

    base, _ = _server
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request(method, "/api/projects", headers={"Authorization": "Bearer x"})
    r = conn.getresponse()
    body = r.read()
    conn.close()
    assert r.status == 405, body
    assert r.getheader("Content-Type") == "application/json"
    assert r.getheader("X-Content-Type-Options") == "nosniff" and r.getheader("Cache-Control") == "no-store"
    assert b"method_not_allowed" in body and b"Bearer x" not in body


@pytest.mark.parametrize("path,length", [("/api/uploads/some-upload-id", 600 * 1024 * 1024),
                                         ("/api/projects/p/sessions/1/transcript", 7 * 1024 * 1024)])
def test_dev_server_refuses_an_oversized_body_before_reading_it(_server, path, length):
    """A client announcing a huge body gets a 413 at once: the server never reads (or buffers) it."""
    import http.client

    base, _ = _server
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.putrequest("PUT", path)
    conn.putheader("Content-Length", str(length))
    conn.putheader("Content-Type", "application/gzip")
    conn.endheaders()
    conn.send(b"\x1f\x8b" + b"\0" * 1000)  # a start; the rest never comes
    r = conn.getresponse()
    body = r.read()
    conn.close()
    assert r.status == 413, body
    assert b"payload_too_large" in body
    assert r.getheader("X-Content-Type-Options") == "nosniff" and r.getheader("Cache-Control") == "no-store"


def test_dynamodb_local_does_not_outlive_a_killed_make_dev(tmp_path):
    """SIGKILL leaves no cleanup to run: DynamoDB Local's watchdog sees its parent gone and stops it."""
    port, ddb_port = ddb.free_port(), ddb.free_port()
    proc = _start(tmp_path, port, ddb_port)
    assert ddb.port_open(ddb_port)
    proc.kill()  # the dev process alone (not its group), as `kill -9 <pid>` or the OOM killer does
    proc.communicate(timeout=30)
    deadline = time.monotonic() + 20
    while ddb.port_open(ddb_port) and time.monotonic() < deadline:
        time.sleep(0.2)
    alive = ddb.port_open(ddb_port)
    if alive:  # do not leave it behind for the next test
        os.kill(int((tmp_path / "dynamodb.pid").read_text()), signal.SIGKILL)
    assert not alive, "DynamoDB Local outlived the killed make dev"


def test_make_dev_refuses_a_dynamodb_local_holding_another_data_dir(tmp_path):
    port, ddb_port = ddb.free_port(), ddb.free_port()
    first = tmp_path / "first"
    proc = _start(first, port, ddb_port)
    try:
        env = _user_env(PORT=str(ddb.free_port()), MSO_DATA_DIR=str(tmp_path / "second"),
                        MSO_DYNAMODB_PORT=str(ddb_port))
        other = subprocess.run([sys.executable, "-m", "devtools.dev"], cwd=ROOT, env=env, capture_output=True,
                               text=True, timeout=60)
        assert other.returncode != 0
        assert str(first.resolve()) in other.stdout + other.stderr
        assert "MSO_DYNAMODB_PORT" in other.stdout + other.stderr
    finally:
        _stop(proc, ddb_port)
