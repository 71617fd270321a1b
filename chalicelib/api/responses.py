"""JSON Schemas of response bodies, published in openapi.json (and checked by the fuzz test).

They name the fields every answer has and their types; answers may carry more fields (new ones
are added without breaking clients), so objects stay open (`additionalProperties` allowed).
"""

from __future__ import annotations

from typing import Any

S: dict[str, Any] = {"type": "string"}
S_NULL: dict[str, Any] = {"type": ["string", "null"]}
INT: dict[str, Any] = {"type": "integer"}
INT_NULL: dict[str, Any] = {"type": ["integer", "null"]}
NUM: dict[str, Any] = {"type": "number"}
NUM_NULL: dict[str, Any] = {"type": ["number", "null"]}
BOOL: dict[str, Any] = {"type": "boolean"}
OBJ: dict[str, Any] = {"type": "object"}
OBJ_NULL: dict[str, Any] = {"type": ["object", "null"]}
STRINGS: dict[str, Any] = {"type": "array", "items": S}


def obj(required: tuple[str, ...] = (), **props: dict[str, Any]) -> dict[str, Any]:
    """An object with these typed properties, of which `required` are always present."""
    out: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        out["required"] = list(required)
    return out


def page(item: dict[str, Any], **extra: dict[str, Any]) -> dict[str, Any]:
    """One page of a list: `items` and the cursor of the next page (null on the last)."""
    return obj(("items", "next_cursor"), items={"type": "array", "items": item}, next_cursor=S_NULL, **extra)


COUNTS = obj(("total", "in_progress", "completed", "failed"), total=INT, in_progress=INT, completed=INT,
             failed=INT)

PROJECT = obj(
    ("id", "name", "pins", "created_at", "sessions", "latest_handoff"),
    id=S, name=S, description=S_NULL, goal=S_NULL, pins=STRINGS, created_at=S, updated_at=S_NULL,
    sessions=COUNTS, credit_budget=NUM, credits_used=NUM, tasks_planned=NUM, tasks_completed=NUM,
    duration_s=NUM, errors=NUM, handoffs_ready=NUM, latest_handoff=INT_NULL, knowledge_items=NUM)

ACCOUNT = obj(("id", "name", "provider", "credit_budget", "credits_used"), id=S, name=S, provider=S,
              credit_budget=NUM, credits_used=NUM, credits_left=NUM, sessions=NUM, created_at=S)

TRANSCRIPT_INFO = obj(("format", "messages"), format=S, messages=INT, chars=INT, tool_calls=INT,
                      tool_errors=INT, tokens=INT, input_tokens=INT_NULL, output_tokens=INT_NULL,
                      cache_read_tokens=INT_NULL, cache_write_tokens=INT_NULL, peak_context_tokens=INT_NULL,
                      started_at=S_NULL, ended_at=S_NULL,
                      redactions=OBJ, uploaded_at=S_NULL)

COST = obj(("usd", "by_model", "unpriced_models", "price_table"), usd=NUM_NULL,
           by_model={"type": "object", "additionalProperties": NUM}, unpriced_models=STRINGS, price_table=S)

# cost_totals over several sessions (a project's, or every project's of the tenant)
COST_TOTALS = obj(("usd", "sessions_priced", "sessions_with_tokens_unpriced", "by_model", "unpriced_models",
                   "price_table"), usd=NUM_NULL, sessions_priced=INT, sessions_with_tokens_unpriced=INT,
                  by_model={"type": "object", "additionalProperties": NUM}, unpriced_models=STRINGS,
                  peak_context_tokens=INT_NULL, price_table=S)

HANDOFF_REF = obj(("status",), status=S, method=S_NULL, version=INT_NULL, finished_at=S_NULL, older_transcript=BOOL)

_RECORD = {f: STRINGS for f in ("accomplishments", "blockers", "decisions", "learnings", "next_steps", "errors",
                                "links", "done_items")}

