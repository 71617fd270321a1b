"""The official MCP Python SDK client (1.x, streamable HTTP, the initialize era) against the app
on DynamoDB Local over real HTTP, with a tenant's bearer token: list the tools, call every one.
The stateless 2026-07-28 revision is exercised over the same HTTP with its headers and _meta."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

import anyio
import httpx
import pytest
import requests
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import McpError

pytestmark = pytest.mark.integration
MODERN = "2026-07-28"


def _run(fn, *args):
    """anyio.run in a thread of its own: another suite's browser may own this thread's event loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(anyio.run, fn, *args).result()


def _setup(http) -> str:
    pid = http("POST", "/api/projects", {"name": "mcp-live"}).json()["id"]
    http("POST", f"/api/projects/{pid}/sessions", {"external_id": "live-1", "agent": "claude"})
    http("POST", f"/api/projects/{pid}/knowledge", {"title": "Spool uploads", "body": "write, then deliver"})
    return pid


@asynccontextmanager
async def _connect(url: str, token: str) -> AsyncIterator[ClientSession]:
    """The SDK's streamable HTTP transport with the bearer token, as `claude mcp add --header` sends it."""
    async with (httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60) as client,
                streamable_http_client(url, http_client=client) as (read, write, _),
                ClientSession(read, write) as session):
        yield session


async def _session_calls(url: str, token: str, pid: str) -> dict:
    out: dict = {}
    async with _connect(url, token) as session:
        init = await session.initialize()
        out["init"] = init
        out["tools"] = (await session.list_tools()).tools
        calls = {
            "list_projects": {},
            "list_sessions": {"project": pid, "limit": 5},
            "get_session": {"project": pid, "number": 1},
            "search_knowledge": {"query": "spool"},
            "record_progress": {"kind": "decision", "text": "hooks spool, a detached process uploads",
                                "project": pid},
            "upload_transcript": {"content": "User: add the MCP endpoint\nAssistant: done, tests pass\n",
                                  "format": "text", "project": pid, "session": 1},
        }
        for name, args in calls.items():
            out[name] = await session.call_tool(name, args)
        out["handoff_before"] = await session.call_tool("get_handoff", {"project": pid})
        try:
            await session.call_tool("get_session", {"project": pid})
        except McpError as e:
            out["bad"] = e.error
    return out


def test_sdk_client_lists_and_calls_every_tool(live):
    http = live("t" + uuid.uuid4().hex[:10])
    pid = _setup(http)
    url = http.base + "/mcp"
    got = _run(_session_calls, url, http.token, pid)
    assert got["init"].serverInfo.name == "mso" and got["init"].protocolVersion == "2025-11-25"
    names = {t.name for t in got["tools"]}
    assert names == {"list_projects", "get_handoff", "list_sessions", "get_session", "search_knowledge",
                     "record_progress", "upload_transcript", "start_session", "complete_session", "search",
                     "timeline", "get_details"}
    assert all(t.inputSchema["type"] == "object" for t in got["tools"])
    for name in ("list_projects", "list_sessions", "get_session", "search_knowledge", "record_progress",
                 "upload_transcript"):
        assert got[name].isError is False, (name, got[name])
    assert got["list_projects"].structuredContent["projects"][0]["id"] == pid
    assert got["search_knowledge"].structuredContent["items"][0]["title"] == "Spool uploads"
    assert got["upload_transcript"].structuredContent["messages"] == 2
    assert got["handoff_before"].isError is True  # no session completed yet: said in the result
    assert got["bad"].code == -32602 and got["bad"].data == {"field": "number"}
    s = http("GET", f"/api/projects/{pid}/sessions/1").json()
    assert s["decisions"] == ["hooks spool, a detached process uploads"] and s["transcript"]["messages"] == 2

    # after a completion the handoff comes through the same client
    http("POST", f"/api/projects/{pid}/sessions/1/complete", {"handoff_mode": "rules"})

    async def handoff() -> object:
        async with _connect(url, http.token) as session:
            await session.initialize()
            for _ in range(100):
                r = await session.call_tool("get_handoff", {"project": pid, "max_chars": 5000})
                if not r.isError and r.content[0].text.startswith("#"):
                    return r
                await anyio.sleep(0.2)
            return r

    r = _run(handoff)
    assert r.isError is False and "hooks spool, a detached process uploads" in r.content[0].text


