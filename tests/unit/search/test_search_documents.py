"""What becomes a row: prompts (not injected text), answers, tool calls with their exit code and
output head, error lines, paths; and the FTS5 query escaping and snippet highlight offsets."""

from __future__ import annotations

import sqlite3

import pytest

from chalicelib.errors import BadRequest
from chalicelib.search import index
from chalicelib.search.documents import OUTPUT_CAP, message_rows


def _msgs():
    return [
        {"role": "user", "text": "please fix the login bug", "timestamp": "2026-01-01T00:00:00Z"},
        {"role": "user", "text": "<system-reminder>injected</system-reminder>", "injected": True},
        {"role": "assistant", "text": "Looking at it.", "tool_calls": [
            {"id": "a", "name": "Bash", "input": {"command": "pytest -x"}},
            {"id": "b", "name": "Edit", "input": {"file_path": "src/auth/login.py"}}]},
        {"role": "tool", "text": "", "tool_results": [
            {"tool_call_id": "a", "is_error": True, "text": "collected 3\nE   KeyError: 'user'\n" + "x" * 5000},
            {"tool_call_id": "b", "text": "ok"}]},
        {"role": "assistant", "text": "", "tool_calls": [{"id": "c", "name": "Bash", "input": {"command": "make"}}]},
        {"role": "tool", "tool_results": [{"tool_call_id": "c", "text": "done", "data": {"exit_code": 0}}]},
    ]


def test_rows_of_a_transcript():
    rows = list(message_rows(7, _msgs()))
    kinds = [(r.kind, r.message) for r in rows]
    assert ("prompt", 0) in kinds and not any(r.message == 1 for r in rows)  # injected text is not a prompt
    assert ("assistant", 2) in kinds
    err = next(r for r in rows if r.kind == "error")
    assert err.message == 2 and "KeyError" in err.text and "pytest -x" in err.text  # at the call's message
    cmd = next(r for r in rows if r.kind == "command" and "pytest" in r.text)
    assert "exit error" in cmd.text and len(cmd.text) < OUTPUT_CAP + 200  # output cut to the cap
    make = next(r for r in rows if r.kind == "command" and "make" in r.text)
    assert make.message == 4 and "exit 0" in make.text
    assert [r.text for r in rows if r.kind == "path"] == ["src/auth/login.py"]
    assert all(r.session == 7 for r in rows) and rows[0].at == "2026-01-01T00:00:00Z"


def test_unanswered_and_unknown_calls_still_indexed():
    rows = list(message_rows(1, [
        {"role": "assistant", "tool_calls": [{"id": "z", "name": "Grep", "input": {"pattern": "TODO"}}]},
        {"role": "tool", "tool_results": [{"tool_call_id": "nope", "name": "Read", "text": "orphan output"}]}]))
    assert {(r.kind, r.message) for r in rows} == {("command", 0), ("command", 1)}


@pytest.mark.parametrize("q,expected", [
    ("login bug", '"login" "bug"'),
    ('say "hi"', '"say" """hi"""'),
    ("NEAR(a b)", '"NEAR(a" "b)"'),
    ("log*", '"log"*'),
    ("a OR b", '"a" "OR" "b"'),
    ("- * ( login", '"login"'),
])
def test_queries_are_quoted(q, expected):
    assert index.to_match(q) == expected


@pytest.mark.parametrize("q", ["", "   ", "* - ()", '"""', "x" * (index.MAX_QUERY_CHARS + 1),
                               " ".join(["w"] * (index.MAX_TERMS + 1))])
def test_unsearchable_queries_are_400(q):
    with pytest.raises(BadRequest):
        index.to_match(q)


def test_every_quoted_query_is_valid_fts5(tmp_path):
    conn = index.open_write(str(tmp_path / "i.sqlite"))
    index.replace_part(conn, "messages", 1, message_rows(1, _msgs()))
    for q in ['"', "'", "\\", "NEAR(", "a:b", "^x", "{a b}", "a AND", "x\x00y", "é*", "**x", "login*"]:
        try:
            index.query(conn, index.to_match(q), kind=None, limit=5, offset=0)
        except BadRequest:
            pass  # no words: a 400, never an sqlite error
        except sqlite3.Error as e:  # pragma: no cover - the failure this test exists for
            pytest.fail(f"{q!r}: {e}")


def test_snippet_highlights_are_offsets_of_the_matched_words(tmp_path):
    conn = index.open_write(str(tmp_path / "i.sqlite"))
    index.replace_part(conn, "messages", 1, message_rows(1, _msgs()))
    hit = index.query(conn, index.to_match("login"), kind="prompt", limit=5, offset=0)[0]
    assert hit.snippet == "please fix the login bug"
    assert [hit.snippet[s:e] for s, e in hit.highlights] == ["login"]
    stemmed = index.query(conn, index.to_match("fixing"), kind=None, limit=5, offset=0)[0]  # porter: fixing ~ fix
    assert [stemmed.snippet[s:e] for s, e in stemmed.highlights] == ["fix"]
    assert index.split_marks("a \x02bc\x03 d \x02e\x03") == ("a bc d e", [[2, 4], [7, 8]])
