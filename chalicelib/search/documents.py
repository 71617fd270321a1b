"""What the search index holds: a session's messages, notes and handoff, and the project's
knowledge and open items, flattened into rows of (kind, session, message index, time, text).

Rows are small and typed so that a hit says what it is (a command that failed, a path, a prompt)
and links to the exact message. Raw tool output is cut to OUTPUT_CAP characters per result: it is
mostly noise for search and would make the index as big as the transcripts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

KINDS = ("prompt", "assistant", "command", "error", "path", "handoff", "note", "knowledge", "open_item")
OUTPUT_CAP = 2048  # characters of each tool result's output that are indexed
TEXT_CAP = 20_000  # characters of one row (a pasted 200 KB prompt still finds by its start)
ERROR_LINES = 20  # lines of a failed result kept as the error row
_ERROR_LINE = re.compile(r"error|exception|traceback|failed|fatal|denied|not found|cannot|no such", re.I)
_PATH_KEYS = ("file_path", "path", "notebook_path", "filename")
_COMMAND_KEYS = ("command", "cmd", "pattern", "query", "url", "prompt", "description")
_MARKERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # control characters (the snippet markers among them)


@dataclass(frozen=True)
class Row:
    """One searchable document. `ref` names the item for get_details when it is not a message
    (a note version, a knowledge id, an open item id); `session`/`message` are None for
    project-level items."""

    kind: str
    text: str
    session: int | None = None
    message: int | None = None
    at: str | None = None
    ref: str | None = None


def clean(text: str, cap: int = TEXT_CAP) -> str:
    """Text as indexed: control characters out (they are the snippet's markers), cut to `cap`."""
    return _MARKERS.sub(" ", text[:cap]).strip()


def _input_summary(call: dict[str, Any]) -> str:
    inp = call.get("input") or {}
    if not isinstance(inp, dict):
        return str(inp)[:500]
    for k in _COMMAND_KEYS:
        v = inp.get(k)
        if isinstance(v, str) and v.strip():
            return v
    for k in _PATH_KEYS:
        v = inp.get(k)
        if isinstance(v, str) and v.strip():
            return v
    return ""


def _paths(call: dict[str, Any]) -> list[str]:
    inp = call.get("input") or {}
    if not isinstance(inp, dict):
        return []
    return [v for k in _PATH_KEYS if isinstance(v := inp.get(k), str) and 0 < len(v) <= 1000]


_EXIT = re.compile(r"(?:Exit code|exit_code|exit status|Process exited with code)[:=\s]+(-?\d+)", re.I)


def _exit_code(result: dict[str, Any]) -> int | None:
    """The result's exit code: the importer's (Codex), else one the output states at its end."""
    data = result.get("data") or {}
    code = data.get("exit_code") if isinstance(data, dict) else None
    if isinstance(code, int):
        return code
    m = _EXIT.search(str(result.get("text") or "")[-300:])
    return int(m.group(1)) if m else None


def _error_lines(text: str) -> str:
    """The lines of a failed result worth finding: those that say error, else its last lines."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    hits = [ln for ln in lines if _ERROR_LINE.search(ln)]
    return "\n".join((hits or lines[-ERROR_LINES:])[:ERROR_LINES])


def _command_rows(call: dict[str, Any], result: dict[str, Any] | None, session: int, index: int,
                  at: str | None) -> Iterator[Row]:
    name = str(call.get("name") or "tool")
    head = f"{name}: {_input_summary(call)}".strip()
    parts = [head]
    if result is not None:
        code = _exit_code(result)
        failed = bool(result.get("is_error")) or (code is not None and code != 0)
        if code is not None or failed:
            parts.append(f"exit {code if code is not None else 'error'}")
        out = str(result.get("text") or "")
        if out:
            parts.append(out[:OUTPUT_CAP])
        if failed:
            yield Row("error", clean(f"{head}\n{_error_lines(out)}"), session, index, at)
    yield Row("command", clean("\n".join(parts)), session, index, at)
    for p in _paths(call):
        yield Row("path", clean(p, 1000), session, index, at)


def message_rows(session: int, messages: Iterable[dict[str, Any]]) -> Iterator[Row]:
    """Rows of a transcript's messages (normalized dicts, in order; index = position).

    A tool call's row carries its result (exit code, output head) and sits at the call's message,
    where the agent decided to run it; a result whose call is unknown gets its own row."""
    pending: dict[str, tuple[dict[str, Any], int, str | None]] = {}
    for i, m in enumerate(messages):
        at = m.get("timestamp")
        role, text = m.get("role"), str(m.get("text") or "")
        if text.strip():
            if role == "user" and not m.get("injected") and not m.get("tool_results"):
                yield Row("prompt", clean(text), session, i, at)
            elif role in ("assistant", "summary"):
                yield Row("assistant", clean(text), session, i, at)
        for call in m.get("tool_calls") or []:
            cid = call.get("id")
            if cid:
                pending[cid] = (call, i, at)
            else:  # no id: no result will name it
                yield from _command_rows(call, None, session, i, at)
            if len(pending) > 512:  # a transcript that never answers its calls: do not grow
                old = next(iter(pending))
                c, j, t = pending.pop(old)
                yield from _command_rows(c, None, session, j, t)
        for r in m.get("tool_results") or []:
            hit = pending.pop(r.get("tool_call_id") or "", None)
            if hit is not None:
                yield from _command_rows(hit[0], r, session, hit[1], hit[2])
            else:
                yield from _command_rows({"name": r.get("name") or "tool"}, r, session, i, at)
    for call, j, t in pending.values():
        yield from _command_rows(call, None, session, j, t)


def note_rows(notes: Iterable[Any]) -> Iterator[Row]:
    """Rows of a session's account versions (storage NoteItem)."""
    for n in notes:
        yield Row("note", clean(n.text or ""), int(n.number), None, n.created_at, f"note:{int(n.version)}")


def handoff_rows(number: int, markdown: str | None, at: str | None) -> Iterator[Row]:
    """The ready handoff written from session `number` (Markdown), split by section so a hit's
    snippet and token cost are of the section, not of the whole document."""
    if not markdown or not markdown.strip():
        return
    sections = re.split(r"\n(?=#{1,3} )", markdown)
    for k, sec in enumerate(sections):
        if sec.strip():
            yield Row("handoff", clean(sec), number, None, at, f"handoff:{k}")


def knowledge_rows(items: Iterable[Any]) -> Iterator[Row]:
    for k in items:
        tags = " ".join(k.tags or [])
        text = "\n".join(x for x in (k.title, k.body or "", tags) if x)
        yield Row("knowledge", clean(text), int(k.source_session) if k.source_session else None, None,
                  k.updated_at or k.created_at, f"knowledge:{k.id}")


def open_item_rows(items: Iterable[Any]) -> Iterator[Row]:
    for it in items:
        yield Row("open_item", clean(f"{it.kind} ({it.status}): {it.text}"), int(it.opened_by), None,
                  it.opened_at, f"item:{it.id}")
