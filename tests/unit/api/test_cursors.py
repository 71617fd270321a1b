"""Forged cursors on every list route: a clear 400 naming `cursor`, never a 500.

A cursor is opaque to clients but it is only base64 JSON: anyone can decode one, change it and send
it back. Each route gets the shapes an attacker (or a truncating proxy) produces, built on the
route's own partition so that they pass the tenant check and reach the database layer.
"""

from __future__ import annotations

import base64
import json

import pytest

from chalicelib.storage import keys
from chalicelib.storage.common import pack_cursor

TENANT = "acme"  # the tenant of the `api` fixture's token


def _raw(text: str) -> str:
    """A cursor holding any text (pack_cursor only makes valid JSON)."""
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _key_forgeries(valid: dict[str, str], other_tenant: dict[str, str]) -> dict[str, str]:
    """Start keys DynamoDB refuses (or that point elsewhere), derived from a valid one."""
    part = {k: v for k, v in valid.items() if k in ("PK", "GSI1PK")}
    return {
        "partition key only": pack_cursor(part),
        "extra attribute": pack_cursor({**valid, "ZZ": "1"}),
        "empty sort key": pack_cursor({**valid, "SK": ""}),
        "sort key outside the listed range": pack_cursor({**valid, "SK": "ZZZ#999"}),
        "sort key over 1 KB": pack_cursor({**valid, "SK": valid["SK"] + "x" * 1100}),
        "number value": pack_cursor({**valid, "SK": 7}),
        "list value": pack_cursor({**valid, "SK": ["a"]}),
        "null value": pack_cursor({**valid, "SK": None}),
        "lone surrogate": pack_cursor({**valid, "SK": valid["SK"] + "\ud800"}),
        "other tenant": pack_cursor(other_tenant),
        **_shape_forgeries(),
    }


def _shape_forgeries() -> dict[str, str]:
    return {
        "not base64": "not*base64",
        "not json": _raw("hello"),
        "json list": pack_cursor([1]),  # type: ignore[arg-type]
        "empty object": pack_cursor({}),
        "nested 1400 deep": _raw("[" * 1400),
        "not utf-8": base64.urlsafe_b64encode(b'{"PK":"\xff"}').decode().rstrip("="),
    }


def _offset_forgeries(upload_id: str) -> dict[str, str]:
    """The transcript's cursor is {"u": upload id, "o": offset}."""
    return {
        "offset Infinity": _raw(f'{{"u":"{upload_id}","o":Infinity}}'),
        "offset -Infinity": _raw(f'{{"u":"{upload_id}","o":-Infinity}}'),
        "offset NaN": _raw(f'{{"u":"{upload_id}","o":NaN}}'),
        "offset 1e999": _raw(f'{{"u":"{upload_id}","o":1e999}}'),
        "offset negative": pack_cursor({"u": upload_id, "o": -1}),
        "offset huge": pack_cursor({"u": upload_id, "o": 10 ** 30}),
        "offset past the end": pack_cursor({"u": upload_id, "o": 10_000}),
        "offset float": pack_cursor({"u": upload_id, "o": 1.5}),
        "offset string": pack_cursor({"u": upload_id, "o": "3"}),
        "offset bool": pack_cursor({"u": upload_id, "o": True}),
        "upload id number": pack_cursor({"u": 5, "o": 1}),
        "no upload id": pack_cursor({"o": 1}),
        **_shape_forgeries(),
    }


