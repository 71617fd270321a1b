"""The tools an agent gets over MCP: each one a JSON Schema for its input and a call into the
domain layer (no HTTP to ourselves). The protocol itself lives in chalicelib/api/mcp.py."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.domain import handoffs, knowledge, projects, sessions, transcripts
from chalicelib.errors import BadRequest, NotFound

# What an MCP upload may hold; bigger transcripts go through the CLI (`mso push`), which uses the
# transcript route (4 MiB, gzip) and large uploads.
MAX_MCP_TRANSCRIPT_CHARS = 512 * 1024
PROGRESS_FIELDS = {"decision": "decisions", "todo": "next_steps", "blocker": "blockers", "done": "accomplishments",
                   "note": "accomplishments", "learning": "learnings"}
FORMATS = ("auto", "claude-code", "codex", "chatgpt", "openai", "sharegpt", "swe-agent", "aider", "markdown", "text")

_PROJECT = {"type": "string", "minLength": 1, "maxLength": 200,
            "description": "project id or name (default: the most recently updated project)"}
_SESSION = {"type": "integer", "minimum": 1, "maximum": 999_999,
            "description": "session number (default: the project's latest session in progress)"}


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    schema: dict[str, Any]
    run: Callable[[str, dict[str, Any]], Any]
    read_only: bool = True

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "inputSchema": self.schema,
                "annotations": {"readOnlyHint": self.read_only, "idempotentHint": self.read_only}}


def _obj(props: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": props}
    if required:
        out["required"] = list(required)
    return out


def _all_projects(tenant: str) -> list[dict[str, Any]]:
    out, cursor = [], None
    while True:
        page = projects.list_page(tenant, limit=100, cursor=cursor)
        out += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return out


def resolve_project(tenant: str, ref: str | None) -> dict[str, Any]:
    """A project by id or name; without one, the most recently updated project."""
    items = _all_projects(tenant)
    if not items:
        raise NotFound("there is no project yet: create one (POST /api/projects) or start a session with the "
                       "mso CLI", code="project_not_found")
    if ref is None:
        return max(items, key=lambda p: p.get("updated_at") or "")
    for match in (lambda p: p["id"] == ref, lambda p: p["name"] == ref,
                  lambda p: p["name"].casefold() == ref.casefold()):
        hit = next((p for p in items if match(p)), None)
        if hit is not None:
            return hit
    raise NotFound(f"no project with id or name {ref!r}; list_projects shows them", code="project_not_found")


def _current_session(tenant: str, project_id: str, number: int | None) -> int | None:
    if number is not None:
        return number
    latest = sessions.list_page(tenant, project_id, limit=1, cursor=None, descending=True)["items"]
    return latest[0]["number"] if latest and latest[0]["status"] == "in_progress" else None


def _project_brief(p: dict[str, Any]) -> dict[str, Any]:
    return {k: p[k] for k in ("id", "name", "goal", "sessions", "latest_handoff", "updated_at")}


def _session_brief(s: dict[str, Any]) -> dict[str, Any]:
    keys = ("number", "status", "title", "agent", "external_id", "started_at", "ended_at", "credits_used")
    return {k: s.get(k) for k in keys}


def list_projects(tenant: str, args: dict[str, Any]) -> dict[str, Any]:
    return {"projects": [_project_brief(p) for p in _all_projects(tenant)]}


def get_handoff(tenant: str, args: dict[str, Any]) -> Any:
    p = resolve_project(tenant, args.get("project"))
    doc = handoffs.latest(tenant, p["id"], max_chars=args.get("max_chars"))
    if args.get("format", "md") == "md":
        return doc.get("markdown") or f"The handoff after session {doc['from_session']} is {doc['status']}."
    return doc


def list_sessions(tenant: str, args: dict[str, Any]) -> dict[str, Any]:
    p = resolve_project(tenant, args.get("project"))
    page = sessions.list_page(tenant, p["id"], limit=args.get("limit", 10), cursor=None, descending=True)
    return {"project": p["id"], "sessions": [_session_brief(s) for s in page["items"]]}


def get_session(tenant: str, args: dict[str, Any]) -> dict[str, Any]:
    p = resolve_project(tenant, args["project"])
    return sessions.get(tenant, p["id"], args["number"])


def search_knowledge(tenant: str, args: dict[str, Any]) -> dict[str, Any]:
    pid = resolve_project(tenant, args["project"])["id"] if args.get("project") else None
    page = knowledge.search(tenant, q=args["query"], limit=50, cursor=None)
    items = [k for k in page["items"] if pid is None or k["project_id"] == pid]
    return {"items": items[:25]}


def record_progress(tenant: str, args: dict[str, Any]) -> dict[str, Any]:
    p = resolve_project(tenant, args.get("project"))
    n = _current_session(tenant, p["id"], args.get("session"))
    if n is None:
        raise BadRequest("the project has no session in progress: pass session", field="session")
    field = PROGRESS_FIELDS[args["kind"]]
    text = args["text"].strip()
    if args["kind"] == "note":
        text = "Note: " + text
    s = sessions.append_record(tenant, p["id"], n, field, text)
    return {"project": p["id"], "session": n, "field": field, "count": len(s[field])}


def upload_transcript(tenant: str, args: dict[str, Any]) -> dict[str, Any]:
    p = resolve_project(tenant, args.get("project"))
    n = _current_session(tenant, p["id"], args.get("session"))
    if n is None:
        n = sessions.create(tenant, p["id"], {"agent": "mcp"})["number"]
    raw = io.BytesIO(args["content"].encode("utf-8"))
    out = transcripts.import_transcript(tenant, p["id"], n, raw, fmt=args.get("format", "auto"))
    return {"project": p["id"], "session": n, **out}


TOOLS: dict[str, Tool] = {t.name: t for t in (
    Tool("list_projects", "The projects this token can see, with session counts and their latest handoff.",
         _obj({}), list_projects),
    Tool("get_handoff", "The latest handoff of a project: the master prompt written for the next session "
         "(Markdown, or the full JSON record).",
         _obj({"project": _PROJECT,
               "max_chars": {"type": "integer", "minimum": 2000, "maximum": 50_000,
                             "description": "cut the Markdown to at most this many characters"},
               "format": {"enum": ["md", "json"], "description": "md (default) or json"}}), get_handoff),
    Tool("list_sessions", "A project's sessions, newest first.",
         _obj({"project": _PROJECT, "limit": {"type": "integer", "minimum": 1, "maximum": 100}}), list_sessions),
    Tool("get_session", "One session: status, record (decisions, blockers, next steps ...), transcript stats.",
         _obj({"project": _PROJECT, "number": {"type": "integer", "minimum": 1, "maximum": 999_999}},
              ("project", "number")), get_session),
    Tool("search_knowledge", "Search the knowledge base (patterns, solutions, lessons) across projects.",
         _obj({"query": {"type": "string", "minLength": 1, "maxLength": 200}, "project": _PROJECT}, ("query",)),
         search_knowledge),
    Tool("record_progress", "Record a decision, todo, blocker, done item, note or learning on the current "
         "session, so the next handoff carries it.",
         _obj({"kind": {"enum": list(PROGRESS_FIELDS)}, "text": {"type": "string", "minLength": 1, "maxLength": 4000},
               "project": _PROJECT, "session": _SESSION}, ("kind", "text")), record_progress, read_only=False),
    Tool("upload_transcript", "Upload a small transcript (up to 512 KiB of text) to a session; secrets are "
         "redacted on the server. Bulk uploads go through the mso CLI.",
         _obj({"content": {"type": "string", "minLength": 1, "maxLength": MAX_MCP_TRANSCRIPT_CHARS},
               "format": {"enum": list(FORMATS)}, "project": _PROJECT, "session": _SESSION}, ("content",)),
         upload_transcript, read_only=False),
)}


def as_text(result: Any) -> str:
    return result if isinstance(result, str) else json.dumps(result, indent=1, default=str)
