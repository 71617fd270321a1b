"""The open-items ledger on DynamoDB Local: parallel sessions adding and closing items lose nothing."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib import jobs

pytestmark = pytest.mark.integration


def _items(http, pid: str, status: str) -> list[dict]:
    out, cursor = [], None
    while True:
        body = http("GET", f"/api/projects/{pid}/open-items", params={"status": status, "limit": 100,
                                                                       "cursor": cursor}).json()
        out += body["items"]
        cursor = body["next_cursor"]
        if not cursor:
            return out


def test_parallel_sessions_adding_and_closing_lose_nothing(live):
    http = live("t" + uuid.uuid4().hex[:10])
    pid = http("POST", "/api/projects", {"name": "ledger race"}).json()["id"]
    k = 8
    http("POST", f"/api/projects/{pid}/sessions", {})
    seed = [f"Seed item {i}" for i in range(k)]
    assert http("POST", f"/api/projects/{pid}/sessions/1/complete",
                {"next_steps": seed, "handoff_mode": "rules"}).status_code == 202
    jobs.wait_idle(60)
    assert {it["text"] for it in _items(http, pid, "open")} == set(seed)
    for _ in range(k):
        assert http("POST", f"/api/projects/{pid}/sessions", {}).status_code == 201

    def complete(i: int) -> int:
        n = i + 2  # sessions 2..k+1, all in progress at once
        return http("POST", f"/api/projects/{pid}/sessions/{n}/complete", {
            "handoff_mode": "rules", "done_items": [seed[i]],
            "next_steps": [f"From {n} step A", f"From {n} step B"], "blockers": [f"Blocked in {n}"],
        }).status_code

    with ThreadPoolExecutor(max_workers=k) as pool:
        assert list(pool.map(complete, range(k))) == [202] * k
    jobs.wait_idle(120)
    opened = {it["text"]: it for it in _items(http, pid, "open")}
    expected = {f"From {n} step {x}" for n in range(2, k + 2) for x in "AB"} | {f"Blocked in {n}"
                                                                              for n in range(2, k + 2)}
    assert set(opened) == expected
    assert all(opened[f"From {n} step A"]["opened_by"] == n for n in range(2, k + 2))
    closed = {it["text"]: it for it in _items(http, pid, "closed")}
    assert set(closed) == set(seed)
    assert all(closed[seed[i]]["closed_by"] == i + 2 for i in range(k))
    # the next session's handoff is made from the whole ledger, whatever order the jobs ran in
    http("POST", f"/api/projects/{pid}/sessions", {})
    http("POST", f"/api/projects/{pid}/sessions/{k + 2}/complete", {"handoff_mode": "rules"})
    jobs.wait_idle(60)
    h = http("GET", f"/api/projects/{pid}/sessions/{k + 2}/handoff").json()
    assert h["status"] == "ready"
    assert {it["text"] for it in h["data"]["open_items"]} == expected


def test_concurrent_close_and_add_of_the_same_items(local_db):
    """Storage level, many threads: one item per text, each closed exactly once."""
    from chalicelib.domain import open_items
    from chalicelib.domain.projects import create
    from chalicelib.storage import open_items as store

    tenant = "t" + uuid.uuid4().hex[:10]
    pid = create(tenant, {"name": "p"})["id"]
    texts = [f"Item {i}" for i in range(20)]

    def add(args: tuple[str, int]) -> bool:
        text, session = args
        return store.add_item(tenant, pid, open_items.id_for_text(text), text=text, kind="todo", session=session,
                              source="session")

    with ThreadPoolExecutor(max_workers=10) as pool:
        created = list(pool.map(add, [(t, s) for t in texts for s in (1, 1, 1)]))
    assert sum(created) == len(texts)  # three writers per text, one item each

    def close(session: int) -> dict:
        return open_items.close_items(tenant, pid, texts, session, check_session=False)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(close, [2, 3, 4, 5]))
    closed_ids = [c["id"] for r in results for c in r["closed"]]
    assert len(closed_ids) == len(texts) == len(set(closed_ids))
    assert all(len(r["closed"]) + len(r["already_closed"]) == len(texts) for r in results)
    items = store.all_items(tenant, pid)
    assert len(items) == len(texts) and all(it.status == "closed" for it in items)
