"""The LLM handoff path end to end through the API and the worker, against our fake OpenAI server."""

from __future__ import annotations

import json
import logging

import pytest

from chalicelib import config
from tests.support.fake_openai import FakeOpenAIServer, reply, server_error

KEY = "hf_" + "S3cretKeyThatMustNeverLeak000000"


@pytest.fixture
def llm_env(monkeypatch):
    with FakeOpenAIServer() as server:
        for k, v in {"MSO_JOBS": "sync", "MSO_LLM_BASE_URL": server.base_url, "MSO_LLM_API_KEY": KEY,
                     "MSO_LLM_TIMEOUT_S": "1", "MSO_LLM_DEADLINE_S": "3", "MSO_LLM_MAX_RETRIES": "1"}.items():
            monkeypatch.setenv(k, v)
        config.reset()
        yield server
    config.reset()


@pytest.fixture
def finished(api, llm_env):
    pid = api.post("/api/projects", {"name": "Billing", "goal": "Ship invoicing v2"}).json_body["id"]
    api.put(f"/api/projects/{pid}/pins", ["Never run migrations on prod by hand"])
    api.post(f"/api/projects/{pid}/sessions", {"title": "tax rules"})
    api.put_raw(f"/api/projects/{pid}/sessions/1/transcript?format=text",
                b"User: please add tax rules for TASK-88\nAssistant: added src/tax.py and ran pytest\n")
    return pid


def _complete(api, pid, mode):
    r = api.post(f"/api/projects/{pid}/sessions/1/complete",
                 {"handoff_mode": mode, "next_steps": ["Add VAT for EU customers"]})
    assert r.status_code == 202, r.body
    return api.get(f"/api/projects/{pid}/sessions/1/handoff").json_body


def test_llm_answer_that_drops_facts_is_repaired(api, finished, llm_env, caplog):
    llm_env.script(reply("# Handoff\n\n## Summary of session 1\nTax rules were started.\n\n"
                         "## Files changed\n- (none listed)\n\n## Next steps\n1. Keep going.\n"))
    caplog.set_level(logging.DEBUG)
    h = _complete(api, finished, "llm")
    assert h["status"] == "ready" and h["method"] == "llm+rules", h["reason"]
    md = h["markdown"]
    assert "Tax rules were started." in md  # the model's words stay
    for fact in ("Never run migrations on prod by hand", "Add VAT for EU customers"):
        assert fact in md  # what it dropped was put back
    assert h["data"]["llm"]["calls"] == 1 and h["data"]["llm"]["restored"]
    sent = llm_env.requests[0]
    assert sent.headers.get("Authorization") == f"Bearer {KEY}"
    assert "TASK-88" in sent.prompt_text
    assert KEY not in json.dumps(h) and KEY not in caplog.text


def test_llm_down_falls_back_to_rules_with_the_reason(api, finished, llm_env, caplog):
    llm_env.default = server_error(503, message="overloaded", echo_auth=True)
    caplog.set_level(logging.DEBUG)
    h = _complete(api, finished, "auto")
    assert h["status"] == "ready" and h["method"] == "rules"
    assert "503" in (h["reason"] or ""), h["reason"]
    assert "Never run migrations on prod by hand" in h["markdown"]
    assert len(llm_env.requests) >= 2  # retried before giving up
    assert KEY not in json.dumps(h) and KEY not in caplog.text


def test_rules_mode_never_calls_the_llm(api, finished, llm_env):
    h = _complete(api, finished, "rules")
    assert h["method"] == "rules" and llm_env.requests == []
