"""Handoff generation: the master prompt for session N+1 (rule-based in `rules`, LLM writer in `llm_writer`).

The generator is imported on first use (PEP 562), so a request that only reads a stored handoff
does not pay for compiling the extractor's patterns.
"""

from typing import Any

from .render import DEFAULT_BUDGET

__all__ = ["DEFAULT_BUDGET", "HandoffDoc", "build_handoff"]


def __getattr__(name: str) -> Any:
    if name in ("HandoffDoc", "build_handoff"):
        from . import rules

        return getattr(rules, name)
    raise AttributeError(name)