@pytest.fixture
def world(api):
    """A project with two sessions, the first with a six-message transcript."""
    pid = api.post("/api/projects", {"name": "p"}).json_body["id"]
    api.post(f"/api/projects/{pid}/sessions", {})
    api.post(f"/api/projects/{pid}/sessions", {})
    msgs = [{"role": "user" if i % 2 == 0 else "assistant", "content": f"message {i}"} for i in range(6)]
    r = api.put(f"/api/projects/{pid}/sessions/1/transcript", raw=json.dumps({"messages": msgs}).encode(),
                headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.body
    return pid


def _routes(pid: str) -> dict[str, tuple[str, dict[str, str], dict[str, str]]]:
    """route: (path, a valid start key of its list, the same key in another tenant)."""
    t_pk, o_pk = keys.tenant_pk(TENANT), keys.tenant_pk("globex")
    p_pk, o_ppk = keys.project_pk(TENANT, pid), keys.project_pk("globex", pid)
    in_prog = {"PK": p_pk, "SK": keys.session_sk(1), "GSI1PK": keys.in_progress_gsi1pk(TENANT),
               "GSI1SK": f"2026-01-01T00:00:00Z#{pid}#000001"}
    history = {"PK": p_pk, "SK": keys.file_sk(1, "a.py"),
               "GSI1PK": keys.file_history_gsi1pk(TENANT, pid, "a.py"), "GSI1SK": keys.session_sk(1)}
    know = {"PK": p_pk, "SK": keys.know_sk("k1"), "GSI1PK": keys.tenant_knowledge_gsi1pk(TENANT),
            "GSI1SK": "2026-01-01T00:00:00Z#k1"}
    return {
        "projects": ("/api/projects", {"PK": t_pk, "SK": keys.project_sk(pid)},
                     {"PK": o_pk, "SK": keys.project_sk(pid)}),
        "accounts": ("/api/accounts", {"PK": t_pk, "SK": keys.account_sk("a1")},
                     {"PK": o_pk, "SK": keys.account_sk("a1")}),
        "sessions": (f"/api/projects/{pid}/sessions", {"PK": p_pk, "SK": keys.session_sk(1)},
                     {"PK": o_ppk, "SK": keys.session_sk(1)}),
        "sessions desc": (f"/api/projects/{pid}/sessions?order=desc", {"PK": p_pk, "SK": keys.session_sk(2)},
                          {"PK": o_ppk, "SK": keys.session_sk(2)}),
        "in progress": ("/api/sessions/in-progress", in_prog,
                        {**in_prog, "GSI1PK": keys.in_progress_gsi1pk("globex"), "PK": o_ppk}),
        "open items": (f"/api/projects/{pid}/open-items?status=all", {"PK": p_pk, "SK": keys.item_sk("abc")},
                       {"PK": o_ppk, "SK": keys.item_sk("abc")}),
        "session files": (f"/api/projects/{pid}/sessions/1/files", {"PK": p_pk, "SK": keys.file_sk(1, "a.py")},
                          {"PK": o_ppk, "SK": keys.file_sk(1, "a.py")}),
        "file history": (f"/api/projects/{pid}/files?path=a.py", history,
                         {**history, "PK": o_ppk, "GSI1PK": keys.file_history_gsi1pk("globex", pid, "a.py")}),
        "handoff versions": (f"/api/projects/{pid}/sessions/1/handoff/versions",
                             {"PK": p_pk, "SK": keys.handoff_version_sk(1, 1)},
                             {"PK": o_ppk, "SK": keys.handoff_version_sk(1, 1)}),
        "knowledge": ("/api/knowledge", know, {**know, "PK": o_ppk, "GSI1PK": keys.tenant_knowledge_gsi1pk("globex")}),
    }


ROUTES = ["projects", "accounts", "sessions", "sessions desc", "in progress", "open items", "session files",
          "file history", "handoff versions", "knowledge"]


def _assert_cursor_400(r, what: str) -> None:
    assert r.status_code == 400, (what, r.status_code, r.body[:300])
    err = r.json_body["error"]
    assert err["code"] == "invalid_cursor" and err["field"] == "cursor", (what, err)
    assert "cursor" in err["message"]


@pytest.mark.parametrize("route", ROUTES)
def test_forged_start_keys_are_400_on_every_keyed_list(api, world, route):
    path, valid, other = _routes(world)[route]
    sep = "&" if "?" in path else "?"
    assert api.get(f"{path}{sep}cursor={pack_cursor(valid)}").status_code == 200  # the shape itself is right
    for name, cursor in _key_forgeries(valid, other).items():
        _assert_cursor_400(api.get(f"{path}{sep}cursor={cursor}"), f"{route}: {name}")


@pytest.mark.parametrize("path", ["/api/projects/{pid}/knowledge", "/api/knowledge?q=message"])
def test_forged_offset_cursors_are_400_on_knowledge(api, world, path):
    path = path.format(pid=world)
    sep = "&" if "?" in path else "?"
    for o in ("Infinity", "NaN", "-1", "true", "1.5", '"3"'):
        cursor = _raw(f'{{"s":"p:{world}","o":{o}}}')
        _assert_cursor_400(api.get(f"{path}{sep}cursor={cursor}"), f"{path}: o={o}")
    for name, cursor in _shape_forgeries().items():
        _assert_cursor_400(api.get(f"{path}{sep}cursor={cursor}"), f"{path}: {name}")


def test_forged_transcript_offsets_are_400(api, world):
    base = f"/api/projects/{world}/sessions/1/transcript?limit=2"
    first = api.get(base).json_body
    assert len(first["items"]) == 2 and first["next_cursor"]
    upload_id = json.loads(base64.urlsafe_b64decode(first["next_cursor"] + "=="))["u"]
    nxt = api.get(f"{base}&cursor={first['next_cursor']}")
    assert nxt.status_code == 200 and [m["index"] for m in nxt.json_body["items"]] == [2, 3]
    for name, cursor in _offset_forgeries(upload_id).items():
        _assert_cursor_400(api.get(f"{base}&cursor={cursor}"), name)
