"""Fixtures for the transcript import tests (helpers live in transcript_support.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from transcript_support import (
    FIXTURES,
    SECRET_SAMPLES,
    SECRET_VALUES,
    SHARED_TRANSCRIPTS,
    Imported,
    run_import,
)


@pytest.fixture(scope="session")
def shared() -> Path:
    if not SHARED_TRANSCRIPTS.is_dir():
        pytest.fail(f"real transcripts not found at {SHARED_TRANSCRIPTS}")
    return SHARED_TRANSCRIPTS


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def imported() -> Callable[..., Imported]:
    return run_import


@pytest.fixture(scope="session")
def claude_session(shared: Path) -> Callable[[str], Imported]:
    """Each real Claude Code session imported once per test run."""
    cache: dict[str, Imported] = {}

    def get(session_id: str) -> Imported:
        if session_id not in cache:
            cache[session_id] = run_import(shared / "claude-code" / f"{session_id}.jsonl.gz")
        return cache[session_id]

    return get


@pytest.fixture(scope="session")
def secret_samples() -> dict[str, str]:
    return SECRET_SAMPLES


@pytest.fixture(scope="session")
def secret_values() -> dict[str, str]:
    return SECRET_VALUES
