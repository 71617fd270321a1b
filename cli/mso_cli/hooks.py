"""`mso hook claude|codex <event>`: what the agents run at session start, stop, compaction, end.

A hook never fails the agent: it exits 0 whatever happens, prints nothing but its answer (and
nothing at all on error), and logs to the state folder. session-start waits at most
`hook_timeout_s` (3 s) for the server, then answers from the last cached handoff, then with
nothing. The other events only write a spool job and start a detached uploader: they return in
milliseconds (Claude Code gives all SessionEnd hooks 1.5 s together).
"""

from __future__ import annotations

import json
import os
import re
import select
import sys
import time
from pathlib import Path
from typing import Any

from mso_cli.config import Config, exclusion, load, project_spec, state_dir

STARTED = time.monotonic()  # imported first thing by `mso hook`: close to the process start
EVENTS = ("session-start", "session-end", "pre-compact", "stop")
# Claude Code turns a longer additionalContext into a file path and a preview past 10,000
# characters; Codex caps injected output near 2,500 tokens.
CONTEXT_LIMIT = {"claude": 9_500, "codex": 8_000}
REANCHOR_LIMIT = 1_500
MAX_STDIN = 1024 * 1024
# The agents write the payload and close stdin at once; a caller that keeps the pipe open must not
# hang the hook: it stops reading at a whole JSON object, at EOF, at MAX_STDIN, or after this long.
STDIN_TIMEOUT_S = 1.0


