"""Helpers of the browser tests (imported by conftest.py and the tests)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv" / "bin" / "python"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
VENDOR_FILES = ("chart.umd.min.js", "purify.min.js", "marked.umd.js")
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 740}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_vendor() -> None:
    """ui/vendor holds the front-end libraries (gitignored); build it the way `make ui-deps` does."""
    vendor = ROOT / "ui" / "vendor"
    if all((vendor / f).is_file() for f in VENDOR_FILES):
        return
    if not shutil.which("node"):
        pytest.fail("node is needed to copy the front-end libraries to ui/vendor (install Node.js, then make ui-deps)")
    if not (ROOT / "node_modules").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=ROOT, check=True,
                       timeout=600)
    subprocess.run(["node", "scripts/vendor-ui.js"], cwd=ROOT, check=True, timeout=120)


def dynamodb_pids(db_dir: Path) -> list[int]:
    """PIDs of DynamoDB Local processes keeping their data in `db_dir` (only ours use that path)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(a.endswith(b"DynamoDBLocal.jar") for a in args) and str(db_dir).encode() in args:
            pids.append(int(entry.name))
    return pids


def reset_sigint() -> None:
    # A shell running us in the background may ignore SIGINT, and children inherit that:
    # restore the default so the dev server gets its KeyboardInterrupt and stops its database.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@dataclass
class Server:
    base: str
    token: str
    data_dir: Path
    log_path: Path

    def log_tail(self, n: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""


class DevServerError(RuntimeError):
    pass


@contextlib.contextmanager
def dev_server(data_dir: Path, timeout_s: float = 120) -> Iterator[Server]:
    """Run `.venv/bin/python -m devtools.dev` (what `make dev` runs) on free ports with `data_dir`.

    Stops it with SIGINT (Ctrl-C: it stops DynamoDB Local itself), kills it if it lingers, and makes
    sure no DynamoDB Local java process of this data dir is left behind.
    """
    port, ddb_port = free_port(), free_port()
    while ddb_port == port:
        ddb_port = free_port()
    env = dict(os.environ, PORT=str(port), MSO_DYNAMODB_PORT=str(ddb_port), MSO_DATA_DIR=str(data_dir))
    for k in ("MSO_TABLE", "MSO_DYNAMODB_ENDPOINT"):  # as `make dev` runs: default table, its own database
        env.pop(k, None)
    log_path = data_dir / "server.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([str(PYTHON), "-m", "devtools.dev"], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=reset_sigint)
    srv = Server(f"http://127.0.0.1:{port}", "", data_dir, log_path)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if proc.poll() is not None:
                raise DevServerError(f"the dev server exited with code {proc.returncode}:\n{srv.log_tail()}")
            try:
                with urllib.request.urlopen(srv.base + "/api/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise DevServerError(f"the dev server did not answer /api/health within {timeout_s:.0f} s:\n"
                                     + srv.log_tail())
            time.sleep(0.25)
        srv.token = (data_dir / "dev-token").read_text().strip()
        yield srv
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        db_dir = data_dir / "db"
        for pid in dynamodb_pids(db_dir):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while dynamodb_pids(db_dir) and time.monotonic() < deadline:
            time.sleep(0.2)
        for pid in dynamodb_pids(db_dir):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


class ApiClient:
    """Direct API calls to set up data that is not what a test is about."""

    def __init__(self, base: str, token: str) -> None:
        self.base = base
        self.token = token

    def call(self, method: str, path: str, body: Any = None, *, raw: bytes | None = None,
             content_type: str = "application/json", expect: tuple[int, ...] = (200, 201, 202)) -> Any:
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        req = urllib.request.Request(self.base + path, data=data, method=method, headers={
            "Authorization": f"Bearer {self.token}", "Content-Type": content_type})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                status, payload = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, payload = e.code, e.read()
        out = json.loads(payload) if payload and payload[:1] in (b"{", b"[") else payload.decode()
        if status not in expect:
            raise ApiFailure(status, out, f"{method} {path} -> {status}: {out}")
        return out

    def get(self, path: str, **kw: Any) -> Any:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.call("POST", path, body if body is not None else {}, **kw)


class ApiFailure(AssertionError):
    def __init__(self, status: int, body: Any, msg: str) -> None:
        super().__init__(msg)
        self.status = status
        self.body = body


@dataclass
class Console:
    """Console errors and uncaught page errors seen during a test."""

    errors: list[str] = field(default_factory=list)

    def attach(self, page: Any) -> None:
        page.on("console", lambda m: self.errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))


def sign_in(page: Any, server: Server, hash_after: str | None = None) -> None:
    """Open the dashboard with #token= (as `make dev` prints it) and wait for the projects view."""
    page.goto(f"{server.base}/#token={server.token}")
    page.wait_for_url(re.compile(r"#/projects$"))
    page.get_by_role("heading", level=1, name="Projects").wait_for()
    if hash_after:
        goto(page, server, hash_after)


def goto(page: Any, server: Server, hash_: str) -> None:
    page.goto(f"{server.base}/{hash_}")
    page.wait_for_selector("main h1")
