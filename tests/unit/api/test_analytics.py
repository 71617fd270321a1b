"""Project analytics: measured beside predicted; a session in progress is a gap, not a zero."""

from __future__ import annotations


def test_a_session_in_progress_is_not_measured_as_zero(api):
    pid = api.post("/api/projects", {"name": "A"}).json_body["id"]
    api.post(f"/api/projects/{pid}/sessions", {"credit_budget": 10, "tasks_planned": 4})
    api.post(f"/api/projects/{pid}/sessions/1/complete",
             {"handoff_mode": "rules", "credits_used": 8, "tasks_completed": 3})
    api.post(f"/api/projects/{pid}/sessions", {"credit_budget": 10, "tasks_planned": 5})
    series = api.get(f"/api/projects/{pid}/analytics").json_body["series"]
    done, running = series
    assert done["efficiency_measured"] == 0.75 and done["credits_used"] == 8
    assert running["status"] == "in_progress"
    for k in ("efficiency_measured", "credits_used", "tasks_completed", "effective_output_measured",
              "growth_rate_measured"):
        assert running[k] is None, k
    assert running["credit_budget"] == 10 and running["tasks_planned"] == 5  # known from the start
    assert running["efficiency_predicted"] > done["efficiency_predicted"]
