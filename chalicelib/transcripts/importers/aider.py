"""aider chat history (`.aider.chat.history.md`) and the transcripts on aider's website.

Markdown, read line by line: `# aider chat started at <time>` opens a session, `#### ` lines are
what the user typed (consecutive ones form one message), `> ` lines are aider's own output (file
added, command output, "Applied edit to ..."; one tool message per block), everything else is
the model's answer, including its SEARCH/REPLACE edit blocks (left in the text; the file-change
tracker reads them). Lines inside a model's code fences are never taken for markers. YAML front
matter, `<div>` wrappers and prose before the first chat line (website pages) are dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import TextIO

from ..model import Message, ToolResult
from .base import Importer

_STARTED = re.compile(r"^# aider chat started at (.+?)\s*$")
_DIV = re.compile(r"^\s*</?div\b[^>]*>\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


class AiderImporter(Importer):
    """aider Markdown chat history (streams line by line)."""

    name = "aider"

    @classmethod
    def sniff(cls, head: str) -> float:
        if "# aider chat started at" in head:
            return 0.95
        text = "\n" + head  # substring counts, not multi-line regexes: detection runs on every upload
        if "\n#### " not in text:
            return 0.0
        if "\n> " in text or "\n<<<<<<< " in text:
            return 0.8
        return 0.3

    def parse(self, stream: TextIO | Iterable[str]) -> Iterator[Message]:
        kind: str | None = None  # "user" | "tool" | "assistant" for the block being built
        buf: list[str] = []
        started = False
        in_front_matter = False
        in_fence = False
        timestamp: str | None = None
        first = True

        def flush() -> Message | None:
            nonlocal kind, buf
            k, lines = kind, buf
            kind, buf = None, []
            if k is None:
                return None
            text = "\n".join(lines).strip("\n")
            if not text.strip():
                return None
            if k == "user":
                return Message(role="user", text=text.strip(), timestamp=timestamp)
            if k == "tool":
                return Message(role="tool", timestamp=timestamp,
                               tool_results=[ToolResult(text=text.strip("\n"), name="aider")])
            return Message(role="assistant", text=text.strip(), timestamp=timestamp)

        for raw in stream:
            line = raw.rstrip("\r\n")
            if first:
                first = False
                if line.strip() == "---":
                    in_front_matter = True
                    continue
            if in_front_matter:
                if line.strip() == "---":
                    in_front_matter = False
                continue
            c = line[:1]  # dispatch on the first character: most lines need no regex at all
            m = _STARTED.match(line) if c == "#" and line.startswith("# aider chat started at") else None
            if kind == "assistant" and in_fence and m is None:  # a new session also ends a dangling fence
                buf.append(line)
                if ("`" in line or "~" in line) and _FENCE.match(line):
                    in_fence = False
                continue
            if m:
                in_fence = False
                msg = flush()
                if msg:
                    yield msg
                started = True
                timestamp = m.group(1)
                self.info.setdefault("started_at", timestamp)
                yield Message(role="system", text=line.lstrip("# ").strip(), timestamp=timestamp,
                              meta={"subtype": "session_start"})
                continue
            if c == "#" and (line.startswith("#### ") or line == "####"):
                started = True
                if kind != "user":
                    msg = flush()
                    if msg:
                        yield msg
                    kind = "user"
                buf.append(line[5:].rstrip())
                continue
            if c == ">":
                started = True
                if kind != "tool":
                    msg = flush()
                    if msg:
                        yield msg
                    kind = "tool"
                buf.append((line[2:] if line.startswith("> ") else line[1:]).rstrip())
                continue
            if not started or (c == "<" and _DIV.match(line)):
                continue
            if not line or line.isspace():
                if kind == "tool":
                    msg = flush()
                    if msg:
                        yield msg
                elif kind == "assistant":
                    buf.append("")
                continue  # blank lines between user lines keep the user message open
            if kind != "assistant":
                msg = flush()
                if msg:
                    yield msg
                kind = "assistant"
            buf.append(line)
            if ("`" in line or "~" in line) and _FENCE.match(line):
                in_fence = True
        msg = flush()
        if msg:
            yield msg
