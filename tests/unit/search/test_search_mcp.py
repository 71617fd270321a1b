"""The MCP tools search -> timeline -> get_details over POST /mcp (progressive disclosure)."""

from __future__ import annotations

import json

import pytest

from tests.unit.api.test_mcp import call, rpc


def _body(result):
    assert result["isError"] is False, result
    return json.loads(result["content"][0]["text"])


@pytest.fixture
def project(api):
    pid = api.post("/api/projects", {"name": "Billing"}).json_body["id"]
    api.post(f"/api/projects/{pid}/sessions", {})
    turns = [("user", f"step {i}: look at the ledger") for i in range(6)]
    turns[3] = ("user", "the flamingo migration fails on sqlite")
    msgs = [{"role": r, "content": t} for r, t in turns]
    api.put(f"/api/projects/{pid}/sessions/1/transcript?format=openai", raw=json.dumps(msgs).encode(),
            headers={"Content-Type": "application/octet-stream"})
    api.post(f"/api/projects/{pid}/sessions/1/notes", {"text": "Decided: flamingo stays behind a flag",
                                                       "kind": "handoff"})
    return pid


def test_search_then_timeline_then_details(api, project):
    hits = _body(call(api, "search", {"query": "flamingo"}))["hits"]
    assert {h["kind"] for h in hits} >= {"prompt", "note"}
    msg = next(h for h in hits if h["kind"] == "prompt")
    assert msg["id"] == f"p:{project}/s:1/m:3" and msg["tokens"] >= 1 and "flamingo" in msg["snippet"]
    assert set(msg) == {"id", "kind", "session", "message_index", "at", "snippet", "tokens"}

    tl = _body(call(api, "timeline", {"id": msg["id"], "before": 2, "after": 1}))
    assert [m["index"] for m in tl["messages"]] == [1, 2, 3, 4]
    assert "flamingo" in tl["messages"][2]["text"] and all(m["id"].startswith(f"p:{project}/s:1/m:")
                                                           for m in tl["messages"])

    note = next(h for h in hits if h["kind"] == "note")
    full = _body(call(api, "get_details", {"ids": [msg["id"], note["id"], f"p:{project}/s:1/m:999"]}))
    assert full["items"][0]["message"]["text"] == "the flamingo migration fails on sqlite"
    assert full["items"][1]["kind"] == "note" and "behind a flag" in full["items"][1]["text"]
    assert [m["id"] for m in full["missing"]] == [f"p:{project}/s:1/m:999"]


def test_project_scoped_and_bad_input(api, project):
    assert _body(call(api, "search", {"query": "flamingo", "project": "Billing"}))["hits"]
    assert _body(call(api, "search", {"query": "NEAR(\"*"}))["hits"] == []  # FTS syntax is plain words
    bad = rpc(api, "tools/call", {"name": "search", "arguments": {"query": "\"* ()"}}).json_body
    assert bad["error"]["code"] == -32602 and "no words" in bad["error"]["message"]  # invalid params, not 500
    bad = rpc(api, "tools/call", {"name": "timeline", "arguments": {"id": f"p:{project}/s:1/note:1"}}).json_body
    assert bad["error"]["code"] == -32602 and "message id" in bad["error"]["message"]


def test_another_tenant_sees_nothing(api, other_api, project):
    assert _body(call(other_api, "search", {"query": "flamingo"}))["hits"] == []
    out = _body(call(other_api, "get_details", {"ids": [f"p:{project}/s:1/m:3"]}))
    assert out["items"] == [] and out["missing"]
    r = rpc(other_api, "tools/call", {"name": "timeline", "arguments": {"id": f"p:{project}/s:1/m:3"}}).json_body
    assert "flamingo" not in json.dumps(r) and ("error" in r or r["result"]["isError"] is True)
