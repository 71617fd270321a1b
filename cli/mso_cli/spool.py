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

import contextlib
import fcntl
import gzip
import io
import json
import os
import re
import subprocess
import sys
import time
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mso_cli.agents import claude_transcript, codex_rollout
from mso_cli.config import Config, exclusion, state_dir

if TYPE_CHECKING:  # the HTTP client loads only in the uploader, not in the hook that spools
    from mso_cli.client import Api

from mso_cli.privacy import TooLarge, scrub_stream
from mso_cli.state import (
    forget_project,
    log,
    log_exception,
    private_dir,
    private_fd,
    project_id,
    write_bytes,
    write_json,
)

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
    return sorted(p for p in d.glob("*.json") if p.is_file()) if d.is_dir() else []


_SESSION_ID = re.compile(r"[\x21-\x7e]{1,200}")
_OPTIONAL_TEXT = ("agent", "cwd", "transcript_path", "format", "handoff_mode", "event")


def job_problem(job: Any) -> str | None:
    """Why a spool file cannot be a job (written by hand, by an older version, or from a bad hook
    payload), or None. Checked before anything is sent, so a bad job never stops the others."""
    if not isinstance(job, dict):
        return f"not a job: a JSON {type(job).__name__}, not an object"
    for key in ("external_id", "project"):
        if not isinstance(job.get(key), str) or not job[key].strip():
            return f"not a job: {key!r} is missing or not a string"
    if not _SESSION_ID.fullmatch(job["external_id"]):
        return "not a job: 'external_id' must be 1-200 printable ASCII characters"
    for key in _OPTIONAL_TEXT:
        if job.get(key) is not None and not isinstance(job[key], str):
            return f"not a job: {key!r} is a {type(job[key]).__name__}, not a string"
    if not isinstance(job.get("complete", False), bool):
        return "not a job: 'complete' is not true or false"
    return None


