"""The CLI's unit fixtures: a temporary HOME with no settings from the machine, and a fake API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.cli.fake_api import FakeApi


@pytest.fixture(autouse=True)
def _hook_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """A hook's deadline counts from its process start (`hooks.STARTED`, set at import): in a test
    run the module was imported long before, so each test starts the clock again."""
    import time

    from mso_cli import hooks

    monkeypatch.setattr(hooks, "STARTED", time.monotonic())


@pytest.fixture
def cli_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for var in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "MSO_API_URL", "MSO_TOKEN", "MSO_PROJECT",
                "CLAUDE_CONFIG_DIR", "CODEX_HOME"):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture
def fake(cli_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeApi]:
    api = FakeApi().start()
    monkeypatch.setenv("MSO_API_URL", api.url)
    monkeypatch.setenv("MSO_TOKEN", "mso_test")
    yield api
    api.stop()
