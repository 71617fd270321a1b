"""GET /api/stats carries cost: the tenant's and each project's, priced from the sessions exactly as the
project's analytics prices them (one pricing path), unpriced models named, other tenants apart."""

from __future__ import annotations

import json

import pytest

from chalicelib import pricing
from tests.unit.api.test_cost import _claude_turn, _transcript


def _project_with_transcript(api, name: str, data: bytes) -> str:
    pid = api.post("/api/projects", {"name": name}).json_body["id"]
    api.post(f"/api/projects/{pid}/sessions", {})
    r = api.put(f"/api/projects/{pid}/sessions/1/transcript", raw=data,
                headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 200, r.body
    return pid


def test_stats_cost_is_the_sum_of_the_projects_analytics_cost(api, other_api):
    a = _project_with_transcript(api, "alpha", _transcript())
    b = _project_with_transcript(api, "beta", "\n".join(
        json.dumps(r) for r in _claude_turn(1, "claude-haiku-4-5", 1_000, 2_000, 0, 0)).encode())
    c = _project_with_transcript(api, "gamma", "\n".join(
        json.dumps(r) for r in _claude_turn(1, "my-local-model", 10, 10, 0, 0)).encode())
    api.post("/api/projects", {"name": "empty"})
    r = api.get("/api/stats")
    assert r.status_code == 200, r.body
    st = r.json_body
    per = {p["name"]: p["cost"] for p in st["per_project"]}
    for name, pid in (("alpha", a), ("beta", b), ("gamma", c)):
        assert per[name] == api.get(f"/api/projects/{pid}/analytics").json_body["cost"]
    usd_a, usd_b = per["alpha"]["usd"], per["beta"]["usd"]
    assert usd_a > 0 and usd_b == pytest.approx(pricing.cost_usd("claude-haiku-4-5", {
        "input_tokens": 1_000, "output_tokens": 2_000}))
    assert per["gamma"]["usd"] is None and per["gamma"]["unpriced_models"] == ["my-local-model"]
    assert per["empty"]["usd"] is None and per["empty"]["sessions_priced"] == 0
    cost = st["cost"]
    assert cost["usd"] == pytest.approx(usd_a + usd_b)
    assert cost["sessions_priced"] == 2 and cost["sessions_with_tokens_unpriced"] == 1
    assert cost["unpriced_models"] == ["my-local-model"] and cost["price_table"] == pricing.source()["version"]
    assert cost["peak_context_tokens"] == max(per["alpha"]["peak_context_tokens"], per["beta"]["peak_context_tokens"])
    assert set(cost["by_model"]) == {"claude-opus-4-6", "claude-haiku-4-5"}
    # another tenant's stats price nothing of this tenant's
    other = other_api.get("/api/stats").json_body
    assert other["cost"]["usd"] is None and other["cost"]["sessions_priced"] == 0 and other["per_project"] == []


def test_stats_with_cost_match_the_published_schema(api):
    import fastjsonschema

    from chalicelib.api import responses as R

    _project_with_transcript(api, "alpha", _transcript())
    body = api.get("/api/stats").json_body
    fastjsonschema.compile(R.STATS)(body)  # raises on a mismatch
    with pytest.raises(fastjsonschema.JsonSchemaException):
        fastjsonschema.compile(R.STATS)({**body, "cost": {**body["cost"], "sessions_priced": "one"}})
    published = api.get("/api/openapi.json").json_body["paths"]["/api/stats"]["get"]["responses"]["200"]
    assert "sessions_priced" in json.dumps(published)
