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


def _start(data_dir: Path, port: int, ddb_port: int, **extra: str) -> subprocess.Popen:
    env = _user_env(PORT=str(port), MSO_DATA_DIR=str(data_dir), MSO_DYNAMODB_PORT=str(ddb_port), **extra)
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


def test_ctrl_c_is_a_clean_exit(tmp_path):
    """Ctrl-C is how a user stops `make dev`: exit status 0 (so make reports no error), no "Aborted!"
    or traceback, the database stopped (checked by _stop), and a last "stopped" line."""
    port, ddb_port = ddb.free_port(), ddb.free_port()
    proc = _start(tmp_path, port, ddb_port)
    out = _stop(proc, ddb_port)
    assert proc.returncode == 0, out
    assert "Aborted!" not in out and "Traceback" not in out, out
    assert out.strip().splitlines()[-1] == "stopped", out


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
        listed = requests.get(f"{base}/projects/{pid}/sessions?limit=100&order=asc", headers=h, timeout=10).json()["items"]
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
    assert r.getheader("Connection") == "close"  # the server closes it: a client must not reuse it
    assert b"method_not_allowed" in body and b"Bearer x" not in body


def test_a_client_reusing_its_connection_after_a_405_is_not_reset(_server):
    """Why the CONNECT 405 test flaked: the server closed the connection after a 405 without saying
    so, and a keep-alive client (requests' pool, http.client) sent the next request on the dead
    socket: a reset or RemoteDisconnected whenever the server's FIN had not arrived first. The answer
    now says `Connection: close`, so clients open a new connection, every time."""
    import http.client

    host, port = _server[0].removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        for method in ("TRACE", "CONNECT", "QUERY", "CONNECT", "GET"):
            conn.request(method, "/api/health")
            r = conn.getresponse()
            r.read()
            assert r.status == (200 if method == "GET" else 405), method
    finally:
        conn.close()


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


def _raw_request(port: int, head: str, body: bytes = b"", *, timeout: float = 30) -> tuple[int, bytes]:
    """Send a request head (and part of a body) on a raw socket, keep the socket open, and read the
    answer: (status, whole answer). A server that waits for the rest of the body never answers, and
    the socket's timeout fails the test."""
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        answer = b""
        while True:  # until the server closes the connection
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    return int(answer.split(b" ", 2)[1]), answer


def test_a_body_shorter_than_its_content_length_gets_408_not_a_hung_thread(tmp_path):
    """`make dev` as a user runs it: a client announcing 1,000 bytes and sending 10 gets a 408 and a
    closed connection once the body timeout passes (1 s here), and the server goes on serving."""
    port, ddb_port = ddb.free_port(), ddb.free_port()
    proc = _start(tmp_path, port, ddb_port, MSO_BODY_TIMEOUT_S="1")
    try:
        token = (tmp_path / "dev-token").read_text().strip()
        head = (f"PUT /api/projects/p1/sessions/1/transcript HTTP/1.1\nHost: 127.0.0.1:{port}\n"
                f"Authorization: Bearer {token}\nContent-Type: application/json\nContent-Length: 1000\n")
        status, answer = _raw_request(port, head, b'{"messages"')
        assert status == 408, answer
        assert b"request_timeout" in answer and b"Content-Length" in answer
        assert b"nosniff" in answer and b"Connection: close" in answer
        assert requests.get(f"http://127.0.0.1:{port}/api/health", timeout=10).status_code == 200
    finally:
        _stop(proc, ddb_port)


def test_bodies_are_refused_before_they_are_read_without_a_credential(live, _server):
    """No token (or no live upload id): the answer comes at once, while the announced body was never sent."""
    port = int(_server[0].rsplit(":", 1)[1])
    cases = [  # (request head, status, code)
        ("PUT /api/projects/p1/sessions/1/transcript HTTP/1.1\nContent-Type: application/gzip\n"
         "Content-Length: 3000000\n", 401, b"missing_token"),
        ("POST /api/projects HTTP/1.1\nAuthorization: Bearer mso_forged\nContent-Type: application/json\n"
         "Content-Length: 5000000\n", 401, b"invalid_token"),
        ("PUT /api/uploads/not-a-live-upload-id HTTP/1.1\nContent-Type: application/gzip\n"
         "Content-Length: 400000000\n", 404, b"upload_not_found"),
    ]
    for head, status, code in cases:
        got, answer = _raw_request(port, f"{head}Host: 127.0.0.1:{port}\n", b"\x1f\x8b", timeout=20)
        assert got == status and code in answer, answer
        assert b"nosniff" in answer


def test_an_upload_body_is_spooled_to_disk_not_held_in_memory(live, _server):
    """A 48 MiB body to the upload URL: the server's Python allocations stay under 16 MiB at their peak
    (before: 48 MiB, the whole body read at once, then copied by Chalice)."""
    import http.client
    import tracemalloc

    api = live("spooler")
    pid = api("POST", "/api/projects", {"name": "big"}).json()["id"]
    api("POST", f"/api/projects/{pid}/sessions", {})
    slot = api("POST", f"/api/projects/{pid}/sessions/1/transcript-upload?format=claude-code").json()
    size, block = 48 * 1024 * 1024, b'{"type":"user","message":{"role":"user","content":"x"}}\n' * 1024
    host, port = _server[0].removeprefix("http://").split(":")
    tracemalloc.start()
    try:
        conn = http.client.HTTPConnection(host, int(port), timeout=120)
        conn.putrequest("PUT", f"/api/uploads/{slot['upload_id']}")
        conn.putheader("Content-Type", "application/x-ndjson")
        conn.putheader("Content-Length", str(size))
        conn.endheaders()
        sent = 0
        while sent < size:
            part = block[: size - sent]
            conn.send(part)
            sent += len(part)
        r = conn.getresponse()
        r.read()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert r.status < 500
    assert peak < 16 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB while a 48 MiB upload arrived"


def test_the_upload_url_is_the_servers_own_address_whatever_the_host_header(live, _server):
    api = live("hosts")
    pid = api("POST", "/api/projects", {"name": "h"}).json()["id"]
    api("POST", f"/api/projects/{pid}/sessions", {})
    slot = api("POST", f"/api/projects/{pid}/sessions/1/transcript-upload",
               headers={"Host": "evil.example", "X-Forwarded-Proto": "https"}).json()
    assert slot["upload_url"] == f"{_server[0]}/api/uploads/{slot['upload_id']}"
