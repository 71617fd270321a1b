"""Settings, state folders and which project a directory belongs to.

Settings live in `$XDG_CONFIG_HOME/mso/config.toml` (default `~/.config`); the environment
overrides them (`MSO_API_URL`, `MSO_TOKEN`, `MSO_PROJECT`). What the CLI keeps between runs
(log, spool of pending uploads, cached handoffs, project ids) lives in `$XDG_STATE_HOME/mso/`
(default `~/.local/state`).
"""

from __future__ import annotations

import contextlib
import fnmatch
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
    exclude: tuple[str, ...] = ()  # directories and project names never captured (glob patterns)
    stop_every_s: float = 180.0  # Stop uploads a snapshot at most this often (or on stop_every_bytes of growth)
    stop_every_bytes: int = 1024 * 1024
    orphan_after_s: float = 600.0  # a session of ours whose transcript has not grown this long is swept

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
    for key, low, high in (("stop_every_s", 10, 86400), ("stop_every_bytes", 1024, 1 << 30),
                           ("orphan_after_s", 60, 30 * 86400)):
        v = data.get(key)
        if isinstance(v, int | float) and not isinstance(v, bool) and low <= v <= high:
            setattr(cfg, key, type(getattr(cfg, key))(v))
    if isinstance(data.get("exclude"), list):
        cfg.exclude = tuple(p.strip() for p in data["exclude"] if isinstance(p, str) and p.strip())
    for attr, var in (("api_url", "MSO_API_URL"), ("token", "MSO_TOKEN"), ("project", "MSO_PROJECT")):
        if os.environ.get(var):
            setattr(cfg, attr, os.environ[var])
    return cfg


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, list | tuple):  # e.g. `exclude`: a JSON array of strings is a valid TOML array
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return json.dumps(str(v))  # a JSON string is a valid TOML basic string


def save(changes: dict[str, Any]) -> Path:
    """Merge `changes` into config.toml (flat keys), readable by the user only (it holds a token)."""
    data = {k: v for k, v in read_file().items() if not isinstance(v, dict)}
    data.update({k: v for k, v in changes.items() if v is not None})
    p = config_path()
    text = "# mso CLI settings (mso login writes this file)\n" + "".join(
        f"{k} = {_toml_value(v)}\n" for k, v in sorted(data.items()))
    from mso_cli.state import write_bytes  # state imports this module

    write_bytes(p, text.encode())
    return p


# --- which project --------------------------------------------------------------------------------

def _nearest(start: Path, name: str) -> Path | None:
    for d in (start, *start.parents):
        if (d / name).exists():
            return d / name
    return None


def _common_dir(git: Path) -> Path | None:
    """The repository's shared git folder, what `git rev-parse --git-common-dir` prints: `.git`
    itself, or for a linked worktree or submodule (`.git` is a file there) the folder it points to,
    followed through `commondir` to the main repository's."""
    if git.is_dir():
        return git
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
        try:
            c = Path(common.read_text().strip())
        except OSError:
            return gitdir
        gitdir = c if c.is_absolute() else (gitdir / c).resolve()
    return gitdir


def _git_config(git: Path) -> Path | None:
    """The config file of a repository, also for worktrees and submodules (`.git` is a file there)."""
    common = _common_dir(git)
    return None if common is None else common / "config"


def worktree_main_name(cwd: Path) -> str | None:
    """In a linked git worktree (`git worktree add ../repo-feature`), the name of the main
    repository's folder, so every worktree of one repository names the same project; else None."""
    git = _nearest(cwd, ".git")
    if git is None or not git.is_file():
        return None
    common = _common_dir(git)
    if common is None or common == git:
        return None
    if common.name == ".git":
        return common.parent.name or None
    return common.name[:-4] if common.name.endswith(".git") else common.name  # a bare repository


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
    the nearest .mso.toml, the git origin, the directory name (of the main repository for a
    linked worktree)."""
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
    main = worktree_main_name(here)
    if main:
        return main, "directory name of the git worktree's main repository"
    return (here.resolve().name or "default"), "directory name"


def exclusion(cwd: str | Path | None, project: str | None, cfg: Config) -> str | None:
    """Why this directory or project is never captured (`exclude` in config.toml), or None.

    A pattern with a `/` or a leading `~` is a directory: it matches that directory and everything
    under it (`~/secret-project`, `~/clients/*`). Any other pattern is matched, ignoring case, against
    the project name and the directory's own name (`Billing*`)."""
    if not cfg.exclude:
        return None
    dirs: list[str] = []
    if cwd:
        here = Path(cwd).expanduser()
        dirs = [str(here)]
        with contextlib.suppress(OSError):
            dirs.append(str(here.resolve()))
    for pat in cfg.exclude:
        if "/" in pat or pat.startswith("~"):
            full = (str(home()) + pat[1:] if pat == "~" or pat.startswith("~/") else pat).rstrip("/") or "/"
            for d in dirs:
                if fnmatch.fnmatchcase(d, full) or fnmatch.fnmatchcase(d, full.rstrip("/") + "/*"):
                    return f"exclude pattern {pat!r} matches the directory {d}"
            continue
        for what, name in (("project name", project), ("directory name", dirs[0].rstrip("/").rsplit("/", 1)[-1]
                                                       if dirs else None)):
            if name and fnmatch.fnmatchcase(name.casefold(), pat.casefold()):
                return f"exclude pattern {pat!r} matches the {what} {name!r}"
    return None
