"""Query parameters are declared as small schemas: endpoint() validates them and openapi.json publishes them."""

from __future__ import annotations

import pytest


def _params(doc: dict, path: str, method: str = "get") -> dict[str, dict]:
    return {p["name"]: p for p in doc["paths"][path][method].get("parameters", []) if p["in"] == "query"}


def test_openapi_publishes_query_schemas_as_enforced(api):
    doc = api.get("/api/openapi.json", token=None).json_body
    limit = _params(doc, "/api/projects")["limit"]["schema"]
    assert limit["type"] == "integer" and limit["minimum"] == 1 and limit["maximum"] == 100
    assert limit["default"] == 25
    assert _params(doc, "/api/projects")["cursor"]["schema"]["maxLength"] == 2048
    order = _params(doc, "/api/projects/{project_id}/sessions")["order"]["schema"]
    assert order["enum"] == ["asc", "desc"]
    fmt = _params(doc, "/api/projects/{project_id}/sessions/{number}/transcript", "put")["format"]["schema"]
    assert "claude-code" in fmt["enum"] and "auto" in fmt["enum"]
    hfmt = _params(doc, "/api/projects/{project_id}/sessions/{number}/handoff")["format"]["schema"]
    assert hfmt["enum"] == ["json", "md"]
    path = _params(doc, "/api/projects/{project_id}/files")["path"]
    assert path["required"] is True and path["schema"]["maxLength"] == 1024
    assert _params(doc, "/api/knowledge")["q"]["schema"]["maxLength"] == 200
    for path_item in doc["paths"].values():
        for op in path_item.values():
            for p in op.get("parameters", []):
                assert p["schema"] != {"type": "string"} or p["in"] == "query" and "maxLength" in p["schema"], p


def test_path_parameters_publish_their_patterns(api):
    doc = api.get("/api/openapi.json", token=None).json_body
    params = {p["name"]: p["schema"] for p in
              doc["paths"]["/api/projects/{project_id}/sessions/{number}"]["get"]["parameters"]}
    assert params["project_id"]["pattern"] == "^[A-Za-z0-9_-]{1,64}$"
    assert params["number"] == {"type": "integer", "minimum": 1, "maximum": 999_999}


@pytest.mark.parametrize("path,field", [
    ("/api/projects/{pid}/sessions?order=sideways", "order"),
    ("/api/projects/{pid}/sessions?limit=1000", "limit"),
    ("/api/projects/{pid}/sessions/1/handoff?format=pdf", "format"),
    ("/api/projects/{pid}/handoff/latest?format=", "format"),
    ("/api/projects/{pid}/files", "path"),
    ("/api/projects/{pid}/files?path=", "path"),
    ("/api/knowledge?q=" + "x" * 201, "q"),
    ("/api/projects?cursor=" + "c" * 2049, "cursor"),
])
def test_declared_query_parameters_are_enforced(api, path, field):
    pid = api.post("/api/projects", {"name": "p"}).json_body["id"]
    api.post(f"/api/projects/{pid}/sessions", {})
    r = api.get(path.format(pid=pid))
    assert r.status_code == 400, r.body
    assert r.json_body["error"]["field"] == field


def test_defaults_apply_and_valid_values_pass(api):
    pid = api.post("/api/projects", {"name": "p"}).json_body["id"]
    for _ in range(3):
        api.post(f"/api/projects/{pid}/sessions", {})
    r = api.get(f"/api/projects/{pid}/sessions?order=desc&limit=2")
    assert r.status_code == 200 and [s["number"] for s in r.json_body["items"]] == [3, 2]
    assert len(api.get(f"/api/projects/{pid}/sessions").json_body["items"]) == 3


def test_numstat_parsing_lives_in_the_domain(aws):
    from chalicelib.domain import transcripts
    from chalicelib.errors import BadRequest

    with pytest.raises(BadRequest) as e:
        transcripts.parse_numstat_body(b"\xff\xfe")
    assert e.value.code == "invalid_numstat"
    assert transcripts.parse_numstat_body(b"3\t1\tsrc/a.py\n")[0]["path"] == "src/a.py"
