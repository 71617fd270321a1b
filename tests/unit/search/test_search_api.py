"""GET /api/projects/{p}/search and GET /api/search on moto: indexing through the import, ranking,
snippets and highlights, re-uploads, bad queries (4xx, never 500), tenant isolation, paging."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest


def _transcript(*turns: tuple[str, str]) -> bytes:
    """An OpenAI-style chat export: (role, text) pairs, plus a failing bash call after the first."""
    msgs = [{"role": r, "content": t} for r, t in turns]
    msgs.insert(1, {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function",
                    "function": {"name": "bash", "arguments": json.dumps({"cmd": "pytest tests/test_billing.py"})}}]})
    msgs.insert(2, {"role": "tool", "tool_call_id": "c1",
                    "content": "FAILED tests/test_billing.py::test_invoice_total - AssertionError: 41 != 42\n"
                               "Exit code: 1"})
    return json.dumps(msgs).encode()


def _put(api, pid, n, data: bytes, **q):
    qs = "&".join(f"{k}={v}" for k, v in {"format": "openai", **q}.items())
    r = api.put(f"/api/projects/{pid}/sessions/{n}/transcript?{qs}", raw=data,
                headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 200, r.body
    return r


def _search(api, pid, q, **params):
    qs = "&".join([f"q={quote(q)}"] + [f"{k}={quote(str(v))}" for k, v in params.items()])
    path = f"/api/projects/{pid}/search?{qs}" if pid else f"/api/search?{qs}"
    return api.get(path)


@pytest.fixture
def project(api):
    pid = api.post("/api/projects", {"name": "billing"}).json_body["id"]
    api.post(f"/api/projects/{pid}/sessions", {})
    api.post(f"/api/projects/{pid}/sessions", {})
    _put(api, pid, 1, _transcript(("user", "Fix the invoice rounding bug in billing/invoice.py"),
                                  ("assistant", "The rounding uses floats; I will switch to Decimal.")))
    _put(api, pid, 2, _transcript(("user", "Add a CSV export of invoices"),
                                  ("assistant", "Export written; the invoice invoice invoice columns match.")))
    return pid


def test_hits_link_to_the_message_with_snippet_highlights_and_tokens(api, project):
    r = _search(api, project, "rounding")
    assert r.status_code == 200, r.body
    items = r.json_body["items"]
    assert items and r.json_body["next_cursor"] is None
    top = items[0]
    assert top["project_id"] == project and top["session"] == 1 and top["kind"] in ("prompt", "assistant")
    assert isinstance(top["message_index"], int) and top["tokens"] >= 1 and isinstance(top["score"], float)
    for s, e in top["highlights"]:
        assert top["snippet"][s:e].lower().startswith("round")
    # the hit's message index is the message the transcript route returns at that index
    msgs = api.get(f"/api/projects/{project}/sessions/1/transcript?limit=100").json_body["items"]
    assert "rounding" in msgs[top["message_index"]]["text"].lower()
    assert {i["session"] for i in items} == {1}


def test_ranking_prefers_the_denser_document(api, project):
    items = _search(api, project, "invoice").json_body["items"]
    assert items[0]["session"] == 2 and items[0]["kind"] == "assistant"  # "invoice" four times
    assert [i["score"] for i in items] == sorted((i["score"] for i in items), reverse=True)


def test_kinds_commands_errors_and_paths(api, project):
    errors = _search(api, project, "AssertionError", kind="error").json_body["items"]
    assert errors and all(i["kind"] == "error" for i in errors)
    cmds = _search(api, project, "pytest exit", kind="command").json_body["items"]
    assert cmds and all(i["kind"] == "command" for i in cmds)
    assert _search(api, project, "rounding", kind="command").json_body["items"] == []


def test_reupload_replaces_the_sessions_rows(api, project):
    assert _search(api, project, "Decimal").json_body["items"]
    _put(api, project, 1, _transcript(("user", "Rewrite the parser"), ("assistant", "Parser rewritten with a lexer.")))
    assert _search(api, project, "Decimal").json_body["items"] == []
    assert {i["session"] for i in _search(api, project, "lexer").json_body["items"]} == {1}
    assert _search(api, project, "CSV").json_body["items"]  # session 2 untouched


@pytest.mark.parametrize("q", ['"', '"unbalanced', 'NEAR(rounding bug)', "rounding OR", "AND", "*", "-", "a:b",
                               "^rounding", "(rounding", "rounding)", "col:rounding", "NOT rounding", "''", "\\"])
def test_fts_syntax_is_plain_text_never_500(api, project, q):
    r = _search(api, project, q)
    assert r.status_code in (200, 400), r.body
    if r.status_code == 400:
        assert r.json_body["error"]["field"] == "q"


def test_bad_queries_are_4xx(api, project):
    assert _search(api, project, "").status_code == 400
    assert _search(api, project, "   ").status_code == 400
    assert _search(api, project, "x" * 10_000).status_code == 400
    assert _search(api, project, "* - ()").json_body["error"]["code"] == "unsearchable_query"
    assert _search(api, project, " ".join(["w"] * 40)).status_code == 400
    assert _search(api, project, "rounding", limit=0).status_code == 400
    assert _search(api, project, "rounding", limit=51).status_code == 400
    assert _search(api, project, "rounding", kind="nope").status_code == 400
    assert _search(api, project, "rounding", cursor="garbage").status_code == 400
    assert api.get(f"/api/projects/{project}/search").status_code == 400  # q is required


def test_prefix_and_quoted_words(api, project):
    assert _search(api, project, "round*").json_body["items"]
    assert _search(api, project, '"rounding"').json_body["items"]
    assert _search(api, project, "rounding decimal").json_body["items"]  # all words, any order
    assert _search(api, project, "rounding lexer").json_body["items"] == []  # all must match


def test_paging_with_cursor(api, project):
    first = _search(api, project, "invoice", limit=1).json_body
    assert len(first["items"]) == 1 and first["next_cursor"]
    second = _search(api, project, "invoice", limit=1, cursor=first["next_cursor"]).json_body
    assert second["items"] and second["items"][0] != first["items"][0]
    # a cursor belongs to its query
    assert _search(api, project, "rounding", limit=1, cursor=first["next_cursor"]).status_code == 400


def test_cross_project_search_merges_by_score(api, project):
    other = api.post("/api/projects", {"name": "web"}).json_body["id"]
    api.post(f"/api/projects/{other}/sessions", {})
    _put(api, other, 1, _transcript(("user", "The invoice page renders blank"), ("assistant", "Fixed the page.")))
    items = _search(api, None, "invoice").json_body["items"]
    assert {i["project_id"] for i in items} == {project, other}
    assert [i["score"] for i in items] == sorted((i["score"] for i in items), reverse=True)
    only = _search(api, None, "blank").json_body["items"]
    assert only and {i["project_id"] for i in only} == {other}


def test_another_tenant_finds_nothing(api, other_api, project):
    assert _search(other_api, project, "invoice").status_code == 404
    assert _search(other_api, None, "invoice").json_body["items"] == []
    pid = other_api.post("/api/projects", {"name": "mine"}).json_body["id"]
    assert _search(other_api, pid, "invoice").json_body["items"] == []
    assert _search(api, None, "invoice", limit=50).json_body["items"]
    assert _search(api, project, "invoice").status_code == 200
    assert api.get("/api/search?q=invoice", token=None).status_code == 401


def test_routes_are_in_openapi(api):
    paths = api.get("/api/openapi.json").json_body["paths"]
    assert "/api/search" in paths and "/api/projects/{project_id}/search" in paths
