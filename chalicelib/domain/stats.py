"""Tenant totals: counts and credits summed from the counters kept on project and account items;
cost priced from each project's sessions, the way the project's analytics prices it.

Cost is not a counter: it is priced from each session's tokens with the vendored price table
(chalicelib.pricing), so a newer table reprices every session. That costs one Query per project
(per ~1 MB of its sessions), never a transcript read.
"""

from __future__ import annotations

from typing import Any

from chalicelib.domain.accounts import account_json
from chalicelib.domain.analytics import all_sessions, cost_totals
from chalicelib.domain.common import json_number
from chalicelib.domain.sessions import session_json
from chalicelib.storage.projects import tenant_rollup

PROJECT_TOTALS = ("session_count", "sessions_in_progress", "sessions_completed", "sessions_failed",
                  "credit_budget", "credits_used", "tasks_planned", "tasks_completed", "duration_s", "errors",
                  "handoffs_ready", "knowledge_count")


def tenant_stats(tenant: str) -> dict[str, Any]:
    projects, accounts = tenant_rollup(tenant)
    sums = {k: 0.0 for k in PROJECT_TOTALS}
    for p in projects:
        for k in PROJECT_TOTALS:
            sums[k] += float(getattr(p, k) or 0)
    planned = sums["tasks_planned"]
    budget = sums["credit_budget"]
    sessions = {p.id: [session_json(s) for s in all_sessions(tenant, p.id)] for p in projects}
    return {
        "projects": len(projects),
        "sessions": {
            "total": json_number(sums["session_count"]), "in_progress": json_number(sums["sessions_in_progress"]),
            "completed": json_number(sums["sessions_completed"]), "failed": json_number(sums["sessions_failed"]),
        },
        "credit_budget": json_number(sums["credit_budget"]),
        "credits_used": json_number(sums["credits_used"]),
        "tasks_planned": json_number(planned),
        "tasks_completed": json_number(sums["tasks_completed"]),
        "task_completion": round(sums["tasks_completed"] / planned, 4) if planned else None,
        "credit_usage": round(sums["credits_used"] / budget, 4) if budget else None,
        "duration_s": json_number(sums["duration_s"]),
        "errors": json_number(sums["errors"]),
        "handoffs_ready": json_number(sums["handoffs_ready"]),
        "knowledge_items": json_number(sums["knowledge_count"]),
        "cost": cost_totals([s for ss in sessions.values() for s in ss]),
        "accounts": [account_json(a) for a in accounts],
        "per_project": [{**_project_row(p), "cost": cost_totals(sessions[p.id])}
                        for p in sorted(projects, key=lambda p: p.name.lower())],
    }


def _project_row(p: Any) -> dict[str, Any]:
    """One project's totals for the cross-project view (from its counters: no session is read)."""
    planned, budget = float(p.tasks_planned or 0), float(p.credit_budget or 0)
    return {
        "id": p.id, "name": p.name,
        "sessions": {"total": json_number(p.session_count or 0), "in_progress": json_number(p.sessions_in_progress or 0),
                     "completed": json_number(p.sessions_completed or 0), "failed": json_number(p.sessions_failed or 0)},
        "credits_used": json_number(p.credits_used or 0), "credit_budget": json_number(budget),
        "tasks_planned": json_number(planned), "tasks_completed": json_number(p.tasks_completed or 0),
        "task_completion": round(float(p.tasks_completed or 0) / planned, 4) if planned else None,
        "credit_usage": round(float(p.credits_used or 0) / budget, 4) if budget else None,
        "duration_s": json_number(p.duration_s or 0), "errors": json_number(p.errors or 0),
        "handoffs_ready": json_number(p.handoffs_ready or 0),
    }
