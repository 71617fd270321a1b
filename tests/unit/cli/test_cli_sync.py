"""`mso sync` makes one project of a repository's git worktrees, and keeps a session the server
already holds (found by the agent's session id) in its project."""

from __future__ import annotations

import gzip
import os
import re
import subprocess
import time
from pathlib import Path

import pytest
from mso_cli import agents, config, main

from tests.conftest import TRANSCRIPTS

# Both real sessions were recorded in git worktrees of one repository (spotter-gqc, spotter-fum).
IDS = ("258c7280-ae70-4798-800f-63464d01a85d", "8463c716-a2ea-4c14-9efa-87158ebd9f20")
WORKTREE = re.compile(r"/home/USER/projects/spotter-worktrees/(spotter-[a-z]+)")


def _git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args], cwd=cwd,
                          check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(cli_home):
    """spotter/ (no origin remote) with its worktrees where the real sessions ran."""
    main_dir = cli_home / "projects" / "spotter"
    main_dir.mkdir(parents=True)
    _git("init", "-q", "-b", "main", cwd=main_dir)
    _git("commit", "-q", "--allow-empty", "-m", "init", cwd=main_dir)
    trees = {}
    for name in ("spotter-gqc", "spotter-fum"):
        trees[name] = cli_home / "projects" / "spotter-worktrees" / name
        _git("worktree", "add", "-q", "-b", name, str(trees[name]), cwd=main_dir)
    (trees["spotter-fum"] / "assets").mkdir()
    return main_dir, trees


def _transcripts(cli_home: Path, trees: dict[str, Path]) -> list[Path]:
    out = []
    old = time.time() - 3 * 3600  # quiet for hours: sync completes them
    for sid in IDS:
        text = gzip.decompress((TRANSCRIPTS / "claude-code" / f"{sid}.jsonl.gz").read_bytes()).decode()
        cwd = str(trees[WORKTREE.search(text).group(1)])
        p = agents.claude_transcript(cwd, sid)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(WORKTREE.sub(lambda m: str(trees[m.group(1)]), text))
        os.utime(p, (old, old))
        out.append(p)
    return out


def test_a_worktree_is_named_after_its_main_repository_as_git_says(repo):
    main_dir, trees = repo
    for tree in (trees["spotter-fum"], trees["spotter-fum"] / "assets"):
        common = Path(_git("rev-parse", "--path-format=absolute", "--git-common-dir", cwd=tree))
        assert config._common_dir(config._nearest(tree, ".git")) == common  # read from files, no git process
        assert config.project_spec(None, tree)[0] == "spotter"
    assert config.project_spec(None, main_dir)[0] == "spotter"


def test_sync_makes_one_project_of_a_repositorys_worktrees(fake, repo, cli_home, monkeypatch, capsys):
    _, trees = repo
    _transcripts(cli_home, trees)
    monkeypatch.chdir(cli_home)
    assert main.main(["sync", "--agent", "claude", "--since", "1d"]) == 0, capsys.readouterr()
    assert [p["name"] for p in fake.projects.values()] == ["spotter"]
    assert sorted(s["external_id"] for s in fake.all_sessions()) == sorted(IDS)
    assert {s["status"] for s in fake.all_sessions()} == {"completed"}


def test_sync_keeps_a_known_session_in_its_project(fake, repo, cli_home, monkeypatch, capsys):
    _, trees = repo
    _transcripts(cli_home, trees)
    # the first session was recorded before under another name (pushed from elsewhere, renamed)
    elsewhere = fake.add_project("Spotter app")
    fake.sessions[elsewhere["id"]].append({"project_id": elsewhere["id"], "number": 1, "external_id": IDS[0],
                                           "agent": "claude", "status": "in_progress", "transcript": None,
                                           "errors": []})
    monkeypatch.chdir(cli_home)
    for _ in range(2):  # and again: nothing new
        assert main.main(["sync", "--agent", "claude", "--since", "1d"]) == 0, capsys.readouterr()
    by_id = {s["external_id"]: s for s in fake.all_sessions()}
    assert len(fake.all_sessions()) == 2
    assert by_id[IDS[0]]["project_id"] == elsewhere["id"] and by_id[IDS[0]]["status"] == "completed"
    assert fake.projects[by_id[IDS[1]]["project_id"]]["name"] == "spotter"
