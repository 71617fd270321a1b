"""Growth metrics: the seed's prediction model beside what sessions actually record.

The prediction (SPEC "Growth metrics") is a pair of curves over the session number N:

- efficiency(N) = 0.7 + 0.25 * tanh(N / 50), which tends to 0.95 and never reaches it;
- knowledge(N) = 1 + ln(1 + N / 10);
- effective output = credits used * efficiency * knowledge; growth rate = relative change per session.

Measured values come from session records only (tasks, credits, duration, errors, handoffs), so
charts can show predicted and measured side by side. Everything here is a pure function: the
analytics API and the handoff's Metrics section call it with plain dicts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

EFFICIENCY_BASE = 0.7
EFFICIENCY_SPAN = 0.25
EFFICIENCY_SCALE = 50.0
EFFICIENCY_LIMIT = EFFICIENCY_BASE + EFFICIENCY_SPAN  # 0.95, the asymptote
# Largest float below the limit: in float64, tanh(N/50) rounds to 1.0 from N ~ 1000 on, which would
# make the curve "reach" 0.95. Capping here keeps the model's promise (never reached) exact.
_EFFICIENCY_CAP = math.nextafter(EFFICIENCY_LIMIT, 0.0)
_EFFICIENCY_CAP_RATIO = math.nextafter(1.0, 0.0)  # keeps atanh finite for targets just under the limit
KNOWLEDGE_SCALE = 10.0
DEFAULT_TARGETS: tuple[float, ...] = (0.9, 0.94)
DEFAULT_LIMIT_FRACTIONS: tuple[float, ...] = (0.99,)


def efficiency(n: float) -> float:
    """Predicted efficiency of session `n` (0.7 at n=0, rising towards 0.95, never reaching it)."""
    if n < 0:
        raise ValueError("session number must be >= 0")
    # 0.95 - 0.25 * (1 - tanh(x)), with 1 - tanh(x) = 2 / (exp(2x) + 1): no cancellation near the limit.
    x = n / EFFICIENCY_SCALE
    gap = 2.0 / (math.exp(2.0 * x) + 1.0) if x < 350 else 0.0
    return min(EFFICIENCY_LIMIT - EFFICIENCY_SPAN * gap, _EFFICIENCY_CAP)


def knowledge(n: float) -> float:
    """Predicted accumulated-knowledge multiplier of session `n` (1 at n=0, logarithmic growth)."""
    if n < 0:
        raise ValueError("session number must be >= 0")
    return 1.0 + math.log1p(n / KNOWLEDGE_SCALE)


def effective_output(credits_used: float, n: float) -> float:
    """Credits turned into output: credits used * efficiency(n) * knowledge(n)."""
    return float(credits_used) * efficiency(n) * knowledge(n)


def growth_rate(previous: float | None, current: float | None) -> float | None:
    """Relative change from one session to the next; None when it is undefined (no base)."""
    if previous is None or current is None or previous == 0:
        return None
    return (current - previous) / abs(previous)


@dataclass(frozen=True)
class TargetAnswer:
    """Answer to "how many sessions until efficiency reaches `target`?"."""

    target: float
    sessions: int | None  # smallest N with efficiency(N) >= target; None when unreachable
    reachable: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def sessions_to_target(target: float, *, of_limit: bool = False) -> TargetAnswer:
    """Smallest session number whose predicted efficiency reaches `target`.

    `of_limit=True` reads `target` as a fraction of the 0.95 limit (0.99 -> 0.9405). A target at or
    above the limit has no finite answer (the curve only approaches it): the answer says so instead
    of looping or returning a huge number.
    """
    if isinstance(target, bool) or not isinstance(target, int | float) or math.isnan(target):
        raise ValueError("target must be a number")
    goal = target * EFFICIENCY_LIMIT if of_limit else float(target)
    if of_limit and not 0 < target < 1:
        return TargetAnswer(goal, None, False,
                            f"{target:.4g} of the limit is not below 100%: efficiency approaches "
                            f"{EFFICIENCY_LIMIT} but never reaches it")
    if goal >= EFFICIENCY_LIMIT:
        return TargetAnswer(goal, None, False,
                            f"efficiency approaches {EFFICIENCY_LIMIT} but never reaches it; "
                            f"choose a target below {EFFICIENCY_LIMIT} (e.g. 0.94 or 99% of the limit)")
    if goal <= efficiency(0):
        return TargetAnswer(goal, 0, True, f"efficiency(0) = {efficiency(0):.4f} already meets the target")
    # Closed form, then fix float rounding by checking the neighbours on the real curve.
    ratio = (goal - EFFICIENCY_BASE) / EFFICIENCY_SPAN
    n = max(0, math.ceil(EFFICIENCY_SCALE * math.atanh(min(ratio, _EFFICIENCY_CAP_RATIO))))
    while n > 0 and efficiency(n - 1) >= goal:
        n -= 1
    while efficiency(n) < goal:
        n += 1
    return TargetAnswer(goal, n, True, f"efficiency({n}) = {efficiency(n):.6f} >= {goal:.6f}")



# ---------------------------------------------------------------------------- measured metrics


def _finite(value: Any) -> float | None:
    """`value` as a finite float, or None (unset, a bool, text that is not a number, NaN, inf)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    try:
        f = float(str(value))
    except ValueError:
        return None
    return f if math.isfinite(f) else None


def _ratio(part: Any, whole: Any) -> float | None:
    p, w = _finite(part), _finite(whole)
    if p is None or w is None or w <= 0:
        return None
    return p / w


