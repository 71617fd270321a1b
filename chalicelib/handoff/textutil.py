"""Small text helpers shared by fact extraction and rendering.

They exist so every shortened string is cut the same way (at a word boundary, marked with an
ellipsis) and so a must-keep string is always exactly what the Markdown shows.
"""

from __future__ import annotations

import re

from chalicelib.text import clip, norm_key, one_line

__all__ = ["clip", "code", "first_sentence", "norm_key", "one_line", "prefix_words", "quote_line", "quoted",
           "safe_inline"]


def code(text: str) -> str:
    """Inline code span; backticks inside are replaced so the span cannot break."""
    return "`" + text.replace("`", "'") + "`"


def quoted(text: str, limit: int) -> str:
    """Text from the transcript (tool output, the agent's words, a commit subject) as one inline code
    span, clipped: it reads as quoted material, never as the handoff's own instruction or heading."""
    return code(clip(one_line(text), limit))


_HEADING_START = re.compile(r"^(\s{0,3})(#)")


def quote_line(line: str) -> str:
    """One line of a Markdown blockquote of transcript text; a `#` that would make it a heading is
    escaped, so a quoted `## Next action` stays text inside the quote."""
    return "> " + _HEADING_START.sub(r"\1\\\2", line) if line.strip() else ">"


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


def prefix_words(text: str, limit: int) -> str:
    """The start of `text` up to `limit` chars, ending at a word boundary, with no ellipsis.

    Used for must-keep strings of long facts: a short, stable string that appears verbatim.
    """
    t = text.strip()
    if len(t) <= limit:
        return t
    cut = t[:limit]
    space = cut.rfind(" ")
    if space >= limit // 3:
        cut = cut[:space]
    return cut.rstrip(" ,;:-")
