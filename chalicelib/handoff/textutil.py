"""Small text helpers shared by fact extraction and rendering.

They exist so every shortened string is cut the same way (at a word boundary, marked with an
ellipsis) and so a must-keep string is always exactly what the Markdown shows.
"""

from __future__ import annotations

import re

ELLIPSIS = "…"
_WS = re.compile(r"\s+")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def one_line(text: str) -> str:
    """Collapse all whitespace (newlines included) to single spaces."""
    return _WS.sub(" ", text).strip()


def clip(text: str, limit: int) -> str:
    """Shorten `text` to at most `limit` characters, cutting at a word boundary, never mid-word.

    The start is kept (for a long request or error the beginning says what it is about); the cut is
    marked with an ellipsis. A single word longer than the limit is kept whole up to the limit only
    when there is no earlier boundary.
    """
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 1)]
    space = cut.rfind(" ")
    if space >= limit // 3:
        cut = cut[:space]
    return cut.rstrip(" ,;:-") + ELLIPSIS


def norm_key(text: str) -> str:
    """Comparison key for "the same item": case-, punctuation- and whitespace-insensitive."""
    return _NON_ALNUM.sub(" ", text.casefold()).strip()


def code(text: str) -> str:
    """Inline code span; backticks inside are replaced so the span cannot break."""
    return "`" + text.replace("`", "'") + "`"


def safe_inline(text: str) -> str:
    """One-line text with backticks neutralised, the exact form used for must-keep strings."""
    return one_line(text).replace("`", "'")


def first_sentence(text: str, limit: int = 160) -> str:
    """The first sentence (or line) of a free text, clipped; used for "why" and diagnosis notes."""
    t = text.strip()
    if not t:
        return ""
    line = t.split("\n", 1)[0].strip().lstrip("#*->• ").strip()
    m = re.search(r"(?<=[.!?])\s", line)
    if m and m.start() >= 20:
        line = line[: m.start()]
    return clip(safe_inline(line), limit)
