"""`POST /mcp`: the Model Context Protocol over streamable HTTP, behind the API's bearer token.

Two eras on one endpoint, told apart per request:
- the `initialize` handshake (2024-11-05 .. 2025-11-25), which most agents ship today:
  `initialize`, then `notifications/initialized`, `ping`, `tools/list`, `tools/call`;
- the stateless 2026-07-28 revision: no handshake, every request carries
  `_meta["io.modelcontextprotocol/protocolVersion"]` and `clientCapabilities`, mirrored in the
  `MCP-Protocol-Version` and `Mcp-Method` headers; `server/discover` describes the server and
  every result says `resultType: "complete"`.
The server keeps no session (it never sends `Mcp-Session-Id`), so both eras are stateless here.
Answers are single JSON responses; notifications and client responses get 202 with no body.
GET (the server-to-client stream) and DELETE (ending a session) answer 405.
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib.api import responses as R
from chalicelib.api.common import Ctx, endpoint, json_response, parse_json, validate
from chalicelib.api.meta import VERSION
from chalicelib.domain import agent_tools
from chalicelib.errors import AppError, BadRequest
from chalicelib.logs import event, get_logger

bp = Blueprint(__name__)
log = get_logger("mcp")

LEGACY_VERSIONS = ("2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05")  # newest first
MODERN_VERSIONS = ("2026-07-28",)
META_VERSION = "io.modelcontextprotocol/protocolVersion"
META_CAPS = "io.modelcontextprotocol/clientCapabilities"
MAX_BODY = 1024 * 1024
INSTRUCTIONS = ("mso keeps the record of long projects session by session. get_handoff returns the "
                "latest handoff (what was done, decisions, open items, next steps); record_progress adds "
                "decisions, todos, blockers and learnings to the current session so the next handoff carries them.")

ACCEPTED = {"Cache-Control": "no-store", "Content-Type": "text/plain; charset=utf-8"}  # 202: no body
PARSE_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND, INVALID_PARAMS, INTERNAL_ERROR = -32700, -32600, -32601, -32602, -32603
HEADER_MISMATCH, UNSUPPORTED_VERSION = -32020, -32022

_CALL = {"type": "object", "required": ["name"],
         "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 100},
                        "arguments": {"type": "object"}, "_meta": {"type": "object"}}}


class RpcError(Exception):
    def __init__(self, code: int, message: str, data: dict[str, Any] | None = None, http: int = 200) -> None:
        super().__init__(message)
        self.code, self.message, self.data, self.http = code, message, data, http


def _rpc(id_: Any, *, result: Any = None, error: RpcError | None = None) -> dict[str, Any]:
    if error is not None:
        err: dict[str, Any] = {"code": error.code, "message": error.message}
        if error.data:
            err["data"] = error.data
        return {"jsonrpc": "2.0", "id": id_, "error": err}
    return {"jsonrpc": "2.0", "id": id_, "result": result}


def _capabilities() -> dict[str, Any]:
    return {"tools": {"listChanged": False}}


def _server_info() -> dict[str, Any]:
    return {"name": "mso", "title": "Multi-Session Orchestrator", "version": VERSION}


def _initialize(params: dict[str, Any]) -> dict[str, Any]:
    asked = params.get("protocolVersion")
    if not isinstance(asked, str):
        raise RpcError(INVALID_PARAMS, "protocolVersion must be a string", {"field": "protocolVersion"})
    for name in ("capabilities", "clientInfo"):
        if name in params and not isinstance(params[name], dict):
            raise RpcError(INVALID_PARAMS, f"{name} must be an object", {"field": name})
    version = asked if asked in LEGACY_VERSIONS else LEGACY_VERSIONS[0]
    return {"protocolVersion": version, "capabilities": _capabilities(), "serverInfo": _server_info(),
            "instructions": INSTRUCTIONS}


def _discover() -> dict[str, Any]:
    return {"supportedVersions": [*MODERN_VERSIONS, *LEGACY_VERSIONS], "capabilities": _capabilities(),
            "serverInfo": _server_info(), "_meta": {"io.modelcontextprotocol/serverInfo": _server_info()},
            "instructions": INSTRUCTIONS}


def _call_tool(tenant: str, params: dict[str, Any]) -> dict[str, Any]:
    try:
        validate(_CALL, params)
    except BadRequest as e:
        raise RpcError(INVALID_PARAMS, e.message, {"field": e.field or "params"}) from None
    tool = agent_tools.TOOLS.get(params["name"])
    if tool is None:
        raise RpcError(INVALID_PARAMS, f"unknown tool {params['name']!r}; tools/list names them",
                       {"field": "name"})
    args = params.get("arguments") or {}
    missing = [f for f in tool.schema.get("required", []) if f not in args]
    if missing:
        raise RpcError(INVALID_PARAMS, f"{tool.name}: {missing[0]} is required", {"field": missing[0]})
    unknown = sorted(set(args) - set(tool.schema["properties"]))
    if unknown:
        raise RpcError(INVALID_PARAMS, f"{tool.name}: unknown argument {unknown[0]!r}; the input schema lists "
                       f"{', '.join(tool.schema['properties']) or 'none'}", {"field": unknown[0]})
    try:
        args = validate(tool.schema, args)
    except BadRequest as e:
        field = e.field or "arguments"
        raise RpcError(INVALID_PARAMS, f"{tool.name}: {e.message}", {"field": field}) from None
    args = _whole_numbers(tool.schema, args)
    try:
        result = tool.run(tenant, args)
    except AppError as e:
        if e.status == 400 and e.field:
            raise RpcError(INVALID_PARAMS, f"{tool.name}: {e.message}", {"field": e.field}) from None
        # a failure of the tool itself is reported in the result, for the model to read
        return {"content": [{"type": "text", "text": e.message}], "isError": True,
                "structuredContent": e.to_dict()}
    out: dict[str, Any] = {"content": [{"type": "text", "text": agent_tools.as_text(result)}], "isError": False}
    if isinstance(result, dict):
        out["structuredContent"] = result
    return out


def _whole_numbers(schema: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
    """JSON Schema's integer type takes 1.0; the domain gets an int."""
    props = schema.get("properties", {})
    return {k: int(v) if isinstance(v, float) and props.get(k, {}).get("type") == "integer" else v
            for k, v in args.items()}


