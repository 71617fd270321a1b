"""The importer interface and the helpers every format shares.

An importer is a small stateful object made for one parse: `sniff(head)` scores how much the
first ~64 KB of text look like its format (0 = not at all, 1 = certain); `parse(stream)` yields
normalized `Message`s as it reads. JSONL importers read the stream line by line (memory stays
flat); single-document JSON importers read it whole (they say so). Whatever the importer learns
about the session besides messages (cwd, model, session id, ...) goes into `info`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from typing import Any, ClassVar, TextIO

from ..errors import TranscriptEmpty, TranscriptInvalidJSON, TranscriptInvalidStructure
from ..limits import MAX_MESSAGE_BYTES
from ..model import Message

_loads = json.loads


class Importer:
    """Base class: subclasses set `name` and implement `sniff` and `parse`."""

    name: ClassVar[str] = ""
    #: True when the format can hold several conversations and `conversation=` selects one.
    multi_conversation: ClassVar[bool] = False

    def __init__(self, *, conversation: str | None = None) -> None:
        self.conversation = conversation
        self.info: dict[str, Any] = {}
        self.max_message_chars = MAX_MESSAGE_BYTES  # line-built messages keep this much (BoundedLines)

    @classmethod
    def sniff(cls, head: str) -> float:
        """Score in [0, 1]: how likely `head` (the first ~64 KB of text) is this format."""
        raise NotImplementedError

    def parse(self, stream: TextIO | Iterable[str]) -> Iterator[Message]:
        """Yield messages in order. `stream` is iterated for lines, or `.read()` whole."""
        raise NotImplementedError


# -- JSON helpers ----------------------------------------------------------------------------------

def head_lines(head: str, limit: int = 20) -> list[str]:
    """The complete, non-blank lines of `head` (the last one may be cut by the 64 KB window)."""
    lines = head.split("\n", limit + 1)
    complete = lines[:-1] if len(lines) > 1 else []
    return [ln for ln in complete[:limit] if ln.strip()]


@lru_cache(maxsize=2)
def head_records(head: str, limit: int = 20) -> list[dict[str, Any]] | None:
    """The first JSONL records of `head` as dicts; None when the head does not look like JSONL.

    A single complete line that is a JSON object counts (a one-record file); when no line is
    complete within the head (one giant line) the caller falls back to substring heuristics.
    Cached (every JSONL sniffer asks during detection): callers must not modify the records.
    """
    lines = head_lines(head, limit)
    if not lines and head.strip() and "\n" not in head.strip():
        lines = [head.strip()]  # the whole upload is one line (small single-record file)
    out: list[dict[str, Any]] = []
    for ln in lines:
        s = ln.strip()
        if not s.startswith("{"):
            return None
        try:
            obj = _loads(s)
        except ValueError:
            return None
        if not isinstance(obj, dict):
            return None
        out.append(obj)
    return out or None


def load_document(stream: TextIO | Iterable[str], fmt: str, *, allow_jsonl: bool = False) -> Any:
    """Read and parse a whole JSON document, turning parse errors into TranscriptInvalidJSON.

    With `allow_jsonl`, a body whose first line is a complete JSON object and that is not one
    document is read as JSONL instead (a list of the line objects)."""
    text = stream.read() if hasattr(stream, "read") else "".join(stream)
    if not text.strip():
        raise TranscriptEmpty(f"The {fmt} transcript is empty.", format=fmt)
    try:
        return _loads(text)
    except json.JSONDecodeError as e:
        if allow_jsonl:
            first = text.lstrip().split("\n", 1)[0]
            try:
                first_ok = first.startswith("{") and isinstance(_loads(first), dict)
            except ValueError:
                first_ok = False
            if first_ok:
                parts = text.split("\n")  # not splitlines(): JSON strings may hold U+2028
                lines = [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])
                return [rec for _, rec in iter_json_lines(lines, fmt)]
        truncated = e.pos >= len(text.rstrip()) - 1
        what = "ends before the JSON document is complete (truncated upload?)" if truncated else \
            f"is not valid JSON: {e.msg}"
        raise TranscriptInvalidJSON(
            f"The {fmt} transcript {what} at line {e.lineno}, column {e.colno}. Upload the complete, "
            "unmodified file.", line=e.lineno, format=fmt) from None


def iter_json_lines(stream: TextIO | Iterable[str], fmt: str,
                    skip: Callable[[str], bool] | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, record) for each non-blank JSONL line.

    Strict on purpose: a line that is not a JSON object raises TranscriptInvalidJSON naming the
    line (a silently dropped line could be the one that mattered); a last line without its
    newline that does not parse is reported as a truncated upload. `skip(line)` may drop complete
    lines without parsing them (cheap filtering of bulky records the format never needs).
    """
    lineno = 0
    for line in stream:
        lineno += 1
        if skip is not None and skip(line) and line.endswith("\n"):
            continue
        try:
            obj = _loads(line)
        except ValueError as e:
            if not line.strip():
                continue
            if not line.endswith("\n"):
                raise TranscriptInvalidJSON(
                    f"Line {lineno} of the {fmt} transcript is cut off (the last line does not parse: "
                    f"{getattr(e, 'msg', e)}); the upload looks truncated. Upload the complete file.",
                    line=lineno, format=fmt) from None
            raise TranscriptInvalidJSON(
                f"Line {lineno} of the {fmt} transcript is not valid JSON ({getattr(e, 'msg', e)}); every "
                "line of a JSONL transcript must be one JSON object. Upload the unmodified file.",
                line=lineno, format=fmt) from None
        if not isinstance(obj, dict):
            raise TranscriptInvalidStructure(
                f"Line {lineno} of the {fmt} transcript is a JSON {type(obj).__name__}, not an object; "
                f"this does not look like a {fmt} file.", line=lineno, format=fmt)
        yield lineno, obj