def _parse_ts(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def session_duration_s(session: Mapping[str, Any]) -> float | None:
    """Duration in seconds: `duration_s` when recorded, else ended_at - started_at."""
    d = _finite(session.get("duration_s"))
    if d is not None:
        return max(d, 0.0)
    start, end = _parse_ts(session.get("started_at")), _parse_ts(session.get("ended_at"))
    if start is None or end is None:
        return None
    try:
        return max((end - start).total_seconds(), 0.0)
    except TypeError:  # naive vs aware timestamps
        return None


def _count(value: Any) -> int:
    if isinstance(value, list | tuple):
        return len(value)
    n = _finite(value)
    return int(n) if n is not None else 0


def measured_metrics(session: Mapping[str, Any]) -> dict[str, Any]:
    """What one session record says happened (None where it does not say)."""
    handoffs = session.get("handoffs_used")
    if handoffs is None:
        handoffs = 1 if session.get("starting_handoff") else 0
    return {
        "task_completion": _ratio(session.get("tasks_completed"), session.get("tasks_planned")),
        "credit_usage": _ratio(session.get("credits_used"), session.get("credit_budget")),
        "credits_used": _finite(session.get("credits_used")),
        "credit_budget": _finite(session.get("credit_budget")),
        "tasks_completed": _finite(session.get("tasks_completed")),
        "tasks_planned": _finite(session.get("tasks_planned")),
        "duration_s": session_duration_s(session),
        "errors": _count(session.get("errors")),
        "handoffs_used": _count(handoffs),
    }


def predicted_metrics(n: int, credits_used: float | None = None) -> dict[str, Any]:
    """The model's numbers for session `n` (effective output only when credits are known)."""
    return {
        "efficiency": efficiency(n),
        "knowledge": knowledge(n),
        "effective_output": effective_output(credits_used, n) if credits_used is not None else None,
    }


def _measured_output(measured: Mapping[str, Any]) -> float | None:
    """Measured counterpart of effective output: credits used * task completion ratio."""
    credits, completion = measured.get("credits_used"), measured.get("task_completion")
    if credits is None or completion is None:
        return None
    return credits * completion


def build_series(sessions: Iterable[Mapping[str, Any]],
                 targets: Iterable[float] = DEFAULT_TARGETS,
                 limit_fractions: Iterable[float] = DEFAULT_LIMIT_FRACTIONS) -> dict[str, Any]:
    """Per-session series, predicted beside measured, ordered by session number.

    Sessions without a usable `number` are skipped (they cannot be placed on the curve). Growth
    rates compare each session with the previous one in the list.
    """
    rows: list[dict[str, Any]] = []
    numbered = []
    for s in sessions:
        n = _finite(s.get("number"))
        if n is None or n < 0:
            continue
        numbered.append((int(n), s))
    numbered.sort(key=lambda t: t[0])
    prev_pred: float | None = None
    prev_meas: float | None = None
    totals = {"credits_used": 0.0, "tasks_completed": 0.0, "tasks_planned": 0.0, "errors": 0,
              "duration_s": 0.0, "handoffs_used": 0}
    for n, s in numbered:
        measured = measured_metrics(s)
        predicted = predicted_metrics(n, measured["credits_used"])
        meas_out = _measured_output(measured)
        measured["effective_output"] = meas_out
        rows.append({
            "number": n,
            "status": s.get("status"),
            "predicted": predicted,
            "measured": measured,
            "growth_rate": {
                "predicted": growth_rate(prev_pred, predicted["effective_output"]),
                "measured": growth_rate(prev_meas, meas_out),
            },
        })
        prev_pred, prev_meas = predicted["effective_output"], meas_out
        for k in ("credits_used", "tasks_completed", "tasks_planned", "duration_s"):
            totals[k] += measured[k] or 0.0
        totals["errors"] += measured["errors"]
        totals["handoffs_used"] += measured["handoffs_used"]
    answers = [sessions_to_target(t).to_dict() for t in targets]
    answers += [dict(sessions_to_target(f, of_limit=True).to_dict(), of_limit=f) for f in limit_fractions]
    return {
        "limit": EFFICIENCY_LIMIT,
        "sessions": rows,
        "totals": {
            **totals,
            "task_completion": _ratio(totals["tasks_completed"], totals["tasks_planned"]),
            "sessions": len(rows),
        },
        "targets": answers,
    }


def session_metrics(sessions: Iterable[Mapping[str, Any]], number: int) -> dict[str, Any]:
    """Flat numbers about session `number` for its handoff's Metrics section.

    Measured values of the session, its growth against the previous session (predicted and
    measured), project totals up to it and the sessions-to-94% answer. Values that are unknown are
    left out, so the handoff only shows what is known. (Predicted efficiency and knowledge for N
    are computed by the handoff itself.)
    """
    upto = [s for s in sessions if (_finite(s.get("number")) or -1) <= number]
    series = build_series(upto, targets=(0.94,), limit_fractions=())
    row = next((r for r in series["sessions"] if r["number"] == number), None)
    out: dict[str, Any] = {}
    if row is not None:
        m, p, g = row["measured"], row["predicted"], row["growth_rate"]
        out.update({
            "task_completion": m["task_completion"],
            "credit_usage": m["credit_usage"],
            "effective_output_measured": m["effective_output"],
            "effective_output_predicted": p["effective_output"],
            "growth_rate_measured": g["measured"],
            "growth_rate_predicted": g["predicted"],
        })
    totals = series["totals"]
    out["sessions_so_far"] = totals["sessions"]
    out["project_task_completion"] = totals["task_completion"]
    out["project_credits_used"] = totals["credits_used"] if totals["sessions"] else None
    target = series["targets"][0] if series["targets"] else None
    if target and target.get("reachable"):
        out["sessions_to_94pct_efficiency"] = target["sessions"]
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in out.items() if v is not None}
