"""Run by the integration tests under a separate interpreter holding the MCP SDK 2.x (the stateless
2026-07-28 client; the test environment's own `mcp` is 1.x): discover, list, call, print JSON.

    python client.py URL TOKEN PROJECT_ID
"""

from __future__ import annotations

import asyncio
import json
import sys


async def main(url: str, token: str, pid: str) -> dict:
    import httpx2
    from mcp.client import Client
    from mcp.client.streamable_http import streamable_http_client

    out: dict = {}
    async with (httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60) as http,
                Client(streamable_http_client(url, http_client=http), mode="auto") as client):
        out["protocol_version"] = client.protocol_version
        out["server"] = client.server_info.name if client.server_info else None
        out["tools"] = sorted(t.name for t in (await client.list_tools()).tools)
        r = await client.call_tool("list_projects", {})
        out["list_projects"] = r.structured_content
        r = await client.call_tool("record_progress", {"kind": "todo", "text": "stateless client works",
                                                       "project": pid})
        out["record_progress"] = {"is_error": r.is_error, "structured": r.structured_content}
        r = await client.call_tool("get_session", {"project": pid, "number": 1})
        out["get_session"] = r.structured_content
    return out


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(*sys.argv[1:4])), default=str))
