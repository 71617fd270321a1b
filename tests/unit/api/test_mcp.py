"""POST /mcp on moto: both protocol eras, every tool, JSON-RPC errors naming the field."""

from __future__ import annotations

import json

import pytest

MODERN = "2026-07-28"


def rpc(api, method, params=None, *, id_=1, headers=None, token="default"):
    msg = {"jsonrpc": "2.0", "method": method}
    if id_ is not None:
        msg["id"] = id_
    if params is not None:
        msg["params"] = params
    return api.request("POST", "/mcp", raw=json.dumps(msg).encode(), headers=headers or {}, token=token)


def modern(api, method, params=None, *, headers=None, **kw):
    p = {**(params or {}), "_meta": {"io.modelcontextprotocol/protocolVersion": MODERN,
                                     "io.modelcontextprotocol/clientCapabilities": {}}}
    h = {"MCP-Protocol-Version": MODERN, "Mcp-Method": method, **(headers or {})}
    return rpc(api, method, p, headers=h, **kw)


def call(api, name, arguments=None):
    r = rpc(api, "tools/call", {"name": name, "arguments": arguments or {}})
    assert r.status_code == 200 and "result" in r.json_body, r.body
    return r.json_body["result"]


@pytest.fixture
def project(api):
    pid = api.post("/api/projects", {"name": "Billing"}).json_body["id"]
    api.post(f"/api/projects/{pid}/sessions", {"external_id": "s-1", "agent": "claude"})
    return pid


