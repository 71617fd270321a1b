"""On DynamoDB Local: racing creations with one agent session id make exactly one session."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

pytestmark = pytest.mark.integration


def test_racing_creations_with_one_external_id_make_one_session(live):
    http = live("t" + uuid.uuid4().hex[:10])
    pid = http("POST", "/api/projects", {"name": "race-ext"}).json()["id"]
    ext = str(uuid.uuid4())
    # plain creations race at the same time, so the external one also loses number races and retries
    bodies = [{"external_id": ext, "agent": "claude"}] * 16 + [{}] * 8
    with ThreadPoolExecutor(max_workers=24) as pool:
        results = list(pool.map(lambda b: http("POST", f"/api/projects/{pid}/sessions", b), bodies))
    linked = results[:16]
    assert sorted(r.status_code for r in linked) == [200] * 15 + [201]
    numbers = {r.json()["number"] for r in linked}
    assert len(numbers) == 1
    all_numbers = sorted({r.json()["number"] for r in results})
    assert all_numbers == list(range(1, 10))  # 8 plain + 1 linked, gap-free
    p = http("GET", f"/api/projects/{pid}").json()
    assert p["sessions"]["total"] == 9 and p["sessions"]["in_progress"] == 9
    listed = http("GET", f"/api/projects/{pid}/sessions", params={"limit": 100}).json()["items"]
    assert [s["external_id"] for s in listed].count(ext) == 1
