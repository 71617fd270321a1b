"""Error isolation for the rule-based handoff: the path that must always write a document.

A bug in one fact extractor or one section must cost that part only. Each failure is logged with
its traceback and kept as a short record (`{"section", "error"}`) that the handoff shows in
`data["generation_errors"]`. The record names the exception type and where it was raised, never
its message: a message can quote transcript text (a path, an output line, a secret).
"""

from __future__ import annotations

import logging
import posixpath
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

from chalicelib.logs import event, get_logger

log = get_logger("handoff")
T = TypeVar("T")
MAX_FAILURES = 20  # a bug hit on every message is one record with a count, not thousands


def describe(exc: BaseException) -> str:
    """`IndexError at facts.py:1302`: the type and the innermost frame, no message."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {posixpath.basename(frames[-1].filename)}:{frames[-1].lineno}" if frames else ""
    return f"{type(exc).__name__}{where}"


def record(failures: list[dict[str, Any]], section: str, exc: BaseException) -> None:
    """Log `exc` and add it to `failures` (the same error again only raises its count)."""
    error = describe(exc)
    frames = traceback.format_list(traceback.extract_tb(exc.__traceback__)[-6:])  # the stack, not the message
    event(log, "handoff.part_failed", logging.ERROR, section=section, error=error, stack="".join(frames))
    for f in failures:
        if f["error"] == error:
            f["count"] = int(f.get("count", 1)) + 1
            return
    if len(failures) < MAX_FAILURES:
        failures.append({"section": section, "error": error})


def run(failures: list[dict[str, Any]], section: str, fn: Callable[[], T], default: T) -> T:
    """`fn()`, or `default` when it raises (the failure recorded)."""
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - isolation is the point: the rest of the handoff is written
        record(failures, section, exc)
        return default
