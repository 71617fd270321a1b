"""Honest LLM status: configured or not, last success and failure, fallback reasons, kept versions, confidence."""

from __future__ import annotations

import json

import pytest

from chalicelib import config
from tests.support.fake_openai import FakeOpenAIServer, reply, server_error

KEY = "hf_" + "StatusKeyThatMustNeverLeak0000000"
ANSWER = ("# Handoff\n\n## Summary of session 1\nTax rules were started.\n\n## Pinned context\n"
          "Never run migrations on prod by hand\n\n## Files changed\n- (none listed)\n\n## Next steps\n1. Keep going.\n")


@pytest.fixture
def llm_env(monkeypatch):
    with FakeOpenAIServer() as server:
        for k, v in {"MSO_JOBS": "sync", "MSO_LLM_BASE_URL": server.base_url, "MSO_LLM_API_KEY": KEY,
                     "MSO_LLM_MODEL": "test/model-8b", "MSO_LLM_TIMEOUT_S": "1", "MSO_LLM_DEADLINE_S": "3",
                     "MSO_LLM_MAX_RETRIES": "0"}.items():
            monkeypatch.setenv(k, v)
        config.reset()
        yield server
    config.reset()


def _project(api) -> str:
    pid = api.post("/api/projects", {"name": "Billing", "goal": "Ship invoicing v2"}).json_body["id"]
    api.put(f"/api/projects/{pid}/pins", ["Never run migrations on prod by hand"])
    api.post(f"/api/projects/{pid}/sessions", {"title": "tax rules"})
    return pid


def test_status_without_a_key_says_not_configured_and_why_the_fallback(api, sync_jobs):
    s = api.get("/api/llm/status").json_body
    assert s["configured"] is False and s["key_source"] is None
    assert s["endpoint_host"] == "router.huggingface.co" and s["model"]
    assert s["last_success"] is None and s["last_failure"] is None
    pid = _project(api)
    api.post(f"/api/projects/{pid}/sessions/1/complete", {"handoff_mode": "llm"})
    h = api.get(f"/api/projects/{pid}/sessions/1/handoff").json_body
    assert h["method"] == "rules" and h["mode"] == "llm" and "LLM not configured" in h["reason"]
    fail = api.get("/api/llm/status").json_body["last_failure"]
    assert "LLM not configured" in fail["reason"] and fail["project_id"] == pid and fail["session"] == 1


def test_status_with_a_key_shows_host_and_model_never_the_key(api, llm_env):
    llm_env.script(reply(ANSWER))
    pid = _project(api)
    api.post(f"/api/projects/{pid}/sessions/1/complete", {"handoff_mode": "llm", "next_steps": ["Add VAT"]})
    r = api.get("/api/llm/status")
    s = r.json_body
    assert s["configured"] is True and s["key_source"] == "MSO_LLM_API_KEY" and s["model"] == "test/model-8b"
    assert s["endpoint_host"].startswith("127.0.0.1:")
    assert s["last_success"]["method"] in ("llm", "llm+rules") and s["last_success"]["model"] == "test/model-8b"
    assert KEY not in r.body.decode()
    # then a failure: kept beside the success, with its reason
    llm_env.script(server_error(), server_error(), server_error())
    api.post(f"/api/projects/{pid}/sessions/1/handoff", {"mode": "llm"})
    s = api.get("/api/llm/status").json_body
    assert s["last_success"] is not None and s["last_failure"]["reason"]
    assert KEY not in json.dumps(s)


def test_confidence_is_the_share_of_must_keep_facts_kept_before_repair(api, llm_env):
    llm_env.script(reply(ANSWER))
    pid = _project(api)
    api.post(f"/api/projects/{pid}/sessions/1/complete", {"handoff_mode": "llm", "next_steps": ["Add VAT for EU"]})
    h = api.get(f"/api/projects/{pid}/sessions/1/handoff").json_body
    conf = h["data"]["llm"]["confidence"]
    restored = {f["text"] for f in h["data"]["llm"]["restored"]}
    total = len({f["text"] for f in h["must_keep"]}) if h["method"] == "llm" else conf["total"]
    assert conf["total"] == total and conf["kept"] == total - len(restored)
    assert 0 <= conf["score"] < 1 and conf["score"] == round(conf["kept"] / conf["total"], 4)
    assert "Add VAT for EU" in restored  # the model dropped it: it lowers the score


def test_regenerations_are_kept_as_versions(api, sync_jobs):
    pid = _project(api)
    api.post(f"/api/projects/{pid}/sessions/1/complete", {"handoff_mode": "rules", "next_steps": ["One"]})
    api.post(f"/api/projects/{pid}/sessions/1/handoff", {"mode": "llm"})
    api.post(f"/api/projects/{pid}/sessions/1/handoff", {"mode": "rules"})
    vs = api.get(f"/api/projects/{pid}/sessions/1/handoff/versions").json_body["items"]
    assert [v["version"] for v in vs] == [3, 2, 1]
    assert [(v["mode"], v["method"]) for v in vs] == [("rules", "rules"), ("llm", "rules"), ("rules", "rules")]
    assert "LLM not configured" in vs[1]["reason"] and vs[0]["reason"] is None
    assert "markdown" not in vs[0]
    v1 = api.get(f"/api/projects/{pid}/sessions/1/handoff/versions/1").json_body
    assert v1["version"] == 1 and "One" in v1["markdown"]
    assert api.get(f"/api/projects/{pid}/sessions/1/handoff/versions/9").status_code == 404
    r = api.get(f"/api/projects/{pid}/sessions/1/handoff/versions/x1")
    assert r.status_code == 400 and r.json_body["error"]["field"] == "version"
    assert api.get(f"/api/projects/{pid}/sessions/2/handoff/versions").status_code == 404
