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
    assert tools["resultType"] == "complete" and len(tools["tools"]) == 12
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
                                          "search_knowledge", "record_progress", "upload_transcript",
                                          "start_session", "complete_session", "search", "timeline",
                                          "get_details"}
    for t in tools:
        assert t["inputSchema"]["type"] == "object" and t["description"]


def test_tools_call_the_domain(api, project):
    assert call(api, "list_sessions", {"project": "billing"})["structuredContent"]["sessions"][0]["external_id"] \
        == "s-1"
    for kind in ("decision", "todo", "blocker", "done", "note", "learning"):
        res = call(api, "record_progress", {"kind": kind, "text": f"a {kind} sk-ant-api03-" + "x" * 40})
        assert res["isError"] is False
    s = call(api, "get_session", {"project": project, "number": 1})["structuredContent"]
    rec = s["record"]
    assert rec["decisions"][0].startswith("a decision") and "sk-ant-api03" not in json.dumps(s)  # redacted
    assert rec["next_steps"] and rec["blockers"] and rec["learnings"] and len(rec["accomplishments"]) == 2
    assert s["counts"]["accomplishments"] == 2
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


def test_record_progress_handoff_stores_the_agents_note_versioned_and_redacted(api, project):
    note = "## Current work\ntax rules\n\n## Next action\nrun make test with sk-ant-api03-" + "x" * 40 + "\n" + "y" * 5000
    res = call(api, "record_progress", {"kind": "handoff", "text": note, "project": project})
    assert res["isError"] is False and res["structuredContent"]["note_version"] == 1
    assert call(api, "record_progress", {"kind": "handoff", "text": "## Current work\nv2"})["structuredContent"][
        "note_version"] == 2
    got = api.get(f"/api/projects/{project}/sessions/1/notes").json_body["items"]
    assert [(n["version"], n["kind"], n["source"]) for n in got] == [(2, "handoff", "mcp"), (1, "handoff", "mcp")]
    assert got[1]["text"].startswith("## Current work\ntax rules") and "sk-ant-api03" not in got[1]["text"]
    s = call(api, "get_session", {"project": project, "number": 1})["structuredContent"]
    assert not any(s["record"].values())  # a note, not a record list entry
    long = rpc(api, "tools/call", {"name": "record_progress", "arguments": {"kind": "todo", "text": "z" * 4001}})
    assert long.json_body["error"]["code"] == -32602 and long.json_body["error"]["data"]["field"] == "text"


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


# Issue 20: no 500 on any body, tool schemas in the fuzz spec, start/complete, cwd, compact get_session.

@pytest.mark.parametrize("raw", [
    b'{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": ' + b"[" * 990 + b"]" * 990 + b"}",
    b'{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "record_progress", '
    b'"arguments": {"kind": "todo", "text": "\\ud800"}}}',
    b'{"jsonrpc": "2.0", "id": 1, "method": "ping", "x": "\\udfff"}',
    b"\xff\xfe{}",
])
def test_unparsable_bodies_are_a_32700_parse_error_not_500(api, project, raw):
    r = api.request("POST", "/mcp", raw=raw)
    assert r.status_code == 400 and r.json_body["error"]["code"] == -32700, r.body


def test_whole_float_numbers_are_integers_and_infinite_ones_are_refused(api, project):
    s = call(api, "get_session", {"project": project, "number": 1.0})
    assert s["isError"] is False and s["structuredContent"]["number"] == 1
    assert call(api, "record_progress", {"kind": "todo", "text": "x", "session": 1.0})["isError"] is False
    assert call(api, "list_sessions", {"limit": 2.0})["isError"] is False
    for bad in (b"1.5", b"1e999", b"NaN", b"9" * 50):
        r = api.request("POST", "/mcp", raw=b'{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": '
                        b'{"name": "get_session", "arguments": {"project": "Billing", "number": ' + bad + b"}}}")
        assert r.status_code == 200 and r.json_body["error"]["code"] == -32602, r.body
        assert r.json_body["error"]["data"]["field"] == "number"


