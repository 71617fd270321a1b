"""Sample material for LLM-path tests: a rules-style handoff, its must-keep facts, good answers.

Shaped like `chalicelib.handoff.rules.HandoffDoc` output so the LLM path can be tested without it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

API_KEY = "sk-test-7Qm2vXr9LpT4kWz8NcB3hJd6"  # fake; tests assert it never leaks


@dataclass
class FakeRulesDoc:
    """Stands in for `chalicelib.handoff.rules.HandoffDoc` (same fields the LLM path reads)."""

    markdown: str
    must_keep: list[dict[str, str]] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    input_chars: int = 0
    output_chars: int = 0


RULES_MD = """\
# Handoff: Demo project, session 3 -> 4
Date: 2026-11-20 | Status: completed | Generated: rules

## Mission and goal
Ship the orchestrator MVP.

## Pinned context
- Never push to main without review

## Summary of session 3
Asked: fix the login bug. Done: token refresh fixed.

## Files changed
- `src/auth/token.py` (+42/-7): refresh before expiry
- `tests/test_token.py` (+30/-0): new tests

## Errors and blockers
- AssertionError: expected 200, got 401 (fixed: refresh earlier)

## Next steps
1. Run pytest tests/test_token.py -q and ship
2. TASK-123: add the audit log

## Metrics
- Credits: 12 / 50

## Checklist for the next session
- [ ] Read this handoff
"""

FACTS = [
    {"kind": "file", "text": "src/auth/token.py"},
    {"kind": "file", "text": "tests/test_token.py"},
    {"kind": "test_command", "text": "pytest tests/test_token.py -q"},
    {"kind": "error", "text": "AssertionError: expected 200, got 401"},
    {"kind": "task_id", "text": "TASK-123"},
    {"kind": "pin", "text": "Never push to main without review"},
]

GOOD_ANSWER = """\
## Mission and goal
Ship the orchestrator MVP.

## Pinned context
- Never push to main without review

## Summary of session 3
The user asked to fix the login bug; the token refresh in src/auth/token.py was the cause.

## Files changed
- src/auth/token.py: refresh tokens before expiry (+42/-7)
- tests/test_token.py: new regression tests

## Errors and blockers
- AssertionError: expected 200, got 401, fixed by refreshing earlier.

## Next steps
1. Run `pytest tests/test_token.py -q`, then ship.
2. TASK-123: add the audit log.

## Checklist for the next session
- [ ] Read this handoff
"""
