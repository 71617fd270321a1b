"""Knowledge base: add by hand, offered from session learnings once, searched across projects."""

from __future__ import annotations

from chalicelib.domain.knowledge import offer_learnings


def test_add_list_search_and_use(api):
    p1 = api.post("/api/projects", {"name": "a"}).json_body["id"]
    p2 = api.post("/api/projects", {"name": "b"}).json_body["id"]
    r = api.post(f"/api/projects/{p1}/knowledge", {"title": "Retry DynamoDB transactions",
                                                   "body": "Jittered backoff on TransactionConflict", "kind": "pattern",
                                                   "tags": ["dynamodb"]})
    assert r.status_code == 201
    kid = r.json_body["id"]
    api.post(f"/api/projects/{p2}/knowledge", {"title": "Pin npm deps", "body": "Use a lock file"})
    assert [k["title"] for k in api.get(f"/api/projects/{p1}/knowledge").json_body["items"]] == [
        "Retry DynamoDB transactions"]
    everywhere = api.get("/api/knowledge").json_body["items"]
    assert [k["title"] for k in everywhere] == ["Pin npm deps", "Retry DynamoDB transactions"]  # newest first
    found = api.get("/api/knowledge?q=transactionconflict").json_body["items"]
    assert [k["id"] for k in found] == [kid]
    assert api.post(f"/api/projects/{p1}/knowledge/{kid}/use").json_body["uses"] == 1
    assert api.post(f"/api/projects/{p1}/knowledge/{kid}/use").json_body["uses"] == 2
    assert api.get(f"/api/projects/{p1}").json_body["knowledge_items"] == 1
    assert api.post(f"/api/projects/{p1}/knowledge", {"title": "", "body": "x"}).status_code == 400


def test_learnings_are_offered_once(api):
    pid = api.post("/api/projects", {"name": "a"}).json_body["id"]
    learnings = ["moto needs fake credentials", "  ", "DynamoDB Local wants Java 17"]
    assert offer_learnings("acme", pid, 3, learnings) == 2
    assert offer_learnings("acme", pid, 3, learnings) == 0  # a retried job adds nothing
    items = api.get(f"/api/projects/{pid}/knowledge").json_body["items"]
    assert sorted(k["body"] for k in items) == ["DynamoDB Local wants Java 17", "moto needs fake credentials"]
    assert all(k["source_session"] == 3 for k in items)
    assert api.get(f"/api/projects/{pid}").json_body["knowledge_items"] == 2


def test_other_tenant_cannot_see_knowledge(api, other_api):
    pid = api.post("/api/projects", {"name": "a"}).json_body["id"]
    api.post(f"/api/projects/{pid}/knowledge", {"title": "secret sauce", "body": "x"})
    assert other_api.get("/api/knowledge?q=secret").json_body["items"] == []
    assert other_api.get(f"/api/projects/{pid}/knowledge").status_code == 404
