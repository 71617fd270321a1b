"""Helpers for driving the real `mso` CLI as a subprocess against a live server we can stop.

The fixtures built on them (`server`, `tenant`, `home`) are in tests/integration/conftest.py. The
domain reads below import chalicelib lazily: `local_db` has to point the models at DynamoDB Local first."""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from devtools.local_gateway import LocalServer as Server
from tests.conftest import ROOT, TRANSCRIPTS

HOOK_FIXTURES = ROOT / "tests" / "fixtures" / "hooks"
CLAUDE_IDS = ("258c7280-ae70-4798-800f-63464d01a85d", "8463c716-a2ea-4c14-9efa-87158ebd9f20")


def mso_exe() -> str:
    exe = shutil.which("mso", path=str(Path(sys.executable).parent)) or shutil.which("mso")
    if not exe:
        raise AssertionError("the mso command is not installed: `pip install -e ./cli` (make test does it)")
    return exe


class Home:
    """A temporary HOME with real Claude Code transcripts where Claude Code keeps them."""

    def __init__(self, root: Path, server: Server, token: str) -> None:
        self.root = root
        self.home = root / "home"
        self.cwd = self.home / "work" / "spotter"
        self.cwd.mkdir(parents=True)
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("MSO_", "XDG_", "CLAUDE_", "CODEX_"))}
        self.env.update(HOME=str(self.home), MSO_API_URL=server.url, MSO_TOKEN=token)

    @property
    def mangled(self) -> str:
        return re.sub(r"[^A-Za-z0-9]", "-", str(self.cwd))

    def claude_transcript(self, sid: str) -> Path:
        dest = self.home / ".claude" / "projects" / self.mangled / f"{sid}.jsonl"
        dest.parent.mkdir(parents=True, exist_ok=True)
        src = TRANSCRIPTS / "claude-code" / f"{sid}.jsonl.gz"
        if not src.exists():  # a session id of our own: reuse the first real transcript's content
            src = TRANSCRIPTS / "claude-code" / f"{CLAUDE_IDS[0]}.jsonl.gz"
        # recorded where Claude Code would have kept it: the session's cwd is this directory
        text = gzip.decompress(src.read_bytes()).decode()
        dest.write_text(re.sub(r"/home/USER/projects/spotter-worktrees/spotter-[a-z]+", str(self.cwd), text))
        return dest

    def codex_rollout(self, sid: str) -> Path:
        dest = self.home / ".codex" / "sessions" / "2025" / "10" / "02" / f"rollout-2025-10-02T09-14-03-{sid}.jsonl"
        dest.parent.mkdir(parents=True, exist_ok=True)
        text = (ROOT / "tests" / "fixtures" / "transcripts" / "codex_rollout.jsonl").read_text()
        dest.write_text(text.replace("0199a1c2-7b7e-7d31-9a55-2f0c6f1e4b10", sid))
        return dest

    def payload(self, name: str, sid: str) -> str:
        text = (HOOK_FIXTURES / f"{name}.json").read_text()
        for k, v in {"{HOME}": str(self.home), "{CWD}": str(self.cwd), "{MANGLED_CWD}": self.mangled,
                     "{SESSION_ID}": sid}.items():
            text = text.replace(k, v)
        json.loads(text)
        return text

    def mso(self, *args: str, stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([mso_exe(), *args], input=stdin, capture_output=True, text=True, cwd=self.cwd,
                              env={**self.env, **(env or {})}, timeout=60)

    def hook(self, agent: str, event: str, fixture: str, sid: str) -> subprocess.CompletedProcess:
        r = self.mso("hook", agent, event, stdin=self.payload(fixture, sid))
        assert r.returncode == 0 and r.stderr == "", r
        return r

    @property
    def state(self) -> Path:
        return self.home / ".local" / "state" / "mso"

    def spool(self) -> list[Path]:
        return sorted((self.state / "spool").glob("*.json"))

    def log_events(self) -> list[dict[str, Any]]:
        p = self.state / "mso.log"
        return [json.loads(line) for line in p.read_text().splitlines()] if p.exists() else []

    def wait_log(self, event: str, external_id: str, timeout: float = 60) -> dict[str, Any]:
        """Wait for the detached uploader to log `event` for a session (it runs after the hook returned)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for e in self.log_events():
                if e.get("event") == event and e.get("external_id") == external_id:
                    return e
            time.sleep(0.2)
        raise AssertionError(f"no {event} for {external_id} in the log:\n" + json.dumps(self.log_events()[-10:]))


def wait_for(fn: Any, timeout: float = 60, every: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = fn()
        if got:
            return got
        time.sleep(every)
    raise AssertionError("condition not met in time")


def tenant_sessions(tenant: str) -> list[dict[str, Any]]:
    """Every session of a tenant, project by project, read from the domain: what the hooks really created."""
    from chalicelib.domain import projects, sessions

    out: list[dict[str, Any]] = []
    for p in projects.list_page(tenant, limit=100, cursor=None)["items"]:
        out += sessions.list_page(tenant, p["id"], limit=100, cursor=None)["items"]
    return out


def find_session(tenant: str, external_id: str) -> dict[str, Any] | None:
    """The session an agent knows by its own id (Claude's or Codex's), or None while none exists."""
    return next((s for s in tenant_sessions(tenant) if s["external_id"] == external_id), None)


def handoff_status(tenant: str, project_id: str, number: int) -> str | None:
    """A handoff's status, or None before the job has created it (tests wait on it becoming ready)."""
    from chalicelib.domain import handoffs
    from chalicelib.errors import NotFound

    try:
        return handoffs.get(tenant, project_id, number)["status"]
    except NotFound:
        return None


def session_start_context(r: subprocess.CompletedProcess) -> str:
    """The additionalContext a SessionStart hook printed for the agent to read."""
    assert r.stdout.strip(), "the hook printed nothing"
    out = json.loads(r.stdout)
    assert out["hookSpecificOutput"]["hookEventName"] == "SessionStart"
    return out["hookSpecificOutput"]["additionalContext"]
