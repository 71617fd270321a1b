"""The loop's API on DynamoDB Local over HTTP: versions, LLM status, analytics gaps, knowledge, error shapes."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from chalicelib import jobs

pytestmark = pytest.mark.integration
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "transcripts"


def _http(live):
    return live("t" + uuid.uuid4().hex[:10])


def test_regenerations_are_versions_and_the_fallback_reason_is_kept(live):
    http = _http(live)
    pid = http("POST", "/api/projects", {"name": "versions"}).json()["id"]
    http("POST", f"/api/projects/{pid}/sessions", {})
    assert http("POST", f"/api/projects/{pid}/sessions/1/complete",
                {"handoff_mode": "rules", "next_steps": ["One"]}).status_code == 202
    jobs.wait_idle(60)
    assert http("POST", f"/api/projects/{pid}/sessions/1/handoff", {"mode": "llm"}).status_code == 202
    jobs.wait_idle(60)
    vs = http("GET", f"/api/projects/{pid}/sessions/1/handoff/versions").json()["items"]
    assert [(v["version"], v["mode"], v["method"]) for v in vs] == [(2, "llm", "rules"), (1, "rules", "rules")]
    assert "LLM not configured" in vs[0]["reason"]
    assert "One" in http("GET", f"/api/projects/{pid}/sessions/1/handoff/versions/1").json()["markdown"]
    status = http("GET", "/api/llm/status").json()
    assert status["configured"] is False and "LLM not configured" in status["last_failure"]["reason"]


def test_analytics_gap_tokens_and_knowledge_on_dynamodb_local(live):
    http = _http(live)
    pid = http("POST", "/api/projects", {"name": "loop"}).json()["id"]
    http("POST", f"/api/projects/{pid}/sessions", {"tasks_planned": 2})
    r = http("PUT", f"/api/projects/{pid}/sessions/1/transcript", params={"format": "claude-code"},
             data=(FIXTURES / "claude_code_small.jsonl").read_bytes(), headers={"Content-Type": "text/plain"})
    assert r.status_code == 200, r.text
    assert (r.json()["input_tokens"], r.json()["cache_read_tokens"], r.json()["tokens"]) == (19, 3400, 259)
    http("POST", f"/api/projects/{pid}/sessions/1/complete", {"handoff_mode": "rules", "tasks_completed": 1})
    http("POST", f"/api/projects/{pid}/sessions", {})
    jobs.wait_idle(60)
    series = http("GET", f"/api/projects/{pid}/analytics").json()["series"]
    assert series[0]["efficiency_measured"] == 0.5 and series[1]["efficiency_measured"] is None
    add = [http("POST", f"/api/projects/{pid}/knowledge", {"title": t, "body": b, "tags": g}).json()
           for t, b, g in (("Deploy notes", "mentions webhooks", []), ("Webhooks retry", "keys", []),
                           ("Queue", "ack", ["webhooks"]))]
    ranked = [k["id"] for k in http("GET", "/api/knowledge", params={"q": "webhooks"}).json()["items"]]
    assert ranked == [add[1]["id"], add[2]["id"], add[0]["id"]]
    assert http("DELETE", f"/api/projects/{pid}/knowledge/{add[0]['id']}").status_code == 200
    assert http("GET", f"/api/projects/{pid}").json()["knowledge_items"] == 2
    r = http("POST", "/api/projects", data=b"x", headers={"Content-Type": "image/png"})
    assert r.status_code == 415 and r.json()["error"]["code"] == "unsupported_media_type"
