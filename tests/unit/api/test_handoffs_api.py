"""Completing sessions and handoff jobs through the API (jobs run synchronously here)."""

from __future__ import annotations

import pytest

from chalicelib.domain.handoffs import run_job
from chalicelib.storage.handoffs import get_handoff
from chalicelib.storage.projects import get_project


@pytest.fixture
def pid(api, sync_jobs):
    pid = api.post("/api/projects", {"name": "Billing", "goal": "Ship invoicing v2"}).json_body["id"]
    api.put(f"/api/projects/{pid}/pins", ["Never run migrations on prod by hand"])
    return pid


def _complete(api, pid, n, **fields):
    body = {"status": "completed", "handoff_mode": "rules", **fields}
    return api.post(f"/api/projects/{pid}/sessions/{n}/complete", body)


def test_complete_queues_and_produces_the_handoff(api, pid):
    api.post(f"/api/projects/{pid}/sessions", {"title": "Invoice model", "tasks_planned": 3})
    r = _complete(api, pid, 1, credits_used=12, tasks_completed=2, accomplishments=["Invoice table created"],
                  next_steps=["Add tax rules (TASK-17)"], learnings=["pynamodb update returns ALL_NEW"])
    assert r.status_code == 202, r.body
    assert r.json_body["session"]["status"] == "completed"
    h = api.get(f"/api/projects/{pid}/sessions/1/handoff").json_body
    assert h["status"] == "ready" and h["method"] == "rules" and h["for_session"] == 2
    md = h["markdown"]
    for text in ("Never run migrations on prod by hand", "Invoice table created", "Add tax rules (TASK-17)",
                 "Ship invoicing v2"):
        assert text in md
    assert h["input_chars"] > 0 and h["output_chars"] == len(md)
    assert any(f["kind"] == "pin" for f in h["must_keep"])
    latest = api.get(f"/api/projects/{pid}/handoff/latest?format=md")
    assert latest.status_code == 200 and latest.headers["Content-Type"].startswith("text/markdown")
    assert latest.body.decode() == md
    listed = api.get(f"/api/projects/{pid}/sessions").json_body["items"][0]
    assert listed["handoff"]["status"] == "ready" and listed["handoff"]["method"] == "rules"
    nxt = api.post(f"/api/projects/{pid}/sessions", {}).json_body
    assert nxt["starting_handoff"]["markdown"] == md and nxt["started_from_handoff"] == 1
    assert api.get(f"/api/projects/{pid}/knowledge").json_body["items"][0]["source_session"] == 1


def test_open_items_carry_forward_until_done(api, pid):
    api.post(f"/api/projects/{pid}/sessions", {})
    _complete(api, pid, 1, next_steps=["Write the migration guide"])
    api.post(f"/api/projects/{pid}/sessions", {})
    _complete(api, pid, 2, accomplishments=["Refactored the tax module"])
    assert "Write the migration guide" in api.get(f"/api/projects/{pid}/sessions/2/handoff").json_body["markdown"]
    api.post(f"/api/projects/{pid}/sessions", {})
    _complete(api, pid, 3, done_items=["Write the migration guide"])
    md3 = api.get(f"/api/projects/{pid}/sessions/3/handoff").json_body["markdown"]
    next_steps = md3.split("Next steps", 1)[-1].split("\n## ", 1)[0]
    assert "Write the migration guide" not in next_steps


def test_cannot_hand_off_a_session_in_progress(api, pid):
    api.post(f"/api/projects/{pid}/sessions", {})
    r = api.post(f"/api/projects/{pid}/sessions/1/handoff", {"mode": "rules"})
    assert r.status_code == 409 and r.json_body["error"]["code"] == "session_in_progress"
    assert api.get(f"/api/projects/{pid}/sessions/1/handoff").status_code == 404
    assert api.get(f"/api/projects/{pid}/handoff/latest").status_code == 404


def test_complete_twice_is_409_regenerate_is_the_way(api, pid):
    api.post(f"/api/projects/{pid}/sessions", {})
    assert _complete(api, pid, 1).status_code == 202
    assert _complete(api, pid, 1).status_code == 409
    r = api.post(f"/api/projects/{pid}/sessions/1/handoff", {"mode": "rules", "budget_chars": 4000})
    assert r.status_code == 202
    h = api.get(f"/api/projects/{pid}/sessions/1/handoff").json_body
    assert h["version"] == 2 and h["status"] == "ready" and h["budget_chars"] == 4000
    assert get_project("acme", pid).handoffs_ready == 1


def test_duplicate_job_delivery_changes_nothing(api, pid):
    api.post(f"/api/projects/{pid}/sessions", {})
    _complete(api, pid, 1)
    h = get_handoff("acme", pid, 1)
    before = (h.version, h.markdown, h.finished_at)
    assert run_job({"tenant": "acme", "project_id": pid, "number": 1, "job_id": h.job_id}) == "duplicate"
    h2 = get_handoff("acme", pid, 1)
    assert (h2.version, h2.markdown, h2.finished_at) == before


