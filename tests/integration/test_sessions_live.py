"""On DynamoDB Local over HTTP: concurrency, tenant isolation, exact counters, 4xx on bad input."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

pytestmark = pytest.mark.integration


def _tenant() -> str:
    return "t" + uuid.uuid4().hex[:10]


def test_fifty_concurrent_creations_get_1_to_50(live):
    http = live(_tenant())
    pid = http("POST", "/api/projects", {"name": "race"}).json()["id"]
    with ThreadPoolExecutor(max_workers=25) as pool:
        results = list(pool.map(lambda _: http("POST", f"/api/projects/{pid}/sessions", {"credit_budget": 2}),
                                 range(50)))
    assert [r.status_code for r in results] == [201] * 50
    assert sorted(r.json()["number"] for r in results) == list(range(1, 51))
    p = http("GET", f"/api/projects/{pid}").json()
    assert p["sessions"]["total"] == 50 and p["sessions"]["in_progress"] == 50
    assert p["credit_budget"] == 100
    listed, cursor = [], None
    while True:
        page = http("GET", f"/api/projects/{pid}/sessions", params={"limit": 20, "cursor": cursor, "order": "asc"}).json()
        listed += [s["number"] for s in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert listed == list(range(1, 51))


def test_concurrent_updates_keep_counters_exact(live):
    http = live(_tenant())
    pid = http("POST", "/api/projects", {"name": "counters"}).json()["id"]
    aid = http("POST", "/api/accounts", {"name": "acct", "provider": "x", "credit_budget": 10_000}).json()["id"]
    for _ in range(10):
        assert http("POST", f"/api/projects/{pid}/sessions", {"ai_account": aid}).status_code == 201

    def work(n: int) -> list[int]:
        codes = [http("PATCH", f"/api/projects/{pid}/sessions/{n}", {"credits_used": 7 * n}).status_code]
        codes.append(http("PATCH", f"/api/projects/{pid}/sessions/{n}", {"tasks_planned": 3, "tasks_completed": 2})
                     .status_code)
        status = "completed" if n % 2 else "failed"
        codes.append(http("PATCH", f"/api/projects/{pid}/sessions/{n}", {"status": status}).status_code)
        return codes

    with ThreadPoolExecutor(max_workers=10) as pool:
        codes = [c for cs in pool.map(work, range(1, 11)) for c in cs]
    assert codes == [200] * 30
    p = http("GET", f"/api/projects/{pid}").json()
    assert p["credits_used"] == sum(7 * n for n in range(1, 11))
    assert p["tasks_planned"] == 30 and p["tasks_completed"] == 20
    assert p["sessions"] == {"total": 10, "in_progress": 0, "completed": 5, "failed": 5}
    a = http("GET", f"/api/accounts/{aid}").json()
    assert a["credits_used"] == p["credits_used"] and a["sessions"] == 10
    assert http("GET", "/api/sessions/in-progress").json()["items"] == []


def test_same_session_patched_concurrently_is_serialized(live):
    http = live(_tenant())
    pid = http("POST", "/api/projects", {"name": "one session"}).json()["id"]
    http("POST", f"/api/projects/{pid}/sessions", {})
    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(lambda i: http("PATCH", f"/api/projects/{pid}/sessions/1",
                                             {"credits_used": i}).status_code, range(1, 17)))
    assert codes == [200] * 16
    final = http("GET", f"/api/projects/{pid}/sessions/1").json()["credits_used"]
    assert http("GET", f"/api/projects/{pid}").json()["credits_used"] == final


def test_other_tenant_gets_404(live):
    owner, intruder = live(_tenant()), live(_tenant())
    pid = owner("POST", "/api/projects", {"name": "mine"}).json()["id"]
    owner("POST", f"/api/projects/{pid}/sessions", {})
    for method, path in [("GET", f"/api/projects/{pid}"), ("GET", f"/api/projects/{pid}/sessions"),
                         ("GET", f"/api/projects/{pid}/sessions/1"), ("DELETE", f"/api/projects/{pid}"),
                         ("POST", f"/api/projects/{pid}/sessions")]:
        r = intruder(method, path, {} if method == "POST" else None)
        assert r.status_code == 404, (method, path)
        assert "mine" not in r.text
    assert owner("GET", f"/api/projects/{pid}").json()["sessions"]["total"] == 1


@pytest.mark.parametrize("method,path,body,status", [
    ("POST", "/api/projects", {"name": 3}, 400),
    ("POST", "/api/projects", {"nam": "x"}, 400),
    ("GET", "/api/projects?limit=1000", None, 400),
    ("GET", "/api/nothing-here", None, 404),
])
def test_validation_errors_are_4xx(live, method, path, body, status):
    http = live(_tenant())
    r = http(method, path, body)
    assert r.status_code == status
    assert r.json()["error"]["code"]


def test_malformed_json_over_http(live):
    http = live(_tenant())
    r = http("POST", "/api/projects", data=b'{"name": ', headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_json"
    r = http("POST", "/api/projects", data=b'{"name": "curl default"}',
             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 201


def test_no_token_is_401_over_http(live):
    r = live(None)("GET", "/api/projects")
    assert r.status_code == 401 and r.json()["error"]["code"] == "missing_token"


def test_delete_project_with_many_sessions(live):
    http = live(_tenant())
    pid = http("POST", "/api/projects", {"name": "big"}).json()["id"]
    for _ in range(30):
        http("POST", f"/api/projects/{pid}/sessions", {})
    r = http("DELETE", f"/api/projects/{pid}")
    assert r.status_code == 200 and r.json()["items_removed"] == 31
    assert http("GET", f"/api/projects/{pid}/sessions").status_code == 404


def test_unsupported_methods_get_json_405_not_a_5xx(live):
    http = live(_tenant())
    for method in ("TRACE", "CONNECT"):
        r = http(method, "/api/projects")
        assert r.status_code == 405 and r.json()["error"]["code"] == "method_not_allowed"


def test_concurrent_file_lists_one_wins_whole(live):
    http = live(_tenant())
    pid = http("POST", "/api/projects", {"name": "files"}).json()["id"]
    http("POST", f"/api/projects/{pid}/sessions", {})
    lists = {i: [{"path": f"list{i}/file{j}.py", "lines_added": j} for j in range(30)] for i in range(6)}
    with ThreadPoolExecutor(max_workers=6) as pool:
        codes = list(pool.map(lambda i: http("PUT", f"/api/projects/{pid}/sessions/1/files", lists[i]).status_code,
                              range(6)))
    assert codes == [200] * 6
    got = http("GET", f"/api/projects/{pid}/sessions/1/files", params={"limit": 100}).json()["items"]
    winners = {f["path"].split("/")[0] for f in got}
    assert len(winners) == 1 and len(got) == 30
    assert http("GET", f"/api/projects/{pid}/sessions/1").json()["files"] == 30
