"""JSON Schemas of request bodies and query parameters: validated on every request, published in openapi.json."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_str = {"type": "string"}


def text(max_len: int, min_len: int = 0) -> dict[str, Any]:
    return {"type": "string", "minLength": min_len, "maxLength": max_len}


def amount() -> dict[str, Any]:
    return {"type": "number", "minimum": 0, "maximum": 1e12}


def count() -> dict[str, Any]:
    return {"type": "integer", "minimum": 0, "maximum": 1_000_000_000}


def text_list(max_items: int = 200, max_len: int = 4000) -> dict[str, Any]:
    return {"type": "array", "maxItems": max_items, "items": text(max_len, 1)}


# "Not only whitespace", spelled out: `\S` differs between Python and ECMAScript (U+FEFF is space in
# JavaScript, U+001C-U+001F and U+0085 in Python), so the class excludes what either calls space.
NOT_BLANK = "[^\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff]"
NAME = {"type": "string", "minLength": 1, "maxLength": 200, "pattern": NOT_BLANK}
ID = {"type": "string", "minLength": 1, "maxLength": 64, "pattern": r"^[A-Za-z0-9_-]+$"}

PROJECT_CREATE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name"],
    "properties": {
        "name": NAME,
        "description": text(4000),
        "goal": text(4000),
        "pins": text_list(100, 4000),
    },
}

PROJECT_PATCH = {
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    "properties": {
        "name": NAME,
        "description": {"type": ["string", "null"], "maxLength": 4000},
        "goal": {"type": ["string", "null"], "maxLength": 4000},
        "pins": text_list(100, 4000),
    },
}

PINS_PUT = {
    "oneOf": [
        text_list(100, 4000),
        {"type": "object", "additionalProperties": False, "required": ["items"],
         "properties": {"items": text_list(100, 4000)}},
    ]
}

ACCOUNT_CREATE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "provider"],
    "properties": {"name": NAME, "provider": {**NAME, "maxLength": 100}, "credit_budget": amount()},
}

_SESSION_SCALARS: dict[str, Any] = {
    "title": text(300),
    "goal": text(4000),
    "ai_account": ID,
    "model": text(200),
    "credit_budget": amount(),
    "credits_used": amount(),
    "tasks_planned": count(),
    "tasks_completed": count(),
}

# The agent's own session id (Claude Code, Codex: a UUID) and the agent's name.
EXTERNAL_ID = {"type": "string", "minLength": 1, "maxLength": 200, "pattern": r"^[\x21-\x7e]+$"}
AGENT = {"type": "string", "minLength": 1, "maxLength": 40, "pattern": r"^[a-z0-9][a-z0-9._-]*$"}

SESSION_CREATE = {"type": "object", "additionalProperties": False,
                  "properties": {**_SESSION_SCALARS, "external_id": EXTERNAL_ID, "agent": AGENT}}

_RECORD = {
    "accomplishments": text_list(),
    "blockers": text_list(),
    "decisions": text_list(),
    "learnings": text_list(),
    "next_steps": text_list(),
    "errors": text_list(),
    "links": text_list(100, 2000),
    "done_items": text_list(),
}

SESSION_PATCH = {
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    "properties": {
        **_SESSION_SCALARS,
        **_RECORD,
        "duration_s": count(),
        "status": {"enum": ["in_progress", "completed", "failed"]},
    },
}

HANDOFF_MODE = {"enum": ["auto", "llm", "rules"]}
BUDGET = {"type": "integer", "minimum": 1000, "maximum": 100_000}

SESSION_COMPLETE = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        **_SESSION_SCALARS,
        **_RECORD,
        "duration_s": count(),
        "status": {"enum": ["completed", "failed"]},
        "handoff_mode": HANDOFF_MODE,
        "budget_chars": BUDGET,
    },
}

HANDOFF_REQUEST = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"mode": HANDOFF_MODE, "budget_chars": BUDGET},
}

NOTE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["text"],
    "properties": {
        "text": text(60_000, 1),
        "kind": {"enum": ["handoff", "compact_summary"], "default": "handoff"},
        "source": {"enum": ["mso note", "mcp", "post-compact", "api", "dashboard"]},
    },
}

OPEN_ITEMS_CLOSE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["items", "session"],
    "properties": {
        "items": {**text_list(), "minItems": 1},
        "session": {"type": "integer", "minimum": 1, "maximum": 999_999},
    },
}

FILE_CHANGE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["path"],
    "properties": {
        "path": text(1024, 1),
        "kind": {"enum": ["added", "modified", "deleted", "renamed"]},
        "lines_added": {"type": ["integer", "null"], "minimum": 0, "maximum": 1_000_000_000},
        "lines_removed": {"type": ["integer", "null"], "minimum": 0, "maximum": 1_000_000_000},
        "summary": text(2000),
        "old_path": text(1024, 1),
    },
}

FILES_PUT = {
    "oneOf": [
        {"type": "array", "maxItems": 5000, "items": FILE_CHANGE},
        {"type": "object", "additionalProperties": False, "required": ["items"],
         "properties": {"items": {"type": "array", "maxItems": 5000, "items": FILE_CHANGE}}},
    ]
}

KNOWLEDGE_CREATE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["title", "body"],
    "properties": {
        "title": NAME,
        "body": text(20000, 1),
        "kind": {"enum": ["pattern", "solution", "lesson"]},
        "tags": {"type": "array", "maxItems": 20, "items": text(50, 1)},
    },
}

KNOWLEDGE_PATCH = {
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    "properties": {k: v for k, v in KNOWLEDGE_CREATE["properties"].items()},
}



def py_pattern(pattern: str) -> str:
    """A JSON Schema (ECMAScript) pattern as Python's `re` reads it the same way: ECMAScript's `$` is
    the end of the text, Python's also matches before a final newline ("abc\\n" would pass)."""
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        return pattern[:-1] + "\\Z"
    return pattern


