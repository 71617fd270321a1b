"""Growth metrics: the SPEC formulas, sessions-to-target, measured metrics and per-session series."""

from __future__ import annotations

import math

import pytest

from chalicelib import metrics as m


def reference_efficiency(n: int) -> float:
    return 0.7 + 0.25 * math.tanh(n / 50)


def test_efficiency_matches_the_formula_and_starts_at_0_7() -> None:
    assert m.efficiency(0) == pytest.approx(0.7, abs=1e-15)
    for n in (1, 5, 10, 25, 50, 98, 150, 300):
        assert m.efficiency(n) == pytest.approx(reference_efficiency(n), rel=1e-12)


def test_efficiency_rises_but_never_reaches_the_limit() -> None:
    values = [m.efficiency(n) for n in range(0, 3000, 7)]
    assert all(a <= b for a, b in zip(values, values[1:], strict=False))
    assert all(v < 0.95 for v in values)
    for n in (1000, 10**6, 10**12):
        assert m.efficiency(n) < m.EFFICIENCY_LIMIT == 0.95
        assert m.efficiency(n) > 0.9499
    # the naive float formula does reach 0.95; the model promises it never does
    assert reference_efficiency(2000) == 0.95


def test_knowledge_and_effective_output() -> None:
    assert m.knowledge(0) == 1.0
    assert m.knowledge(10) == pytest.approx(1 + math.log(2))
    assert m.knowledge(90) == pytest.approx(1 + math.log(10))
    assert m.effective_output(200, 20) == pytest.approx(200 * reference_efficiency(20) * (1 + math.log(3)))
    with pytest.raises(ValueError):
        m.efficiency(-1)


def test_growth_rate_is_relative_change() -> None:
    assert m.growth_rate(100, 110) == pytest.approx(0.1)
    assert m.growth_rate(100, 90) == pytest.approx(-0.1)
    assert m.growth_rate(0, 5) is None
    assert m.growth_rate(None, 5) is None


@pytest.mark.parametrize("target", [0.75, 0.8, 0.9, 0.94, 0.945, 0.949])
def test_sessions_to_target_is_the_smallest_session_reaching_it(target: float) -> None:
    expected = next(n for n in range(100000) if reference_efficiency(n) >= target)
    ans = m.sessions_to_target(target)
    assert ans.reachable and ans.sessions == expected
    assert m.efficiency(ans.sessions) >= target > m.efficiency(ans.sessions - 1)


def test_sessions_to_a_fraction_of_the_limit() -> None:
    ans = m.sessions_to_target(0.99, of_limit=True)
    goal = 0.99 * 0.95
    assert ans.target == pytest.approx(goal)
    assert ans.sessions == next(n for n in range(100000) if reference_efficiency(n) >= goal)


@pytest.mark.parametrize("target", [0.95, 0.96, 1.0, 5.0])
def test_unreachable_targets_have_no_number_and_a_reason(target: float) -> None:
    ans = m.sessions_to_target(target)
    assert ans.sessions is None and not ans.reachable
    assert "never" in ans.reason and "0.95" in ans.reason
    assert m.sessions_to_target(1.0, of_limit=True).sessions is None


def test_targets_at_or_below_the_start_need_no_sessions() -> None:
    assert m.sessions_to_target(0.7).sessions == 0
    assert m.sessions_to_target(0.1).sessions == 0
    with pytest.raises(ValueError):
        m.sessions_to_target(float("nan"))


def test_measured_metrics_from_a_session_record() -> None:
    got = m.measured_metrics({"tasks_planned": 4, "tasks_completed": 3, "credit_budget": 200, "credits_used": 50,
                              "started_at": "2026-02-11T20:00:00Z", "ended_at": "2026-02-11T21:30:00Z",
                              "errors": ["a", "b"], "starting_handoff": {"number": 2}})
    assert got["task_completion"] == 0.75 and got["credit_usage"] == 0.25
    assert got["duration_s"] == 5400 and got["errors"] == 2 and got["handoffs_used"] == 1
    empty = m.measured_metrics({})
    assert empty["task_completion"] is None and empty["credit_usage"] is None and empty["duration_s"] is None
    assert m.measured_metrics({"tasks_planned": 0, "tasks_completed": 1})["task_completion"] is None
    assert m.measured_metrics({"duration_s": 42})["duration_s"] == 42


def test_series_puts_prediction_beside_measurement_in_session_order() -> None:
    sessions = [
        {"number": 2, "credits_used": 100, "credit_budget": 100, "tasks_planned": 2, "tasks_completed": 2},
        {"number": 1, "credits_used": 50, "credit_budget": 100, "tasks_planned": 4, "tasks_completed": 2,
         "errors": ["x"]},
        {"number": None},
    ]
    series = m.build_series(sessions)
    rows = series["sessions"]
    assert [r["number"] for r in rows] == [1, 2]
    p1, p2 = rows[0]["predicted"], rows[1]["predicted"]
    assert p1["efficiency"] == pytest.approx(reference_efficiency(1))
    assert p2["effective_output"] == pytest.approx(100 * reference_efficiency(2) * (1 + math.log(1.2)))
    assert rows[0]["measured"]["task_completion"] == 0.5 and rows[1]["measured"]["task_completion"] == 1.0
    assert rows[0]["growth_rate"]["predicted"] is None
    assert rows[1]["growth_rate"]["predicted"] == pytest.approx(p2["effective_output"] / p1["effective_output"] - 1)
    assert rows[1]["growth_rate"]["measured"] == pytest.approx(100 / 25 - 1)  # 50*0.5 -> 100*1.0
    assert series["totals"]["errors"] == 1 and series["totals"]["sessions"] == 2
    assert series["totals"]["task_completion"] == pytest.approx(4 / 6)
    by_target = {t["target"]: t for t in series["targets"]}
    assert by_target[0.94]["sessions"] == next(n for n in range(1000) if reference_efficiency(n) >= 0.94)
    assert series["limit"] == 0.95


def test_session_metrics_for_the_handoff() -> None:
    sessions = [
        {"number": 1, "credits_used": 50, "tasks_planned": 4, "tasks_completed": 2},
        {"number": 2, "credits_used": 100, "credit_budget": 200, "tasks_planned": 2, "tasks_completed": 2},
        {"number": 3, "credits_used": 999, "tasks_planned": 1, "tasks_completed": 0},  # after N: ignored
    ]
    got = m.session_metrics(sessions, 2)
    assert got["task_completion"] == 1.0 and got["credit_usage"] == 0.5
    assert got["growth_rate_measured"] == pytest.approx(3.0)  # 50*0.5=25 -> 100*1.0=100
    assert got["sessions_so_far"] == 2 and got["project_credits_used"] == 150
    assert got["project_task_completion"] == pytest.approx(4 / 6, abs=1e-4)
    assert got["sessions_to_94pct_efficiency"] == next(n for n in range(1000) if reference_efficiency(n) >= 0.94)
    assert all(v is not None for v in got.values())
    empty = m.session_metrics([], 1)  # nothing measured: only what the model alone answers
    assert empty == {"sessions_so_far": 0, "sessions_to_94pct_efficiency": got["sessions_to_94pct_efficiency"]}
