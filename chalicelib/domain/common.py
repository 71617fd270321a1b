"""What the domain's JSON renderers share."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


def json_number(v: Any) -> int | float:
    """A stored number (DynamoDB returns Decimal or float) as JSON: an int when whole, 0 when unset."""
    if v is None:
        return 0
    f = float(v)
    return int(f) if f.is_integer() else f


def page_json(items: Sequence[T], next_cursor: str | None, *, cursor: str | None, render: Callable[[T], Any],
              parent: Callable[[], object]) -> dict[str, Any]:
    """One page of a child list as JSON. An empty first page calls `parent()` (a get that raises
    NotFound), so the list of a missing project or session is a 404, not `[]`; a full page costs
    no extra read."""
    if not items and cursor is None:
        parent()
    return {"items": [render(it) for it in items], "next_cursor": next_cursor}
