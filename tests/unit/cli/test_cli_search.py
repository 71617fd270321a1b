"""`mso search`: which route it calls and how it prints hits (`session N #index kind: snippet`)."""

from __future__ import annotations

import pytest
from mso_cli import main as cli

HIT = {"project_id": "p1", "session": 3, "message_index": 12, "kind": "error", "at": None,
       "snippet": "pytest   failed:\nKeyError 'user'", "highlights": [[0, 6]], "score": 1.5, "tokens": 40}


class StubApi:
    calls: list[tuple[str, dict]] = []

    base = "http://stub"

    def __init__(self, cfg, timeout=None) -> None:
        pass

    def get(self, path, query=None, **kw):
        StubApi.calls.append((path, query))
        return {"items": [HIT, {**HIT, "session": None, "message_index": None, "kind": "knowledge"}],
                "next_cursor": None}

    def all_projects(self):
        return [{"id": "p1", "name": "billing"}]


@pytest.fixture(autouse=True)
def stub(monkeypatch, tmp_path):
    import mso_cli.client
    import mso_cli.config

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setattr(mso_cli.client, "Api", StubApi)
    monkeypatch.setattr(mso_cli.config, "load", lambda: {})
    StubApi.calls = []


def test_search_all_projects(capsys):
    assert cli.main(["search", "key", "error", "--kind", "error", "--limit", "5"]) == 0
    assert StubApi.calls == [("/api/search", {"q": "key error", "kind": "error", "limit": 5})]
    out = capsys.readouterr().out.splitlines()
    assert out == ["p1 session 3 #12 error: pytest failed: KeyError 'user'", "p1 project knowledge: pytest failed: "
                   "KeyError 'user'"]


def test_search_one_project(capsys):
    assert cli.main(["search", "KeyError", "--project", "billing"]) == 0
    assert StubApi.calls[-1][0] == "/api/projects/p1/search"
    assert capsys.readouterr().out.splitlines()[0] == "session 3 #12 error: pytest failed: KeyError 'user'"


def test_bad_limit_is_refused_before_any_request(capsys):
    assert cli.main(["search", "x", "--limit", "0"]) == 2
    assert StubApi.calls == []