def test_initialize_handshake_then_notification(api):
    r = rpc(api, "initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                                "clientInfo": {"name": "t", "version": "1"}})
    assert r.status_code == 200
    res = r.json_body["result"]
    assert res["protocolVersion"] == "2025-06-18" and res["serverInfo"]["name"] == "mso"
    assert "tools" in res["capabilities"] and "mcp-session-id" not in {k.lower() for k in r.headers}
    assert rpc(api, "initialize", {"protocolVersion": "2099-01-01"}).json_body["result"]["protocolVersion"] \
        == "2025-11-25"
    n = rpc(api, "notifications/initialized", id_=None)
    assert n.status_code == 202 and n.body in (b"", "")
    assert rpc(api, "ping").json_body["result"] == {}


def test_stateless_revision_discover_and_tools(api, project):
    r = modern(api, "server/discover")
    assert r.status_code == 200
    res = r.json_body["result"]
    assert res["resultType"] == "complete" and MODERN in res["supportedVersions"]
    assert res["capabilities"]["tools"] is not None
    tools = modern(api, "tools/list").json_body["result"]
    assert tools["resultType"] == "complete" and len(tools["tools"]) == 7
    got = modern(api, "tools/call", {"name": "list_projects", "arguments": {}},
                 headers={"Mcp-Name": "list_projects"}).json_body["result"]
    assert got["resultType"] == "complete" and got["structuredContent"]["projects"][0]["id"] == project


@pytest.mark.parametrize("headers,code", [({"MCP-Protocol-Version": "2025-11-25"}, -32020),
                                          ({"Mcp-Method": "tools/call"}, -32020)])
def test_stateless_headers_must_mirror_the_body(api, headers, code):
    r = modern(api, "tools/list", headers=headers)
    assert r.status_code == 400 and r.json_body["error"]["code"] == code


def test_stateless_needs_capabilities_and_a_known_version(api):
    r = rpc(api, "tools/list", {"_meta": {"io.modelcontextprotocol/protocolVersion": MODERN}},
            headers={"MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/list"})
    assert r.json_body["error"]["code"] == -32602 and "clientCapabilities" in r.json_body["error"]["data"]["field"]
    r = rpc(api, "tools/list", {"_meta": {"io.modelcontextprotocol/protocolVersion": "2030-01-01",
                                          "io.modelcontextprotocol/clientCapabilities": {}}},
            headers={"MCP-Protocol-Version": "2030-01-01", "Mcp-Method": "tools/list"})
    assert r.status_code == 400 and r.json_body["error"]["code"] == -32022
    assert MODERN in r.json_body["error"]["data"]["supported"]


def test_every_tool_has_an_object_schema(api):
    tools = rpc(api, "tools/list").json_body["result"]["tools"]
    assert {t["name"] for t in tools} == {"list_projects", "get_handoff", "list_sessions", "get_session",
                                          "search_knowledge", "record_progress", "upload_transcript"}
    for t in tools:
        assert t["inputSchema"]["type"] == "object" and t["description"]


def test_tools_call_the_domain(api, project):
    assert call(api, "list_sessions", {"project": "billing"})["structuredContent"]["sessions"][0]["external_id"] \
        == "s-1"
    for kind in ("decision", "todo", "blocker", "done", "note", "learning"):
        res = call(api, "record_progress", {"kind": kind, "text": f"a {kind} sk-ant-api03-" + "x" * 40})
        assert res["isError"] is False
    s = call(api, "get_session", {"project": project, "number": 1})["structuredContent"]
    assert s["decisions"][0].startswith("a decision") and "sk-ant-api03" not in json.dumps(s)  # redacted
    assert s["next_steps"] and s["blockers"] and s["learnings"] and len(s["accomplishments"]) == 2
    up = call(api, "upload_transcript", {"content": "User: fix the bug\nAssistant: fixed it in app.py\n",
                                         "format": "text"})
    assert up["structuredContent"]["messages"] == 2 and up["structuredContent"]["session"] == 1
    none = call(api, "get_handoff", {})
    assert none["isError"] is True and "handoff" in none["content"][0]["text"]
    api.post(f"/api/projects/{project}/sessions/1/complete", {"handoff_mode": "rules"})
    md = call(api, "get_handoff", {"project": "Billing"})
    assert md["isError"] is False and "# " in md["content"][0]["text"]
    short = call(api, "get_handoff", {"project": project, "max_chars": 2000})["content"][0]["text"]
    assert len(short) <= 2000
    js = call(api, "get_handoff", {"format": "json"})["structuredContent"]
    assert js["from_session"] == 1 and js["status"] == "ready"
    api.post(f"/api/projects/{project}/knowledge", {"title": "Retry DynamoDB", "body": "jittered backoff"})
    hits = call(api, "search_knowledge", {"query": "backoff", "project": project})["structuredContent"]["items"]
    assert [h["title"] for h in hits] == ["Retry DynamoDB"]
    missing = call(api, "get_session", {"project": project, "number": 99})
    assert missing["isError"] is True


@pytest.mark.parametrize("name,args,field", [
    ("get_session", {"project": "p"}, "number"),
    ("get_session", {"project": "p", "number": "one"}, "number"),
    ("record_progress", {"kind": "rant", "text": "x"}, "kind"),
    ("record_progress", {"kind": "todo"}, "text"),
    ("get_handoff", {"max_chars": 10}, "max_chars"),
    ("list_sessions", {"limit": 1000}, "limit"),
    ("search_knowledge", {"query": "x", "extra": 1}, "extra"),
    ("upload_transcript", {"content": ""}, "content"),
])
def test_bad_params_are_32602_naming_the_field(api, project, name, args, field):
    r = rpc(api, "tools/call", {"name": name, "arguments": args})
    err = r.json_body["error"]
    assert err["code"] == -32602
    if field:
        assert err["data"]["field"] == field and field in err["message"]


def test_unknown_tool_and_method(api):
    assert rpc(api, "tools/call", {"name": "nope"}).json_body["error"]["code"] == -32602
    r = rpc(api, "resources/list")
    assert r.status_code == 200 and r.json_body["error"]["code"] == -32601


def test_malformed_messages(api):
    r = api.request("POST", "/mcp", raw=b"{nope")
    assert r.status_code == 400 and r.json_body["error"]["code"] == -32700
    r = api.request("POST", "/mcp", raw=b'[{"jsonrpc": "2.0", "id": 1, "method": "ping"}]')
    assert r.status_code == 400 and r.json_body["error"]["code"] == -32600
    r = rpc(api, "tools/list", headers={"MCP-Protocol-Version": "1999-01-01"})
    assert r.status_code == 400 and r.json_body["error"]["code"] == -32022


def test_auth_and_methods(api):
    r = rpc(api, "tools/list", token=None)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")
    assert rpc(api, "tools/list", token="wrong").status_code == 401
    for method in ("GET", "DELETE"):
        r = api.request(method, "/mcp")
        assert r.status_code == 405 and r.headers["Allow"] == "POST"


def test_tenants_see_only_their_projects(api, other_api, project):
    assert call(other_api, "list_projects")["structuredContent"]["projects"] == []
    assert call(other_api, "get_session", {"project": project, "number": 1})["isError"] is True
