"""Response headers: nosniff on every API answer, WWW-Authenticate on 401 (issue 12, item 9)."""

from __future__ import annotations

import pytest


def test_json_answers_and_errors_say_nosniff(api):
    assert api.get("/api/health", token=None).headers["X-Content-Type-Options"] == "nosniff"
    assert api.get("/api/projects").headers["X-Content-Type-Options"] == "nosniff"
    r = api.get("/api/projects/nope")
    assert r.status_code == 404 and r.headers["X-Content-Type-Options"] == "nosniff"
    r = api.post("/api/projects", raw=b"{")
    assert r.status_code == 400 and r.headers["X-Content-Type-Options"] == "nosniff"


def test_markdown_handoff_says_nosniff(api):
    pid = api.post("/api/projects", {"name": "p"}).json_body["id"]
    api.post(f"/api/projects/{pid}/sessions", {})
    api.post(f"/api/projects/{pid}/sessions/1/complete", {"accomplishments": ["did it"], "handoff_mode": "rules"})
    r = api.get(f"/api/projects/{pid}/sessions/1/handoff?format=md")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/markdown")
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_401_names_the_bearer_scheme(api):
    for token in (None, "mso_not_a_real_token"):
        r = api.get("/api/projects", token=token)
        assert r.status_code == 401
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert "WWW-Authenticate" not in api.get("/api/projects").headers


@pytest.mark.parametrize("method,path,ctype,status", [
    ("PATCH", "/api/projects", "application/json", 405),  # Chalice's own answer: no such method on the route
    ("POST", "/api/projects", "application/xml", 415),  # Chalice's own answer: a body type not declared
    ("GET", "/api/no/such/route", "application/json", 404),  # the gateway's answer
    ("POST", "/api/projects", "application/json", 400),  # the route's answer
    ("GET", "/api/projects/nope", "application/json", 404),
])
def test_every_error_answer_carries_the_security_headers(api, method, path, ctype, status):
    r = api.request(method, path, raw=b"{}", headers={"Content-Type": ctype})
    assert r.status_code == status, r.body
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["Content-Type"] == "application/json"
    assert r.json_body["error"]["code"]
