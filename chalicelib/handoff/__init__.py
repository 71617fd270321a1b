"""Handoff generation: the master prompt for session N+1 (rule-based here; LLM path in `llm`)."""

from .rules import DEFAULT_BUDGET, HandoffDoc, build_handoff

__all__ = ["DEFAULT_BUDGET", "HandoffDoc", "build_handoff"]