SESSION = obj(
    ("project_id", "number", "status", "started_at", *_RECORD),
    project_id=S, number=INT, status={"enum": ["in_progress", "completed", "failed"]}, title=S_NULL, goal=S_NULL,
    ai_account=S_NULL, model=S_NULL, credit_budget=NUM, credits_used=NUM, tasks_planned=NUM, tasks_completed=NUM,
    started_at=S, ended_at=S_NULL, duration_s=NUM_NULL, files=NUM, handoff_mode=S_NULL,
    started_from_handoff=INT_NULL, handoff={"anyOf": [HANDOFF_REF, {"type": "null"}]},
    transcript={"anyOf": [TRANSCRIPT_INFO, {"type": "null"}]}, cost={"anyOf": [COST, {"type": "null"}]},
    **_RECORD)

HANDOFF_STATUS = {"enum": ["pending", "running", "ready", "failed"]}

HANDOFF = obj(
    ("project_id", "from_session", "for_session", "status", "version"),
    project_id=S, from_session=INT, for_session=INT, status=HANDOFF_STATUS, mode=S_NULL, method=S_NULL,
    reason=S_NULL, version=INT, job_id=S_NULL, budget_chars=INT_NULL, input_chars=INT_NULL, output_chars=INT_NULL,
    requested_at=S_NULL, started_at=S_NULL, finished_at=S_NULL, markdown=S_NULL, data=OBJ_NULL,
    must_keep={"type": "array"}, older_transcript=BOOL, transcript_replaced_at=S_NULL)

SESSION_STARTED = {**SESSION, "properties": {**SESSION["properties"], "starting_handoff": OBJ_NULL}}

COMPLETED = obj(("session", "handoff"), session=SESSION, handoff=HANDOFF)

VERSION = obj(("project_id", "from_session", "version", "status"), project_id=S, from_session=INT,
              for_session=INT, version=INT, mode=S_NULL, method=S_NULL, reason=S_NULL, input_chars=INT_NULL,
              output_chars=INT_NULL, requested_at=S_NULL, finished_at=S_NULL, status=S, markdown=S_NULL,
              data=OBJ_NULL)

KNOWLEDGE = obj(("id", "project_id", "kind", "title", "body", "tags", "uses"), id=S, project_id=S,
                kind={"enum": ["pattern", "solution", "lesson"]}, title=S, body=S, tags=STRINGS,
                source_session=INT_NULL, uses=INT, created_at=S)

MESSAGE = obj(("role", "text", "index"), role={"enum": ["user", "assistant", "system", "tool", "summary"]},
              text=S, index=INT, tool_calls={"type": "array"}, tool_results={"type": "array"}, timestamp=S_NULL,
              thinking=S, meta=OBJ)

IMPORTED = obj(("format", "messages", "upload_id"), format=S, messages=INT, chars=INT, tool_calls=INT,
               tool_errors=INT, tokens=INT, redactions=OBJ, files=INT, upload_id=S, clipped_messages=INT,
               warnings={"type": "array", "items": obj(("code", "message"), code=S, message=S)})

UPLOAD_SLOT = obj(("upload_id", "upload_url", "method", "status_url"), upload_id=S, upload_url=S,
                  method={"enum": ["PUT"]}, expires_in=INT, status_url=S, how=S)

UPLOAD_STATUS = obj(("upload_id", "status", "project_id", "number"), upload_id=S,
                    status={"enum": ["waiting", "importing", "done", "failed"]}, project_id=S, number=INT,
                    result=OBJ_NULL)

FILE_CHANGE = obj(("session", "path", "kind"), session=INT, path=S,
                  kind={"enum": ["added", "modified", "deleted", "renamed"]}, lines_added=INT_NULL,
                  lines_removed=INT_NULL, summary=S, old_path=S_NULL, source=S_NULL)

