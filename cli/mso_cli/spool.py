"""The spool: upload jobs written by hooks in milliseconds, delivered later by `flush`.

A job is a small JSON file (which agent session, which transcript, whether to complete it).
`flush` holds a lock, delivers the jobs of each session (the newest transcript; completion if
any job asked for it) and deletes their files only after the server accepted everything. A job
the server could not take (down, 5xx) stays for the next hook or `mso flush`; one it refused
(4xx, file too large) moves to `spool/failed/` with the reason.

Delivery is repeatable, so a crash between "delivered" and "deleted" cannot duplicate anything:
the session is created or linked by the agent's session id (`external_id`), a transcript upload
replaces the previous one, and completing a completed session is recognised (409) as done.
"""

from __future__ import annotations

import fcntl
import gzip
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mso_cli.agents import claude_transcript, codex_rollout
from mso_cli.config import Config, state_dir

if TYPE_CHECKING:  # the HTTP client loads only in the uploader, not in the hook that spools
    from mso_cli.client import Api
from mso_cli.state import forget_project, log, project_id, read_json, write_json

# The API takes bodies up to 4 MiB; transcripts are sent gzip-compressed, so that is the limit
# after compression. Larger files are refused here rather than sent and rejected.
MAX_UPLOAD_BYTES = 4 * 1024 * 1024
MAX_FILE_BYTES = 64 * 1024 * 1024  # the server's uncompressed cap (MSO_MAX_TRANSCRIPT_BYTES): not read past it


class Refused(Exception):
    """The job cannot succeed as it is (kept in spool/failed/ with this reason)."""


def spool_dir() -> Path:
    return state_dir() / "spool"


def pending() -> list[Path]:
    d = spool_dir()
    return sorted(d.glob("*.json")) if d.is_dir() else []