def test_the_openapi_body_of_mcp_is_one_tools_call_per_tool_with_its_schema(api):
    from chalicelib.domain.agent_tools import TOOLS

    spec = api.get("/api/openapi.json").json_body
    body = spec["paths"]["/mcp"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    calls = {alt["properties"]["params"]["properties"]["name"]["enum"][0]:
             alt["properties"]["params"]["properties"]["arguments"]
             for alt in body["oneOf"] if alt["properties"]["method"]["enum"] == ["tools/call"]}
    assert calls == {name: t.schema for name, t in TOOLS.items()}
    assert {alt["properties"]["method"]["enum"][0] for alt in body["oneOf"]} == {
        "initialize", "ping", "tools/list", "tools/call"}


def test_every_published_tools_call_example_is_accepted(api, project):
    """A body valid against the published schema gets a JSON-RPC answer, never a protocol error."""
    examples = {"get_session": {"number": 1}, "search_knowledge": {"query": "x"},
                "record_progress": {"kind": "todo", "text": "x"}, "upload_transcript": {"content": "User: hi\n"},
                "search": {"query": "x"}, "timeline": {"id": "p:x/s:1/m:0"}, "get_details": {"ids": ["p:x/s:1/m:0"]}}
    from chalicelib.domain.agent_tools import TOOLS

    for name in TOOLS:
        if name == "complete_session":
            continue  # ends the session the others use; covered below
        r = rpc(api, "tools/call", {"name": name, "arguments": examples.get(name, {})})
        assert r.status_code == 200 and "result" in r.json_body, (name, r.body)


def test_start_and_complete_session_tools_use_the_rest_lifecycle(api, project):
    first = call(api, "complete_session", {"cwd": "/home/me/src/Billing", "decisions": ["use moto"],
                                           "handoff_mode": "rules"})
    assert first["isError"] is False, first
    done = first["structuredContent"]
    assert done["session"] == 1 and done["status"] == "completed" and done["handoff"]["status"]
    rest = api.get(f"/api/projects/{project}/sessions/1").json_body
    assert rest["status"] == "completed" and rest["decisions"] == ["use moto"]
    assert api.get(f"/api/projects/{project}/sessions/1/handoff").json_body["status"] == "ready"
    again = call(api, "complete_session", {"project": project})
    assert again["isError"] is True and "no session in progress" in again["content"][0]["text"]
    started = call(api, "start_session", {"project": project, "title": "next", "external_id": "ext-9"})
    s = started["structuredContent"]
    assert started["isError"] is False and s["session"] == 2 and s["created"] is True
    assert s["starting_handoff"]["from_session"] == 1 and s["starting_handoff"]["head"][0].startswith("#")
    assert "\n" not in "".join(s["starting_handoff"]["head"])
    same = call(api, "start_session", {"project": project, "external_id": "ext-9"})["structuredContent"]
    assert same["session"] == 2 and same["created"] is False
    assert api.get(f"/api/projects/{project}/sessions/2").json_body["title"] == "next"
    call(api, "record_progress", {"kind": "decision", "text": "first", "project": project})
    call(api, "complete_session", {"project": project, "decisions": ["second"], "handoff_mode": "rules"})
    assert api.get(f"/api/projects/{project}/sessions/2").json_body["decisions"] == ["first", "second"]


def test_record_progress_without_a_running_session_is_a_tool_error_not_32602(api, project):
    api.post(f"/api/projects/{project}/sessions/1/complete", {"handoff_mode": "rules"})
    r = rpc(api, "tools/call", {"name": "record_progress", "arguments": {"kind": "todo", "text": "x"}})
    assert r.status_code == 200 and "error" not in r.json_body
    res = r.json_body["result"]
    assert res["isError"] is True
    assert "no session in progress" in res["content"][0]["text"] and "start_session" in res["content"][0]["text"]


def test_tools_take_the_project_of_cwd_not_the_most_recently_updated(api, project):
    other = api.post("/api/projects", {"name": "acme/web-shop"}).json_body["id"]
    api.post(f"/api/projects/{other}/sessions", {})
    api.post("/api/projects", {"name": "Newest"})  # the most recently updated: never picked by default
    for cwd, want in [("/home/me/src/billing", project), ("/home/me/src/billing/chalicelib/api", project),
                      ("/home/me/web-shop", other), ("C:\\Users\\me\\web-shop\\src", other),
                      ("/srv/acme/web-shop", other)]:
        got = call(api, "list_sessions", {"cwd": cwd})
        assert got["isError"] is False and got["structuredContent"]["project"] == want, (cwd, got)
    res = call(api, "record_progress", {"kind": "todo", "text": "ship it", "cwd": "/home/me/web-shop"})
    assert res["structuredContent"]["project"] == other
    assert api.get(f"/api/projects/{project}/sessions/1").json_body["next_steps"] == []
    nowhere = call(api, "list_sessions", {"cwd": "/tmp/elsewhere"})
    assert nowhere["isError"] is True and "/tmp/elsewhere" in nowhere["content"][0]["text"]
    unnamed = call(api, "list_sessions", {})
    assert unnamed["isError"] is True and "cwd" in unnamed["content"][0]["text"]
    assert call(api, "list_sessions", {"project": "Billing", "cwd": "/x/web-shop"})["structuredContent"][
        "project"] == project  # an explicit project wins
    api.post("/api/projects", {"name": "bob/web-shop"})
    two = call(api, "list_sessions", {"cwd": "/home/me/web-shop"})
    assert two["isError"] is True and "acme/web-shop" in two["content"][0]["text"]
    assert call(api, "list_sessions", {"cwd": "/srv/acme/web-shop"})["structuredContent"]["project"] == other
    tools = rpc(api, "tools/list").json_body["result"]["tools"]
    for t in tools:
        if "project" in t["inputSchema"]["properties"]:
            assert "cwd" in t["inputSchema"]["properties"] and "working directory" in t["description"], t["name"]


def test_get_session_is_compact(api, project):
    for i in range(30):
        call(api, "record_progress", {"kind": "decision", "text": f"decision {i} " + "y" * 1000})
    api.post(f"/api/projects/{project}/sessions/1/complete", {"handoff_mode": "rules"})
    api.post(f"/api/projects/{project}/sessions", {})
    full = api.get(f"/api/projects/{project}/sessions/2").json_body
    assert len(full["starting_handoff"]["markdown"]) > 3000
    r = rpc(api, "tools/call", {"name": "get_session", "arguments": {"number": 2}})
    text = r.json_body["result"]["content"][0]["text"]
    assert len(text) < 5000, len(text)  # was 36,778 characters on a real session
    s = r.json_body["result"]["structuredContent"]
    assert s["starting_handoff"]["head"] and s["starting_handoff"]["chars"] == len(full["starting_handoff"]["markdown"])
    assert "get_handoff" in s["starting_handoff"]["more"] and "markdown" not in s["starting_handoff"]
    one = call(api, "get_session", {"number": 1})["structuredContent"]
    assert one["counts"]["decisions"] == 30 and len(one["record"]["decisions"]) == 10
    assert one["record"]["decisions"][-1].startswith("decision 29") and len(one["record"]["decisions"][-1]) <= 300