NOTE = obj(("project_id", "number", "version", "kind", "created_at", "chars"), project_id=S, number=INT,
           version=INT, kind={"enum": ["handoff", "compact_summary"]}, source=S_NULL, created_at=S, chars=INT,
           text=S, handoff=OBJ_NULL)

CHECKPOINT = obj(("project_id", "number", "markdown", "chars"), project_id=S, number=INT, markdown=S, chars=INT,
                 messages=INT, generated_at=S)

TIMELINE_SESSION = obj(
    ("number", "status", "started_at", "ended_at", "commits", "checks", "errors", "handoff"),
    number=INT, title=S_NULL, status={"enum": ["in_progress", "completed", "failed"]}, started_at=S,
    ended_at=S_NULL, duration_s=NUM_NULL, tokens=INT_NULL, cost_usd=NUM_NULL, peak_context_tokens=INT_NULL,
    commits=INT, checks=obj(("pass", "fail"), **{"pass": INT, "fail": INT}), errors=INT,
    handoff={"anyOf": [obj(("status",), status=S, version=INT_NULL, method=S_NULL), {"type": "null"}]})
PROJECT_TIMELINE = obj(("project_id", "sessions"), project_id=S,
                       sessions={"type": "array", "items": TIMELINE_SESSION})

SESSION_EVENT = obj(("index", "at", "kind", "label", "outcome", "path"), index=INT, at=S_NULL,
                    kind={"enum": ["edit", "command", "check", "commit", "push", "compaction", "note", "error",
                                   "user"]},
                    label=S, outcome={"enum": ["pass", "fail", None]}, path=S_NULL)
SESSION_TIMELINE = obj(("session", "started_at", "ended_at", "events", "truncated"), session=INT,
                       started_at=S_NULL, ended_at=S_NULL, events={"type": "array", "items": SESSION_EVENT},
                       truncated=BOOL)

FILES_SET = obj(("files",), files=INT)
PINS = obj(("items",), items=STRINGS)
DELETED = obj(("deleted", "items_removed"), deleted=S, items_removed=INT)
HEALTH = obj(("status", "version"), status={"enum": ["ok", "unavailable"]}, version=S,
             database={"enum": ["ok", "unavailable"]})
OPENAPI = obj(("openapi", "info", "paths"), openapi=S, info=OBJ, paths=OBJ, components=OBJ)
STATS = obj(("projects", "sessions", "cost"), projects=INT, sessions=COUNTS, credit_budget=NUM, credits_used=NUM,
            cost=COST_TOTALS, accounts={"type": "array", "items": ACCOUNT},
            per_project={"type": "array", "items": obj(("id", "name", "cost"), id=S, name=S, cost=COST_TOTALS)})
ANALYTICS = obj(("project", "series"), project=PROJECT, series={"type": "array", "items": OBJ})
LLM_STATUS = obj(("configured",), configured=BOOL, provider=S, model=S_NULL, region=S_NULL,
                 endpoint_host=S_NULL, key_source=S_NULL,
                 last_success=OBJ_NULL, last_failure=OBJ_NULL)
OPEN_ITEM = obj(("id", "text", "kind", "status"), id=S, text=S, kind=S, status={"enum": ["open", "closed"]},
                source=S_NULL, opened_by=INT_NULL, opened_at=S_NULL, closed_by=INT_NULL, closed_at=S_NULL)
CLOSED_ITEMS = obj(("closed",), closed={"type": "array", "items": OPEN_ITEM},
                   already_closed={"type": "array"}, unmatched={"type": "array"})
JSONRPC = obj(("jsonrpc",), jsonrpc={"enum": ["2.0"]}, id={"type": ["string", "integer", "null"]}, result=OBJ,
              error=obj(("code", "message"), code=INT, message=S))

ERROR: dict[str, Any] = {  # every error answer (see chalicelib/errors.py)
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
        "code": {"type": "string"}, "message": {"type": "string"}, "field": {"type": "string"}}}},
}
