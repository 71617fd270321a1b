"""openapi.json describes exactly the routes the app serves."""

from __future__ import annotations


def test_openapi_matches_routes(api, app):
    doc = api.get("/api/openapi.json", token=None).json_body
    assert doc["openapi"].startswith("3.")
    documented = {(path, m.upper()) for path, ops in doc["paths"].items() for m in ops}
    served = {(path, m) for path, methods in app.routes.items() for m in methods
              if path.startswith("/api/") or path == "/mcp"}
    assert documented == served
    for path, ops in doc["paths"].items():
        for op in ops.values():
            names = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert names == {seg[1:-1] for seg in path.split("/") if seg.startswith("{")}
    create = doc["paths"]["/api/projects"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"]["required"] == ["name"]
    assert doc["paths"]["/api/health"]["get"]["security"] == []
