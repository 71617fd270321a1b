"""`mso install` writes explicit timeouts; `mso doctor` says which installed hook is ok, missing or
outdated per agent and scope, and whether Codex runs hooks at all."""

from __future__ import annotations

import json

from mso_cli import install, main


def _entries(path) -> dict[str, dict]:
    data = json.loads(path.read_text())
    return {event: g["hooks"][0] for event, groups in data["hooks"].items() for g in groups}


def test_every_hook_gets_an_explicit_timeout_in_seconds_within_the_agents_limits(cli_home):
    install.apply("claude", command="/opt/mso")
    install.apply("codex", command="/opt/mso")
    claude = _entries(cli_home / ".claude" / "settings.json")
    codex = _entries(cli_home / ".codex" / "hooks.json")
    assert {"SessionStart", "Stop", "SessionEnd", "PreCompact"} <= set(claude)
    assert all(isinstance(h["timeout"], int) and 1 <= h["timeout"] <= 10 for h in [*claude.values(), *codex.values()])
    assert claude["Stop"]["command"] == "/opt/mso hook claude stop"  # Claude Code uploads at Stop too
    assert codex["SessionEnd"]["timeout"] == 1  # Codex's own default; it caps SessionEnd at 3 s


def test_status_ok_missing_outdated_per_scope(cli_home, tmp_path):
    assert install.status("claude", command="/opt/mso") == {}
    install.apply("claude", command="/opt/mso")
    assert set(install.status("claude", command="/opt/mso").values()) == {"ok"}
    assert install.status("claude", command="/usr/bin/mso")["SessionStart"] == "outdated"  # moved since
    path = cli_home / ".claude" / "settings.json"
    data = json.loads(path.read_text())
    data["hooks"]["SessionEnd"][0]["hooks"][0]["timeout"] = 600
    del data["hooks"]["Stop"]
    data["hooks"]["Notification"] = [{"hooks": [{"type": "command", "command": "/opt/mso hook claude notify"}]}]
    path.write_text(json.dumps(data))
    st = install.status("claude", command="/opt/mso")
    assert (st["SessionEnd"], st["Stop"], st["SessionStart"], st["Notification"]) == \
        ("outdated", "missing", "ok", "outdated")
    proj = tmp_path / "proj"
    proj.mkdir()
    install.apply("codex", scope="project", cwd=proj, command="/opt/mso")
    assert set(install.status("codex", "project", proj, command="/opt/mso").values()) == {"ok"}
    assert install.status("codex", "user", proj, command="/opt/mso") == {}


def test_codex_feature_flag(cli_home):
    cfg = cli_home / ".codex" / "config.toml"
    assert not install.codex_hooks_enabled()[0]
    cfg.parent.mkdir()
    cfg.write_text("[features]\ncodex_hooks = false\n")
    on, why = install.codex_hooks_enabled()
    assert not on and "codex_hooks = true" in why
    cfg.write_text('model = "x"\n[features]\ncodex_hooks = true\n')
    assert install.codex_hooks_enabled()[0]
    cfg.write_text("[features\n")
    assert "cannot be read" in install.codex_hooks_enabled()[1]


def test_doctor_lists_each_hook_and_the_codex_flag(fake, capsys, monkeypatch):
    monkeypatch.setattr(install, "mso_command", lambda: "/opt/mso")
    install.apply("claude")
    install.apply("codex")
    assert main.main(["doctor"]) == 1  # Codex's hooks are installed but its feature flag is off
    out = capsys.readouterr().out
    assert "[ok] claude hooks (user): SessionStart ok, PreCompact ok" in out and "SessionEnd ok" in out
    assert "[!!] codex hooks feature:" in out and "[ok] codex hooks (user)" in out
    cfg = install.codex_home() / "config.toml"
    cfg.write_text("[features]\ncodex_hooks = true\n")
    assert main.main(["doctor"]) == 0, capsys.readouterr().out
    assert "[ok] codex hooks feature" in capsys.readouterr().out
