"""`mso install` and `mso doctor` as a user runs them (issue 18), in a temporary HOME that already
has settings of its own, with the app on DynamoDB Local: explicit hook timeouts in both agents'
files (Claude Code's SessionEnd budget is 1.5 s whatever a hook says; Codex runs a hook for 1 s
unless told otherwise and caps SessionEnd at 3 s), doctor's per-hook status and Codex's
`codex_hooks` feature flag, and an uninstall that leaves the user's own settings as they were."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.integration

USER_HOOK = {"matcher": "Bash", "hooks": [{"type": "command", "command": "/usr/local/bin/audit-bash", "timeout": 4}]}
CODEX_CONFIG = 'model = "gpt-5-codex"\n\n[features]\ncodex_hooks = false\n'


def _ours(path) -> dict[str, dict]:
    data = json.loads(path.read_text())
    return {event: h for event, groups in data["hooks"].items() for g in groups for h in g["hooks"]
            if " hook " in h["command"]}


def test_install_writes_explicit_timeouts_doctor_checks_the_codex_flag_and_uninstall_keeps_user_settings(home):
    claude = home.home / ".claude" / "settings.json"
    claude.parent.mkdir(parents=True)
    user_settings = {"model": "opus", "hooks": {"PreToolUse": [USER_HOOK]}}
    claude.write_text(json.dumps(user_settings))
    codex_cfg = home.home / ".codex" / "config.toml"
    codex_cfg.parent.mkdir(parents=True)
    codex_cfg.write_text(CODEX_CONFIG)

    for agent in ("claude", "codex"):
        r = home.mso("install", agent)
        assert r.returncode == 0, r
    mine = _ours(claude)
    assert {e: h["timeout"] for e, h in mine.items()} == {
        "SessionStart": 10, "PreCompact": 10, "PostCompact": 5, "Stop": 5, "SessionEnd": 2}
    assert all(h["command"].endswith(f"hook claude {ours}") for h, ours in zip(
        mine.values(), ("session-start", "pre-compact", "post-compact", "stop", "session-end"), strict=True))
    data = json.loads(claude.read_text())
    assert data["model"] == "opus" and data["hooks"]["PreToolUse"] == [USER_HOOK]
    codex = _ours(home.home / ".codex" / "hooks.json")
    assert {e: h["timeout"] for e, h in codex.items()} == {
        "SessionStart": 10, "PreCompact": 10, "Stop": 3, "SessionEnd": 1}  # Codex's own 1 s for SessionEnd

    doc = home.mso("doctor")
    assert doc.returncode == 1, doc.stdout  # Codex's hooks are installed but Codex will not run them
    assert "[ok] claude hooks (user): SessionStart ok" in doc.stdout and "SessionEnd ok" in doc.stdout
    assert "[ok] codex hooks (user)" in doc.stdout
    flag = next(line for line in doc.stdout.splitlines() if "codex hooks feature" in line)
    assert flag.startswith("[!!]") and "codex_hooks = true" in flag

    codex_cfg.write_text(CODEX_CONFIG.replace("false", "true"))
    doc = home.mso("doctor")
    assert doc.returncode == 0, doc.stdout
    assert "[ok] codex hooks feature" in doc.stdout and "[!!]" not in doc.stdout

    # an outdated entry (a timeout someone raised) is named, and a new install puts ours back
    data = json.loads(claude.read_text())
    for g in data["hooks"]["SessionEnd"]:
        for h in g["hooks"]:
            h["timeout"] = 600
    claude.write_text(json.dumps(data))
    assert "SessionEnd outdated" in home.mso("doctor").stdout
    assert home.mso("install", "claude").returncode == 0
    assert _ours(claude)["SessionEnd"]["timeout"] == 2

    for agent in ("claude", "codex"):
        assert home.mso("uninstall", agent).returncode == 0
    assert json.loads(claude.read_text()) == user_settings
    hooks_json = home.home / ".codex" / "hooks.json"
    assert not hooks_json.exists() or " hook codex " not in hooks_json.read_text()
    assert codex_cfg.read_text() == CODEX_CONFIG.replace("false", "true")  # the user's flag: not ours to change
