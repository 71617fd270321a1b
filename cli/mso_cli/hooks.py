"""`mso hook claude|codex <event>`: what the agents run at session start, stop, compaction, end.

A hook never fails the agent: it exits 0 whatever happens, prints nothing but its answer (and
nothing at all on error), and logs to the state folder. session-start waits at most
`hook_timeout_s` (3 s) for the server, then answers from the last cached handoff, then with
nothing. After a compaction (source `compact`) it gives this session's own state instead: the
server's checkpoint, else the one pre-compact cached, else the project's pins and open items;
never the previous session's handoff. pre-compact uploads the transcript so far and caches the
checkpoint synchronously, within PRECOMPACT_BUDGET_S. post-compact spools the compaction summary
as a note. The other events only write a spool job and start a detached uploader: they return in
milliseconds (Claude Code gives all SessionEnd hooks 1.5 s together).
"""

from __future__ import annotations

import hashlib
import json
import os
import select
import sys
import time
from pathlib import Path
from typing import Any

from mso_cli.config import Config, exclusion, load, project_spec, state_dir

STARTED = time.monotonic()  # imported first thing by `mso hook`: close to the process start
EVENTS = ("session-start", "session-end", "pre-compact", "post-compact", "stop")
# Claude Code turns a longer additionalContext into a file path and a preview past 10,000
# characters; Codex caps injected output near 2,500 tokens.
CONTEXT_LIMIT = {"claude": 9_500, "codex": 8_000}
CHECKPOINT_CHARS = 2_500  # the state injected after a compaction: where the work stands, not the history
# pre-compact waits for the upload and the checkpoint: within the 10 s `mso install` gives PreCompact
PRECOMPACT_BUDGET_S = 8.0
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


def _clip(text: str, limit: int) -> str:
    """Last-resort guard (the server clips with max_chars): never hand the agent more than it takes."""
    if len(text) <= limit:
        return text
    note = "\n\n[mso: cut at the agent's context limit; `mso handoff` prints the whole handoff]"
    return text[: limit - len(note)].rsplit("\n", 1)[0] + note


def _where(project: str, session: int | None) -> str:
    return f"mso project {project!r}" + (f", session {session}" if session else "")


def compose(agent: str, source: str, *, markdown: str | None, project: str, session: int | None,
            from_session: int | None, cached: bool) -> str | None:
    """The additionalContext at a start or resume: the previous session's handoff, as statements."""
    if not markdown:
        return None
    origin = f"the handoff written after session {from_session}" if from_session else "the latest handoff"
    stale = " (served from the local cache: the mso server did not answer)" if cached else ""
    head = f"This conversation is {_where(project, session)}. What follows is {origin}{stale}, recorded by mso.\n\n"
    return _clip(head + markdown, CONTEXT_LIMIT.get(agent, 8_000))


# what: "checkpoint" (this session's state after a compaction), "pins_after_compact" (no state of
# this session to give: the project's pins and open items), "pins" (a first session: no handoff yet)
_STATE_HEADS = {
    "checkpoint": "The context was just compacted. What follows is this session's own state after the compaction, "
                  "from its transcript so far{stale}, recorded by mso.",
    "pins_after_compact": "The context was just compacted and mso holds no state of this session yet{stale}. "
                          "These are the project's pinned context and open items, recorded by mso.",
    "pins": "No earlier session of this project has a handoff yet. These are the project's pinned context and "
            "open items, recorded by mso.",
}


def compose_state(agent: str, what: str, *, markdown: str | None, project: str, session: int | None,
                  cached: bool = False) -> str | None:
    """The additionalContext after a compaction, or in a project's first session: this session's
    state or the project's pins, never the previous session's handoff."""
    if not markdown:
        return None
    stale = " (served from the local cache: the mso server did not answer in time)" if cached else ""
    head = f"This conversation is {_where(project, session)}. " + _STATE_HEADS[what].format(stale=stale)
    return _clip(f"{head}\n\n{markdown}", CONTEXT_LIMIT.get(agent, 8_000))


# --- the checkpoint pre-compact caches for session-start after the compaction ---------------------

def _checkpoint_file(base_url: str | None, agent: str, sid: str) -> Path:
    digest = hashlib.sha256(f"{base_url}|{agent}|{sid}".encode()).hexdigest()[:24]
    return state_dir() / "cache" / f"checkpoint-{digest}.json"


