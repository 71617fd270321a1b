"""The tools an agent gets over MCP: each one a JSON Schema for its input and a call into the
domain layer (no HTTP to ourselves). The protocol itself lives in chalicelib/api/mcp.py."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.domain import handoffs, knowledge, notes, projects, sessions, transcripts
from chalicelib.errors import BadRequest, Conflict, NotFound

# What an MCP upload may hold; bigger transcripts go through the CLI (`mso push`), which uses the
# transcript route (4 MiB, gzip) and large uploads.
MAX_MCP_TRANSCRIPT_CHARS = 512 * 1024
PROGRESS_FIELDS = {"decision": "decisions", "todo": "next_steps", "blocker": "blockers", "done": "accomplishments",
                   "note": "accomplishments", "learning": "learnings"}
PROGRESS_KINDS = (*PROGRESS_FIELDS, "handoff")  # handoff: the agent's account, stored as a note (domain.notes)
PROGRESS_MAX_CHARS = 4000
FORMATS = ("auto", "claude-code", "codex", "chatgpt", "openai", "sharegpt", "swe-agent", "aider", "markdown", "text")

_PROJECT = {"type": "string", "minLength": 1, "maxLength": 200,
            "description": "project id or name (default: the project of cwd)"}
_CWD = {"type": "string", "minLength": 1, "maxLength": 1000,
        "description": "your working directory, an absolute path: names the project when project is not given "
                       "(the project named after the directory or its git repository, as the mso CLI names it)"}
_SESSION = {"type": "integer", "minimum": 1, "maximum": 999_999,
            "description": "session number (default: the project's latest session, when it is in progress)"}
_WHERE = {"project": _PROJECT, "cwd": _CWD}  # every project-scoped tool takes both
WHICH_PROJECT = (" The project is `project` (id or name) if given, else the one of `cwd` (your working "
                 "directory: the project named after it or its git repository, as the mso CLI names it), "
                 "else the only project there is.")
HANDOFF_HEAD_LINES = 12  # get_session shows the start of the handoff it began from; get_handoff has all of it
COMPLETE_LISTS = ("accomplishments", "decisions", "next_steps", "blockers", "learnings", "done_items")
RECORD_SHOWN, ITEM_CHARS = 10, 300  # get_session shows each record list's last 10 items, each cut to 300 chars


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


def _dir_names(cwd: str) -> list[tuple[str, str | None]]:
    """(directory name, parent/name) of cwd and each directory above it, deepest first."""
    parts = [p for p in re.split(r"[\\/]+", cwd.strip()) if p and p not in (".", "..") and not p.endswith(":")]
    return [(parts[i], f"{parts[i - 1]}/{parts[i]}" if i else None) for i in range(len(parts) - 1, -1, -1)]


def project_for_dir(items: list[dict[str, Any]], cwd: str) -> dict[str, Any]:
    """The project of a working directory, the way the mso CLI names projects (cli/mso_cli/config.py):
    the git origin's `owner/repo` or the directory's name. The server cannot read the caller's disk,
    so it matches names: `parent/dir` exactly, then `dir`, then an `owner/dir`, from cwd upwards
    (a subdirectory of a clone finds the clone's project)."""
    by_name: dict[str, list[dict[str, Any]]] = {}
    for p in items:
        name = p["name"].casefold()
        by_name.setdefault(name, []).append(p)
        if "/" in name:
            by_name.setdefault("*/" + name.rsplit("/", 1)[1], []).append(p)
    for name, pair in _dir_names(cwd):
        for key in (pair, name, "*/" + name):
            hits = by_name.get(key.casefold()) if key else None
            if hits and len(hits) == 1:
                return hits[0]
            if hits:
                names = ", ".join(sorted(h["name"] for h in hits))
                raise Conflict(f"the directory {name!r} matches several projects ({names}): pass project",
                               code="project_ambiguous")
    raise NotFound(f"no project is named after {cwd!r} or a directory above it; pass project (list_projects "
                   "shows them) or start a session there with the mso CLI", code="project_not_found")


def resolve_project(tenant: str, ref: str | None, cwd: str | None = None) -> dict[str, Any]:
    """A project by id or name; else the project of the caller's working directory; else the only one.

    Never the most recently updated project: an agent in one repository must not write into another."""
    items = _all_projects(tenant)
    if not items:
        raise NotFound("there is no project yet: create one (POST /api/projects) or start a session with the "
                       "mso CLI", code="project_not_found")
    if ref is None and cwd is not None:
        return project_for_dir(items, cwd)
    if ref is None:
        if len(items) == 1:
            return items[0]
        raise BadRequest(f"there are {len(items)} projects: pass cwd (your working directory) or project "
                         "(list_projects shows them)", code="project_needed")
    for match in (lambda p: p["id"] == ref, lambda p: p["name"] == ref,
                  lambda p: p["name"].casefold() == ref.casefold()):
        hit = next((p for p in items if match(p)), None)
        if hit is not None:
            return hit
    raise NotFound(f"no project with id or name {ref!r}; list_projects shows them", code="project_not_found")


def _project(tenant: str, args: dict[str, Any]) -> dict[str, Any]:
    return resolve_project(tenant, args.get("project"), args.get("cwd"))


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
    p = _project(tenant, args)
    doc = handoffs.latest(tenant, p["id"], max_chars=args.get("max_chars"))
    if args.get("format", "md") == "md":
        return doc.get("markdown") or f"The handoff after session {doc['from_session']} is {doc['status']}."
    return doc


def list_sessions(tenant: str, args: dict[str, Any]) -> dict[str, Any]:
    p = _project(tenant, args)
    page = sessions.list_page(tenant, p["id"], limit=args.get("limit", 10), cursor=None, descending=True)
    return {"project": p["id"], "sessions": [_session_brief(s) for s in page["items"]]}


def _head(markdown: str | None) -> list[str]:
    """The first non-empty lines of a handoff, each as it is (a list: no escaped Markdown blob)."""
    lines = [ln for ln in (markdown or "").splitlines() if ln.strip()]
    return [ln[:ITEM_CHARS] for ln in lines[:HANDOFF_HEAD_LINES]]


def _handoff_brief(h: dict[str, Any] | None, project_id: str) -> dict[str, Any] | None:
    if h is None:
        return None
    md = h.get("markdown") or ""
    out = {k: h.get(k) for k in ("from_session", "status", "method")}
    out.update(chars=len(md), head=_head(md),
               more=f"get_handoff with project {project_id!r} returns the whole handoff" if md else None)
    return out


def compact_session(s: dict[str, Any]) -> dict[str, Any]:
    """A session for a model's context: its fields, each record list's count and latest items (cut),
    transcript counts, and the start of the handoff it began from, not the whole document."""
    keys = ("project_id", "number", "status", "title", "goal", "agent", "external_id", "model", "started_at",
            "ended_at", "duration_s", "credits_used", "files", "handoff_mode", "warnings")
    out: dict[str, Any] = {k: s.get(k) for k in keys}
    t = s.get("transcript")
    out["transcript"] = None if t is None else {k: t.get(k) for k in (
        "format", "messages", "tool_calls", "tool_errors", "tokens", "uploaded_at")}
    counts, record = {}, {}
    for f in sessions.RECORD_FIELDS:
        items = s.get(f) or []
        counts[f] = len(items)
        if items:
            record[f] = [x if len(x) <= ITEM_CHARS else x[:ITEM_CHARS - 1] + "…" for x in items[-RECORD_SHOWN:]]
    out["counts"], out["record"] = counts, record
    own = s.get("handoff") or {}
    out["handoff"] = {k: own.get(k) for k in ("status", "method", "version")} if own else None
    out["starting_handoff"] = _handoff_brief(s.get("starting_handoff"), s["project_id"])
    return out


def get_session(tenant: str, args: dict[str, Any]) -> dict[str, Any]:
    p = _project(tenant, args)
    return compact_session(sessions.get(tenant, p["id"], args["number"]))


def start_session(tenant: str, args: dict[str, Any]) -> dict[str, Any]:
    """The REST route's create: with external_id, the same agent session always gets the same number."""
    p = _project(tenant, args)
    body = {k: args[k] for k in ("title", "goal", "external_id") if k in args}
    body["agent"] = args.get("agent", "mcp")
    out = sessions.create(tenant, p["id"], body)
    return {"project": p["id"], "session": out["number"], "created": out["created"], "status": out["status"],
            "warnings": out["warnings"], "starting_handoff": _handoff_brief(out["starting_handoff"], p["id"])}


def complete_session(tenant: str, args: dict[str, Any]) -> dict[str, Any]:
    """The REST complete route's domain call: finish the session with its record and queue its handoff
    in one transaction (a retry after a fault finishes the job instead of a 409)."""
    p = _project(tenant, args)
    n = _current_session(tenant, p["id"], args.get("session"))
    if n is None:
        raise Conflict("the project has no session in progress to complete: pass session, or start_session first",
                       code="no_session_in_progress")
    mode = args.get("handoff_mode", "auto")
    body: dict[str, Any] = {"title": args["title"]} if "title" in args else {}
    lists = [f for f in COMPLETE_LISTS if args.get(f)]
    if lists:  # added to what record_progress already put there (the REST body replaces whole lists)
        now = sessions.get(tenant, p["id"], n)
        body.update({f: [*now[f], *args[f]] for f in lists})
    out = sessions.complete(tenant, p["id"], n, {**body, "status": args.get("status", "completed")}, mode=mode)
    session, handoff = out["session"], out["handoff"]
    return {"project": p["id"], "session": n, "status": session["status"],
            "handoff": {k: handoff.get(k) for k in ("status", "method", "mode")},
            "next": "get_handoff returns the handoff once its status is ready"}


def search_knowledge(tenant: str, args: dict[str, Any]) -> dict[str, Any]:
    pid = _project(tenant, args)["id"] if args.get("project") or args.get("cwd") else None
    page = knowledge.search(tenant, q=args["query"], limit=50, cursor=None)
    items = [k for k in page["items"] if pid is None or k["project_id"] == pid]
    return {"items": items[:25]}


def record_progress(tenant: str, args: dict[str, Any]) -> dict[str, Any]:
    p = _project(tenant, args)
    n = _current_session(tenant, p["id"], args.get("session"))
    if n is None:  # a state of the project, not a bad argument: a result the model reads and acts on
        raise Conflict(f"project {p['name']!r} has no session in progress: call start_session first, or pass "
                       "session (a number from list_sessions) to add to a finished one", code="no_session_in_progress")
    text = args["text"].strip()
    if args["kind"] == "handoff":  # the agent's whole account (the /handoff headings): a note, versioned
        note = notes.add(tenant, p["id"], n, {"text": text, "kind": "handoff", "source": "mcp"})
        return {"project": p["id"], "session": n, "note_version": note["version"], "chars": note["chars"]}
    if len(text) > PROGRESS_MAX_CHARS:
        raise BadRequest(f"text is {len(text):,} characters; at most {PROGRESS_MAX_CHARS:,} for kind "
                         f"{args['kind']!r} (kind 'handoff' takes a whole note)", field="text")
    field = PROGRESS_FIELDS[args["kind"]]
    if args["kind"] == "note":
        text = "Note: " + text
    s = sessions.append_record(tenant, p["id"], n, field, text)
    return {"project": p["id"], "session": n, "field": field, "count": len(s[field])}


def upload_transcript(tenant: str, args: dict[str, Any]) -> dict[str, Any]:
    p = _project(tenant, args)
    n = _current_session(tenant, p["id"], args.get("session"))
    if n is None:
        n = sessions.create(tenant, p["id"], {"agent": "mcp"})["number"]
    raw = io.BytesIO(args["content"].encode("utf-8"))
    out = transcripts.import_transcript(tenant, p["id"], n, raw, fmt=args.get("format", "auto"),
                                        replace=args.get("replace", False))
    return {"project": p["id"], "session": n, **out}


def search(tenant: str, args: dict[str, Any]) -> dict[str, Any]:
    """Short hits (id, kind, where, snippet, token cost): the first step of search -> timeline ->
    get_details, so a model pays for full items only when it asks for them."""
    from chalicelib.search import service

    kw = {"kind": args.get("kind"), "limit": args.get("limit", 10), "cursor": args.get("cursor")}
    if args.get("project") or args.get("cwd"):
        out = service.search_project(tenant, _project(tenant, args)["id"], args["query"], **kw)
    else:
        out = service.search_all(tenant, args["query"], **kw)
    keys = ("id", "kind", "session", "message_index", "at", "snippet", "tokens")
    return {"hits": [{k: h[k] for k in keys} for h in out["items"]], "next_cursor": out["next_cursor"],
            "next": "timeline(id) shows what happened around a hit; get_details(ids) returns full items"}


def timeline(tenant: str, args: dict[str, Any]) -> dict[str, Any]:
    from chalicelib.search import service

    return service.timeline(tenant, args["id"], before=args.get("before", 3), after=args.get("after", 3))


def get_details(tenant: str, args: dict[str, Any]) -> dict[str, Any]:
    from chalicelib.search import service

    return service.details(tenant, args["ids"])


_SEARCH_ID = {"type": "string", "minLength": 3, "maxLength": 200, "pattern": r"^p:[A-Za-z0-9_-]+/",
              "description": "an id from search or timeline (p:<project>/s:<n>/m:<index>, ...)"}
_TEXT_LIST = {"type": "array", "maxItems": 100, "items": {"type": "string", "minLength": 1, "maxLength": 4000}}
_LIST_DOCS = {"accomplishments": "what was done", "decisions": "decisions taken, with their reason",
              "next_steps": "what the next session should do", "blockers": "what is blocking",
              "learnings": "what was learnt", "done_items": "open items (ids or texts) this session closed"}

TOOLS: dict[str, Tool] = {t.name: t for t in (
    Tool("list_projects", "The projects this token can see, with session counts and their latest handoff.",
         _obj({}), list_projects),
    Tool("get_handoff", "The latest handoff of a project: the master prompt written for the next session "
         "(Markdown, or the full JSON record)." + WHICH_PROJECT,
         _obj({**_WHERE,
               "max_chars": {"type": "integer", "minimum": 2000, "maximum": 50_000,
                             "description": "cut the Markdown to at most this many characters"},
               "format": {"enum": ["md", "json"], "description": "md (default) or json"}}), get_handoff),
    Tool("list_sessions", "A project's sessions, newest first." + WHICH_PROJECT,
         _obj({**_WHERE, "limit": {"type": "integer", "minimum": 1, "maximum": 100,
                                   "description": "how many (default 10)"}}), list_sessions),
    Tool("get_session", "One session, compact: status, counts and the latest items of its record (decisions, "
         "blockers, next steps ...), transcript counts, and the first lines of the handoff it started from "
         "(get_handoff has the whole handoff)." + WHICH_PROJECT,
         _obj({**_WHERE, "number": {"type": "integer", "minimum": 1, "maximum": 999_999,
                                    "description": "the session number"}}, ("number",)), get_session),
    Tool("search_knowledge", "Search the knowledge base (patterns, solutions, lessons); across projects unless "
         "project (id or name) or cwd (your working directory) names one.",
         _obj({"query": {"type": "string", "minLength": 1, "maxLength": 200, "description": "words to find"},
               **_WHERE}, ("query",)), search_knowledge),
    Tool("start_session", "Start a session of the project (the next number) and return the start of the handoff "
         "it begins from. With external_id (your own session id), calling again returns the same session."
         + WHICH_PROJECT,
         _obj({**_WHERE, "title": {"type": "string", "minLength": 1, "maxLength": 300},
               "goal": {"type": "string", "minLength": 1, "maxLength": 4000},
               "external_id": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": r"^[\x21-\x7e]+$",
                               "description": "your agent's own session id"},
               "agent": {"type": "string", "minLength": 1, "maxLength": 40, "pattern": r"^[a-z0-9][a-z0-9._-]*$",
                         "description": "the agent's name (default mcp)"}}),
         start_session, read_only=False),
    Tool("record_progress", "Record a decision, todo, blocker, done item, note or learning on the current "
         "session, so the next handoff carries it. kind 'handoff' stores your whole account of the session "
         "(headings: Current work, What is left, Decisions and why, Gotchas, Next action); the newest leads the "
         "handoff, its claims checked against the transcript." + WHICH_PROJECT,
         _obj({"kind": {"enum": list(PROGRESS_KINDS)},
               "text": {"type": "string", "minLength": 1, "maxLength": notes.MAX_NOTE_CHARS,
                        "description": "at most 4,000 characters, 60,000 for kind handoff"},
               **_WHERE, "session": _SESSION}, ("kind", "text")), record_progress, read_only=False),
    Tool("complete_session", "Finish the current session (or `session`) with what it did, and queue the handoff "
         "for the next one; get_handoff returns it when ready." + WHICH_PROJECT,
         _obj({**_WHERE, "session": _SESSION,
               "status": {"enum": ["completed", "failed"], "description": "completed (default) or failed"},
               "title": {"type": "string", "minLength": 1, "maxLength": 300},
               **{f: {**_TEXT_LIST, "description": d} for f, d in _LIST_DOCS.items()},
               "handoff_mode": {"enum": ["auto", "llm", "rules"],
                                "description": "who writes the handoff: auto (default), llm or rules"}}),
         complete_session, read_only=False),
    Tool("upload_transcript", "Upload a small transcript (up to 512 KiB of text) to a session; secrets are "
         "redacted on the server. Bulk uploads go through the mso CLI." + WHICH_PROJECT,
         _obj({"content": {"type": "string", "minLength": 1, "maxLength": MAX_MCP_TRANSCRIPT_CHARS},
               "format": {"enum": list(FORMATS)}, **_WHERE, "session": _SESSION,
               "replace": {"type": "boolean", "description": "true to replace the transcript of a finished "
                           "session (refused otherwise; its handoff is then marked as made from the older one)"}},
              ("content",)),
         upload_transcript, read_only=False),
    Tool("search", "Search past sessions (prompts, answers, commands and their errors, file paths, handoffs, notes, "
         "knowledge, open items): short hits with ids and each hit's token cost. Then timeline(id) for what "
         "happened around a hit, get_details(ids) for full items. Across every project unless project (id or "
         "name) or cwd (your working directory) names one.",
         _obj({"query": {"type": "string", "minLength": 1, "maxLength": 500,
                         "description": "words to find (all must match; word* matches a prefix)"},
               **_WHERE, "kind": {"enum": ["prompt", "assistant", "command", "error", "path", "handoff", "note",
                                           "knowledge", "open_item"]},
               "limit": {"type": "integer", "minimum": 1, "maximum": 50, "description": "how many hits (default 10)"},
               "cursor": {"type": "string", "maxLength": 2048, "description": "next_cursor of the previous call"}},
              ("query",)), search),
    Tool("timeline", "What happened around a search hit: the messages just before and after it in its session, "
         "each short (role, time, first words, tool calls, token cost).",
         _obj({"id": _SEARCH_ID, "before": {"type": "integer", "minimum": 0, "maximum": 20},
               "after": {"type": "integer", "minimum": 0, "maximum": 20}}, ("id",)), timeline),
    Tool("get_details", "Full items by id (from search or timeline): a message with its tool calls and results, "
         "a note, a handoff, a knowledge item or an open item.",
         _obj({"ids": {"type": "array", "minItems": 1, "maxItems": 20, "items": _SEARCH_ID}}, ("ids",)),
         get_details),
)}


def as_text(result: Any) -> str:
    return result if isinstance(result, str) else json.dumps(result, indent=1, default=str)
