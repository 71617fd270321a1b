"""On DynamoDB Local: 100 concurrent creations on one project take numbers without racing for them
(each creation writes its session once), and the numbers are unique and gap-free."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from bench.request_costs import CallLog

pytestmark = pytest.mark.integration


class _Counting(CallLog):
    """A thread-safe CallLog."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()

    def __call__(self, model=None, **_):
        with self.lock:
            self.calls.append(model.name)


def test_hundred_concurrent_creations_write_once_each_and_are_gap_free(live):
    from chalicelib.storage.models import client

    http = live("t" + uuid.uuid4().hex[:10])
    pid = http("POST", "/api/projects", {"name": "contended"}).json()["id"]
    acct = http("POST", "/api/accounts", {"name": "main", "provider": "anthropic", "credit_budget": 1000}).json()
    bodies = ([{"credit_budget": 2}] * 60 + [{"ai_account": acct["id"], "credits_used": 1}] * 20
              + [{"external_id": f"ext-{i}", "agent": "claude"} for i in range(20)])
    log = _Counting()
    log.attach(client())
    try:
        with ThreadPoolExecutor(max_workers=100) as pool:
            results = list(pool.map(lambda b: http("POST", f"/api/projects/{pid}/sessions", b), bodies))
    finally:
        client().meta.events.unregister("before-call.dynamodb", log)
    assert [r.status_code for r in results] == [201] * 100
    assert sorted(r.json()["number"] for r in results) == list(range(1, 101))
    # no creation lost a race for its number: one transaction each (before: one per attempt, hundreds)
    assert log.calls.count("TransactWriteItems") == 100
    p = http("GET", f"/api/projects/{pid}").json()
    assert p["sessions"]["total"] == 100 and p["sessions"]["in_progress"] == 100
    assert p["credit_budget"] == 120 and p["credits_used"] == 20
    a = http("GET", f"/api/accounts/{acct['id']}").json()
    assert a["sessions"] == 20 and a["credits_used"] == 20
    listed = http("GET", f"/api/projects/{pid}/sessions", params={"limit": 100, "order": "asc"}).json()["items"]
    assert [s["number"] for s in listed] == list(range(1, 101))
    again = http("POST", f"/api/projects/{pid}/sessions", {"external_id": "ext-7"})
    assert again.status_code == 200 and again.json()["external_id"] == "ext-7"
    assert http("POST", f"/api/projects/{pid}/sessions", {}).json()["number"] == 101
