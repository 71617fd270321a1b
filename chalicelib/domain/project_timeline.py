"""A project's sessions on a time axis: each one's real span, tokens, cost and activity marks.

Served from one Query of the project's sessions: commits and checks come from the summary a
session's handoff job stores on the session (`activity`), so no transcript is read here."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.sessions import session_json
from chalicelib.storage import sessions as store
from chalicelib.storage.models import SessionItem
from chalicelib.storage.projects import get_project

PAGE = 200  # sessions per DynamoDB page while walking the project's sessions


def activity_summary(data: dict[str, Any] | None) -> dict[str, int]:
    """Commits and check outcomes of a handoff's facts (its `data`), as stored on the session: each
    distinct check (command) counts once, by its last outcome."""
    data = data or {}
    checks: list[dict[str, Any]] = []
    for c in data.get("checks") or []:  # one entry per check item, each a list of checks (or one)
        checks.extend(x for x in (c if isinstance(c, list) else [c]) if isinstance(x, dict))
    return {"commits": len([c for c in data.get("commits") or [] if isinstance(c, dict)]),
            "checks_pass": sum(1 for c in checks if c.get("outcome") == "pass"),
            "checks_fail": sum(1 for c in checks if c.get("outcome") == "fail")}


def timeline_entry(s: SessionItem) -> dict[str, Any]:
    """One session on the axis. Its span is the transcript's first and last timestamps when it has
    them (the work itself), else when the API saw it start and end."""
    j = session_json(s)
    t = j["transcript"] or {}
    act = s.activity or {}
    h = j["handoff"]
    return {
        "number": j["number"], "title": j["title"], "status": j["status"],
        "started_at": t.get("started_at") or j["started_at"],
        "ended_at": t.get("ended_at") or j["ended_at"],
        "duration_s": j["duration_s"],
        "tokens": t.get("tokens"),
        "cost_usd": (j["cost"] or {}).get("usd"),
        "peak_context_tokens": t.get("peak_context_tokens"),
        "commits": int(act.get("commits") or 0),
        "checks": {"pass": int(act.get("checks_pass") or 0), "fail": int(act.get("checks_fail") or 0)},
        # the errors it recorded plus its transcript's failed tool calls, as the compare view counts them
        "errors": len(j["errors"]) + int(t.get("tool_errors") or 0),
        "handoff": None if not h else {"status": h.get("status"), "version": h.get("version"),
                                       "method": h.get("method")},
    }


def project_timeline(tenant: str, project_id: str) -> dict[str, Any]:
    """Every session of the project, oldest first (404 for a project this tenant does not have)."""
    get_project(tenant, project_id)
    out: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        items, cursor = store.list_sessions(tenant, project_id, limit=PAGE, cursor=cursor)
        out.extend(timeline_entry(s) for s in items)
        if not cursor:
            break
    return {"project_id": project_id, "sessions": out}
