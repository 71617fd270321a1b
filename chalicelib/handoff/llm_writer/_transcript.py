"""The session transcript as compact text for the model: rendering levels and chunks."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from chalicelib.text import clip_middle
from chalicelib.transcripts.actions import COMMAND_KEYS, PATH_KEYS
from chalicelib.transcripts.model import Message


@dataclass(frozen=True)
class _Level:
    user: int
    injected: int
    assistant: int
    summary: int
    system: int
    arg: int
    call_line: int
    result: int
    error: int


_LEVELS = (
    _Level(user=4000, injected=400, assistant=1500, summary=4000, system=400, arg=200, call_line=400,
           result=600, error=1500),
    _Level(user=2000, injected=200, assistant=600, summary=2000, system=200, arg=120, call_line=240,
           result=160, error=700),
    _Level(user=1000, injected=100, assistant=300, summary=1000, system=0, arg=80, call_line=160,
           result=0, error=300),
)
# what a call is about comes first (the command, the file, the search), in the agent registry's key names
_FIRST_ARGS = COMMAND_KEYS + PATH_KEYS + ("pattern", "query", "url", "description")


def render_transcript(messages: Sequence[Message], *, level: int = 0) -> str:
    """The transcript as compact text; higher `level` trims harder (0..2)."""
    return "\n".join(_render_blocks(messages, level))


def _render_blocks(messages: Sequence[Message], level: int) -> list[str]:
    lv = _LEVELS[max(0, min(level, len(_LEVELS) - 1))]
    blocks = []
    for m in messages:
        block = _render_message(m, lv)
        if block:
            blocks.append(block)
    return blocks


def _render_message(m: Message, lv: _Level) -> str:
    lines: list[str] = []
    if m.role == "user":
        label, limit = ("USER (harness)", lv.injected) if m.injected else ("USER", lv.user)
    elif m.role == "assistant":
        label, limit = "ASSISTANT", lv.assistant
    elif m.role == "summary":
        label, limit = "EARLIER CONTEXT SUMMARY", lv.summary
    elif m.role == "system":
        label, limit = "SYSTEM", lv.system
    else:
        label, limit = "TOOL", lv.result
    text = _tidy(m.text)
    if text and limit > 0:
        lines.append(f"{label}: {clip_middle(text, limit)}")
    for call in m.tool_calls:
        lines.append(clip_middle(f"  -> {call.name} {_render_args(call.input, lv.arg)}".rstrip(), lv.call_line))
    for r in m.tool_results:
        name = f" {r.name}" if r.name else ""
        if r.is_error:
            lines.append(f"  <- ERROR{name}: {clip_middle(_tidy(r.text), lv.error, tail_weight=0.7)}")
        elif lv.result > 0 and r.text.strip():
            lines.append(f"  <- {name.strip() or 'result'}: {clip_middle(_one_line(r.text), lv.result)}")
    return "\n".join(lines)


def _render_args(args: dict[str, Any], limit: int) -> str:
    keys = [k for k in _FIRST_ARGS if k in args] + [k for k in args if k not in _FIRST_ARGS]
    parts = []
    for k in keys:
        v = args[k]
        text = v if isinstance(v, str) else repr(v)
        parts.append(f"{k}={clip_middle(_one_line(text), limit)}")
    return " ".join(parts)


def _tidy(text: str) -> str:
    text = (text or "").strip()
    return re.sub(r"\n\s*\n\s*\n+", "\n\n", text)


def _one_line(text: str) -> str:
    return " ⏎ ".join(line.strip() for line in (text or "").strip().splitlines() if line.strip())


def render_blocks_within(messages: Sequence[Message], total: int) -> list[str]:
    """Blocks at the least trimmed level whose total fits `total`; else cut the middle."""
    blocks: list[str] = []
    for level in range(len(_LEVELS)):
        blocks = _render_blocks(messages, level)
        if sum(len(b) + 1 for b in blocks) <= total:
            return blocks
    # Keep the start (the ask) and, more, the end (last request, what is pending).
    head_room, tail_room = int(total * 0.3), int(total * 0.7) - 80
    head: list[str] = []
    used = 0
    for b in blocks:
        if used + len(b) + 1 > head_room:
            break
        head.append(b)
        used += len(b) + 1
    tail: list[str] = []
    used = 0
    for b in reversed(blocks[len(head):]):
        if used + len(b) + 1 > tail_room:
            break
        tail.append(b)
        used += len(b) + 1
    tail.reverse()
    omitted = len(blocks) - len(head) - len(tail)
    return head + [f"[... {omitted} messages omitted ...]"] + tail


def _pack(items: Iterable[str], limit: int) -> list[str]:
    """Join items with newlines, greedily, into strings of at most `limit` (each item fits alone)."""
    out: list[str] = []
    current = ""
    for item in items:
        if current and len(current) + 1 + len(item) > limit:
            out.append(current)
            current = ""
        current = f"{current}\n{item}" if current else item
    if current:
        out.append(current)
    return out


def split_chunks(blocks: Sequence[str], chunk_chars: int) -> list[str]:
    """Group blocks into chunks of at most `chunk_chars`; an oversized block is cut by lines."""
    pieces: list[str] = []
    for b in blocks:
        if len(b) <= chunk_chars:
            pieces.append(b)
            continue
        slices = (line[i:i + chunk_chars] for line in b.splitlines()
                  for i in range(0, max(len(line), 1), chunk_chars))
        pieces += _pack(slices, chunk_chars)
    return _pack(pieces, chunk_chars)

