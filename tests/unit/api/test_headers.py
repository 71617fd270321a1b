"""Response headers: nosniff on every API answer, WWW-Authenticate on 401 (issue 12, item 9)."""

from __future__ import annotations


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