def cache_checkpoint(base_url: str | None, agent: str, sid: str, data: dict[str, Any]) -> None:
    from mso_cli.state import write_json

    write_json(_checkpoint_file(base_url, agent, sid), {**data, "cached_at": time.time()})  # 0600


def cached_checkpoint(base_url: str | None, agent: str, sid: str) -> dict[str, Any] | None:
    from mso_cli.state import read_json

    data = read_json(_checkpoint_file(base_url, agent, sid))
    return data if isinstance(data, dict) and isinstance(data.get("markdown"), str) else None


def _checkpoint(api: Any, project_id: str, number: int, max_chars: int) -> str | None:
    """This session's state as the server reads it from the transcript so far; None while no
    transcript has arrived (a state without it says nothing: the cache or the pins say more)."""
    doc = api.get(f"/api/projects/{project_id}/sessions/{number}/checkpoint",
                  query={"format": "json", "max_chars": max_chars})
    return doc.get("markdown") if doc.get("messages") else None


def pins_and_open_items(api: Any, project_id: str) -> str | None:
    """The project's pinned context and open items as Markdown; None when it has neither."""
    pins = api.get(f"/api/projects/{project_id}/pins").get("items") or []
    items = api.get(f"/api/projects/{project_id}/open-items", query={"status": "open", "limit": 50}).get("items") or []
    parts = []
    if pins:
        parts.append("## Pinned context\n\n" + "\n".join(f"- {p}" for p in pins))
    if items:
        parts.append("## Open items\n\n" + "\n".join(f"- {it.get('text')}" for it in items if it.get("text")))
    return "\n\n".join(parts) or None


def _after_compaction(agent: str, api: Any, cfg: Config, proj: dict[str, Any], number: int,
                      sid: str | None) -> str | None:
    """This session's state: fresh from the server, else cached by pre-compact, else the pins."""
    from mso_cli import state
    from mso_cli.client import ApiError, Unreachable

    try:
        md = _checkpoint(api, proj["id"], number, CHECKPOINT_CHARS)
        if md:
            if sid:
                cache_checkpoint(cfg.base_url, agent, sid, {"markdown": md, "project": proj["name"],
                                                            "session": number})
            return compose_state(agent, "checkpoint", markdown=md, project=proj["name"], session=number)
        state.log("checkpoint_unavailable", agent=agent, external_id=sid, reason="no transcript uploaded yet")
    except (Unreachable, ApiError) as e:
        state.log("checkpoint_unavailable", agent=agent, external_id=sid, reason=f"{type(e).__name__}: {e}")
    cached = cached_checkpoint(cfg.base_url, agent, sid) if sid else None
    if cached:
        return compose_state(agent, "checkpoint", markdown=cached["markdown"], project=proj["name"], session=number,
                             cached=True)
    try:
        pins = pins_and_open_items(api, proj["id"])
    except (Unreachable, ApiError):
        return None
    return compose_state(agent, "pins_after_compact", markdown=pins, project=proj["name"], session=number)


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
    from mso_cli.notes import pending_notes
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
    sweep = False
    if sid:
        try:
            track(agent, sid, project=spec, cwd=cwd, transcript_path=_field(payload, "transcript_path"))
            sweep = len(list(tracked_dir().glob("*.json"))) > 1  # another session of ours may be an orphan
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
        if sweep or pending() or pending_notes():
            # the server answers: deliver what an earlier session (or a down server) left, and let the
            # detached flush decide which other session of ours ended without its SessionEnd
            spawn_flush(sweep=sweep)
        if source == "compact":
            state.log("session_start", agent=agent, external_id=sid, project=proj["id"], number=s["number"],
                      source=source)
            return _after_compaction(agent, api, cfg, proj, s["number"], sid)
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
        if not markdown and not from_session:  # the project's first session: its pins and open items
            return compose_state(agent, "pins", markdown=pins_and_open_items(api, proj["id"]), project=proj["name"],
                                 session=s["number"])
        return compose(agent, source, markdown=markdown, project=proj["name"], session=s["number"],
                       from_session=from_session, cached=False)
    except (Unreachable, ApiError, NotConfigured, OSError, ValueError, KeyError, TypeError) as e:
        state.log("session_start_offline", agent=agent, external_id=sid, reason=f"{type(e).__name__}: {e}")
        if source == "compact":  # this session's cached state, or nothing: never the previous handoff
            ck = cached_checkpoint(cfg.base_url, agent, str(sid)) if sid else None
            return None if ck is None else compose_state(agent, "checkpoint", markdown=ck["markdown"],
                                                         project=ck.get("project") or spec,
                                                         session=ck.get("session"), cached=True)
        cached = state.cached_handoff(cfg.base_url, spec)
        if not cached:
            return None
        return compose(agent, source, markdown=cached.get("markdown"), project=cached.get("project") or spec,
                       session=None, from_session=cached.get("from_session"), cached=True)