def test_sdk_client_search_timeline_details(live):
    """Progressive disclosure through the official client: search (short hits with ids and token
    costs), then timeline around a hit, then get_details; the index is built by the import's job."""
    http = live("t" + uuid.uuid4().hex[:10])
    pid = _setup(http)

    async def flow() -> dict:
        out: dict = {}
        async with _connect(http.base + "/mcp", http.token) as session:
            await session.initialize()
            await session.call_tool("upload_transcript", {
                "content": "User: the pelican parser breaks on tabs\nAssistant: fixed the pelican parser\n"
                           "User: now run the tests\n", "format": "text", "project": pid, "session": 1})
            for _ in range(100):  # indexing runs after the import, in the background
                r = await session.call_tool("search", {"query": "pelican", "project": pid})
                if not r.isError and r.structuredContent["hits"]:
                    break
                await anyio.sleep(0.2)
            out["search"] = r
            first = r.structuredContent["hits"][0]["id"]
            out["timeline"] = await session.call_tool("timeline", {"id": first, "before": 1, "after": 1})
            out["details"] = await session.call_tool("get_details", {"ids": [first]})
        return out

    got = _run(flow)
    hits = got["search"].structuredContent["hits"]
    assert hits and all(h["id"].startswith(f"p:{pid}/s:1/m:") and h["tokens"] >= 1 for h in hits)
    assert got["timeline"].isError is False and got["timeline"].structuredContent["messages"]
    item = got["details"].structuredContent["items"][0]
    assert "pelican" in item["message"]["text"]


ACCOUNT = """## Current work
Adding the strict parser mode in `src/parse.py`.
The tests pass.

## What is left
- wire `--strict` into `src/cli.py`

## Next action
Add the CLI flag, then run pytest.
"""


def test_sdk_client_handoff_note_leads_the_next_handoff(live):
    """record_progress(kind="handoff") through the official client stores the agent's account as the
    session's note (versioned); completing the session writes a handoff led by it, each claim checked
    against the transcript: here the note says the tests pass, the transcript shows them failing."""
    http = live("t" + uuid.uuid4().hex[:10])
    pid = _setup(http)
    records = [  # Claude Code's JSONL shape: the request, a Bash call, its failing result
        {"type": "user", "cwd": "/w/p", "message": {"role": "user", "content": "add a strict mode to the parser"}},
        {"type": "assistant", "cwd": "/w/p", "message": {"role": "assistant", "content": [
            {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "pytest tests/test_parse.py"}}]}},
        {"type": "user", "cwd": "/w/p", "message": {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_1", "is_error": True,
             "content": "FAILED tests/test_parse.py::test_strict\n1 failed in 0.1s"}]}},
    ]
    for k, r in enumerate(records):
        r.update({"sessionId": "live-1", "uuid": f"u{k}", "parentUuid": f"u{k - 1}" if k else None,
                  "timestamp": f"2026-12-06T10:0{k}:00Z", "version": "2.1.0", "gitBranch": "main"})
    transcript = "\n".join(json.dumps(r) for r in records) + "\n"

    async def flow() -> dict:
        out: dict = {}
        async with _connect(http.base + "/mcp", http.token) as session:
            await session.initialize()
            out["up"] = await session.call_tool("upload_transcript", {"content": transcript, "format": "claude-code",
                                                                      "project": pid, "session": 1})
            out["first"] = await session.call_tool("record_progress", {"kind": "handoff", "text": ACCOUNT,
                                                                       "project": pid})
            out["second"] = await session.call_tool("record_progress", {"kind": "handoff", "text": ACCOUNT,
                                                                        "project": pid})
            out["done"] = await session.call_tool("complete_session", {"project": pid})
        return out

    got = _run(flow)
    assert got["up"].isError is False, got["up"]
    assert got["first"].isError is False and got["first"].structuredContent["note_version"] == 1
    assert got["second"].structuredContent["note_version"] == 2
    notes = http("GET", f"/api/projects/{pid}/sessions/1/notes").json()["items"]
    assert [n["version"] for n in notes][:2] == [2, 1] and notes[0]["source"] == "mcp"
    for _ in range(300):  # the handoff job runs after complete
        r = http("GET", f"/api/projects/{pid}/sessions/1/handoff")
        if r.status_code == 200 and r.json()["status"] in ("ready", "failed"):
            break
        time.sleep(0.2)
    assert r.json()["status"] == "ready", r.json()
    md = r.json()["markdown"]
    assert "the agent's note" in md.lower() and "wire `--strict` into `src/cli.py`" in md
    assert "Contradicted" in md and "The tests pass" in md, md[:3000]


