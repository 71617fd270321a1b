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

# agent -> [(agent's event name, our event, timeout in seconds)], written explicitly into the settings
# (`timeout` per hook entry, in seconds, in both agents' files). session-start waits at most
# `hook_timeout_s` (3 s) for the server; pre-compact at most 8 s; the others only write a spool job.
# Claude Code gives all SessionEnd hooks 1.5 s together whatever a hook's timeout says, so our
# SessionEnd only spools. Codex runs a hook for 1 s unless told otherwise and caps SessionEnd at 3 s:
# ours takes milliseconds, so it keeps that 1 s.
HOOKS: dict[str, list[tuple[str, str, int]]] = {
    "claude": [("SessionStart", "session-start", 10), ("PreCompact", "pre-compact", 10),
               ("PostCompact", "post-compact", 5), ("Stop", "stop", 5), ("SessionEnd", "session-end", 2)],
    "codex": [("SessionStart", "session-start", 10), ("PreCompact", "pre-compact", 10), ("Stop", "stop", 3),
              ("SessionEnd", "session-end", 1)],
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


def _entry(agent: str, ours: str, timeout: int, command: str) -> dict[str, Any]:
    quoted = f'"{command}"' if " " in command else command
    return {"type": "command", "command": f"{quoted} hook {agent} {ours}", "timeout": timeout}


def merged(settings: dict[str, Any], agent: str, command: str) -> dict[str, Any]:
    out = _strip(settings, agent)
    hooks = dict(out.get("hooks") or {})
    for event, ours, timeout in HOOKS[agent]:
        hooks[event] = [*(hooks.get(event) or []), {"hooks": [_entry(agent, ours, timeout, command)]}]
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


def status(agent: str, scope: str = "user", cwd: Path | None = None,
           command: str | None = None) -> dict[str, str]:
    """Each of our events in this settings file: `ok`, `missing`, or `outdated` (another command,
    path or timeout than this version installs, or an event this version no longer uses);
    `unreadable: ...` for a file that is not JSON. {} when none of our hooks is there."""
    try:
        current = _read(settings_path(agent, scope, cwd or Path.cwd()))
    except (OSError, ValueError) as e:
        return {"*": f"unreadable: {e}"}
    ours: dict[str, list[Any]] = {}
    for event, groups in (current.get("hooks") or {}).items():
        for g in groups if isinstance(groups, list) else []:
            if isinstance(g, dict) and isinstance(g.get("hooks"), list):
                ours.setdefault(event, []).extend(h for h in g["hooks"] if _ours(h, agent))
    ours = {k: v for k, v in ours.items() if v}
    if not ours:
        return {}
    cmd = command or mso_command()
    out = {}
    for event, name, timeout in HOOKS[agent]:
        found = ours.pop(event, None)
        out[event] = "missing" if not found else \
            "ok" if found == [_entry(agent, name, timeout, cmd)] else "outdated"
    out.update({event: "outdated" for event in ours})
    return out


def codex_hooks_enabled() -> tuple[bool, str]:
    """Whether Codex runs hooks at all: `[features] codex_hooks = true` in its config.toml."""
    import tomllib

    path = codex_home() / "config.toml"
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        return False, f"{path} does not exist"
    except (OSError, tomllib.TOMLDecodeError) as e:
        return False, f"{path} cannot be read: {e}"
    features = data.get("features")
    if isinstance(features, dict) and features.get("codex_hooks") is True:
        return True, f"{path}: [features] codex_hooks = true"
    return False, f"{path} lacks `[features] codex_hooks = true`: Codex runs no hooks"
