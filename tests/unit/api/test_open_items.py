"""The project's open-items ledger through the API (handoff jobs run synchronously here)."""

from __future__ import annotations

import pytest

from chalicelib import config


@pytest.fixture
def pid(api, monkeypatch):
    monkeypatch.setenv("MSO_JOBS", "sync")
    config.reset()
    yield api.post("/api/projects", {"name": "Ledger"}).json_body["id"]
    config.reset()


def _complete(api, pid, n, **fields):
    r = api.post(f"/api/projects/{pid}/sessions/{n}/complete", {"handoff_mode": "rules", **fields})
    assert r.status_code == 202, r.body
    return r.json_body


def _items(api, pid, status="open"):
    r = api.get(f"/api/projects/{pid}/open-items?status={status}")
    assert r.status_code == 200, r.body
    return r.json_body["items"]


def _next_steps(md: str) -> str:
    return md.split("## Open items", 1)[-1].split("\n## ", 1)[0]


def test_next_steps_and_blockers_open_items_with_who_opened_them(api, pid):
    api.post(f"/api/projects/{pid}/sessions", {})
    _complete(api, pid, 1, next_steps=["Write the migration guide"], blockers=["Waiting for the staging key"])
    items = {it["text"]: it for it in _items(api, pid)}
    assert set(items) == {"Write the migration guide", "Waiting for the staging key"}
    guide = items["Write the migration guide"]
    assert guide["kind"] == "next_step" and guide["opened_by"] == 1 and guide["closed_by"] is None
    assert items["Waiting for the staging key"]["kind"] == "blocker"
    assert len(guide["id"]) == 10 and guide["status"] == "open"


def test_done_items_close_by_id_or_text_and_the_handoff_drops_them(api, pid):
    api.post(f"/api/projects/{pid}/sessions", {})
    _complete(api, pid, 1, next_steps=["Write the migration guide", "Add rate limiting", "Rotate keys"])
    ids = {it["text"]: it["id"] for it in _items(api, pid)}
    api.post(f"/api/projects/{pid}/sessions", {})
    out = _complete(api, pid, 2, done_items=[ids["Add rate limiting"], "write the migration guide."])
    assert {c["text"] for c in out["session"]["closed_items"]["closed"]} == {"Add rate limiting",
                                                                            "Write the migration guide"}
    assert [it["text"] for it in _items(api, pid)] == ["Rotate keys"]
    closed = {it["text"]: it for it in _items(api, pid, "closed")}
    assert closed["Add rate limiting"]["closed_by"] == 2 and closed["Add rate limiting"]["closed_at"]
    assert len(_items(api, pid, "all")) == 3
    h = api.get(f"/api/projects/{pid}/sessions/2/handoff").json_body
    nxt = _next_steps(h["markdown"])
    assert "Rotate keys" in nxt and "Add rate limiting" not in nxt and "migration guide" not in nxt
    assert {c["text"] for c in h["data"]["closed_items"]} >= {"Add rate limiting", "Write the migration guide"}


def test_patch_done_items_close_at_once(api, pid):
    api.post(f"/api/projects/{pid}/sessions", {})
    _complete(api, pid, 1, next_steps=["Ship it"])
    api.post(f"/api/projects/{pid}/sessions", {})
    r = api.patch(f"/api/projects/{pid}/sessions/2", {"done_items": ["Ship it", "never recorded"]})
    assert r.status_code == 200, r.body
    assert r.json_body["closed_items"]["unmatched"] == ["never recorded"]
    assert _items(api, pid) == []


def test_close_route_is_idempotent_and_names_unknown_sessions(api, pid):
    api.post(f"/api/projects/{pid}/sessions", {})
    _complete(api, pid, 1, next_steps=["Ship it"])
    first = api.post(f"/api/projects/{pid}/open-items/close", {"items": ["Ship it"], "session": 1}).json_body
    again = api.post(f"/api/projects/{pid}/open-items/close", {"items": ["Ship it"], "session": 1}).json_body
    assert len(first["closed"]) == 1 and again["closed"] == [] and len(again["already_closed"]) == 1
    r = api.post(f"/api/projects/{pid}/open-items/close", {"items": ["Ship it"], "session": 9})
    assert r.status_code == 400 and r.json_body["error"]["code"] == "unknown_session"
    assert r.json_body["error"]["field"] == "session"
    r = api.post(f"/api/projects/{pid}/open-items/close", {"items": [], "session": 1})
    assert r.status_code == 400 and r.json_body["error"]["field"] == "items"


