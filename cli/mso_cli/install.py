"""`mso install|uninstall claude|codex`: merge our hooks into the agent's settings, idempotently.

Our entries are recognised by their command (`... mso hook <agent> <event>`), so a second
install replaces them instead of adding copies, and uninstall removes only them. Everything else
in the file is kept as it was. A changed file is backed up first (`<file>.bak-<time>`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from mso_cli.agents import claude_home, codex_home

# agent -> [(agent's event name, our event, timeout in seconds)]
HOOKS: dict[str, list[tuple[str, str, int]]] = {
    "claude": [("SessionStart", "session-start", 10), ("PreCompact", "pre-compact", 10),
               ("SessionEnd", "session-end", 2)],
    "codex": [("SessionStart", "session-start", 10), ("PreCompact", "pre-compact", 10), ("Stop", "stop", 3),
              ("SessionEnd", "session-end", 3)],
}


def settings_path(agent: str, scope: str, cwd: Path) -> Path:
    if agent == "claude":
        return (claude_home() if scope == "user" else cwd / ".claude") / "settings.json"
    return (codex_home() if scope == "user" else cwd / ".codex") / "hooks.json"


def mso_command() -> str:
    """How the agent should call us: the installed script's absolute path when we know it."""
    exe = shutil.which("mso")
    if exe:
        return exe
    argv0 = Path(sys.argv[0])
    if argv0.name == "mso" and argv0.exists():
        return str(argv0.resolve())
    return "mso"


def _ours(hook: Any, agent: str) -> bool:
    cmd = hook.get("command") if isinstance(hook, dict) else None
    return isinstance(cmd, str) and re.search(rf"\bmso(\.exe)?\"?\s+hook\s+{agent}\b", cmd) is not None


def _strip(settings: dict[str, Any], agent: str) -> dict[str, Any]:
    """The settings without our hooks (empty groups and events dropped)."""
    out = dict(settings)
    hooks = out.get("hooks")
    if not isinstance(hooks, dict):
        return out
    new_hooks: dict[str, Any] = {}
    for event, groups in hooks.items():
        if not isinstance(groups, list):
            new_hooks[event] = groups
            continue
        kept = []
        for g in groups:
            if isinstance(g, dict) and isinstance(g.get("hooks"), list):
                inner = [h for h in g["hooks"] if not _ours(h, agent)]
                if inner:
                    kept.append({**g, "hooks": inner})
                elif not g["hooks"]:
                    kept.append(g)
            else:
                kept.append(g)
        if kept:
            new_hooks[event] = kept
    if new_hooks:
        out["hooks"] = new_hooks
    else:
        out.pop("hooks", None)
    return out


def merged(settings: dict[str, Any], agent: str, command: str) -> dict[str, Any]:
    out = _strip(settings, agent)
    hooks = dict(out.get("hooks") or {})
    quoted = f'"{command}"' if " " in command else command
    for event, ours, timeout in HOOKS[agent]:
        group = {"hooks": [{"type": "command", "command": f"{quoted} hook {agent} {ours}", "timeout": timeout}]}
        hooks[event] = [*(hooks.get(event) or []), group]
    out["hooks"] = hooks
    return out


def _read(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    text = path.read_text()
    if not text.strip():
        return {}
    data = json.loads(text)  # a file we cannot parse is not ours to rewrite: the caller reports it
    if not isinstance(data, dict):
        raise ValueError(f"{path} does not hold a JSON object")
    return data


def apply(agent: str, *, scope: str = "user", cwd: Path | None = None, remove: bool = False,
          dry_run: bool = False, command: str | None = None) -> dict[str, Any]:
    """Install (or remove) our hooks; returns {path, changed, backup, settings}."""
    path = settings_path(agent, scope, cwd or Path.cwd())
    current = _read(path)
    new = _strip(current, agent) if remove else merged(current, agent, command or mso_command())
    changed = new != current
    backup = None
    if changed and not dry_run:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            backup = path.with_name(f"{path.name}.bak-{time.strftime('%Y%m%d-%H%M%S')}")
            shutil.copy2(path, backup)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(new, indent=2) + "\n")
        os.replace(tmp, path)
    return {"path": str(path), "changed": changed, "backup": None if backup is None else str(backup),
            "settings": new}


def installed(agent: str, scope: str = "user", cwd: Path | None = None) -> list[str]:
    """Which of our events are in the agent's settings."""
    try:
        current = _read(settings_path(agent, scope, cwd or Path.cwd()))
    except (OSError, ValueError):
        return []
    found = []
    for event, groups in (current.get("hooks") or {}).items():
        for g in groups if isinstance(groups, list) else []:
            if isinstance(g, dict) and any(_ours(h, agent) for h in g.get("hooks") or []):
                found.append(event)
    return found
