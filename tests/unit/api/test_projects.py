"""Projects API on moto: CRUD, pagination, delete leaves nothing behind."""

from __future__ import annotations

from chalicelib.storage import keys
from chalicelib.storage.models import BaseItem


def _create(api, name="Apollo", **extra):
    r = api.post("/api/projects", {"name": name, **extra})
    assert r.status_code == 201, r.body
    return r.json_body


def test_create_and_get_project(api):
    p = _create(api, "Apollo", goal="Land on the moon", description="d")
    assert p["name"] == "Apollo" and p["goal"] == "Land on the moon"
    assert p["sessions"] == {"total": 0, "in_progress": 0, "completed": 0, "failed": 0}
    got = api.get(f"/api/projects/{p['id']}")
    assert got.status_code == 200
    assert got.json_body["id"] == p["id"] and got.json_body["description"] == "d"


def test_name_is_trimmed_and_blank_name_refused(api):
    assert _create(api, "  spaced  ")["name"] == "spaced"
    r = api.post("/api/projects", {"name": "   "})
    assert r.status_code == 400
    assert r.json_body["error"]["field"] == "name"


def test_list_pages_with_opaque_cursor_in_creation_order(api):
    ids = [_create(api, f"p{i}")["id"] for i in range(5)]
    seen, cursor, pages = [], None, 0
    while True:
        r = api.get("/api/projects?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        assert r.status_code == 200
        body = r.json_body
        assert len(body["items"]) <= 2
        seen += [p["id"] for p in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == ids
    assert pages >= 3


def test_patch_changes_only_given_fields(api):
    p = _create(api, "A", goal="g1", description="keep me")
    r = api.patch(f"/api/projects/{p['id']}", {"goal": "g2"})
    assert r.status_code == 200
    assert r.json_body["goal"] == "g2" and r.json_body["description"] == "keep me" and r.json_body["name"] == "A"
    r = api.patch(f"/api/projects/{p['id']}", {"description": None})
    assert r.json_body["description"] is None


def test_pins_replace_and_read(api):
    p = _create(api)
    r = api.put(f"/api/projects/{p['id']}/pins", ["Never push to main", "Staging: https://staging.example"])
    assert r.status_code == 200
    assert api.get(f"/api/projects/{p['id']}/pins").json_body["items"] == [
        "Never push to main", "Staging: https://staging.example"]
    r = api.put(f"/api/projects/{p['id']}/pins", {"items": []})
    assert api.get(f"/api/projects/{p['id']}").json_body["pins"] == []


def test_delete_removes_every_item_of_the_project(api):
    p = _create(api)
    pid = p["id"]
    for _ in range(3):
        assert api.post(f"/api/projects/{pid}/sessions", {}).status_code == 201
    tenant = "acme"
    assert BaseItem.count(keys.project_pk(tenant, pid)) == 3
    r = api.delete(f"/api/projects/{pid}")
    assert r.status_code == 200
    assert r.json_body["items_removed"] == 4
    assert BaseItem.count(keys.project_pk(tenant, pid)) == 0
    assert BaseItem.count(keys.tenant_pk(tenant), BaseItem.SK.startswith(keys.PROJECT_PREFIX)) == 0
    assert api.get(f"/api/projects/{pid}").status_code == 404
    assert api.delete(f"/api/projects/{pid}").status_code == 404
    assert api.post(f"/api/projects/{pid}/sessions", {}).status_code == 404


def test_missing_project_is_404_with_code(api):
    r = api.get("/api/projects/doesnotexist")
    assert r.status_code == 404
    assert r.json_body["error"]["code"] == "project_not_found"
    assert api.get("/api/projects/doesnotexist/sessions").status_code == 404
