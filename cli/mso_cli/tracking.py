"""The sessions this machine's hooks started: Stop's snapshot throttle and the orphan sweep.

session-start records each session (`sessions/<agent>-<id>.json` in the state folder) and its
session-end forgets it. Stop uploads a snapshot only every few minutes or megabyte of new
transcript. A session never forgotten ended without its SessionEnd (killed, crashed, terminal
closed): the next session-start's detached flush sweeps it, with its final upload and completion.
"""

from __future__ import annotations

import contextlib
import re
import time
from pathlib import Path
from typing import Any

from mso_cli.config import Config, exclusion, state_dir
from mso_cli.state import log, read_json, write_json


def tracked_dir() -> Path:
    return state_dir() / "sessions"


def _tracked_file(agent: str | None, sid: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{agent or 'x'}-{sid}")[:160]
    return tracked_dir() / f"{safe}.json"


def track(agent: str | None, sid: str, *, project: str, cwd: str | None, transcript_path: str | None) -> None:
    """Remember a running session session-start saw (again on a resume: `started_at` is its latest
    start, so a resumed session is the newest in its directory)."""
    p = _tracked_file(agent, sid)
    old = read_json(p)
    old = old if isinstance(old, dict) else {}
    write_json(p, {**old, "agent": agent, "external_id": sid, "project": project, "cwd": cwd,
                   "transcript_path": transcript_path or old.get("transcript_path"), "started_at": time.time()})


def untrack(agent: str | None, sid: str) -> None:
    with contextlib.suppress(OSError):
        _tracked_file(agent, sid).unlink(missing_ok=True)


def _transcript(entry: dict[str, Any], *, search: bool = True) -> Path | None:
    from mso_cli.spool import _transcript_path

    if not search and not entry.get("transcript_path") and entry.get("agent") != "claude":
        return None  # Codex without a path is found by a glob: not in a hook
    return _transcript_path(entry)


def stop_due(agent: str | None, sid: str, *, project: str, cwd: str | None, transcript_path: str | None,
             cfg: Config) -> bool:
    """Whether this Stop uploads a snapshot: the first one, then once `stop_every_s` passed or the
    transcript grew by `stop_every_bytes` since the last one. Stop fires after every turn; this keeps
    a session's uploads minutes apart while a lost SessionEnd loses at most the turns since the
    last one. Records the upload it allows, and tracks a session started before this version."""
    p = _tracked_file(agent, sid)
    entry = read_json(p)
    now = time.time()
    if not isinstance(entry, dict):
        entry = {"agent": agent, "external_id": sid, "project": project, "cwd": cwd, "started_at": now}
    if transcript_path:
        entry["transcript_path"] = transcript_path
    size = None
    path = _transcript({**entry, "agent": agent, "cwd": cwd, "external_id": sid}, search=False)
    if path is not None:
        with contextlib.suppress(OSError):
            size = path.stat().st_size
    last_at, last_size = entry.get("uploaded_at"), entry.get("uploaded_size")
    due = (not isinstance(last_at, int | float) or now - last_at >= cfg.stop_every_s
           or (size is not None and isinstance(last_size, int) and size - last_size >= cfg.stop_every_bytes))
    if due:
        entry.update(uploaded_at=now, uploaded_size=size)
        try:
            write_json(p, entry)
        except OSError as e:
            log("track_failed", external_id=sid, error=str(e))
    return due


def tracked() -> list[tuple[Path, dict[str, Any]]]:
    """The recorded sessions; an unreadable record is dropped (nobody could sweep it)."""
    d = tracked_dir()
    out = []
    for p in sorted(d.glob("*.json")) if d.is_dir() else []:
        entry = read_json(p)
        if isinstance(entry, dict) and isinstance(entry.get("external_id"), str) \
                and isinstance(entry.get("project"), str) and isinstance(entry.get("started_at"), int | float):
            out.append((p, entry))
        else:
            with contextlib.suppress(OSError):
                p.unlink()
    return out


def orphans(cfg: Config, now: float | None = None) -> list[tuple[Path, dict[str, Any], str]]:
    """Recorded sessions that ended without their SessionEnd, each with why: a later session of the
    same agent started in the same directory and this transcript has not been written since (a
    session running beside it keeps writing, so it is left alone), or the transcript has not grown
    for `orphan_after_s`."""
    now = time.time() if now is None else now
    entries = tracked()
    out = []
    for p, e in entries:
        mtime = None
        path = _transcript(e)
        if path is not None:
            with contextlib.suppress(OSError):
                mtime = path.stat().st_mtime
        last = max(mtime or 0.0, e["started_at"])  # a resumed session's old transcript is not idle
        later = [o for _, o in entries if o is not e and o.get("agent") == e.get("agent")
                 and o.get("cwd") == e.get("cwd") and o["started_at"] > e["started_at"] and last <= o["started_at"]]
        if later:
            out.append((p, e, f"session {later[0]['external_id']} started in the same directory"))
        elif now - last >= cfg.orphan_after_s:
            out.append((p, e, f"its transcript has not grown for {int((now - last) // 60)} min"))
    return out


def sweep_orphans(cfg: Config) -> list[str]:
    """Spool the final upload and the completion of every orphan and forget it; the flush that
    called this delivers them. Returns their agent session ids."""
    from mso_cli.spool import job_for, write_job

    done = []
    for p, e, why in orphans(cfg):
        p.unlink(missing_ok=True)
        if exclusion(e.get("cwd"), e["project"], cfg):
            continue
        write_job({**job_for(e.get("agent"), external_id=e["external_id"], project=e["project"], cwd=e.get("cwd"),
                             transcript_path=e.get("transcript_path"), complete=True,
                             handoff_mode=cfg.handoff_mode, event="sweep"), "swept": why})
        log("orphan_swept", external_id=e["external_id"], agent=e.get("agent"), reason=why)
        done.append(e["external_id"])
    return done
