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
    # a one-line learning is all title: it is not repeated as the body
    assert sorted(k["title"] for k in items) == ["DynamoDB Local wants Java 17", "moto needs fake credentials"]
    assert all(k["body"] == "" for k in items)
    assert all(k["source_session"] == 3 for k in items)
    assert api.get(f"/api/projects/{pid}").json_body["knowledge_items"] == 2


def test_other_tenant_cannot_see_knowledge(api, other_api):
    pid = api.post("/api/projects", {"name": "a"}).json_body["id"]
    api.post(f"/api/projects/{pid}/knowledge", {"title": "secret sauce", "body": "x"})
    assert other_api.get("/api/knowledge?q=secret").json_body["items"] == []
    assert other_api.get(f"/api/projects/{pid}/knowledge").status_code == 404


def test_a_long_learning_is_a_short_title_and_the_rest_as_body(api):
    pid = api.post("/api/projects", {"name": "a"}).json_body["id"]
    text = ("Stripe retries webhooks for three days. Keep idempotency keys at least that long, "
            "then expire them with a TTL (a shorter window loses a retried event).")
    offer_learnings("acme", pid, 2, [text])
    [k] = api.get(f"/api/projects/{pid}/knowledge").json_body["items"]
    assert k["title"] == "Stripe retries webhooks for three days."
    assert k["body"] == "Keep idempotency keys at least that long, then expire them with a TTL (a shorter window loses a retried event)."
    offer_learnings("acme", pid, 2, ["Stripe retries for 3 days: keys must live that long"])
    short = [x for x in api.get(f"/api/projects/{pid}/knowledge").json_body["items"] if x["id"] != k["id"]][0]
    assert short["title"] == "Stripe retries for 3 days: keys must live that long" and short["body"] == ""


def _add(api, pid, title, body, kind="lesson", tags=()):
    r = api.post(f"/api/projects/{pid}/knowledge", {"title": title, "body": body, "kind": kind, "tags": list(tags)})
    assert r.status_code == 201, r.body
    return r.json_body


def test_lists_are_newest_first_and_filter_by_project_and_kind(api):
    p1 = api.post("/api/projects", {"name": "one"}).json_body["id"]
    p2 = api.post("/api/projects", {"name": "two"}).json_body["id"]
    a = _add(api, p1, "First", "a", kind="pattern")
    offer_learnings("acme", p1, 1, ["A learned thing that comes second"])
    c = _add(api, p2, "Third", "c", kind="solution")
    d = _add(api, p1, "Fourth", "d", kind="pattern")
    titles = [k["title"] for k in api.get(f"/api/projects/{p1}/knowledge").json_body["items"]]
    assert titles == ["Fourth", "A learned thing that comes second", "First"]
    every = [k["id"] for k in api.get("/api/knowledge").json_body["items"]]
    assert every[0] == d["id"] and every[1] == c["id"] and every[-1] == a["id"]
    page = api.get(f"/api/knowledge?project={p1}&kind=pattern&limit=1").json_body
    assert [k["id"] for k in page["items"]] == [d["id"]] and page["next_cursor"]
    nxt = api.get(f"/api/knowledge?project={p1}&kind=pattern&limit=1&cursor={page['next_cursor']}").json_body
    assert [k["id"] for k in nxt["items"]] == [a["id"]]
    assert api.get("/api/knowledge?kind=recipe").status_code == 400


def test_search_ranks_by_relevance_and_pages_are_full(api):
    pid = api.post("/api/projects", {"name": "kb"}).json_body["id"]
    body_only = _add(api, pid, "Deploy notes", "we talked about webhooks once")
    in_title = _add(api, pid, "Webhooks: retry with idempotency keys", "store the event id first")
    tagged = _add(api, pid, "Queue consumer", "ack after work", tags=["webhooks"])
    for i in range(8):
        _add(api, pid, f"Unrelated {i}", "nothing to see")
    got = api.get("/api/knowledge?q=webhooks&limit=2").json_body
    assert [k["id"] for k in got["items"]] == [in_title["id"], tagged["id"]]
    rest = api.get(f"/api/knowledge?q=webhooks&limit=2&cursor={got['next_cursor']}").json_body
    assert [k["id"] for k in rest["items"]] == [body_only["id"]] and rest["next_cursor"] is None
    both = api.get("/api/knowledge?q=webhooks+idempotency").json_body["items"]
    assert [k["id"] for k in both] == [in_title["id"]]  # every word must match
    bad = api.get(f"/api/knowledge?q=other&cursor={got['next_cursor']}")
    assert bad.status_code == 400 and bad.json_body["error"]["code"] == "invalid_cursor"


def test_edit_and_delete(api, other_api):
    pid = api.post("/api/projects", {"name": "kb"}).json_body["id"]
    k = _add(api, pid, "Old title", "old body", tags=["x"])
    r = api.patch(f"/api/projects/{pid}/knowledge/{k['id']}", {"title": "New title", "tags": ["y"], "kind": "pattern"})
    assert r.status_code == 200 and (r.json_body["title"], r.json_body["tags"], r.json_body["kind"]) == (
        "New title", ["y"], "pattern")
    assert r.json_body["body"] == "old body" and r.json_body["updated_at"]
    assert [x["id"] for x in api.get("/api/knowledge?q=new").json_body["items"]] == [k["id"]]
    assert api.patch(f"/api/projects/{pid}/knowledge/{k['id']}", {}).status_code == 400
    assert other_api.delete(f"/api/projects/{pid}/knowledge/{k['id']}").status_code == 404
    assert api.delete(f"/api/projects/{pid}/knowledge/{k['id']}").status_code == 200
    assert api.delete(f"/api/projects/{pid}/knowledge/{k['id']}").status_code == 404
    assert api.patch(f"/api/projects/{pid}/knowledge/{k['id']}", {"title": "x"}).status_code == 404
    assert api.get(f"/api/projects/{pid}").json_body["knowledge_items"] == 0
