"""Size limits on an import: how long one stored message may be, and how it is cut.

A message longer than the limit keeps its start and ends with a marker saying how much was cut
(one marker per message, however many of its fields were cut). Importers that build a message
from many lines (Markdown, text) buffer them in `BoundedLines`, so a gigabyte without a role
marker never sits in memory: past the limit, lines are counted, not kept.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from .model import Message

MiB = 1024 * 1024
MAX_MESSAGE_BYTES = 256 * 1024  # one stored message, UTF-8 (a chunk item holds at least one, gzipped)
_SLACK = 4096  # kept past the cut before redaction, so a secret straddling the cut is still seen whole
_MARKER = re.compile(r"\n\[… ([0-9,]+) characters cut: a stored message keeps at most [0-9,]+ KiB\]\Z")


def marker(cut: int, max_bytes: int = MAX_MESSAGE_BYTES) -> str:
    return f"\n[… {cut:,} characters cut: a stored message keeps at most {max_bytes // 1024:,} KiB]"


class BoundedLines(list[str]):
    """A list of lines that stops growing past `max_chars` and counts what it dropped."""

    def __init__(self, max_chars: int = MAX_MESSAGE_BYTES) -> None:
        super().__init__()
        self.max_chars, self.size, self.dropped = max_chars, 0, 0

    def append(self, line: str) -> None:
        if self.size > self.max_chars:
            self.dropped += len(line) + 1
            return
        super().append(line)
        self.size += len(line) + 1

    def joined(self) -> str:
        text = "\n".join(self)
        return text + marker(self.dropped) if self.dropped else text


Slot = tuple[Callable[[], str], Callable[[str], None]]


def _slots(msg: Message) -> Iterator[Slot]:
    """Getter/setter pairs over every string of content in `msg`, in reading order."""
    yield (lambda: msg.text), (lambda v: setattr(msg, "text", v))
    yield (lambda: msg.thinking), (lambda v: setattr(msg, "thinking", v))
    for r in msg.tool_results:
        yield (lambda r=r: r.text), (lambda v, r=r: setattr(r, "text", v))
    for c in msg.tool_calls:
        yield from _container_slots(c.input)


def _container_slots(obj: Any) -> Iterator[Slot]:
    stack = [obj]
    while stack:
        o = stack.pop()
        keys = o.keys() if isinstance(o, dict) else range(len(o)) if isinstance(o, list) else ()
        for k in keys:
            v = o[k]
            if isinstance(v, str):
                yield (lambda o=o, k=k: o[k]), (lambda val, o=o, k=k: o.__setitem__(k, val))
            elif isinstance(v, dict | list):
                stack.append(v)


def _size_hint(msg: Message) -> int:
    return len(msg.text) + len(msg.thinking) + sum(len(r.text) for r in msg.tool_results) + (
        sum(len(str(c.input)) for c in msg.tool_calls) if msg.tool_calls else 0)


class MessageClipper:
    """Cut messages to `max_bytes` of UTF-8: `precut` before redaction, `cut` after it."""

    def __init__(self, max_bytes: int = MAX_MESSAGE_BYTES) -> None:
        self.max_bytes = max_bytes
        self.clipped = 0  # messages cut so far
        self._orig: dict[int, list[int]] = {}

    def precut(self, msg: Message) -> None:
        """Drop what can never be kept (so redaction never scans megabytes); remember the lengths."""
        if _size_hint(msg) <= self.max_bytes // 4:
            return
        keep = self.max_bytes + _SLACK
        lengths = []
        for get, put in _slots(msg):
            s = get()
            m = _MARKER.search(s)  # cut earlier by BoundedLines: count that too
            lengths.append(len(s) + (int(m.group(1).replace(",", "")) - len(m.group(0)) if m else 0))
            if len(s) > keep:
                put(s[:keep])
        self._orig[id(msg)] = lengths

    def cut(self, msg: Message) -> None:
        lengths = self._orig.pop(id(msg), None)
        if lengths is None:
            return
        budget, cut, first = self.max_bytes, 0, None
        for i, (get, put) in enumerate(_slots(msg)):
            s = get()
            m = _MARKER.search(s)
            if m:
                s = s[:m.start()]
            b = s.encode("utf-8")
            if len(b) <= budget and not m:
                budget -= len(b)
                continue
            kept = b[:budget].decode("utf-8", "ignore")
            budget -= len(kept.encode("utf-8"))
            cut += max(0, lengths[i] - len(kept))
            put(kept)
            first = i if first is None else first
        if first is not None and cut:
            self.clipped += 1
            for i, (get, put) in enumerate(_slots(msg)):
                if i == first:
                    put(get() + marker(cut, self.max_bytes))
                    break
