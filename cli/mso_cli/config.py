"""Settings, state folders and which project a directory belongs to.

Settings live in `$XDG_CONFIG_HOME/mso/config.toml` (default `~/.config`); the environment
overrides them (`MSO_API_URL`, `MSO_TOKEN`, `MSO_PROJECT`). What the CLI keeps between runs
(log, spool of pending uploads, cached handoffs, project ids) lives in `$XDG_STATE_HOME/mso/`
(default `~/.local/state`).
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HANDOFF_MODES = ("auto", "llm", "rules")


def home() -> Path:
    return Path(os.environ.get("HOME") or Path.home())


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(home() / ".config")
    return Path(base) / "mso"


def config_path() -> Path:
    return config_dir() / "config.toml"


def state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(home() / ".local" / "state")
    return Path(base) / "mso"


@dataclass
class Config:
    api_url: str | None = None
    token: str | None = None
    project: str | None = None  # a default project (id or name); MSO_PROJECT overrides it
    handoff_mode: str = "auto"
    hook_timeout_s: float = 3.0  # how long session-start waits for the server

    @property
    def base_url(self) -> str | None:
        """The server root: `http://host:8000`, whether the user gave it with `/api` or not."""
        if not self.api_url:
            return None
        url = self.api_url.strip().rstrip("/")
        return url[:-4] if url.endswith("/api") else url


def read_file() -> dict[str, Any]:
    p = config_path()
    if not p.is_file():
        return {}
    with p.open("rb") as f:
        return tomllib.load(f)


def load() -> Config:
    """The file's settings with the environment on top."""
    data = read_file()
    cfg = Config(api_url=data.get("api_url"), token=data.get("token"), project=data.get("project"))
    if data.get("handoff_mode") in HANDOFF_MODES:
        cfg.handoff_mode = data["handoff_mode"]
    if isinstance(data.get("hook_timeout_s"), int | float) and 0 < data["hook_timeout_s"] <= 10:
        cfg.hook_timeout_s = float(data["hook_timeout_s"])
    for attr, var in (("api_url", "MSO_API_URL"), ("token", "MSO_TOKEN"), ("project", "MSO_PROJECT")):
        if os.environ.get(var):
            setattr(cfg, attr, os.environ[var])
    return cfg


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    return json.dumps(str(v))  # a JSON string is a valid TOML basic string


def save(changes: dict[str, Any]) -> Path:
    """Merge `changes` into config.toml (flat keys), readable by the user only (it holds a token)."""
    data = {k: v for k, v in read_file().items() if not isinstance(v, dict)}
    data.update({k: v for k, v in changes.items() if v is not None})
    p = config_path()
    p.parent.mkdir(parents=True, exist_ok=True)
    text = "# mso CLI settings (mso login writes this file)\n" + "".join(
        f"{k} = {_toml_value(v)}\n" for k, v in sorted(data.items()))
    tmp = p.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, p)
    return p


# --- which project --------------------------------------------------------------------------------

def _nearest(start: Path, name: str) -> Path | None:
    for d in (start, *start.parents):
        if (d / name).exists():
            return d / name
    return None


def _git_config(git: Path) -> Path | None:
    """The config file of a repository, also for worktrees and submodules (`.git` is a file there)."""
    if git.is_dir():
        return git / "config"
    try:
        line = git.read_text().strip()
    except OSError:
        return None
    if not line.startswith("gitdir:"):
        return None
    gitdir = Path(line[7:].strip())
    if not gitdir.is_absolute():
        gitdir = (git.parent / gitdir).resolve()
    common = gitdir / "commondir"
    if common.is_file():
        c = Path(common.read_text().strip())
        gitdir = c if c.is_absolute() else (gitdir / c).resolve()
    return gitdir / "config"


def git_origin(cwd: Path) -> str | None:
    """The `origin` remote URL of the repository holding `cwd`, read from the file (no git process)."""
    git = _nearest(cwd, ".git")
    cfg = _git_config(git) if git else None
    if cfg is None or not cfg.is_file():
        return None
    section = None
    for raw in cfg.read_text(errors="replace").splitlines():
        line = raw.strip()
        if line.startswith("["):
            section = line
            continue
        if section and re.fullmatch(r'\[remote\s+"origin"\]', section) and "=" in line:
            key, _, value = line.partition("=")
            if key.strip() == "url":
                return value.strip()
    return None


def name_from_origin(url: str) -> str | None:
    """`git@github.com:owner/repo.git` and `https://host/owner/repo` -> `owner/repo`."""
    path = re.sub(r"^[a-z+]+://[^/]+/", "", url.strip())
    path = re.sub(r"^[^@/]+@[^:]+:", "", path)
    path = path.rstrip("/")
    path = path[:-4] if path.endswith(".git") else path
    parts = [p for p in path.split("/") if p]
    return "/".join(parts[-2:]) if parts else None


def project_spec(explicit: str | None, cwd: str | Path | None, cfg: Config | None = None) -> tuple[str, str]:
    """(project id or name, where it came from): --project, MSO_PROJECT (or config `project`),
    the nearest .mso.toml, the git origin, the directory name."""
    if explicit:
        return explicit, "--project"
    cfg = cfg or load()
    if cfg.project:
        return cfg.project, "MSO_PROJECT" if os.environ.get("MSO_PROJECT") else "config.toml"
    here = Path(cwd or os.getcwd()).expanduser()
    marker = _nearest(here, ".mso.toml")
    if marker is not None and marker.is_file():
        try:
            with marker.open("rb") as f:
                value = tomllib.load(f).get("project")
        except (OSError, tomllib.TOMLDecodeError):
            value = None
        if isinstance(value, str) and value.strip():
            return value.strip(), str(marker)
    origin = git_origin(here)
    if origin:
        name = name_from_origin(origin)
        if name:
            return name, "git origin"
    return (here.resolve().name or "default"), "directory name"