def spool_event(agent: str, event: str, payload: dict[str, Any], cfg: Config) -> None:
    """session-end completes the session; stop uploads a snapshot of the transcript."""
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


def pre_compact(agent: str, payload: dict[str, Any], cfg: Config) -> None:
    """Upload the transcript so far and cache this session's checkpoint before the context is
    compacted, synchronously within PRECOMPACT_BUDGET_S: session-start after the compaction then
    has this session's state even when the server is slow or down by then. What does not finish
    in time stays in the spool for the detached uploader."""
    from mso_cli import state
    from mso_cli.client import Api, ApiError, NotConfigured, Unreachable
    from mso_cli.spool import Refused, deliver, job_for, spawn_flush, write_job

    sid = _field(payload, "session_id")
    if not sid:
        state.log("hook_without_session_id", agent=agent, event="pre-compact")
        return
    cwd = _field(payload, "cwd") or os.getcwd()
    spec, _ = project_spec(None, cwd, cfg)
    why = exclusion(cwd, spec, cfg)
    if why:
        state.log("hook_excluded", agent=agent, hook="pre-compact", reason=why)
        return
    job = job_for(agent, external_id=sid, project=spec, cwd=cwd, transcript_path=_field(payload, "transcript_path"),
                  complete=False, handoff_mode=cfg.handoff_mode, event="pre-compact")
    path = write_job(job)  # kept until delivered: nothing is lost if the agent kills this hook
    try:
        api = Api(cfg, timeout=PRECOMPACT_BUDGET_S, deadline=STARTED + PRECOMPACT_BUDGET_S)
        result = deliver(api, job, cfg)
        path.unlink(missing_ok=True)
        state.log("job_delivered", external_id=sid, hook="pre-compact", **result)
        md = _checkpoint(api, result["project"], result["number"], CHECKPOINT_CHARS)
        if md:
            cache_checkpoint(cfg.base_url, agent, sid, {"markdown": md, "project": spec, "session": result["number"]})
        state.log("checkpoint_cached", agent=agent, external_id=sid, chars=len(md or ""))
    except (Unreachable, ApiError, NotConfigured, Refused, OSError, KeyError) as e:
        state.log("pre_compact_deferred", agent=agent, external_id=sid, reason=f"{type(e).__name__}: {e}")
        if path.exists():
            spawn_flush()


def post_compact(agent: str, payload: dict[str, Any], cfg: Config) -> None:
    """Spool the summary the agent just wrote of the compacted context (`compact_summary`) as this
    session's account (kind compact_summary); the detached uploader delivers it."""
    from mso_cli import state
    from mso_cli.notes import note_job, spool_note
    from mso_cli.spool import spawn_flush

    sid, summary = _field(payload, "session_id"), _field(payload, "compact_summary")
    if not sid or not summary or not summary.strip():
        state.log("post_compact_without_summary", agent=agent, external_id=sid)
        return
    cwd = _field(payload, "cwd") or os.getcwd()
    spec, _ = project_spec(None, cwd, cfg)
    why = exclusion(cwd, spec, cfg)
    if why:
        state.log("hook_excluded", agent=agent, hook="post-compact", reason=why)
        return
    path = spool_note(note_job(project=spec, external_id=sid, agent=agent, cwd=cwd, text=summary,
                               kind="compact_summary", source="post-compact"))
    state.log("note_spooled", agent=agent, external_id=sid, kind="compact_summary", job=path.name)
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
        elif event == "pre-compact":
            pre_compact(agent, payload, cfg)
        elif event == "post-compact":
            post_compact(agent, payload, cfg)
        elif event in EVENTS:
            spool_event(agent, event, payload, cfg)
    except BaseException:  # noqa: BLE001 - a hook must never fail the agent
        try:
            from mso_cli.state import log_exception

            log_exception("hook_failed", agent=agent, hook=event)
        except BaseException:  # noqa: BLE001
            pass
    return 0
