"""Project analytics: per-session series, predicted (the SPEC's growth model) beside measured.

Reads the project item, its sessions (one Query; more pages only past ~1 MB of sessions) and the
tenant's AI accounts (one Query): never messages or transcripts, whatever their size.

Measured counterparts, from what sessions record:
- efficiency: tasks completed / planned of that session;
- knowledge: 1 + ln(1 + H/10), where H counts the sessions so far that started from a handoff
  (context actually carried forward), the model's own form applied to what happened;
- effective output: credits used * measured efficiency.
"""

from __future__ import annotations

import math
from typing import Any

from chalicelib import metrics, pricing
from chalicelib.domain.projects import project_json
from chalicelib.domain.sessions import session_json
from chalicelib.storage.accounts import list_accounts
from chalicelib.storage.models import SessionItem
from chalicelib.storage.projects import get_project
from chalicelib.storage.sessions import list_sessions

# What a session in progress has not measured yet (its budget and plan are known from the start).
IN_PROGRESS_UNKNOWN = ("efficiency_measured", "credits_used", "credit_usage", "tasks_completed", "duration_s",
                       "errors", "effective_output_measured", "growth_rate_measured")


def all_sessions(tenant: str, project_id: str) -> list[SessionItem]:
    """Every session of a project (one Query per ~1 MB of sessions)."""
    out: list[SessionItem] = []
    cursor = None
    while True:
        page, cursor = list_sessions(tenant, project_id, limit=1000, cursor=cursor)
        out += page
        if not cursor:
            return out


def project_analytics(tenant: str, project_id: str) -> dict[str, Any]:
    project = get_project(tenant, project_id)
    sessions = [session_json(s) for s in all_sessions(tenant, project_id)]
    for s in sessions:
        s["handoffs_used"] = 1 if s.get("started_from_handoff") is not None else 0
    model = metrics.build_series(sessions)
    costs = {s["number"]: (s.get("cost") or {}).get("usd") for s in sessions}
    peaks = {s["number"]: (s.get("transcript") or {}).get("peak_context_tokens") for s in sessions}
    series, carried = [], 0
    for row in model["sessions"]:
        p, m, g = row["predicted"], row["measured"], row["growth_rate"]
        carried += m["handoffs_used"]
        series.append({
            "number": row["number"], "status": row["status"],
            "efficiency_predicted": p["efficiency"], "efficiency_measured": m["task_completion"],
            "knowledge_predicted": p["knowledge"], "knowledge_measured": 1 + math.log(1 + carried / 10),
            "credits_used": m["credits_used"], "credit_budget": m["credit_budget"],
            "credit_usage": m["credit_usage"],
            "tasks_planned": m["tasks_planned"], "tasks_completed": m["tasks_completed"],
            "duration_s": m["duration_s"], "errors": m["errors"], "handoffs_used": m["handoffs_used"],
            "effective_output_predicted": p["effective_output"], "effective_output_measured": m["effective_output"],
            "growth_rate_predicted": g["predicted"], "growth_rate_measured": g["measured"],
            "cost_usd": costs.get(row["number"]), "peak_context_tokens": peaks.get(row["number"]),
        })
        if row["status"] == "in_progress":  # nothing measured yet: a gap in the charts, not a zero
            series[-1].update({k: None for k in IN_PROGRESS_UNKNOWN})
    spend: dict[str, float] = {}
    dollars: dict[str, float] = {}
    for s in sessions:
        if s.get("ai_account"):
            spend[s["ai_account"]] = spend.get(s["ai_account"], 0.0) + float(s.get("credits_used") or 0)
            dollars[s["ai_account"]] = dollars.get(s["ai_account"], 0.0) + float(costs[s["number"]] or 0)
    accounts, _ = list_accounts(tenant, limit=100, cursor=None)
    by_id = {a.id: a for a in accounts}
    acc_rows = [{"id": aid, "name": by_id[aid].name if aid in by_id else aid,
                 "provider": by_id[aid].provider if aid in by_id else None,
                 "credits_used": used, "cost_usd": round(dollars[aid], 6),
                 "credit_budget": float(by_id[aid].credit_budget or 0) if aid in by_id else None}
                for aid, used in sorted(spend.items())]
    targets = model["targets"]
    main = next((t for t in targets if t.get("reachable") and t.get("target") and abs(t["target"] - 0.94) < 1e-9),
                targets[0] if targets else None)
    return {"project": project_json(project), "cost": cost_totals(sessions), "limit": model["limit"],
            "series": series, "accounts": acc_rows, "totals": model["totals"], "targets": targets,
            "sessions_to_target": main,
            "seed_model": "the *_predicted figures, targets and sessions_to_target come from the SPEC seed's growth "
                          "model (fixed constants), not from this project's data; measured figures are *_measured, "
                          "credits, cost and tokens"}


def cost_totals(sessions: list[dict[str, Any]]) -> dict[str, Any]:
    """Dollars and tokens over sessions: what was priced, and how many sessions could not be."""
    priced = [s for s in sessions if (s.get("cost") or {}).get("usd") is not None]
    by_model: dict[str, float] = {}
    for s in priced:
        for m, usd in s["cost"]["by_model"].items():
            by_model[m] = round(by_model.get(m, 0.0) + usd, 6)
    unpriced = sorted({m for s in sessions for m in (s.get("cost") or {}).get("unpriced_models", [])})
    peaks = [int(p) for s in sessions if (p := (s.get("transcript") or {}).get("peak_context_tokens"))]
    return {"usd": round(sum(s["cost"]["usd"] for s in priced), 6) if priced else None,
            "sessions_priced": len(priced),
            "sessions_with_tokens_unpriced": sum(1 for s in sessions if (s.get("cost") or {}).get("usd") is None
                                                 and (s.get("transcript") or {}).get("tokens")),
            "by_model": by_model, "unpriced_models": unpriced, "peak_context_tokens": max(peaks) if peaks else None,
            "price_table": pricing.source()["version"]}