def _safe(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", s)[:80]


def write_job(job: dict[str, Any]) -> Path:
    """Add a job (atomically: flush never sees half a file)."""
    job = {**job, "created_at": time.time()}
    name = f"{time.time_ns()}-{_safe(job.get('agent') or 'x')}-{_safe(job.get('external_id') or 'x')}.json"
    path = spool_dir() / name
    write_json(path, job)
    return path


def spawn_flush() -> None:
    """Start `mso flush` detached from the agent (own session, no stdio), and return at once."""
    try:
        subprocess.Popen([sys.executable, "-m", "mso_cli", "flush", "--quiet"], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                         close_fds=True, cwd=str(state_dir()) if state_dir().is_dir() else None)
    except OSError as e:
        log("spawn_failed", error=str(e))


def _transcript_path(job: dict[str, Any]) -> Path | None:
    p = job.get("transcript_path")
    if p:
        return Path(p).expanduser()
    if job.get("agent") == "claude" and job.get("cwd") and job.get("external_id"):
        return claude_transcript(job["cwd"], job["external_id"])
    if job.get("agent") == "codex":
        return codex_rollout(job.get("external_id") or "")
    return None


def read_transcript(path: Path) -> bytes:
    """The file gzip-compressed, or Refused when it is over the size limit."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise Refused(f"{path} is {size:,} bytes; the CLI uploads at most {MAX_FILE_BYTES:,}")
    raw = path.read_bytes()
    data = raw if raw[:2] == b"\x1f\x8b" else gzip.compress(raw, compresslevel=6)
    if len(data) > MAX_UPLOAD_BYTES:
        raise Refused(f"{path} is {len(data):,} bytes compressed; the limit is {MAX_UPLOAD_BYTES:,}")
    return data


def deliver(api: Api, job: dict[str, Any]) -> dict[str, Any]:
    """Create or link the session, upload the transcript, complete it when asked. Repeatable."""
    from mso_cli.client import ApiError

    spec = job["project"]
    proj = project_id(api, spec)
    body: dict[str, Any] = {"external_id": job["external_id"]}
    if job.get("agent"):
        body["agent"] = job["agent"]
    try:
        s = api.post(f"/api/projects/{proj['id']}/sessions", body)
    except ApiError as e:
        if e.status != 404:
            raise
        forget_project(api, spec)  # the remembered project was deleted: find or make it again
        proj = project_id(api, spec)
        s = api.post(f"/api/projects/{proj['id']}/sessions", body)
    n = s["number"]
    base = f"/api/projects/{proj['id']}/sessions/{n}"
    out: dict[str, Any] = {"project": proj["id"], "number": n, "uploaded": None, "completed": False}
    path = _transcript_path(job)
    changed = False
    if path is not None and path.is_file():
        data = read_transcript(path)
        up = api.request("PUT", base + "/transcript", raw=data, content_type="application/gzip",
                         query={"format": job.get("format") or "auto"})
        before = s.get("transcript") or {}
        changed = (before.get("messages"), before.get("chars")) != (up.get("messages"), up.get("chars"))
        out["uploaded"] = {"messages": up.get("messages"), "redactions": up.get("redactions")}
    elif path is not None:
        log("transcript_missing", path=str(path), external_id=job["external_id"])
    if job.get("complete"):
        mode = job.get("handoff_mode") or "auto"
        try:
            api.post(base + "/complete", {"status": "completed", "handoff_mode": mode})
            out["completed"] = True
        except ApiError as e:
            if e.status != 409:
                raise
            # completed before (a resumed session, or this job delivered twice): only a new
            # transcript is worth a new handoff
            if changed:
                api.post(base + "/handoff", {"mode": mode})
            out["completed"] = "already"
    return out


def _lock() -> Any:
    spool_dir().mkdir(parents=True, exist_ok=True)
    f = open(spool_dir() / ".lock", "w")  # noqa: SIM115 - held for the whole flush
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        f.close()
        return None
    return f


def _fail(paths: list[Path], job: dict[str, Any], reason: str) -> None:
    failed = spool_dir() / "failed"
    failed.mkdir(parents=True, exist_ok=True)
    write_json(failed / paths[-1].name, {**job, "error": reason, "failed_at": time.time()})
    for p in paths:
        p.unlink(missing_ok=True)
    log("job_failed", external_id=job.get("external_id"), reason=reason)


def flush(cfg: Config, *, wait: bool = False) -> dict[str, Any]:
    """Deliver every pending job once. Returns counts; `busy` when another flush holds the lock."""
    from mso_cli.client import Api, ApiError, Unreachable

    lock = _lock()
    while lock is None and wait:
        time.sleep(0.1)
        lock = _lock()
    if lock is None:
        return {"busy": True, "delivered": 0, "kept": len(pending()), "failed": 0}
    done = failed = 0
    kept: set[Path] = set()
    try:
        api = Api(cfg, timeout=60)
        while True:
            paths = [p for p in pending() if p not in kept]
            if not paths:
                break
            groups: dict[tuple[str, str], list[tuple[Path, dict[str, Any]]]] = {}
            for p in paths:
                job = read_json(p)
                if not isinstance(job, dict) or not job.get("external_id") or not job.get("project"):
                    _fail([p], job if isinstance(job, dict) else {}, "not a valid job file")
                    failed += 1
                    continue
                groups.setdefault((job.get("agent") or "", job["external_id"]), []).append((p, job))
            down = False
            for items in groups.values():
                files = [p for p, _ in items]
                job = dict(items[-1][1])  # the newest says where the transcript is now
                completing = [j for _, j in items if j.get("complete")]
                if completing:
                    job["complete"] = True
                    job["handoff_mode"] = completing[-1].get("handoff_mode")
                try:
                    result = deliver(api, job)
                except (Unreachable, ApiError) as e:
                    if isinstance(e, ApiError) and not e.retryable:
                        _fail(files, job, str(e))
                        failed += 1
                        continue
                    log("job_kept", external_id=job["external_id"], reason=str(e))
                    kept.update(files)
                    for p, j in items:
                        j["attempts"] = int(j.get("attempts") or 0) + 1
                        if p.exists():
                            write_json(p, j)
                    down = isinstance(e, Unreachable)
                    if down:
                        break
                    continue
                except (Refused, OSError) as e:
                    _fail(files, job, str(e))
                    failed += 1
                    continue
                for p in files:
                    p.unlink(missing_ok=True)
                done += 1
                log("job_delivered", external_id=job["external_id"], **result)
            if down:
                kept.update(pending())
                break
    finally:
        lock.close()
    return {"busy": False, "delivered": done, "kept": len([p for p in kept if p.exists()]), "failed": failed}


def job_for(agent: str | None, *, external_id: str, project: str, cwd: str | None, transcript_path: str | None,
            complete: bool, handoff_mode: str, event: str) -> dict[str, Any]:
    fmt = {"claude": "claude-code", "codex": "codex", "aider": "aider"}.get(agent or "", "auto")
    return {"agent": agent, "external_id": external_id, "project": project, "cwd": cwd,
            "transcript_path": transcript_path, "complete": complete, "handoff_mode": handoff_mode,
            "event": event, "format": fmt, "pid": os.getpid()}

