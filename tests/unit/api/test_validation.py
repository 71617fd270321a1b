"""Bad input gets a 4xx JSON error naming the field, never a 5xx."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("body,field", [
    ({}, None),
    ({"name": 5}, "name"),
    ({"name": "x" * 201}, "name"),
    ({"name": "ok", "goal": ["list"]}, "goal"),
    ({"name": "ok", "colour": "red"}, None),
    ({"name": "ok", "pins": "not a list"}, "pins"),
])
def test_project_body_errors_name_the_field(api, body, field):
    r = api.post("/api/projects", body)
    assert r.status_code == 400, r.body
    err = r.json_body["error"]
    assert err["code"] == "validation_error"
    assert err["message"]
    if field:
        assert err["field"] == field
        assert field in err["message"]


def test_unknown_field_is_named_in_message(api):
    r = api.post("/api/projects", {"name": "ok", "colour": "red"})
    assert "colour" in r.json_body["error"]["message"]


@pytest.mark.parametrize("raw", [b"{", b"not json", b'{"name": "x",}', b"\xff\xfe\x00"])
def test_malformed_json_is_400(api, raw):
    r = api.post("/api/projects", raw=raw)
    assert r.status_code == 400
    assert r.json_body["error"]["code"] == "invalid_json"


def test_empty_body_is_400_where_a_body_is_required(api):
    r = api.post("/api/projects", raw=b"")
    assert r.status_code == 400 and r.json_body["error"]["code"] == "invalid_json"


def test_json_array_where_object_expected(api):
    r = api.post("/api/projects", [1, 2])
    assert r.status_code == 400


@pytest.mark.parametrize("body,field", [
    ({"credit_budget": -1}, "credit_budget"),
    ({"credits_used": "ten"}, "credits_used"),
    ({"tasks_planned": 1.5}, "tasks_planned"),
    ({"tasks_completed": -3}, "tasks_completed"),
    ({"title": "t" * 301}, "title"),
    ({"ai_account": "bad id!"}, "ai_account"),
])
def test_session_body_errors(api, body, field):
    pid = api.post("/api/projects", {"name": "p"}).json_body["id"]
    r = api.post(f"/api/projects/{pid}/sessions", body)
    assert r.status_code == 400, r.body
    assert r.json_body["error"]["field"] == field
    # nothing was created by the refused request
    assert api.get(f"/api/projects/{pid}").json_body["sessions"]["total"] == 0


def test_status_enum_and_record_list_types(api):
    pid = api.post("/api/projects", {"name": "p"}).json_body["id"]
    api.post(f"/api/projects/{pid}/sessions", {})
    r = api.patch(f"/api/projects/{pid}/sessions/1", {"status": "done"})
    assert r.status_code == 400 and r.json_body["error"]["field"] == "status"
    r = api.patch(f"/api/projects/{pid}/sessions/1", {"accomplishments": "one string"})
    assert r.status_code == 400 and r.json_body["error"]["field"] == "accomplishments"
    r = api.patch(f"/api/projects/{pid}/sessions/1", {"next_steps": ["ok", 3]})
    assert r.status_code == 400 and r.json_body["error"]["field"].startswith("next_steps")


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=abc", "cursor=%%%", "cursor=eyJ4IjoxfQ"])
def test_bad_paging_arguments(api, query):
    r = api.get(f"/api/projects?{query}")
    assert r.status_code == 400
    assert r.json_body["error"]["field"] in ("limit", "cursor")


@pytest.mark.parametrize("path", ["/api/projects/bad$id", "/api/projects/abc/sessions/0",
                                  "/api/projects/abc/sessions/x1", "/api/projects/abc/sessions/-2"])
def test_bad_path_parameters(api, path):
    r = api.get(path)
    assert r.status_code == 400
    assert r.json_body["error"]["code"] == "invalid_path"


def test_unknown_route_is_404_json(api):
    r = api.get("/api/definitely/not/here")
    assert r.status_code == 404
    assert r.json_body["error"]["code"] == "not_found"
    assert api.token not in r.body.decode()  # API Gateway's default echoes the header; ours does not


def test_lone_surrogate_escape_is_400_not_500(api):
    r = api.post("/api/projects", raw=b'{"name": "bad \\udae7 text"}')
    assert r.status_code == 400 and r.json_body["error"]["code"] == "invalid_json"
    ok = api.post("/api/projects", raw=b'{"name": "emoji \\ud83d\\ude00 pair"}')
    assert ok.status_code == 201 and ok.json_body["name"] == "emoji \U0001f600 pair"


def test_tiny_and_fractional_amounts_are_stored_rounded(api):
    r = api.post("/api/accounts", {"name": "a", "provider": "p", "credit_budget": 1.4e-172})
    assert r.status_code == 201 and r.json_body["credit_budget"] == 0
    r = api.post("/api/accounts", {"name": "b", "provider": "p", "credit_budget": 12.3456789})
    assert r.json_body["credit_budget"] == 12.345679


def test_chalice_own_405_and_415_have_the_documented_error_shape(api):
    r = api.request("DELETE", "/api/health")
    assert r.status_code == 405 and r.json_body["error"]["code"] == "method_not_allowed"
    assert "DELETE" in r.json_body["error"]["message"] and r.headers.get("Allow")
    r = api.request("POST", "/api/projects", raw=b"x", headers={"Content-Type": "image/png"})
    assert r.status_code == 415 and r.json_body["error"]["code"] == "unsupported_media_type"
    assert "application/json" in r.json_body["error"]["message"]
