"""Memory files for Codex (issue 18), end to end: `mso install codex --memory-file
--compact-instructions` in a temporary HOME, Codex's own hook payloads and a Codex rollout, the app
on DynamoDB Local. The block in AGENTS.md holds the project's pins and the state of the session that
ended last, is rewritten (never appended) when the next one ends, and `uninstall` gives back the
user's AGENTS.md and config.toml byte for byte. The Claude Code round trip is
tests/integration/test_cli_capture_live.py::test_memory_file_round_trip."""

from __future__ import annotations

import tomllib
import uuid

import pytest

from tests.integration.cli_support import Home, wait_for

pytestmark = pytest.mark.integration

USER_AGENTS = "# Agents\n\nRun `pytest -q` before you say a task is done.\n\n<!-- keep this comment -->\n"
USER_CODEX = 'model = "gpt-5-codex"\n\n[features]\ncodex_hooks = true\n\n[mcp_servers.docs]\ncommand = "docs-mcp"\n'
PIN = "Never commit to main: open a pull request"
BEGIN, END = "<!-- mso:begin -->", "<!-- mso:end -->"


def _block(text: str) -> str:
    assert text.count(BEGIN) == 1 and text.count(END) == 1, text
    return text[text.index(BEGIN):text.index(END)]


def _session_ends(home: Home, n_written: int) -> str:
    """A Codex session runs and ends in the project directory; the block once the flush rewrote it."""
    sid = str(uuid.uuid4())
    home.codex_rollout(sid)
    home.hook("codex", "session-start", "codex-session-start", sid)
    home.hook("codex", "session-end", "codex-session-end", sid)
    wait_for(lambda: len([e for e in home.log_events() if e["event"] == "memory_written"]) >= n_written)
    return (home.cwd / "AGENTS.md").read_text()


def test_codex_memory_file_round_trip_with_pins_rewrite_and_compact_prompt(home, tenant):
    from chalicelib.domain import projects

    agents_md = home.cwd / "AGENTS.md"
    agents_md.write_text(USER_AGENTS)
    config = home.home / ".codex" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(USER_CODEX)
    proj = projects.create(tenant, {"name": home.cwd.name})
    projects.set_pins(tenant, proj["id"], [PIN])

    r = home.mso("install", "codex", "--memory-file", "--compact-instructions")
    assert r.returncode == 0 and "wrote the mso block" in r.stdout, r
    text = agents_md.read_text()
    assert text.startswith(USER_AGENTS) and PIN in _block(text)  # no session yet: the pins already
    assert (home.cwd / "AGENTS.md.mso-backup").read_text() == USER_AGENTS
    assert "# Compact instructions" not in text  # Codex takes compact_prompt in its config instead
    cfg = tomllib.loads(config.read_text())
    assert "next action" in cfg["compact_prompt"].lower()
    assert (cfg["model"], cfg["features"]["codex_hooks"], cfg["mcp_servers"]["docs"]["command"]) == (
        "gpt-5-codex", True, "docs-mcp")

    first = _session_ends(home, 1)
    block = _block(first)
    assert first.startswith(USER_AGENTS) and "session 1" in block and block.count(PIN) == 1
    assert "add()" in block or "CALC-12" in block  # the rollout's task, from the session's own state
    assert "Sup3rS3cret" not in first  # the password the rollout quotes is redacted on the server

    second = _session_ends(home, 2)
    block = _block(second)  # rewritten in place: one block, the newer session's state
    assert second.startswith(USER_AGENTS) and "session 2" in block and "session 1" not in block
    assert block.count(PIN) == 1

    again = home.mso("install", "codex", "--memory-file", "--compact-instructions")
    assert again.returncode == 0 and agents_md.read_text() == second  # idempotent
    assert tomllib.loads(config.read_text())["compact_prompt"] == cfg["compact_prompt"]

    r = home.mso("uninstall", "codex")
    assert r.returncode == 0 and "removed the mso block" in r.stdout, r
    assert agents_md.read_text() == USER_AGENTS
    assert config.read_text() == USER_CODEX
