"""What the CLI keeps between runs under the state folder: log, project ids, cached handoffs."""

from __future__ import annotations

import hashlib
import json
import os
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mso_cli.config import state_dir

if TYPE_CHECKING:  # the HTTP client is imported only by what talks to the server
    from mso_cli.client import Api

LOG_MAX_BYTES = 1_000_000


def log_path() -> Path:
    return state_dir() / "mso.log"


def log(event: str, **fields: Any) -> None:
    """One JSON line in the log; never raises (hooks must not fail because of their log)."""
    try:
        p = log_path()
        private_dir(p.parent)
        if p.exists() and p.stat().st_size > LOG_MAX_BYTES:
            os.replace(p, p.with_suffix(".log.1"))
        line = json.dumps({"ts": time.strftime("%Y-%m-%dT%H:%M:%S"), "pid": os.getpid(), "event": event, **fields},
                          default=str)
        with os.fdopen(private_fd(p, os.O_WRONLY | os.O_APPEND | os.O_CREAT), "a") as f:
            f.write(line + "\n")
    except Exception:  # noqa: BLE001 - nowhere else to report
        pass


def log_exception(event: str, **fields: Any) -> None:
    log(event, error=traceback.format_exc(limit=6), **fields)


# The log, spool, cache and project map hold transcript paths, session ids and handoffs: readable by
# the user only. Folders are 0700 and files 0600, and a file or folder made with looser modes by an
# older version is tightened the next time it is written.
PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def private_dir(path: Path) -> None:
    """`mkdir -p path` with every folder from the state (or config) folder down made 0700."""
    from mso_cli.config import config_dir

    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    roots = [r for r in (state_dir(), config_dir()) if path == r or r in path.parents]
    if not roots:
        return
    d = path
    while True:
        if (d.stat().st_mode & 0o777) != PRIVATE_DIR:
            os.chmod(d, PRIVATE_DIR)
        if d == roots[0]:
            break
        d = d.parent


def private_fd(path: Path, flags: int) -> int:
    """os.open with mode 0600, tightening a file an older version left readable by others."""
    fd = os.open(path, flags, PRIVATE_FILE)
    try:
        if (os.fstat(fd).st_mode & 0o777) != PRIVATE_FILE:
            os.fchmod(fd, PRIVATE_FILE)
    except OSError:
        os.close(fd)
        raise
    return fd


def write_bytes(path: Path, data: bytes) -> None:
    """Atomic write, mode 0600: a reader sees the old file or the new one, never half of one."""
    private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with os.fdopen(private_fd(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def write_json(path: Path, data: Any) -> None:
    """Atomic JSON write, mode 0600."""
    write_bytes(path, json.dumps(data).encode())


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


# --- project name -> id ---------------------------------------------------------------------------

def _projects_file() -> Path:
    return state_dir() / "projects.json"


def _key(api: Api, spec: str) -> str:
    return f"{api.base}|{spec}"


def forget_project(api: Api, spec: str) -> None:
    cache = read_json(_projects_file()) or {}
    if cache.pop(_key(api, spec), None) is not None:
        write_json(_projects_file(), cache)


def project_id(api: Api, spec: str, *, create: bool = True) -> dict[str, Any]:
    """The project a spec (id or name) names, created when the name is new: {"id", "name"}.

    Remembered per server, so a hook usually spends no request on it.
    """
    cache = read_json(_projects_file()) or {}
    hit = cache.get(_key(api, spec))
    if isinstance(hit, dict) and hit.get("id"):
        return hit
    projects = api.all_projects()
    match = next((p for p in projects if p["id"] == spec), None) \
        or next((p for p in projects if p["name"] == spec), None) \
        or next((p for p in projects if p["name"].casefold() == spec.casefold()), None)
    if match is None:
        if not create:
            from mso_cli.client import ApiError

            raise ApiError(404, "project_not_found", f"no project named {spec!r}")
        match = api.post("/api/projects", {"name": spec})
    found = {"id": match["id"], "name": match["name"]}
    cache[_key(api, spec)] = found
    write_json(_projects_file(), cache)
    return found


# --- cached handoffs (answer session-start when the server is down) -------------------------------

def _handoff_file(base_url: str | None, spec: str) -> Path:
    digest = hashlib.sha256(f"{base_url}|{spec}".encode()).hexdigest()[:24]
    return state_dir() / "handoffs" / f"{digest}.json"


def cache_handoff(base_url: str | None, spec: str, data: dict[str, Any]) -> None:
    write_json(_handoff_file(base_url, spec), {**data, "cached_at": time.time()})


def cached_handoff(base_url: str | None, spec: str) -> dict[str, Any] | None:
    data = read_json(_handoff_file(base_url, spec))
    return data if isinstance(data, dict) else None


def sessions_by_external_id(api: Api) -> dict[str, dict[str, Any]]:
    """Every session the server holds that has an agent's session id: external_id -> {"project_id",
    "number"}. `mso sync` looks a transcript up here first, so a session recorded from another
    directory (a worktree, a renamed folder) is updated where it is, not duplicated in a new project."""
    out: dict[str, dict[str, Any]] = {}
    for proj in api.all_projects():
        cursor = None
        while True:
            page = api.get(f"/api/projects/{proj['id']}/sessions", query={"limit": 100, "cursor": cursor})
            for s in page["items"]:
                if s.get("external_id"):
                    out.setdefault(s["external_id"], {"project_id": proj["id"], "number": s["number"]})
            cursor = page.get("next_cursor")
            if not cursor:
                break
    return out
