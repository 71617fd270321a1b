"""Everything the handoff's section renderers read, in one typed value (issue 16).

`rules._build_handoff` builds one `HandoffData` per handoff: the records as given (project,
session, previous handoff, pins, knowledge), the transcript's facts and the state derived from
them, and the open items carried forward. The renderers in `sections/` are plain functions of it,
so a section cannot depend on what another section computed or on the order they run in, and a new
section needs no new plumbing. It is frozen: a renderer reads it, never changes it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .facts import TranscriptFacts
from .state import State
from .textutil import code, one_line


@dataclass(frozen=True)
class HandoffData:
    """The inputs of one handoff, read by every section renderer.

    `n` is the session's number (0 when not recorded); `open_items` are the items open after this
    session (carried, its own, and the next actions worked out here); `knowledge` holds only the
    project knowledge items that have a title.
    """

    project: Mapping[str, Any]
    session: Mapping[str, Any]
    n: int
    facts: TranscriptFacts
    state: State
    previous: Mapping[str, Any]
    pins: tuple[str, ...]
    open_items: tuple[dict[str, Any], ...]
    knowledge: tuple[Mapping[str, Any], ...]
    generated_at: str | None

    def recency(self, index: int) -> float:
        """Where message `index` falls in the transcript, 0.0 (first) to 1.0 (last): later facts rank higher."""
        total = max(self.facts.stats.get("messages", 1), 1)
        return max(0.0, min(1.0, index / total))

    def path(self, path: str) -> str:
        """A file path as the document shows it: relative to the work tree, as inline code."""
        return code(self.facts.display(path))


# ----------------------------------------------------------------------------- reading the records


def record_list(record: Mapping[str, Any] | None, key: str) -> list[str]:
    """Non-empty strings of a list field of a record (tolerates None, a single string, other types)."""
    if not record:
        return []
    v = record.get(key)
    if v is None:
        return []
    if isinstance(v, str):
        v = [v]
    out = []
    for x in v if isinstance(v, list | tuple) else [v]:
        if x is None:
            continue
        s = x if isinstance(x, str) else json.dumps(x, sort_keys=True, default=str)
        if s.strip():
            out.append(s)
    return out


def record_text(record: Mapping[str, Any] | None, key: str) -> str:
    """A text field of a record on one line ("" when missing)."""
    v = (record or {}).get(key)
    return "" if v is None else one_line(str(v))


def as_int(v: Any) -> int | None:
    """An integer field of a record, or None when it is not one (a bool is not a number here)."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    try:
        return int(str(v))
    except (TypeError, ValueError):
        return None