def _check_modern(req: Any, msg: dict[str, Any], meta: dict[str, Any]) -> None:
    """The stateless revision's rules: a version we speak, capabilities, headers mirroring the body."""
    version = meta.get(META_VERSION)
    if version not in MODERN_VERSIONS:
        raise RpcError(UNSUPPORTED_VERSION, f"protocol version {version!r} is not supported",
                       {"supported": [*MODERN_VERSIONS, *LEGACY_VERSIONS], "requested": version}, http=400)
    if not isinstance(meta.get(META_CAPS), dict):
        raise RpcError(INVALID_PARAMS, f"_meta[{META_CAPS!r}] must be an object", {"field": f"_meta.{META_CAPS}"})
    headers = req.headers or {}
    if headers.get("mcp-protocol-version") != version:
        raise RpcError(HEADER_MISMATCH, "the MCP-Protocol-Version header must equal _meta's protocolVersion",
                       {"header": "MCP-Protocol-Version"}, http=400)
    if headers.get("mcp-method") != msg["method"]:
        raise RpcError(HEADER_MISMATCH, "the Mcp-Method header must equal the request's method",
                       {"header": "Mcp-Method"}, http=400)
    name = headers.get("mcp-name")
    if name is not None and msg["method"] == "tools/call" and name != (msg.get("params") or {}).get("name"):
        raise RpcError(HEADER_MISMATCH, "the Mcp-Name header must equal the tool's name", {"header": "Mcp-Name"},
                       http=400)


def _dispatch(ctx: Ctx, msg: dict[str, Any]) -> tuple[Any, bool]:
    """(result, modern) of one request."""
    method = msg["method"]
    params = msg.get("params")
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise RpcError(INVALID_PARAMS, "params must be an object", {"field": "params"})
    meta = params.get("_meta", {})
    if not isinstance(meta, dict):
        raise RpcError(INVALID_PARAMS, "params._meta must be an object", {"field": "_meta"})
    modern = META_VERSION in meta
    if modern:
        _check_modern(ctx.request, msg, meta)
        if method in ("initialize", "ping"):  # removed by the stateless revision
            raise RpcError(METHOD_NOT_FOUND, f"{method} does not exist in protocol {meta[META_VERSION]}")
    if method == "initialize":
        return _initialize(params), modern
    if method == "server/discover":
        return _discover(), modern
    if method == "ping":
        return {}, modern
    if method == "tools/list":
        tools = [t.describe() for t in agent_tools.TOOLS.values()]
        return ({"tools": tools, "ttlMs": 300_000, "cacheScope": "private"} if modern else {"tools": tools}), modern
    if method == "tools/call":
        return _call_tool(ctx.tenant, params), modern
    raise RpcError(METHOD_NOT_FOUND, f"method {method!r} not found", {"method": method})


