"""The CLI's settings and project resolution: file, environment, .mso.toml, git origin, directory."""

from __future__ import annotations

import pytest
from mso_cli import config


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for var in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "MSO_API_URL", "MSO_TOKEN", "MSO_PROJECT"):
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


def test_paths_follow_xdg(env, tmp_path):
    assert config.config_path() == tmp_path / "home" / ".config" / "mso" / "config.toml"
    assert config.state_dir() == tmp_path / "home" / ".local" / "state" / "mso"
    env.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    env.setenv("XDG_STATE_HOME", str(tmp_path / "st"))
    assert config.config_path() == tmp_path / "cfg" / "mso" / "config.toml"
    assert config.state_dir() == tmp_path / "st" / "mso"


def test_saved_settings_load_and_the_environment_overrides_them(env):
    p = config.save({"api_url": "http://h:8000/api/", "token": 'to"ken\\x', "handoff_mode": "rules"})
    assert oct(p.stat().st_mode & 0o777) == "0o600"
    cfg = config.load()
    assert (cfg.base_url, cfg.token, cfg.handoff_mode) == ("http://h:8000", 'to"ken\\x', "rules")
    config.save({"project": "billing"})  # a second save merges
    assert config.load().token == 'to"ken\\x' and config.load().project == "billing"
    env.setenv("MSO_API_URL", "http://other:9")
    env.setenv("MSO_TOKEN", "envtok")
    env.setenv("MSO_PROJECT", "from-env")
    cfg = config.load()
    assert (cfg.base_url, cfg.token, cfg.project) == ("http://other:9", "envtok", "from-env")


def test_project_resolution_order(env, tmp_path):
    repo = tmp_path / "code" / "billing-svc"
    sub = repo / "src" / "deep"
    sub.mkdir(parents=True)
    cfg = config.Config()
    assert config.project_spec(None, sub, cfg) == ("deep", "directory name")
    (repo / ".git").mkdir()
    (repo / ".git" / "config").write_text('[core]\n\tbare = false\n[remote "upstream"]\n\turl = x/y\n'
                                          '[remote "origin"]\n\turl = git@github.com:acme/billing.git\n')
    assert config.project_spec(None, sub, cfg) == ("acme/billing", "git origin")
    (repo / ".mso.toml").write_text('project = "Billing v2"\n')
    assert config.project_spec(None, sub, cfg) == ("Billing v2", str(repo / ".mso.toml"))
    env.setenv("MSO_PROJECT", "envproj")
    assert config.project_spec(None, sub, config.load()) == ("envproj", "MSO_PROJECT")
    assert config.project_spec("flag", sub, config.load()) == ("flag", "--project")


def test_git_worktree_origin_is_read_from_the_common_dir(tmp_path):
    main = tmp_path / "main"
    (main / ".git" / "worktrees" / "wt").mkdir(parents=True)
    (main / ".git" / "config").write_text('[remote "origin"]\n  url = https://example.com/team/app\n')
    (main / ".git" / "worktrees" / "wt" / "commondir").write_text("../..\n")
    wt = tmp_path / "wt"
    wt.mkdir()
    (wt / ".git").write_text(f"gitdir: {main / '.git' / 'worktrees' / 'wt'}\n")
    assert config.git_origin(wt) == "https://example.com/team/app"


@pytest.mark.parametrize("url,name", [("git@github.com:acme/billing.git", "acme/billing"),
                                      ("https://gitlab.com/group/sub/repo.git/", "sub/repo"),
                                      ("ssh://git@host:22/owner/repo", "owner/repo"), ("/srv/git/solo.git", "git/solo")])
def test_name_from_origin(url, name):
    assert config.name_from_origin(url) == name