def test_stateless_revision_over_http(live):
    http = live("t" + uuid.uuid4().hex[:10])
    _setup(http)

    def post(method: str, params: dict | None = None, headers: dict | None = None) -> requests.Response:
        meta = {"io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {}}
        h = {"MCP-Protocol-Version": MODERN, "Mcp-Method": method, "Accept": "application/json, text/event-stream",
             **(headers or {})}
        return http("POST", "/mcp", {"jsonrpc": "2.0", "id": "r1", "method": method,
                                     "params": {**(params or {}), "_meta": meta}}, headers=h)

    d = post("server/discover")
    assert d.status_code == 200 and d.json()["result"]["resultType"] == "complete"
    assert MODERN in d.json()["result"]["supportedVersions"]
    assert len(post("tools/list").json()["result"]["tools"]) == 12
    r = post("tools/call", {"name": "list_projects", "arguments": {}}, {"Mcp-Name": "list_projects"})
    assert r.json()["result"]["structuredContent"]["projects"][0]["name"] == "mcp-live"
    assert post("tools/list", headers={"Mcp-Method": "ping"}).json()["error"]["code"] == -32020
    assert post("initialize").json()["error"]["code"] == -32601
    unauth = requests.post(http.base + "/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, timeout=10)
    assert unauth.status_code == 401 and unauth.headers["WWW-Authenticate"].startswith("Bearer")
    assert requests.get(http.base + "/mcp", timeout=10).status_code == 405
    assert requests.delete(http.base + "/mcp", timeout=10).status_code == 405


def test_stateless_sdk_client(live):
    """The SDK's 2.x client (the 2026-07-28 revision) in its own interpreter: `make test` installs
    it into .venv-mcp2 (MSO_MCP2_PYTHON names another)."""
    import json as _json
    import os
    import subprocess

    from tests.conftest import ROOT

    python = os.environ.get("MSO_MCP2_PYTHON") or str(ROOT / ".venv-mcp2" / "bin" / "python")
    if not os.path.exists(python):
        pytest.fail(f"no interpreter with the MCP SDK 2.x at {python}: run `make mcp2` (make test does)")
    http = live("t" + uuid.uuid4().hex[:10])
    pid = _setup(http)
    r = subprocess.run([python, str(ROOT / "tests" / "integration" / "mcp_modern" / "client.py"), http.base + "/mcp",
                        http.token, pid], capture_output=True, text=True, timeout=120, env={
                            k: v for k, v in os.environ.items() if not k.startswith("PYTHON")})
    assert r.returncode == 0, r.stderr[-3000:]
    got = _json.loads(r.stdout)
    assert got["protocol_version"] == MODERN and got["server"] == "mso"  # discovered, no handshake
    assert len(got["tools"]) == 12
    assert got["list_projects"]["projects"][0]["id"] == pid
    assert got["record_progress"]["is_error"] is False
    assert got["get_session"]["record"]["next_steps"] == ["stateless client works"]


def test_sdk_client_against_make_dev_with_the_dev_token(tmp_path):
    """As a user connects an agent: `make dev` running, its dev token, the SDK client."""
    from devtools import ddb
    from tests.integration.test_dev_server import _start, _stop

    port, ddb_port = ddb.free_port(), ddb.free_port()
    proc = _start(tmp_path, port, ddb_port)
    try:
        token = (tmp_path / "dev-token").read_text().strip()
        requests.post(f"http://127.0.0.1:{port}/api/projects", json={"name": "dev-mcp"},
                      headers={"Authorization": f"Bearer {token}"}, timeout=10)

        async def calls() -> tuple:
            async with _connect(f"http://127.0.0.1:{port}/mcp", token) as session:
                await session.initialize()
                tools = (await session.list_tools()).tools
                projects = await session.call_tool("list_projects", {})
                return tools, projects

        tools, projects = _run(calls)
    finally:
        _stop(proc, ddb_port)
    assert len(tools) == 12
    assert [p["name"] for p in projects.structuredContent["projects"]] == ["dev-mcp"]