# -- content helpers -------------------------------------------------------------------------------

def is_injected(text: str) -> bool:
    """User-role text written by a harness, not a person: tags such as `<system-reminder>`,
    `<command-name>`, `<environment_context>`, and interruption notices."""
    s = text.lstrip()
    return s.startswith("<") or s.startswith("[Request interrupted")


def parse_json_string(value: Any) -> Any:
    """Tool-call arguments arrive as JSON strings in OpenAI-style formats; decode when possible."""
    if isinstance(value, str):
        s = value.strip()
        if s[:1] in ("{", "["):
            try:
                return _loads(s)
            except ValueError:
                return value
    return value


def as_input(value: Any) -> dict[str, Any]:
    """A tool input as a dict (the model's ToolCall.input is a dict): wrap anything else."""
    value = parse_json_string(value)
    if isinstance(value, dict):
        return value
    if value is None or value == "":
        return {}
    return {"input": value}


def text_of(content: Any, sep: str = "\n") -> str:
    """Plain text of OpenAI/Anthropic-style content: a string, or a list of parts with `text`."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts: list[str] = []
        for p in content:
            if isinstance(p, str):
                parts.append(p)
            elif isinstance(p, dict):
                t = p.get("text")
                if isinstance(t, str):
                    parts.append(t)
                elif isinstance(t, dict) and isinstance(t.get("value"), str):
                    parts.append(t["value"])  # Assistants API style {"text": {"value": ...}}
                elif p.get("type") in ("image", "image_url", "input_image"):
                    parts.append("[image]")
        return sep.join(parts)
    if isinstance(content, dict):
        return text_of([content], sep)
    return str(content)


def _as_str(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _as_opt_str(value: Any) -> str | None:
    return value if value is None or isinstance(value, str) else _as_str(value)


def sanitize(msg: Message) -> Message:
    """Guarantee the model's field types whatever odd values a file held (a number where a tool
    name belongs, a list as a timestamp): downstream code can trust `Message` without checks."""
    if not isinstance(msg.text, str):
        msg.text = _as_str(msg.text)
    if not isinstance(msg.thinking, str):
        msg.thinking = _as_str(msg.thinking)
    if not isinstance(msg.timestamp, str | None):
        msg.timestamp = _as_str(msg.timestamp)
    for c in msg.tool_calls:
        if not isinstance(c.name, str) or not c.name:
            c.name = _as_str(c.name) or "tool"
        if not isinstance(c.input, dict):
            c.input = {"input": c.input}
        if not isinstance(c.id, str | None):
            c.id = _as_str(c.id)
    for r in msg.tool_results:
        if not isinstance(r.text, str):
            r.text = _as_str(r.text)
        r.tool_call_id = _as_opt_str(r.tool_call_id)
        r.name = _as_opt_str(r.name)
        r.is_error = bool(r.is_error)
        if r.data is not None and not isinstance(r.data, dict):
            r.data = {"value": r.data}
    if not isinstance(msg.meta, dict):
        msg.meta = {}
    return msg


def to_int(value: Any) -> int:
    """A token count as an int: 0 for anything that is not a non-negative integer."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return 0
    return int(value)


class ModelUsage:
    """Tokens per model by kind, and the largest prompt one call sent (the session's peak context).

    Kept beside the per-message usage so a session that switched models (Claude Code's sub-agents
    run on a smaller one) is priced per model (chalicelib.pricing). Input here is fresh input:
    cache reads and writes are their own kinds.
    """

    def __init__(self) -> None:
        self.by_model: dict[str, dict[str, int]] = {}
        self.peak = 0

    def add(self, model: Any, fresh_in: int, out: int, cache_read: int = 0, cache_write: int = 0, *,
            prompt: int = 0) -> None:
        if not isinstance(model, str) or not model or model.startswith("<"):  # "<synthetic>": no API call
            model = "unknown"
        t = self.by_model.setdefault(model[:200], dict.fromkeys(
            ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens"), 0))
        t["input_tokens"] += max(0, fresh_in)
        t["output_tokens"] += max(0, out)
        t["cache_read_tokens"] += max(0, cache_read)
        t["cache_write_tokens"] += max(0, cache_write)
        self.peak = max(self.peak, prompt)

    def into(self, info: dict[str, Any]) -> None:
        used = {m: t for m, t in self.by_model.items() if any(t.values())}
        if used:
            info["usage_by_model"] = dict(list(used.items())[:20])  # bounded: a record stays small
        if self.peak:
            info["peak_context_tokens"] = self.peak


_NOT_JSON = object()


@lru_cache(maxsize=2)
def _head_document(head: str) -> Any:
    try:
        return _loads(head)
    except ValueError:
        return _NOT_JSON


def head_document(head: str) -> tuple[bool, Any]:
    """(True, value) when the head is a complete JSON document (a small upload), else (False, None).
    Cached: every single-document importer asks during detection."""
    s = head.lstrip()
    if not s.startswith(("{", "[")):
        return False, None
    doc = _head_document(head)
    return (False, None) if doc is _NOT_JSON else (True, doc)
