"""Memory files: a managed block in CLAUDE.md / AGENTS.md that never touches the user's text, and
Codex's compact_prompt, both reversible."""

from __future__ import annotations

import tomllib
from pathlib import Path

from mso_cli import main, memory

USER_TEXT = "# Project rules\n\nUse tabs.\n<!-- a comment of the user -->\n\n## Build\n`make`\n"
CODEX_CONFIG = 'model = "gpt-5"\n\n[features]\ncodex_hooks = true\n\n[mcp_servers.x]\ncommand = "x"\n'


def test_block_is_idempotent_keeps_outside_text_and_backs_up_each_change(tmp_path):
    f = tmp_path / "CLAUDE.md"
    f.write_text(USER_TEXT)
    assert memory.write_block(f, memory.block("state one", compact=False))
    backup = tmp_path / "CLAUDE.md.mso-backup"
    assert backup.read_text() == USER_TEXT
    text = f.read_text()
    assert text.startswith(USER_TEXT) and text.count(memory.BEGIN) == 1 and "state one" in text
    assert not memory.write_block(f, memory.block("state one", compact=False))  # same: not written again
    f.write_text(f.read_text() + "\nMore rules the user added later.\n")
    assert memory.write_block(f, memory.block("state two", compact=True))
    text = f.read_text()
    assert "state one" not in text and "state two" in text and "# Compact instructions" in text
    assert text.count(memory.BEGIN) == text.count(memory.END) == 1
    assert text.endswith("\nMore rules the user added later.\n") and text.startswith(USER_TEXT)
    assert "state one" in backup.read_text()  # the backup is the file before this change
    assert memory.remove_block(f)
    assert f.read_text() == USER_TEXT + "\nMore rules the user added later.\n"
    assert not memory.remove_block(f)


def test_a_file_made_for_the_block_goes_with_it(tmp_path):
    f = tmp_path / "AGENTS.md"
    memory.write_block(f, memory.block("s", compact=False))
    assert memory.remove_block(f) and not f.exists()


def test_codex_compact_prompt_is_added_at_the_root_and_removed_exactly(cli_home):
    path = memory.codex_config_path()
    path.parent.mkdir(parents=True)
    path.write_text(CODEX_CONFIG)
    r = memory.set_codex_compact_prompt(True)
    assert r["changed"]
    data = tomllib.loads(path.read_text())
    assert "next action" in data["compact_prompt"] and data["features"]["codex_hooks"] is True
    assert data["mcp_servers"]["x"]["command"] == "x" and data["model"] == "gpt-5"
    assert not memory.set_codex_compact_prompt(True)["changed"]
    assert memory.set_codex_compact_prompt(False)["changed"]
    assert path.read_text() == CODEX_CONFIG


def test_a_compact_prompt_of_the_user_is_kept(cli_home):
    path = memory.codex_config_path()
    path.parent.mkdir(parents=True)
    path.write_text('compact_prompt = "mine"\n')
    r = memory.set_codex_compact_prompt(True)
    assert not r["changed"] and "its own compact_prompt" in r["note"]
    assert path.read_text() == 'compact_prompt = "mine"\n'


def test_install_memory_file_writes_the_state_and_pins_and_uninstall_removes_it(fake, tmp_path, monkeypatch,
                                                                                 capsys):
    proj = tmp_path / "calc"
    proj.mkdir()
    (proj / "CLAUDE.md").write_text(USER_TEXT)
    monkeypatch.chdir(proj)
    p = fake.add_project("calc")
    fake.sessions[p["id"]].append({"project_id": p["id"], "number": 1, "external_id": "a", "status": "completed",
                                   "transcript": {"messages": 3}, "errors": []})
    fake.checkpoint = ("# This session's state after compaction: calc, session 1\n\n## Next action\n"
                       "Run `make test`.\n\n## Pinned context\n- Never push to main\n")
    fake.pins[p["id"]] = ["Never push to main", "Deploy on Fridays only with a review"]
    assert main.main(["install", "claude", "--memory-file", "--compact-instructions"]) == 0
    text = (proj / "CLAUDE.md").read_text()
    block = text[text.index(memory.BEGIN):]
    assert text.startswith(USER_TEXT) and "Run `make test`." in block and "after compaction" not in block
    assert "Deploy on Fridays" in block and block.count("Never push to main") == 1  # pins, once
    assert "# Compact instructions" in block
    assert memory.enabled_for(proj / "sub") == (proj.resolve(), {"agents": ["claude"], "compact": True})
    main.main(["doctor"])
    assert f"[--] memory file here: {proj.resolve() / 'CLAUDE.md'} (with compact instructions)" in capsys.readouterr().out

    # a session ends in a subdirectory: the flush rewrites the block from that session's state
    fake.checkpoint = "# header\n\n## Next action\nShip it.\n"
    memory.refresh(memory_api(fake), str(proj / "sub"), p["id"], 1)
    block = (proj / "CLAUDE.md").read_text()
    assert "Ship it." in block and "make test" not in block and block.startswith(USER_TEXT)

    assert main.main(["uninstall", "claude"]) == 0
    assert (proj / "CLAUDE.md").read_text() == USER_TEXT and memory.enabled_for(proj) is None


def memory_api(fake):
    from mso_cli.client import Api
    from mso_cli.config import load

    return Api(load(), timeout=5)


def test_codex_install_with_compact_instructions_sets_and_uninstall_restores(fake, tmp_path, monkeypatch):
    proj = tmp_path / "calc"
    proj.mkdir()
    monkeypatch.chdir(proj)
    cfg = Path(memory.codex_config_path())
    cfg.parent.mkdir(parents=True)
    cfg.write_text(CODEX_CONFIG)
    assert main.main(["install", "codex", "--memory-file", "--compact-instructions"]) == 0
    assert memory.BEGIN in (proj / "AGENTS.md").read_text()
    assert "# Compact instructions" not in (proj / "AGENTS.md").read_text()  # Codex: compact_prompt instead
    assert "compact_prompt" in tomllib.loads(cfg.read_text())
    assert main.main(["uninstall", "codex"]) == 0
    assert not (proj / "AGENTS.md").exists() and cfg.read_text() == CODEX_CONFIG


def test_a_failed_refresh_never_fails_the_delivery(fake, tmp_path, monkeypatch):
    from mso_cli.state import log_path

    proj = tmp_path / "calc"
    proj.mkdir()
    monkeypatch.chdir(proj)
    assert main.main(["install", "claude", "--memory-file"]) == 0
    before = (proj / "CLAUDE.md").read_text()
    fake.down = True  # the server goes away between the completion and the refresh
    memory.refresh_after(memory_api(fake), {"cwd": str(proj), "external_id": "a"}, {"project": "p1", "number": 1})
    assert "memory_refresh_failed" in log_path().read_text() and (proj / "CLAUDE.md").read_text() == before


def test_markers_edited_into_something_else_leave_the_file_alone(tmp_path):
    import pytest

    f = tmp_path / "CLAUDE.md"
    for broken in (f"{USER_TEXT}{memory.BEGIN}\nhalf a block\n", f"{memory.END}\n{USER_TEXT}{memory.BEGIN}\n",
                   f"{memory.BEGIN}\n{memory.END}\n{memory.BEGIN}\n{memory.END}\n"):
        f.write_text(broken)
        with pytest.raises(memory.BrokenBlock):
            memory.write_block(f, memory.block("new", compact=False))
        with pytest.raises(memory.BrokenBlock):
            memory.remove_block(f)
        assert f.read_text() == broken and not (tmp_path / "CLAUDE.md.mso-backup").exists()