def for_python(schema: Any) -> Any:
    """`schema` with every pattern rewritten by `py_pattern` (what fastjsonschema compiles)."""
    if isinstance(schema, dict):
        return {k: py_pattern(v) if k == "pattern" and isinstance(v, str) else for_python(v)
                for k, v in schema.items()}
    if isinstance(schema, list):
        return [for_python(v) for v in schema]
    return schema


# -- query parameters ------------------------------------------------------------------------------
# Declared per route (`endpoint(query=...)`), validated before the view runs, published in openapi.json.

@dataclass(frozen=True)
class Query:
    """One query parameter: a small JSON Schema (integer range, enum or string length), its default."""

    description: str
    schema: dict[str, Any]
    default: Any = None
    required: bool = False
    code: str = "invalid_query"

    def expects(self) -> str:
        s = self.schema
        if "enum" in s:
            return "one of: " + ", ".join(s["enum"])
        if s.get("type") == "integer":
            return f"an integer from {s['minimum']} to {s['maximum']}"
        chars = " (letters, digits, - and _)" if "pattern" in s else ""
        return f"{s.get('minLength', 0)} to {s['maxLength']} characters{chars}"

    def parse(self, name: str, raw: str) -> Any:
        """The value of `raw`, or BadRequest naming `name` (ASCII digits only: `isdigit()` takes '¹')."""
        s = self.schema
        if "enum" in s:
            ok = raw in s["enum"]
            value: Any = raw
        elif s.get("type") == "integer":
            ok = _ASCII_INT.fullmatch(raw) is not None and s["minimum"] <= int(raw) <= s["maximum"]
            value = int(raw) if ok else None
        else:
            ok = s.get("minLength", 0) <= len(raw) <= s["maxLength"] and (
                "pattern" not in s or re.search(py_pattern(s["pattern"]), raw) is not None)
            value = raw
        if not ok:
            from chalicelib.errors import BadRequest

            raise BadRequest(f"{name} must be {self.expects()}", field=name, code=self.code)
        return value


_ASCII_INT = re.compile(r"[0-9]{1,9}")


def q_int(lo: int, hi: int, default: int | None, description: str) -> Query:
    return Query(description, {"type": "integer", "minimum": lo, "maximum": hi}, default)


def q_enum(values: tuple[str, ...], default: str, description: str) -> Query:
    return Query(description, {"type": "string", "enum": list(values)}, default)


def q_text(max_len: int, description: str, *, min_len: int = 0, required: bool = False,
           code: str = "invalid_query", pattern: str | None = None) -> Query:
    schema: dict[str, Any] = {"type": "string", "minLength": min_len, "maxLength": max_len}
    if pattern:
        schema["pattern"] = pattern
    return Query(description, schema, None, required, code)


MAX_LIMIT = 100
DEFAULT_LIMIT = 25
PAGE = {"limit": q_int(1, MAX_LIMIT, DEFAULT_LIMIT, "page size"),
        "cursor": q_text(2048, "next_cursor of the previous page", code="invalid_cursor",
                         pattern="^[A-Za-z0-9_=-]*$")}
