"""`<private>...</private>` spans never leave the machine: they are cut from a transcript while it
is read for upload, and replaced with `[PRIVATE]`.

Tags match in any case and may span lines. In a JSONL transcript (Claude Code, Codex) each record
is parsed and its string values edited, so every line stays valid JSON; a span still open at the
end of a string (one message) ends there. In any other text the span runs across lines, and one
never closed runs to the end of the file (when in doubt, send less). Lines without the word
"private" are copied byte for byte.
"""

from __future__ import annotations

import json
import re
from typing import IO, Any

MARK = "[PRIVATE]"
SPAN = re.compile(r"<private\s*>.*?(?:</private\s*>|\Z)", re.I | re.S)
OPEN = re.compile(r"<private\s*>", re.I)
CLOSE = re.compile(r"</private\s*>", re.I)


class TooLarge(Exception):
    """The text is longer than the reader allows (a gzip that unpacks past the CLI's limit)."""


def scrub_text(text: str) -> str:
    """One message's text without its private spans (an unclosed span ends with the text)."""
    return SPAN.sub(MARK, text) if "<private" in text.lower() else text


def scrub_value(value: Any) -> Any:
    """A parsed JSON value with every string scrubbed (keys are kept: they are the format's)."""
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, list):
        return [scrub_value(v) for v in value]
    if isinstance(value, dict):
        return {k: scrub_value(v) for k, v in value.items()}
    return value


def _scrub_plain(text: str, in_span: bool) -> tuple[str, bool]:
    """A line of plain text, with the span state carried in from the lines before it."""
    out: list[str] = []
    i = 0
    while i <= len(text):
        if in_span:
            m = CLOSE.search(text, i)
            if m is None:
                return "".join(out), True
            i, in_span = m.end(), False
        else:
            m = OPEN.search(text, i)
            if m is None:
                out.append(text[i:])
                break
            out.append(text[i:m.start()] + MARK)
            i, in_span = m.end(), True
    return "".join(out), in_span


def _json_line(line: bytes) -> bytes | None:
    """The JSONL record scrubbed and serialised again, or None when the line is not JSON."""
    try:
        rec = json.loads(line)
    except ValueError:
        return None
    if not isinstance(rec, dict | list):
        return None
    end = b"\r\n" if line.endswith(b"\r\n") else b"\n" if line.endswith(b"\n") else b""
    new = scrub_value(rec)
    if new == rec:
        return line  # no span: the bytes as they were
    try:
        return json.dumps(new, ensure_ascii=False).encode() + end
    except UnicodeEncodeError:  # a lone surrogate escape in the record: keep it escaped
        return json.dumps(new).encode() + end


def scrub_stream(src: IO[bytes], out: IO[bytes], *, limit: int) -> int:
    """Copy `src` to `out` line by line without private spans; returns the bytes read.

    Raises TooLarge past `limit` bytes read (what protects against a gzip bomb)."""
    total = 0
    in_span = False
    for line in src:
        total += len(line)
        if total > limit:
            raise TooLarge(f"more than {limit:,} bytes")
        if not in_span and b"private" not in line.lower():
            out.write(line)
            continue
        if not in_span and line.lstrip()[:1] in (b"{", b"["):
            scrubbed = _json_line(line)
            if scrubbed is not None:
                out.write(scrubbed)
                continue
        text, in_span = _scrub_plain(line.decode("utf-8", "surrogateescape"), in_span)
        out.write(text.encode("utf-8", "surrogateescape"))
    return total