def request_schema() -> dict[str, Any]:
    """The body as OpenAPI publishes it: one JSON-RPC request per method, and one `tools/call` per tool
    with that tool's own input schema, so a fuzzer (and a reader) sends real tool arguments."""

    # other members are ignored (JSON-RPC leaves them open); only a tool's arguments are closed
    def req(method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        props: dict[str, Any] = {"jsonrpc": {"enum": ["2.0"]}, "method": {"enum": [method]},
                                 "id": {"type": ["string", "integer"]}}
        out = {"type": "object", "required": ["jsonrpc", "id", "method"], "properties": props}
        if params is not None:
            props["params"] = params
            out["required"].append("params")
        return out

    def params(props: dict[str, Any], required: list[str]) -> dict[str, Any]:
        return {"type": "object", "required": required, "properties": {**props, "_meta": {"type": "object"}}}

    calls = [req("tools/call", params({"name": {"enum": [t.name]}, "arguments": t.schema}, ["name"]))
             for t in agent_tools.TOOLS.values()]
    init = params({"protocolVersion": {"type": "string", "examples": list(LEGACY_VERSIONS)}, "capabilities": {"type": "object"},
                   "clientInfo": {"type": "object"}}, ["protocolVersion"])
    return {"description": "a JSON-RPC 2.0 request: initialize, ping, tools/list, or tools/call of one tool "
                           "with its arguments (notifications and the 2026-07-28 _meta are accepted too)",
            "oneOf": [req("initialize", init), req("ping"), req("tools/list"), *calls]}


def _answer(body: dict[str, Any], http: int = 200) -> Response:
    return json_response(body, http)


@endpoint(bp, "/mcp", "POST", summary="MCP over streamable HTTP (JSON-RPC 2.0; initialize era and 2026-07-28)",
          tag="mcp", body=request_schema(), response=R.JSONRPC,
          responses={202: None, 400: R.JSONRPC,
                     413: R.JSONRPC})
def mcp_post(ctx: Ctx) -> Response:
    header = (ctx.request.headers or {}).get("mcp-protocol-version")
    if header is not None and header not in (*MODERN_VERSIONS, *LEGACY_VERSIONS):
        err = RpcError(UNSUPPORTED_VERSION, f"MCP-Protocol-Version {header!r} is not supported",
                       {"supported": [*MODERN_VERSIONS, *LEGACY_VERSIONS], "requested": header})
        return _answer(_rpc(None, error=err), 400)
    raw = ctx.request.raw_body or b""
    if len(raw) > MAX_BODY:
        return _answer(_rpc(None, error=RpcError(INVALID_REQUEST, f"the body is over {MAX_BODY:,} bytes")), 413)
    try:  # the REST API's parser: too deep, not UTF-8 or a lone surrogate are a parse error, not a 500
        msg = parse_json(raw)
    except BadRequest as e:
        return _answer(_rpc(None, error=RpcError(PARSE_ERROR, e.message)), 400)
    if not isinstance(msg, dict) or msg.get("jsonrpc") != "2.0":
        what = "batches are not supported" if isinstance(msg, list) else 'send one JSON-RPC 2.0 object ("jsonrpc": "2.0")'
        return _answer(_rpc(None, error=RpcError(INVALID_REQUEST, what)), 400)
    if "method" not in msg:  # a response to us (we never ask), accepted and dropped
        return Response(body="", status_code=202, headers=ACCEPTED)
    if not isinstance(msg["method"], str):
        return _answer(_rpc(msg.get("id"), error=RpcError(INVALID_REQUEST, "method must be a string")), 400)
    if "id" not in msg:  # a notification (notifications/initialized, cancelled, ...): nothing to answer
        return Response(body="", status_code=202, headers=ACCEPTED)
    id_ = msg["id"]
    if not isinstance(id_, str | int) or isinstance(id_, bool):
        return _answer(_rpc(None, error=RpcError(INVALID_REQUEST, "id must be a string or an integer")), 400)
    try:
        result, modern = _dispatch(ctx, msg)
    except RpcError as e:
        event(log, "mcp_error", method=msg["method"], code=e.code)
        return _answer(_rpc(id_, error=e), e.http)
    if modern and isinstance(result, dict):
        result = {"resultType": "complete", **result}
    event(log, "mcp_call", method=msg["method"], tool=(msg.get("params") or {}).get("name"), modern=modern)
    return _answer(_rpc(id_, result=result))


def _not_allowed() -> Response:
    return json_response({"error": {"code": "method_not_allowed", "message": (
        "this MCP endpoint has no server-to-client stream and no sessions: POST JSON-RPC messages")}},
        405, {"Allow": "POST"})


@endpoint(bp, "/mcp", "GET", summary="405: no server-to-client stream", tag="mcp", auth=False,
          status=405, response=R.ERROR)
def mcp_get(ctx: Ctx) -> Response:
    return _not_allowed()


@endpoint(bp, "/mcp", "DELETE", summary="405: no sessions to end", tag="mcp", auth=False,
          status=405, response=R.ERROR)
def mcp_delete(ctx: Ctx) -> Response:
    return _not_allowed()