def test_auto_mode_without_llm_key_uses_rules_and_says_why(api, pid):
    api.post(f"/api/projects/{pid}/sessions", {})
    api.post(f"/api/projects/{pid}/sessions/1/complete", {"status": "failed", "handoff_mode": "auto"})
    h = api.get(f"/api/projects/{pid}/sessions/1/handoff").json_body
    assert h["method"] == "rules" and "not configured" in h["reason"]


def test_bad_format_and_missing_handoff(api, pid):
    api.post(f"/api/projects/{pid}/sessions", {})
    assert api.get(f"/api/projects/{pid}/sessions/1/handoff?format=md").status_code == 404  # none yet
    assert api.get(f"/api/projects/{pid}/sessions/1/handoff?format=pdf").status_code == 400  # checked first
    _complete(api, pid, 1)
    r = api.get(f"/api/projects/{pid}/sessions/1/handoff?format=pdf")
    assert r.status_code == 400 and r.json_body["error"]["field"] == "format"


def test_a_failed_job_heals_when_the_message_is_redelivered(api, pid, monkeypatch):
    from chalicelib.domain import handoffs as domain

    api.post(f"/api/projects/{pid}/sessions", {})
    real = domain.generate
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("DynamoDB went away")
        return real(*args, **kwargs)

    monkeypatch.setattr(domain, "generate", flaky)
    with pytest.raises(ConnectionError):  # the worker re-raises, so SQS redelivers the message
        domain.run_job({"tenant": "acme", "project_id": pid, "number": 1,
                        "job_id": domain.store.request_handoff("acme", pid, 1, mode="rules",
                                                               budget_chars=None).job_id})
    failed = get_handoff("acme", pid, 1)
    assert failed.status == "failed" and "ConnectionError" in failed.reason
    assert api.get(f"/api/projects/{pid}/sessions/1").json_body["handoff"]["status"] == "failed"
    assert domain.run_job({"tenant": "acme", "project_id": pid, "number": 1, "job_id": failed.job_id}) == "ready"
    healed = get_handoff("acme", pid, 1)
    assert healed.status == "ready" and healed.version == failed.version and healed.attempts == 2


def test_max_chars_renders_any_budget_from_the_stored_layout(api, pid):
    """`?max_chars=N` re-renders the stored document at N characters, the same bytes every time,
    without a new job (the version stays 1); out-of-range values are a 400 naming the field."""
    from pathlib import Path

    api.post(f"/api/projects/{pid}/sessions", {"title": "Real session"})
    real = Path(__file__).resolve().parents[2] / "fixtures/real/claude-code"
    raw = next(real.glob("8463c716*.jsonl.gz")).read_bytes()
    up = api.put_raw(f"/api/projects/{pid}/sessions/1/transcript?format=claude-code", raw, "application/gzip")
    assert up.status_code in (200, 201), up.body
    _complete(api, pid, 1, next_steps=["Ship the highlighter"])
    full = api.get(f"/api/projects/{pid}/sessions/1/handoff").json_body
    assert full["status"] == "ready" and full["output_chars"] <= 9500
    sizes = {}
    for n in (2000, 5000, 9500, 50000):
        a = api.get(f"/api/projects/{pid}/handoff/latest?format=md&max_chars={n}")
        b = api.get(f"/api/projects/{pid}/sessions/1/handoff?format=md&max_chars={n}")
        assert a.status_code == 200 and a.body == b.body
        text = a.body.decode()
        assert len(text) <= n and "Ship the highlighter" in text
        sizes[n] = len(text)
    assert sizes[2000] < sizes[5000] < sizes[9500] <= sizes[50000]
    assert api.get(f"/api/projects/{pid}/handoff/latest?max_chars=9500").json_body["markdown"] == full["markdown"]
    assert api.get(f"/api/projects/{pid}/sessions/1/handoff").json_body["version"] == 1
    for bad in ("1999", "50001", "abc", "¹"):
        r = api.get(f"/api/projects/{pid}/handoff/latest?format=md&max_chars={bad}")
        assert r.status_code == 400 and r.json_body["error"]["field"] == "max_chars", (bad, r.body)


def test_knowledge_feeds_the_handoff_and_counts_a_use(api, pid):
    """A hand-added item reaches the next handoff; being included counts as a use, like a copy."""
    k = api.post(f"/api/projects/{pid}/knowledge", {"title": "Staging deploys need the VPN",
                                                    "body": "Connect before `make deploy`."}).json_body
    api.post(f"/api/projects/{pid}/sessions", {})
    _complete(api, pid, 1, next_steps=["Deploy to staging"])
    h = api.get(f"/api/projects/{pid}/sessions/1/handoff").json_body
    assert "Staging deploys need the VPN" in h["markdown"] and h["data"]["knowledge_used"] == [k["id"]]
    items = api.get(f"/api/projects/{pid}/knowledge").json_body["items"]
    assert next(i for i in items if i["id"] == k["id"])["uses"] == k["uses"] + 1
