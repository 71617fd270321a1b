"""Tenant totals, summed from the counters kept on project and account items (never from sessions)."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.accounts import account_json
from chalicelib.domain.projects import _num
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
    return {
        "projects": len(projects),
        "sessions": {
            "total": _num(sums["session_count"]), "in_progress": _num(sums["sessions_in_progress"]),
            "completed": _num(sums["sessions_completed"]), "failed": _num(sums["sessions_failed"]),
        },
        "credit_budget": _num(sums["credit_budget"]),
        "credits_used": _num(sums["credits_used"]),
        "tasks_planned": _num(planned),
        "tasks_completed": _num(sums["tasks_completed"]),
        "task_completion": round(sums["tasks_completed"] / planned, 4) if planned else None,
        "credit_usage": round(sums["credits_used"] / budget, 4) if budget else None,
        "duration_s": _num(sums["duration_s"]),
        "errors": _num(sums["errors"]),
        "handoffs_ready": _num(sums["handoffs_ready"]),
        "knowledge_items": _num(sums["knowledge_count"]),
        "accounts": [account_json(a) for a in accounts],
    }
