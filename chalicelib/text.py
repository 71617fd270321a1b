"""Text helpers with one meaning each, shared by the importers, the domain and the handoff writers.

Every shortened string is cut the same way: `clip` keeps the start (or, with `tail`, the end) at a
word boundary and marks the cut with an ellipsis; `clip_middle` keeps both ends around a marker
that says how much was cut (for prompts, where the end of an error matters as much as its start).
"""

from __future__ import annotations

import re

ELLIPSIS = "…"
_WS = re.compile(r"\s+")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def one_line(text: str) -> str:
    """Collapse all whitespace (newlines included) to single spaces."""
    return _WS.sub(" ", text).strip()


def norm_key(text: str) -> str:
    """Comparison key for "the same item": case-, punctuation- and whitespace-insensitive."""
    return _NON_ALNUM.sub(" ", text.casefold()).strip()


def clip(text: str, limit: int, *, tail: bool = False) -> str:
    """`text` in at most `limit` characters, cut at a word boundary and marked with an ellipsis.

    The start is kept (a long request or error says at its beginning what it is about); with
    `tail`, the end (test summaries and tracebacks end with the verdict). A single word longer than
    the room is cut inside when there is no boundary in the last two thirds of the room.
    """
    if len(text) <= limit:
        return text
    room = max(limit - 1, 1)
    if tail:
        cut = text[-room:]
        space = cut.find(" ")
        if 0 <= space <= room - room // 3:
            cut = cut[space:]
        return ELLIPSIS + cut.lstrip(" ,;:-")
    cut = text[:room]
    space = cut.rfind(" ")
    if space >= limit // 3:
        cut = cut[:space]
    return cut.rstrip(" ,;:-") + ELLIPSIS


def clip_middle(text: str, limit: int, *, tail_weight: float = 0.3) -> str:
    """`text` in at most `limit` characters, keeping head and tail around a "…[N chars cut]…" marker."""
    if len(text) <= limit:
        return text
    if limit <= 40:
        return text[: max(0, limit)]
    marker = f" …[{len(text) - limit} chars cut]… "
    keep = max(0, limit - len(marker) - 8)
    tail = int(keep * tail_weight)
    head = keep - tail
    out = text[:head] + marker + (text[-tail:] if tail else "")
    return out[:limit]
