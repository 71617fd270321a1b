"""Fixtures for the handoff tests (the real Claude Code sessions, cut at their compaction)."""

from __future__ import annotations

import pytest

from chalicelib.transcripts.model import Message
from tests.unit.handoff.handoff_support import CC_DIR, SESSIONS, load_session, split_at_compaction


@pytest.fixture(scope="session")
def real_sessions() -> dict[str, list[Message]]:
    """Every shared Claude Code session, all messages, keyed by session id."""
    if not SESSIONS:
        pytest.fail(f"real Claude Code transcripts not found at {CC_DIR}")
    return {p.name.split(".")[0]: load_session(p) for p in SESSIONS}


@pytest.fixture(scope="session")
def real_before_cut(real_sessions: dict[str, list[Message]]) -> dict[str, list[Message]]:
    """Each real session up to Claude Code's compaction: the part a handoff is written from."""
    return {k: split_at_compaction(v) for k, v in real_sessions.items()}
