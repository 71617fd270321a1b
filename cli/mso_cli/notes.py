"""The agent's own account of its session: `mso note` (what `/handoff` asks the agent to run) and
the compaction summary the post-compact hook hands over.

Which session a note belongs to is found the way the hooks find it: the project from the current
directory; the agent's session id from `--session-id`, else from the variable the agent sets in
its shell tool's environment (`CLAUDE_CODE_SESSION_ID`, Claude Code 2.1.132+; `CODEX_THREAD_ID`,
Codex), else the running session of this project that this machine's session-start hook started
most recently (mso_cli.tracking).

A note the server cannot take now (down, 5xx) waits in `spool/notes/` and goes with the next
flush (any hook, or `mso flush`), before the transcript jobs, so a handoff made by that flush
already leads with it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mso_cli.config import state_dir
from mso_cli.state import forget_project, log, project_id, read_json, write_json

if TYPE_CHECKING:
    from mso_cli.client import Api

# (agent, variable): the session id the agents put in the environment of the commands they run
SESSION_ENV = (("claude", "CLAUDE_CODE_SESSION_ID"), ("codex", "CODEX_THREAD_ID"))
MAX_NOTE_CHARS = 60_000  # the server's limit (chalicelib.domain.notes.MAX_NOTE_CHARS)
STDIN_WAIT_S = 5.0  # how long `mso note` waits for the first byte of the note on stdin


class NoSession(Exception):
    """No session to attach the note to: not given, not in the environment, none running here."""


def running_here(spec: str) -> list[dict[str, Any]]:
    """The sessions of this project that this machine's session-start recorded and no session-end
    has closed (mso_cli.tracking), newest start first."""
    from mso_cli.tracking import tracked

    return sorted((e for _, e in tracked() if e["project"] == spec), key=lambda e: e["started_at"], reverse=True)


def session_from_env(explicit: str | None, agent: str | None) -> tuple[str | None, str | None]:
    """(agent, the agent's session id) from --session-id or the agent's environment, else (agent, None)."""
    if explicit:
        if agent is None:
            agent = next((a for a, var in SESSION_ENV if os.environ.get(var) == explicit), None)
        return agent, explicit
    for a, var in SESSION_ENV:
        if os.environ.get(var) and agent in (None, a):
            return a, os.environ[var]
    return agent, None


# --- note jobs ------------------------------------------------------------------------------------

def notes_dir() -> Path:
    return state_dir() / "spool" / "notes"


def pending_notes() -> list[Path]:
    d = notes_dir()
    return sorted(p for p in d.glob("*.json") if p.is_file()) if d.is_dir() else []


def note_job(*, project: str, external_id: str, agent: str | None, cwd: str | None, text: str, kind: str,
             source: str) -> dict[str, Any]:
    """A note to deliver; `<private>` spans are cut here, before the text is stored or sent."""
    from mso_cli.privacy import scrub_text

    return {"project": project, "external_id": external_id, "agent": agent, "cwd": cwd,
            "text": scrub_text(text)[:MAX_NOTE_CHARS], "kind": kind, "source": source, "created_at": time.time()}


def spool_note(job: dict[str, Any]) -> Path:
    path = notes_dir() / f"{time.time_ns()}-note.json"
    write_json(path, job)
    return path


def deliver_note(api: Api, job: dict[str, Any]) -> dict[str, Any]:
    """Create or link the session by the agent's session id, then store the note. Returns the note."""
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
        forget_project(api, spec)
        proj = project_id(api, spec)
        s = api.post(f"/api/projects/{proj['id']}/sessions", body)
    note = api.post(f"/api/projects/{proj['id']}/sessions/{s['number']}/notes",
                    {"text": job["text"], "kind": job.get("kind") or "handoff", "source": job.get("source") or "api"})
    return {**note, "project_name": proj["name"]}


def _problem(job: Any) -> str | None:
    if not isinstance(job, dict):
        return "not a note job: not a JSON object"
    for key in ("project", "external_id", "text"):
        if not isinstance(job.get(key), str) or not job[key].strip():
            return f"not a note job: {key!r} is missing or not text"
    return None


def flush_notes(api: Api) -> dict[str, Any]:
    """Deliver the spooled notes (the caller holds the spool lock). A note the server refuses
    (4xx) moves to spool/failed/ with the reason; when it is down they all stay."""
    from mso_cli.client import ApiError, Unreachable
    from mso_cli.spool import failed_dir

    out: dict[str, Any] = {"delivered": 0, "kept": 0, "failed": 0, "errors": [], "kept_reason": None}
    paths = pending_notes()
    for i, p in enumerate(paths):
        job = read_json(p)
        problem = _problem(job)
        try:
            if problem:
                raise ValueError(problem)
            note = deliver_note(api, job)
        except Unreachable as e:
            out["kept"] += len(paths) - i
            out["kept_reason"] = str(e)
            log("note_kept", external_id=(job or {}).get("external_id"), reason=str(e))
            break
        except (ApiError, ValueError) as e:
            if isinstance(e, ApiError) and e.retryable:
                out["kept"] += 1
                out["kept_reason"] = str(e)
                continue
            reason = str(e)
            write_json(failed_dir() / f"note-{p.name}", {**(job if isinstance(job, dict) else {}), "error": reason,
                                                         "failed_at": time.time()})
            p.unlink(missing_ok=True)
            out["failed"] += 1
            ext = job.get("external_id") if isinstance(job, dict) else None
            out["errors"].append({"job": p.name, "external_id": ext, "reason": reason, "path": None})
            log("note_failed", external_id=ext, reason=reason)
            continue
        p.unlink(missing_ok=True)
        out["delivered"] += 1
        log("note_delivered", external_id=job["external_id"], kind=note.get("kind"), version=note.get("version"),
            number=note.get("number"))
    return out


# --- `mso note` -----------------------------------------------------------------------------------

class NoteError(Exception):
    """Why `mso note` stored nothing: the message for the agent, and the exit code (2: bad input)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def read_stdin(stream: Any, wait_s: float = STDIN_WAIT_S) -> str:
    """The note piped on stdin. An agent that runs `mso note` without a heredoc leaves stdin open
    with nothing coming: after `wait_s` without a first byte this says so instead of hanging."""
    import select

    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):  # an in-memory stream (tests)
        return stream.read()
    if not select.select([fd], [], [], wait_s)[0]:
        raise NoteError(f"nothing arrived on stdin in {wait_s:.0f} s: give the note as a heredoc "
                        "(`mso note <<'EOF' ... EOF`) or with --file", 2)
    data = b""
    while len(data) <= MAX_NOTE_CHARS * 4:  # UTF-8: at most 4 bytes a character
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        data += chunk
    return data.decode("utf-8", errors="replace")


def _running(api: Api, spec: str, candidates: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The newest candidate the server holds as in progress (linked by the agent's session id; one
    the server never saw, its start having found it down, is created, as its upload would)."""
    proj = project_id(api, spec)
    for c in candidates:
        body = {"external_id": c["external_id"], **({"agent": c["agent"]} if c.get("agent") else {})}
        if api.post(f"/api/projects/{proj['id']}/sessions", body).get("status") == "in_progress":
            return c
    return None


def send_note(text: str, *, project: str | None, session_id: str | None, agent: str | None,
              cwd: str | None = None) -> str:
    """Store the note with the session (see the module's docstring for which); when the server is
    down it waits in the spool. Returns what to tell the agent; raises NoteError."""
    from mso_cli.client import Api, ApiError, NotConfigured, Unreachable
    from mso_cli.config import exclusion, load, project_spec

    text = text.strip()
    if not text:
        raise NoteError("the note is empty: give it on stdin (`mso note <<'EOF' ... EOF`) or with --file", 2)
    if len(text) > MAX_NOTE_CHARS:
        raise NoteError(f"the note is {len(text):,} characters; the limit is {MAX_NOTE_CHARS:,}", 2)
    cfg = load()
    cwd = cwd or os.getcwd()
    spec, _ = project_spec(project, cwd, cfg)
    why = exclusion(cwd, spec, cfg)
    if why:
        raise NoteError(f"not sent: {why} (config.toml `exclude`)")
    agent, sid = session_from_env(session_id, agent)
    try:
        api = Api(cfg, timeout=15)
    except NotConfigured as e:
        raise NoteError(str(e)) from None
    if sid is None:
        candidates = running_here(spec)
        if not candidates:
            raise NoteError(f"no session of project {spec!r} started by the mso hooks on this machine is running, "
                            "and no session id was given: pass --session-id (Claude Code's /status shows it)")
        try:
            chosen = _running(api, spec, candidates)
        except Unreachable:
            chosen = candidates[0]  # offline: the newest, spooled below
        except ApiError as e:
            raise NoteError(f"the server refused: {e.status} {e.code}: {e.message}") from None
        if chosen is None:
            raise NoteError(f"no session of project {spec!r} started here is still running: pass --session-id")
        agent, sid = agent or chosen.get("agent"), chosen["external_id"]
    job = note_job(project=spec, external_id=sid, agent=agent, cwd=cwd, text=text, kind="handoff", source="mso note")
    try:
        note = deliver_note(api, job)
    except (Unreachable, ApiError) as e:
        if isinstance(e, ApiError) and not e.retryable:
            raise NoteError(f"the server refused the note: {e.status} {e.code}: {e.message}") from None
        path = spool_note(job)
        log("note_spooled", external_id=sid, kind="handoff", reason=str(e))
        return (f"the server did not take the note now ({e}); it waits in {path} and is delivered by the next "
                "hook or `mso flush`")
    log("note_delivered", external_id=sid, kind="handoff", version=note.get("version"), number=note.get("number"))
    return (f"stored the note ({note.get('chars', len(job['text'])):,} characters) as version {note.get('version')} "
            f"of the account of session {note.get('number')} in project {note.get('project_name')!r}")