def _read_bounded(stream: Any, timeout: float) -> bytes | str:
    """What arrives on stdin within `timeout` seconds and MAX_STDIN bytes."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):  # an in-memory stream (tests): read it as it is
        return stream.read(MAX_STDIN)
    deadline = time.monotonic() + timeout
    data = b""
    while len(data) < MAX_STDIN:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            break
        chunk = os.read(fd, min(65536, MAX_STDIN - len(data)))
        if not chunk:
            break
        data += chunk
        if data.rstrip().endswith(b"}"):
            try:
                json.loads(data)
                break  # a whole payload: no need to wait for the writer to close the pipe
            except ValueError:
                pass
    return data


def read_payload(stream: Any, timeout: float = STDIN_TIMEOUT_S) -> dict[str, Any]:
    """The hook's JSON payload; {} when stdin is empty, not a JSON object, or never finished."""
    try:
        data = json.loads(_read_bounded(stream, timeout) or "{}")
    except (ValueError, OSError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _field(payload: dict[str, Any], key: str) -> str | None:
    """A payload field that must be text (a session id may come as a number); anything else is
    ignored and logged, so a malformed payload never reaches the spool."""
    v = payload.get(key)
    if isinstance(v, int) and not isinstance(v, bool) and key == "session_id":
        v = str(v)
    if v is None or (isinstance(v, str) and v):
        return v
    if v != "":
        from mso_cli.state import log

        log("payload_field_ignored", field=key, type=type(v).__name__)
    return None


def _section(markdown: str, title: str) -> str | None:
    """The body of the first `## ...title...` section of a handoff."""
    m = re.search(rf"^#+ [^\n]*{title}[^\n]*\n(.*?)(?=^#+ |\Z)", markdown, re.I | re.M | re.S)
    return m.group(1).strip() if m else None


def _clip(text: str, limit: int) -> str:
    """Last-resort guard (the server clips with max_chars): never hand the agent more than it takes."""
    if len(text) <= limit:
        return text
    note = "\n\n[mso: cut at the agent's context limit; `mso handoff` prints the whole handoff]"
    return text[: limit - len(note)].rsplit("\n", 1)[0] + note


def compose(agent: str, source: str, *, markdown: str | None, project: str, session: int | None,
            from_session: int | None, cached: bool) -> str | None:
    """The additionalContext: factual statements about where the project stands."""
    if not markdown:
        return None
    limit = CONTEXT_LIMIT.get(agent, 8_000)
    where = f"mso project {project!r}" + (f", session {session}" if session else "")
    origin = f"the handoff written after session {from_session}" if from_session else "the latest handoff"
    stale = " (served from the local cache: the mso server did not answer)" if cached else ""
    if source == "compact":
        steps = _section(markdown, "next steps") or _section(markdown, "summary") or markdown
        text = (f"This conversation is {where}. The context was just compacted. {origin.capitalize()}{stale} "
                f"lists these next steps:\n\n{steps}")
        return _clip(text, REANCHOR_LIMIT)
    head = f"This conversation is {where}. What follows is {origin}{stale}, recorded by mso.\n\n"
    return _clip(head + markdown, limit)


def _output(text: str | None) -> str:
    return json.dumps({"hookSpecificOutput": {"hookEventName": "SessionStart", "additionalContext": text or ""}})


def _wait_for_handoff(api: Any, project_id: str, number: int, max_chars: int) -> str | None:
    """The previous session's handoff is still being made: poll for it within the hook's deadline
    (the server answers 409 handoff_not_ready until then); None when it does not come in time."""
    from mso_cli.client import ApiError

    path = f"/api/projects/{project_id}/sessions/{number}/handoff"
    while True:
        try:
            return api.get(path, text=True, query={"format": "md", "max_chars": max_chars})
        except ApiError as e:
            if e.status not in (404, 409):
                raise
        if api.deadline is not None and api.deadline - time.monotonic() < 0.6:
            return None
        time.sleep(0.25)


def session_start(agent: str, payload: dict[str, Any], cfg: Config) -> str | None:
    from mso_cli import state
    from mso_cli.client import Api, ApiError, NotConfigured, Unreachable
    from mso_cli.spool import pending, spawn_flush
    from mso_cli.tracking import track, tracked_dir

    cwd = _field(payload, "cwd") or os.getcwd()
    sid = _field(payload, "session_id")
    source = _field(payload, "source") or "startup"
    spec, _ = project_spec(None, cwd, cfg)
    why = exclusion(cwd, spec, cfg)
    if why:
        state.log("hook_excluded", agent=agent, hook="session-start", reason=why)
        return None  # not captured: no request, nothing injected
    if sid:
        try:
            track(agent, sid, project=spec, cwd=cwd, transcript_path=_field(payload, "transcript_path"))
            if len(list(tracked_dir().glob("*.json"))) > 1:
                spawn_flush(sweep=True)  # another session of ours may be an orphan: the detached flush decides
        except OSError as e:
            state.log("track_failed", agent=agent, external_id=sid, error=str(e))
    limit = CONTEXT_LIMIT.get(agent, 8_000)
    try:
        # the budget counts from the process start, less what answering from the cache needs
        deadline = STARTED + cfg.hook_timeout_s - 0.15
        api = Api(cfg, timeout=cfg.hook_timeout_s, deadline=deadline)
        proj = state.project_id(api, spec)
        body: dict[str, Any] = {"agent": agent}
        if sid:
            body["external_id"] = str(sid)
        try:
            s = api.post(f"/api/projects/{proj['id']}/sessions", body)
        except ApiError as e:
            if e.status != 404:
                raise
            state.forget_project(api, spec)
            proj = state.project_id(api, spec)
            s = api.post(f"/api/projects/{proj['id']}/sessions", body)
        if pending():
            spawn_flush()  # the server answers: deliver what an earlier session (or a down server) left
        start = s.get("starting_handoff") or {}
        markdown, from_session = start.get("markdown"), start.get("from_session")
        if not markdown and start.get("status") == "pending" and from_session:
            markdown = _wait_for_handoff(api, proj["id"], int(from_session), limit - 300)
        if markdown and len(markdown) > limit - 300:
            markdown = api.get(f"/api/projects/{proj['id']}/handoff/latest", text=True,
                               query={"format": "md", "max_chars": limit - 300})
        if markdown:  # a handoff still being made keeps the cached one for offline starts
            state.cache_handoff(cfg.base_url, spec, {"markdown": markdown, "from_session": from_session,
                                                     "project": proj["name"], "session": s["number"]})
        state.log("session_start", agent=agent, external_id=sid, project=proj["id"], number=s["number"],
                  linked=not s.get("created", True), handoff_chars=len(markdown or ""))
        if not markdown and start.get("status") == "pending" and from_session:
            return (f"This conversation is mso project {proj['name']!r}, session {s['number']}. The handoff "
                    f"written after session {from_session} was still being generated when it started; "
                    "`mso handoff` prints it once it is ready.")
        return compose(agent, source, markdown=markdown, project=proj["name"], session=s["number"],
                       from_session=from_session, cached=False)
    except (Unreachable, ApiError, NotConfigured, OSError, ValueError, KeyError, TypeError) as e:
        state.log("session_start_offline", agent=agent, external_id=sid, reason=f"{type(e).__name__}: {e}")
        cached = state.cached_handoff(cfg.base_url, spec)
        if not cached:
            return None
        return compose(agent, source, markdown=cached.get("markdown"), project=cached.get("project") or spec,
                       session=None, from_session=cached.get("from_session"), cached=True)


def spool_event(agent: str, event: str, payload: dict[str, Any], cfg: Config) -> None:
    """session-end completes the session; pre-compact and stop upload a snapshot of the transcript."""
    from mso_cli import state
    from mso_cli.spool import job_for, spawn_flush, write_job
    from mso_cli.tracking import stop_due, untrack

    sid = _field(payload, "session_id")
    if not sid:
        state.log("hook_without_session_id", agent=agent, event=event)
        return
    cwd = _field(payload, "cwd") or os.getcwd()
    spec, _ = project_spec(None, cwd, cfg)
    why = exclusion(cwd, spec, cfg)
    if why:
        state.log("hook_excluded", agent=agent, hook=event, reason=why)
        return  # not captured: no job, no upload
    if event == "stop" and not stop_due(agent, sid, project=spec, cwd=cwd,
                                         transcript_path=_field(payload, "transcript_path"), cfg=cfg):
        return  # throttled: config.toml `stop_every_s` / `stop_every_bytes`
    job = job_for(agent, external_id=sid, project=spec, cwd=cwd, transcript_path=_field(payload, "transcript_path"),
                  complete=event == "session-end", handoff_mode=cfg.handoff_mode, event=event)
    path = write_job(job)
    if event == "session-end":
        untrack(agent, sid)  # ended as it should: nothing for the orphan sweep
    state.log("job_spooled", agent=agent, hook=event, external_id=sid, job=Path(path).name)
    spawn_flush()


def run(agent: str, event: str, stdin: Any = None) -> int:
    """Entry point: always 0; stdout gets the answer or nothing."""
    try:
        payload = read_payload(stdin or sys.stdin)
        cfg = load()
        if event == "session-start":
            text = session_start(agent, payload, cfg)
            if text:
                sys.stdout.write(_output(text) + "\n")
                sys.stdout.flush()
        elif event in EVENTS:
            spool_event(agent, event, payload, cfg)
    except BaseException:  # noqa: BLE001 - a hook must never fail the agent
        try:
            from mso_cli.state import log_exception

            log_exception("hook_failed", agent=agent, hook=event)
        except BaseException:  # noqa: BLE001
            pass
    return 0
