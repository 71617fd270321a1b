"""`mso install|uninstall`: an idempotent merge that keeps everything else in the agent's settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mso_cli import install

OTHER = {"model": "opus", "hooks": {"SessionStart": [{"matcher": "startup", "hooks": [
    {"type": "command", "command": "~/.claude/hooks/tmux.sh clear"}]}],
    "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "guard.sh"}]}]}}


@pytest.fixture
def homes(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    monkeypatch.delenv("CODEX_HOME", raising=False)
    return tmp_path


def test_install_merges_keeps_others_and_is_idempotent(homes):
    path = homes / ".claude" / "settings.json"
    path.parent.mkdir()
    path.write_text(json.dumps(OTHER))
    r = install.apply("claude", command="/opt/bin/mso")
    assert r["changed"] and r["backup"] and json.loads(Path(r["backup"]).read_text()) == OTHER
    data = json.loads(path.read_text())
    assert data["model"] == "opus" and data["hooks"]["PreToolUse"] == OTHER["hooks"]["PreToolUse"]
    start = data["hooks"]["SessionStart"]
    assert start[0] == OTHER["hooks"]["SessionStart"][0]
    assert start[1]["hooks"][0]["command"] == "/opt/bin/mso hook claude session-start"
    assert data["hooks"]["SessionEnd"][0]["hooks"][0] == {"type": "command", "timeout": 2,
                                                          "command": "/opt/bin/mso hook claude session-end"}
    assert sorted(install.installed("claude")) == ["PostCompact", "PreCompact", "SessionEnd", "SessionStart", "Stop"]
    again = install.apply("claude", command="/opt/bin/mso")
    assert not again["changed"] and again["backup"] is None and json.loads(path.read_text()) == data
    moved = install.apply("claude", command="/usr/local/bin/mso")  # a new location replaces, never duplicates
    assert moved["changed"]
    cmds = [h["command"] for g in json.loads(path.read_text())["hooks"]["SessionStart"] for h in g["hooks"]]
    assert cmds == ["~/.claude/hooks/tmux.sh clear", "/usr/local/bin/mso hook claude session-start"]
    out = install.apply("claude", remove=True)
    assert out["changed"] and json.loads(path.read_text()) == OTHER
    assert not install.apply("claude", remove=True)["changed"]


def test_dry_run_writes_nothing(homes):
    r = install.apply("codex", dry_run=True, command="mso")
    assert r["changed"] and not (homes / ".codex" / "hooks.json").exists()
    assert set(r["settings"]["hooks"]) == {"SessionStart", "PreCompact", "Stop", "SessionEnd"}


def test_project_scope_and_codex_file(homes, tmp_path):
    proj = tmp_path / "proj"
    proj.mkdir()
    r = install.apply("codex", scope="project", cwd=proj, command="mso")
    assert r["path"] == str(proj / ".codex" / "hooks.json") and r["backup"] is None
    data = json.loads((proj / ".codex" / "hooks.json").read_text())
    assert data["hooks"]["Stop"][0]["hooks"][0]["command"] == "mso hook codex stop"
    assert install.installed("codex", "project", proj) and not install.installed("claude", "project", proj)


def test_another_tools_hook_that_mentions_mso_is_not_ours(homes):
    settings = {"hooks": {"Stop": [{"hooks": [{"type": "command", "command": "echo 'msorter hook claude x'"},
                                              {"type": "command", "command": "notmso hook claude stop"}]}]}}
    assert install._strip(settings, "claude") == settings


def test_a_file_that_is_not_json_is_left_alone(homes):
    path = homes / ".claude" / "settings.json"
    path.parent.mkdir()
    path.write_text("{ not json")
    with pytest.raises(ValueError):
        install.apply("claude", command="mso")
    assert path.read_text() == "{ not json"
