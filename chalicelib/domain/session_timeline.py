"""One session's timeline: what happened in it, in order, from its transcript's typed actions.

The dashboard draws a session as a strip of events (edits, commands, checks with their outcome,
commits, pushes, compactions, the user's words). The events come from `actions_of` (one adapter
per agent), so the strip looks the same for Claude Code, Codex, aider or any other importer.
Labels are short one-line text from the stored transcript, which was redacted when it was imported.
"""

from __future__ import annotations

from typing import Any

from chalicelib.handoff.ecosystems import parse_output
from chalicelib.handoff.facts import classify, display_command, run_outcome, split_segments
from chalicelib.handoff.textutil import clip, safe_inline
from chalicelib.storage import transcripts as transcript_store
from chalicelib.storage.sessions import get_session
from chalicelib.transcripts.actions import Edit, Other, Shell, actions_of
from chalicelib.transcripts.model import Message

MAX_EVENTS = 2_000
LABEL_CHARS = 160
# which kinds survive when a session has more events than MAX_EVENTS (lower = kept first)
KEEP_ORDER = {"user": 0, "commit": 0, "push": 0, "compaction": 0, "error": 1, "check": 1, "edit": 2,
              "command": 3, "note": 4}
EVENT_KINDS = tuple(KEEP_ORDER)


def _label(text: str) -> str:
    return clip(safe_inline(" ".join(text.split())), LABEL_CHARS)


def _event(index: int, at: str | None, kind: str, label: str, outcome: str | None = None,
           path: str | None = None) -> dict[str, Any]:
    return {"index": index, "at": at, "kind": kind, "label": _label(label), "outcome": outcome, "path": path}


def _shell_event(sh: Shell) -> dict[str, Any]:
    segs = [s for s in split_segments(sh.command) if not s.startswith("cd ")]
    classes = [classify(s) for s in segs]
    label = display_command(sh.command) or sh.command
    git = [s for s, c in zip(segs, classes, strict=True) if c == "git"]
    failed = sh.failed
    outcome: str | None = "fail" if failed else "pass" if sh.result_index is not None else None
    if any(s.startswith("git commit") for s in git):
        return _event(sh.index, sh.at, "commit", label, outcome)
    if any(s.startswith("git push") for s in git):
        return _event(sh.index, sh.at, "push", label, outcome)
    if "test" in classes or "build" in classes:
        if sh.background_id and sh.completed_index is None:
            return _event(sh.index, sh.at, "check", label, None)  # still running when the transcript ends
        if sh.result_index is None and sh.completed_index is None:
            return _event(sh.index, sh.at, "check", label, None)  # no result seen (a cut transcript)
        seg = next(s for s, c in zip(segs, classes, strict=True) if c in ("test", "build"))
        read = parse_output(seg, sh.output, sh.exit_code)  # the ecosystem's own summary and failure lines
        if read is not None and read.outcome != "unknown":
            outcome = "fail" if failed else read.outcome
            summary = read.summary
        else:
            outcome, summary = run_outcome(sh.output, failed)
            outcome = "fail" if failed else outcome if outcome in ("pass", "fail") else None
        return _event(sh.index, sh.at, "check", f"{label} — {summary}" if summary else label, outcome)
    return _event(sh.index, sh.at, "command", label, "fail" if failed else None)


def events_of(messages: list[Message], fmt: str = "") -> list[dict[str, Any]]:
    """The timeline events of a transcript, in message order (not capped)."""
    events: list[dict[str, Any]] = []
    for i, m in enumerate(messages):
        if m.role == "summary" or m.meta.get("compact"):
            events.append(_event(i, m.timestamp, "compaction", "Context compacted"))
        elif m.role == "user" and not m.injected and m.text.strip():
            events.append(_event(i, m.timestamp, "user", m.text))
        elif m.role == "assistant" and m.text.strip() and not m.tool_calls:
            events.append(_event(i, m.timestamp, "note", m.text))
    for a in actions_of(messages, fmt):
        if isinstance(a, Edit):
            counts = "" if a.added is None else f" (+{a.added} −{a.removed or 0})"
            verb = {"added": "Created", "deleted": "Deleted", "renamed": "Renamed"}.get(a.change, "Edited")
            events.append(_event(a.index, a.at, "edit", f"{verb} {a.path}{counts}", None, a.path))
        elif isinstance(a, Shell) and a.command.strip():
            events.append(_shell_event(a))
        elif isinstance(a, Other) and a.is_error:
            first = a.output.strip().split("\n", 1)[0] if a.output.strip() else "(no output)"
            events.append(_event(a.index, a.at, "error", f"{a.tool}: {first}", "fail"))
    events.sort(key=lambda e: e["index"])  # stable: message events before the actions of the same index
    return events


def cap_events(events: list[dict[str, Any]], cap: int = MAX_EVENTS) -> tuple[list[dict[str, Any]], bool]:
    """At most `cap` events, in order; the least important kinds (notes, then commands, ...) go
    first, and within a kind the latest events stay."""
    if len(events) <= cap:
        return events, False
    ranked = sorted(range(len(events)), key=lambda k: (KEEP_ORDER.get(events[k]["kind"], 9), -k))
    keep = sorted(ranked[:cap])
    return [events[k] for k in keep], True


def session_timeline(tenant: str, project_id: str, number: int, cap: int = MAX_EVENTS) -> dict[str, Any]:
    """The session's events (an empty list when it has no transcript). Raises NotFound for a
    project or session the tenant does not have."""
    session = get_session(tenant, project_id, number)
    messages: list[Message] = []
    fmt = ""
    if session.transcript is not None:
        fmt = session.transcript.format or ""
        messages = [Message.from_dict(d) for d in transcript_store.iter_messages(
            tenant, project_id, number, session.transcript.upload_id)]
    events, truncated = cap_events(events_of(messages, fmt), cap)
    stamps = [m.timestamp for m in messages if m.timestamp]
    return {
        "session": number,
        "started_at": min(stamps) if stamps else session.started_at,
        "ended_at": max(stamps) if stamps else session.ended_at,
        "events": events,
        "truncated": truncated,
    }
