"""Small text helpers shared by fact extraction and rendering.

They exist so every shortened string is cut the same way (at a word boundary, marked with an
ellipsis) and so a must-keep string is always exactly what the Markdown shows.
"""

from __future__ import annotations

import re

from chalicelib.text import clip, norm_key, one_line

__all__ = ["clip", "code", "first_sentence", "norm_key", "one_line", "safe_inline"]


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
