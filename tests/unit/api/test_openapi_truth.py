"""openapi.json tells the truth: real response schemas, links for stateful clients, patterns that mean the
same in Python and ECMAScript (issue 12, item 8). The fuzz test checks the server against it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest


@pytest.fixture
def doc(api) -> dict:
    return api.get("/api/openapi.json", token=None).json_body


def _ops(doc):
    for path, item in doc["paths"].items():
        for method, op in item.items():
            yield path, method, op


def test_every_json_success_has_a_real_schema(doc):
    for path, method, op in _ops(doc):
        for status, resp in op["responses"].items():
            if not status.startswith("2") or "$ref" in resp:
                continue
            schema = resp.get("content", {}).get("application/json", {}).get("schema")
            if schema is None:
                continue
            assert schema.get("properties") or schema.get("$ref"), (method, path, status, schema)


def test_errors_are_documented_with_the_error_schema(doc):
    op = doc["paths"]["/api/projects/{project_id}"]["get"]
    for status in ("400", "401", "404", "409", "413", "503"):
        assert op["responses"][status] == {"$ref": "#/components/responses/Error"}


def test_links_let_a_client_go_from_a_project_to_its_sessions(doc):
    ids = {op["operationId"] for _, _, op in _ops(doc)}
    links = doc["paths"]["/api/projects"]["post"]["responses"]["201"]["links"]
    assert links["CreateSession"]["parameters"] == {"project_id": "$response.body#/id"}
    session_links = doc["paths"]["/api/projects/{project_id}/sessions"]["post"]["responses"]["201"]["links"]
    assert session_links["Complete"]["parameters"]["number"] == "$response.body#/number"
    for _, _, op in _ops(doc):
        for resp in op["responses"].values():
            for link in resp.get("links", {}).values():
                assert link["operationId"] in ids


def _patterns(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "pattern" and isinstance(v, str):
                yield v
            else:
                yield from _patterns(v)
    elif isinstance(node, list):
        for v in node:
            yield from _patterns(v)


def test_patterns_mean_the_same_in_python_and_ecmascript(doc):
    node = shutil.which("node")
    assert node, "node is needed (it installs the UI's libraries)"
    patterns = sorted(set(_patterns(doc)))
    assert patterns
    probes = [chr(c) for c in (*range(0, 0x21), 0x7F, 0x85, 0xA0, 0x1680, 0x180E, *range(0x2000, 0x200C),
                               0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF)] + ["a", "é", "A-b_9", "x y", "", "abc\n", "a\nb"]
    script = ("const [pats, probes] = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
              "console.log(JSON.stringify(pats.map(p => probes.map(s => new RegExp(p, 'u').test(s)))));")
    out = subprocess.run([node, "-e", script], input=json.dumps([patterns, probes]), capture_output=True,
                         text=True, check=True).stdout
    js = json.loads(out)
    from chalicelib.api.schemas import py_pattern

    for pattern, js_row in zip(patterns, js, strict=True):  # what the server runs vs what a browser runs
        py_row = [re.search(py_pattern(pattern), s) is not None for s in probes]
        assert py_row == js_row, pattern


@pytest.mark.parametrize("path", ["/api/projects/abc%0A", "/api/projects/abc%0A/sessions"])
def test_an_id_with_a_trailing_newline_is_refused(api, path):
    r = api.get(path)
    assert r.status_code == 400 and r.json_body["error"]["code"] == "invalid_path"


def test_a_body_id_with_a_trailing_newline_is_refused(api):
    pid = api.post("/api/projects", {"name": "p"}).json_body["id"]
    r = api.post(f"/api/projects/{pid}/sessions", {"ai_account": "acc\n"})
    assert r.status_code == 400 and r.json_body["error"]["field"] == "ai_account"