def test_parallel_sessions_do_not_split_the_ledger(api, pid):
    """Sessions 1 and 2 run side by side; session 3's handoff carries the items of both."""
    api.post(f"/api/projects/{pid}/sessions", {})
    api.post(f"/api/projects/{pid}/sessions", {})
    _complete(api, pid, 2, next_steps=["Item from two"])
    _complete(api, pid, 1, next_steps=["Item from one"])
    api.post(f"/api/projects/{pid}/sessions", {})
    _complete(api, pid, 3, accomplishments=["Something else"])
    nxt = _next_steps(api.get(f"/api/projects/{pid}/sessions/3/handoff").json_body["markdown"])
    assert "Item from one" in nxt and "Item from two" in nxt


def test_regenerating_an_old_handoff_does_not_reopen_a_later_close(api, pid):
    api.post(f"/api/projects/{pid}/sessions", {})
    _complete(api, pid, 1, next_steps=["Ship it"])
    api.post(f"/api/projects/{pid}/sessions", {})
    _complete(api, pid, 2, done_items=["Ship it"])
    assert api.post(f"/api/projects/{pid}/sessions/1/handoff", {"mode": "rules"}).status_code == 202
    assert _items(api, pid) == []
    assert _items(api, pid, "closed")[0]["closed_by"] == 2


def test_a_later_session_can_raise_a_closed_item_again(api, pid):
    api.post(f"/api/projects/{pid}/sessions", {})
    _complete(api, pid, 1, next_steps=["Run the load test"])
    api.post(f"/api/projects/{pid}/sessions", {})
    _complete(api, pid, 2, done_items=["Run the load test"])
    api.post(f"/api/projects/{pid}/sessions", {})
    _complete(api, pid, 3, next_steps=["Run the load test"])
    [it] = _items(api, pid)
    assert it["opened_by"] == 3 and it["closed_by"] is None


def test_bad_status_and_missing_project(api, pid):
    r = api.get(f"/api/projects/{pid}/open-items?status=done")
    assert r.status_code == 400 and r.json_body["error"]["field"] == "status"
    assert api.get("/api/projects/nope/open-items").status_code == 404
    assert _items(api, pid) == []


def test_other_tenant_cannot_read_or_close(api, other_api, pid):
    api.post(f"/api/projects/{pid}/sessions", {})
    _complete(api, pid, 1, next_steps=["Ship it"])
    assert other_api.get(f"/api/projects/{pid}/open-items").status_code == 404
    r = other_api.post(f"/api/projects/{pid}/open-items/close", {"items": ["Ship it"], "session": 1})
    assert r.status_code == 404
    assert len(_items(api, pid)) == 1


def test_pages_are_full_until_the_end(api, pid):
    api.post(f"/api/projects/{pid}/sessions", {})
    _complete(api, pid, 1, next_steps=[f"Step {i}" for i in range(12)])
    api.post(f"/api/projects/{pid}/sessions", {})
    _complete(api, pid, 2, done_items=[f"Step {i}" for i in range(0, 12, 2)])
    seen, cursor = [], None
    while True:
        q = "?status=open&limit=2" + (f"&cursor={cursor}" if cursor else "")
        body = api.get(f"/api/projects/{pid}/open-items{q}").json_body
        assert len(body["items"]) == 2 or not body["next_cursor"]
        seen += [it["text"] for it in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(f"Step {i}" for i in range(1, 12, 2))


def test_a_start_gets_the_open_items_its_handoff_does_not_carry(api, pid):
    """Sessions 1 and 2 run side by side; 2 finishes first, so handoff 2 lacks 1's next step."""
    api.post(f"/api/projects/{pid}/sessions", {})
    api.post(f"/api/projects/{pid}/sessions", {})
    _complete(api, pid, 2, next_steps=["Step from two"])
    _complete(api, pid, 1, next_steps=["Step from one"])
    third = api.post(f"/api/projects/{pid}/sessions", {}).json_body
    sh = third["starting_handoff"]
    assert sh["from_session"] == 2 and "Step from one" not in sh["markdown"]
    assert [it["text"] for it in sh["open_items_since"]] == ["Step from one"]
    got = api.get(f"/api/projects/{pid}/sessions/3").json_body["starting_handoff"]
    assert [it["text"] for it in got["open_items_since"]] == ["Step from one"]
    api.patch(f"/api/projects/{pid}/sessions/3", {"done_items": ["Step from one"]})
    assert api.get(f"/api/projects/{pid}/sessions/3").json_body["starting_handoff"]["open_items_since"] == []
