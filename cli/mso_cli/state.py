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
        p.parent.mkdir(parents=True, exist_ok=True)
        if p.exists() and p.stat().st_size > LOG_MAX_BYTES:
            os.replace(p, p.with_suffix(".log.1"))
        line = json.dumps({"ts": time.strftime("%Y-%m-%dT%H:%M:%S"), "pid": os.getpid(), "event": event, **fields},
                          default=str)
        with p.open("a") as f:
            f.write(line + "\n")
    except Exception:  # noqa: BLE001 - nowhere else to report
        pass


def log_exception(event: str, **fields: Any) -> None:
    log(event, error=traceback.format_exc(limit=6), **fields)


def write_json(path: Path, data: Any) -> None:
    """Atomic write: a reader sees the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


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
