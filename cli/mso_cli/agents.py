"""Where agents keep their transcripts, and what a transcript says about itself (id, cwd)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from mso_cli.config import home

AGENTS = ("claude", "codex", "aider")
UPLOAD_FORMAT = {"claude": "claude-code", "codex": "codex", "aider": "aider"}
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def claude_home() -> Path:
    return Path(os.environ.get("CLAUDE_CONFIG_DIR") or home() / ".claude")


def codex_home() -> Path:
    return Path(os.environ.get("CODEX_HOME") or home() / ".codex")


def mangle(cwd: str) -> str:
    """Claude Code's folder name for a working directory: every non-alphanumeric character as `-`."""
    return re.sub(r"[^A-Za-z0-9]", "-", cwd)


def claude_transcript(cwd: str, session_id: str) -> Path:
    return claude_home() / "projects" / mangle(cwd) / f"{session_id}.jsonl"


def codex_rollout(session_id: str) -> Path | None:
    """Codex names rollouts `rollout-<time>-<session id>.jsonl` under sessions/YYYY/MM/DD/."""
    root = codex_home() / "sessions"
    if not root.is_dir() or not session_id:
        return None
    hits = sorted(root.glob(f"*/*/*/rollout-*{session_id}*.jsonl"), key=lambda p: p.stat().st_mtime)
    return hits[-1] if hits else None


@dataclass
class Transcript:
    path: Path
    agent: str | None
    session_id: str | None
    cwd: str | None

    @property
    def external_id(self) -> str:
        """The agent's session id, or a stable id derived from the file's location."""
        if self.session_id:
            return self.session_id
        return "file-" + hashlib.sha256(str(self.path.resolve()).encode()).hexdigest()[:32]

    @property
    def upload_format(self) -> str:
        return UPLOAD_FORMAT.get(self.agent or "", "auto")


def guess_agent(path: Path) -> str | None:
    s = str(path.resolve())
    if s.startswith(str(claude_home().resolve())) or path.suffix == ".jsonl" and _UUID.fullmatch(path.stem):
        return "claude"
    if path.name.startswith("rollout-") or s.startswith(str(codex_home().resolve())):
        return "codex"
    if path.name.endswith(".aider.chat.history.md"):
        return "aider"
    return None


def describe(path: Path, agent: str | None = None) -> Transcript:
    """Read the first lines (at most 200) for the session id and working directory."""
    agent = agent or guess_agent(path)
    sid = cwd = None
    if agent == "claude" and _UUID.fullmatch(path.stem):
        sid = path.stem
    if path.suffix == ".jsonl":
        try:
            with path.open("rb") as f:
                for _, line in zip(range(200), f, strict=False):
                    try:
                        rec = json.loads(line)
                    except ValueError:
                        continue
                    if not isinstance(rec, dict):
                        continue
                    if rec.get("type") == "session_meta" and isinstance(rec.get("payload"), dict):
                        agent = agent or "codex"
                        sid = sid or rec["payload"].get("id")
                        cwd = cwd or rec["payload"].get("cwd")
                    if "sessionId" in rec:
                        agent = agent or "claude"
                        sid = sid or rec.get("sessionId")
                    if isinstance(rec.get("cwd"), str):
                        cwd = cwd or rec["cwd"]
                    if sid and cwd:
                        break
        except OSError:
            pass
    if sid is not None and not re.fullmatch(r"[\x21-\x7e]{1,200}", str(sid)):
        sid = None
    return Transcript(path, agent, None if sid is None else str(sid), cwd)


def find(agents: tuple[str, ...], since_s: float, cwd: Path) -> list[Path]:
    """Transcripts changed in the last `since_s` seconds, oldest first."""
    cutoff = time.time() - since_s
    found: list[Path] = []
    if "claude" in agents:
        # sub-agent transcripts (agent-*.jsonl, subagents/) belong to their parent session
        found += [p for p in (claude_home() / "projects").glob("*/*.jsonl") if not p.name.startswith("agent-")]
    if "codex" in agents:
        found += list((codex_home() / "sessions").glob("*/*/*/rollout-*.jsonl"))
    if "aider" in agents:
        for d in (cwd, *cwd.parents):
            p = d / ".aider.chat.history.md"
            if p.is_file():
                found.append(p)
                break
    out = []
    for p in found:
        try:
            if p.stat().st_mtime >= cutoff:
                out.append(p)
        except OSError:
            continue
    return sorted(out, key=lambda p: p.stat().st_mtime)


def latest(agent: str | None, cwd: Path) -> Path | None:
    """The newest transcript for this directory (Claude Code's folder for it, else any agent's)."""
    candidates: list[Path] = []
    if agent in (None, "claude"):
        candidates += [p for p in (claude_home() / "projects" / mangle(str(cwd))).glob("*.jsonl")]
    if agent in (None, "codex") and not candidates:
        candidates += [p for p in find(("codex",), 365 * 86400, cwd) if describe(p, "codex").cwd == str(cwd)]
    if agent in (None, "aider") and not candidates:
        candidates += find(("aider",), 365 * 86400, cwd)
    return max(candidates, key=lambda p: p.stat().st_mtime) if candidates else None
