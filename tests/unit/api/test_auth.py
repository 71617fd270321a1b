"""Tenants and tokens: 401 without a valid token, 404 (never 403, never data) across tenants."""

from __future__ import annotations

from chalicelib.storage import keys
from chalicelib.storage.models import TokenItem


def test_health_and_openapi_need_no_token(api):
    assert api.get("/api/health", token=None).status_code == 200
    assert api.get("/api/openapi.json", token=None).status_code == 200


def test_missing_and_bad_tokens_are_401(api):
    r = api.get("/api/projects", token=None)
    assert r.status_code == 401 and r.json_body["error"]["code"] == "missing_token"
    r = api.get("/api/projects", token="mso_not_a_real_token")
    assert r.status_code == 401 and r.json_body["error"]["code"] == "invalid_token"
    r = api.get("/api/projects", headers={"Authorization": "Basic abc"}, token=None)
    assert r.status_code == 401


def test_token_stored_only_as_sha256(api, tenant_token):
    item = TokenItem.get(keys.token_pk(keys.token_hash(tenant_token)), keys.TOKEN_SK)
    assert item.tenant == "acme"
    assert tenant_token not in item.PK
    assert tenant_token not in str(item.attribute_values)


def test_other_tenant_gets_404_and_no_data(api, other_api):
    pid = api.post("/api/projects", {"name": "secret plan"}).json_body["id"]
    api.post(f"/api/projects/{pid}/sessions", {"title": "s1"})
    for method, path, body in [
        ("GET", f"/api/projects/{pid}", None),
        ("PATCH", f"/api/projects/{pid}", {"name": "hijack"}),
        ("DELETE", f"/api/projects/{pid}", None),
        ("GET", f"/api/projects/{pid}/sessions", None),
        ("POST", f"/api/projects/{pid}/sessions", {}),
        ("GET", f"/api/projects/{pid}/sessions/1", None),
        ("PATCH", f"/api/projects/{pid}/sessions/1", {"status": "failed"}),
        ("PUT", f"/api/projects/{pid}/pins", ["x"]),
    ]:
        r = other_api.request(method, path, body)
        assert r.status_code == 404, (method, path, r.status_code)
        assert "secret plan" not in r.body.decode()
    assert other_api.get("/api/projects").json_body["items"] == []
    assert other_api.get("/api/stats").json_body["projects"] == 0
    # and the owner's data is untouched
    p = api.get(f"/api/projects/{pid}").json_body
    assert p["name"] == "secret plan" and p["sessions"]["total"] == 1
    assert api.get(f"/api/projects/{pid}/sessions/1").json_body["status"] == "in_progress"


def test_cursor_of_another_tenant_is_refused(api, other_api):
    for i in range(3):
        api.post("/api/projects", {"name": f"p{i}"})
    cursor = api.get("/api/projects?limit=1").json_body["next_cursor"]
    assert cursor
    r = other_api.get(f"/api/projects?limit=1&cursor={cursor}")
    assert r.status_code == 400 and r.json_body["error"]["code"] == "invalid_cursor"
