"""Plain text, the fallback: split on obvious `User:` / `Assistant:` line prefixes, else the whole
text is one user message (e.g. a pasted conversation or notes), with a `no_roles_recognised`
warning in `info["warnings"]` (the upload answer shows it). Read line by line; text before the
first prefix becomes a user message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import TextIO

from ..limits import BoundedLines
from ..model import Message
from .base import Importer, is_injected

_PREFIX = re.compile(
    r"^(?P<who>User|Human|You|Me|Assistant|AI|ChatGPT|GPT|Claude|Bot|Model|Agent|System)[ \t]*:[ \t]?(?P<rest>.*)$",
    re.IGNORECASE)
_ROLES = {"user": "user", "human": "user", "you": "user", "me": "user", "system": "system"}


class TextImporter(Importer):
    """Plain text (streams line by line)."""

    name = "text"

    @classmethod
    def sniff(cls, head: str) -> float:
        return 0.05 if head.strip() else 0.0

    def parse(self, stream: TextIO | Iterable[str]) -> Iterator[Message]:
        role = "user"
        buf = BoundedLines(self.max_message_chars)

        def flush() -> Message | None:
            text = buf.joined().strip()
            buf.clear()
            buf.size = buf.dropped = 0
            if not text:
                return None
            return Message(role=role, text=text, injected=role == "user" and is_injected(text))  # type: ignore[arg-type]

        found = False
        for raw in stream:
            line = raw.rstrip("\r\n")
            m = _PREFIX.match(line) if line[:1].isalpha() and ":" in line[:16] else None
            if m:
                found = True
                msg = flush()
                if msg:
                    yield msg
                role = _ROLES.get(m.group("who").lower(), "assistant")
                buf.append(m.group("rest"))
                continue
            buf.append(line)
        msg = flush()
        if msg:
            yield msg
        if not found:
            self.info.setdefault("warnings", []).append({"code": "no_roles_recognised", "message": (
                "no role markers were recognised (User:/Assistant: lines, Markdown role headings, or a "
                "known tool's format), so the whole file was imported as one user message; if it is an "
                "agent session, upload the file the tool wrote or pass ?format=")})