def _safe(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", s)[:80]


def write_job(job: dict[str, Any]) -> Path:
    """Add a job (atomically: flush never sees half a file)."""
    job = {**job, "created_at": time.time()}
    name = f"{time.time_ns()}-{_safe(job.get('agent') or 'x')}-{_safe(job.get('external_id') or 'x')}.json"
    path = spool_dir() / name
    write_json(path, job)
    return path


def spawn_flush(*, sweep: bool = False) -> None:
    """Start `mso flush` detached from the agent (own session, no stdio), and return at once.
    `sweep`: it first completes this machine's orphaned sessions (see sweep_orphans)."""
    try:
        subprocess.Popen([sys.executable, "-m", "mso_cli", "flush", "--quiet", *(["--sweep"] if sweep else [])],
                         stdin=subprocess.DEVNULL,
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
    """The file without its `<private>` spans, gzip-compressed; Refused when over a size limit.

    Streams: a gzip file is unpacked, filtered and packed again line by line. OSError (missing,
    permission denied, a directory, a corrupt gzip) goes to the caller."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise Refused(f"{path} is {size:,} bytes; the CLI uploads at most {MAX_FILE_BYTES:,}")
    buf = io.BytesIO()
    try:
        with path.open("rb") as f:
            packed = f.read(2) == b"\x1f\x8b"
            f.seek(0)
            src: Any = gzip.GzipFile(fileobj=f, mode="rb") if packed else f
            with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=6, mtime=0) as out:
                scrub_stream(src, out, limit=MAX_FILE_BYTES)
    except TooLarge:
        raise Refused(f"{path} unpacks to more than {MAX_FILE_BYTES:,} bytes; the CLI uploads at most that") from None
    except (EOFError, zlib.error) as e:
        raise OSError(f"{path} is not a readable gzip file: {e}") from None
    data = buf.getvalue()
    if len(data) > MAX_UPLOAD_BYTES:
        raise Refused(f"{path} is {len(data):,} bytes compressed; the limit is {MAX_UPLOAD_BYTES:,}")
    return data


def _load_transcript(job: dict[str, Any]) -> tuple[bytes | None, str | None]:
    """(the gzip body, None) or (None, why there is no transcript to upload)."""
    path = _transcript_path(job)
    if path is None:
        return None, "no transcript was found for this session"
    try:
        return read_transcript(path), None
    except FileNotFoundError:
        return None, f"the transcript {path} does not exist (deleted before it could be read?)"
    except IsADirectoryError:
        return None, f"the transcript path {path} is a directory"
    except PermissionError:
        return None, f"the transcript {path} cannot be read: permission denied"
    except Refused as e:
        return None, str(e)
    except OSError as e:
        return None, f"the transcript {path} cannot be read: {e.strerror or e}"


def _close(api: Api, base: str, s: dict[str, Any], reason: str, mode: str) -> str:
    """Finish a session whose transcript never arrived, so it is never left running: completed with
    the reason when an earlier snapshot was uploaded, else failed with the reason. Returns its status."""
    from mso_cli.client import ApiError

    if s.get("status", "in_progress") != "in_progress":
        return str(s.get("status"))
    note = f"mso: no transcript uploaded at the end: {reason}"[:3900]
    if (s.get("transcript") or {}).get("messages"):
        try:
            api.post(base + "/complete", {"status": "completed", "handoff_mode": mode, "errors": [note]})
        except ApiError as e:
            if e.status != 409:
                raise
        return "completed"
    api.request("PATCH", base, {"status": "failed", "errors": [note]})
    return "failed"


def deliver(api: Api, job: dict[str, Any], cfg: Config | None = None) -> dict[str, Any]:
    """Create or link the session, upload the transcript, complete it when asked. Repeatable.

    The transcript is read (and checked) before any request: a job whose transcript cannot be
    sent creates no session unless it completes one, and then the session is finished with the
    reason (see _close); a server that refuses the transcript gets the same treatment."""
    from mso_cli.client import ApiError

    spec = job["project"]
    why = exclusion(job.get("cwd"), spec, cfg) if cfg is not None else None
    if why:
        raise Refused(f"not captured: {why} (config.toml `exclude`)")
    data, problem = _load_transcript(job)
    mode = job.get("handoff_mode") or "auto"
    if problem and not job.get("complete"):
        raise Refused(problem)  # a snapshot with nothing to send: no request at all
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
    if problem:
        out["completed"] = _close(api, base, s, problem, mode)
        log("transcript_unreadable", external_id=job["external_id"], reason=problem, status=out["completed"])
        raise Refused(f"{problem}; session {n} was {out['completed']} without it")
    try:
        up = api.request("PUT", base + "/transcript", raw=data, content_type="application/gzip",
                         # the same agent session's newer transcript: replacing is the point
                         query={"format": job.get("format") or "auto", "replace": "true"})
    except ApiError as e:
        if e.retryable or not (job.get("complete") or s.get("created")):
            raise
        status = _close(api, base, s, f"the server refused the transcript: {e}", mode)
        raise ApiError(e.status, e.code, f"{e.message} (session {n} was {status} without it)", e.field) from None
    before = s.get("transcript") or {}
    changed = (before.get("messages"), before.get("chars")) != (up.get("messages"), up.get("chars"))
    out["uploaded"] = {"messages": up.get("messages"), "redactions": up.get("redactions")}
    if job.get("complete"):
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
    private_dir(spool_dir())
    f = os.fdopen(private_fd(spool_dir() / ".lock", os.O_WRONLY | os.O_CREAT), "w")  # held for the whole flush
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        f.close()
        return None
    return f


def failed_dir() -> Path:
    return spool_dir() / "failed"


def _fail(paths: list[Path], job: Any, reason: str) -> None:
    """Park jobs in spool/failed/ with the reason: a job object gets an `error` field; anything else
    (not JSON, not an object) is kept byte for byte beside a `<name>.reason` file."""
    failed = failed_dir()
    private_dir(failed)
    stamp = time.time()
    if isinstance(job, dict):
        write_json(failed / paths[-1].name, {**job, "error": reason, "failed_at": stamp})
    else:
        for p in paths:
            with contextlib.suppress(OSError):
                write_bytes(failed / p.name, p.read_bytes())
            write_json(failed / f"{p.name}.reason", {"error": reason, "failed_at": stamp})
    for p in paths:
        try:
            p.unlink(missing_ok=True)
        except OSError as e:
            log("job_unremovable", job=p.name, error=str(e))
    ext = job.get("external_id") if isinstance(job, dict) else None
    log("job_failed", external_id=ext, job=paths[-1].name, reason=reason)


def _read_job(p: Path) -> tuple[Any, str | None]:
    """(the parsed job, None) or (None, why the file is not JSON)."""
    try:
        return json.loads(p.read_bytes()), None
    except OSError as e:
        return None, f"cannot read the job file: {e.strerror or e}"
    except (ValueError, UnicodeDecodeError) as e:
        return None, f"not a job: the file is not JSON ({e})"[:300]


def flush(cfg: Config, *, wait: bool = False, sweep: bool = False) -> dict[str, Any]:
    """Deliver every pending job once. Returns counts, and per job the reason it was refused or
    kept; `busy` when another flush holds the lock. A job that cannot succeed (malformed, its
    transcript unreadable, refused by the server, or an error of ours) is parked in spool/failed/
    and the others go on: one bad job never blocks the spool. `sweep` first spools the completion
    of this machine's orphaned sessions (sweep_orphans), under the same lock."""
    from mso_cli.client import Api, ApiError, Unreachable

    lock = _lock()
    while lock is None and wait:
        time.sleep(0.1)
        lock = _lock()
    if lock is None:
        return {"busy": True, "delivered": 0, "kept": len(pending()), "failed": 0, "errors": [], "kept_reason": None}
    done = failed = 0
    errors: list[dict[str, Any]] = []
    kept_reason: str | None = None
    kept: set[Path] = set()

    def refuse(files: list[Path], job: Any, reason: str) -> None:
        nonlocal failed
        _fail(files, job, reason)
        failed += 1
        ext = job.get("external_id") if isinstance(job, dict) else None
        errors.append({"job": files[-1].name, "external_id": ext, "reason": reason,
                       "path": job.get("transcript_path") if isinstance(job, dict) else None})

    notes_kept = 0
    swept: list[str] = []
    try:
        if sweep:
            from mso_cli.tracking import sweep_orphans

            swept = sweep_orphans(cfg)
        api = Api(cfg, timeout=60)
        from mso_cli.notes import flush_notes

        n = flush_notes(api)  # the agent's notes first: a handoff this flush asks for then leads with them
        done, failed, notes_kept, kept_reason = n["delivered"], n["failed"], n["kept"], n["kept_reason"]
        errors.extend(n["errors"])
        while True:
            paths = [p for p in pending() if p not in kept]
            if not paths:
                break
            groups: dict[tuple[str, str], list[tuple[Path, dict[str, Any]]]] = {}
            for p in paths:
                job, unreadable = _read_job(p)
                problem = unreadable or job_problem(job)
                if problem:
                    refuse([p], job, problem)
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
                    result = deliver(api, job, cfg)
                except (Unreachable, ApiError) as e:
                    if isinstance(e, ApiError) and not e.retryable:
                        refuse(files, job, str(e))
                        continue
                    log("job_kept", external_id=job["external_id"], reason=str(e))
                    kept_reason = str(e)
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
                    refuse(files, job, str(e))
                    continue
                except Exception as e:  # noqa: BLE001 - a bug of ours on one job must not block the rest
                    log_exception("job_crashed", external_id=job.get("external_id"))
                    refuse(files, job, f"internal error: {type(e).__name__}: {e}")
                    continue
                for p in files:
                    p.unlink(missing_ok=True)
                done += 1
                log("job_delivered", external_id=job["external_id"], **result)
                if result.get("completed"):
                    from mso_cli.memory import refresh_after

                    refresh_after(api, job, result)
            if down:
                kept.update(pending())
                break
    finally:
        lock.close()
    return {"busy": False, "delivered": done, "kept": len([p for p in kept if p.exists()]) + notes_kept, "failed": failed,
            "errors": errors, "kept_reason": kept_reason, "swept": swept}


def job_for(agent: str | None, *, external_id: str, project: str, cwd: str | None, transcript_path: str | None,
            complete: bool, handoff_mode: str, event: str) -> dict[str, Any]:
    fmt = {"claude": "claude-code", "codex": "codex", "aider": "aider"}.get(agent or "", "auto")
    return {"agent": agent, "external_id": external_id, "project": project, "cwd": cwd,
            "transcript_path": transcript_path, "complete": complete, "handoff_mode": handoff_mode,
            "event": event, "format": fmt, "pid": os.getpid()}

