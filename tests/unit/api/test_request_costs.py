"""Cost per request: every get and list is one DynamoDB request; no Scan on any request path."""

from __future__ import annotations

import re

from bench.request_costs import measure
from tests.conftest import ROOT

EXPECTED = {
    "GET /api/health": [],
    "GET /api/openapi.json": [],
    "POST /api/projects": ["PutItem"],
    "GET /api/projects": ["Query"],
    "GET /api/projects/{p}": ["GetItem"],
    "PATCH /api/projects/{p}": ["UpdateItem"],
    "PUT /api/projects/{p}/pins": ["UpdateItem"],
    "GET /api/projects/{p}/pins": ["GetItem"],
    "POST /api/accounts": ["PutItem"],
    "GET /api/accounts": ["Query"],
    "GET /api/accounts/{a}": ["GetItem"],
    # account exists, reserve the number (atomic ADD), write and count the session
    "POST /api/projects/{p}/sessions": ["GetItem", "UpdateItem", "TransactWriteItems"],
    "GET /api/projects/{p}/sessions": ["Query"],
    "GET /api/projects/{p}/sessions/{n}": ["GetItem"],
    "PATCH /api/projects/{p}/sessions/{n}": ["GetItem", "TransactWriteItems"],
    "GET /api/sessions/in-progress": ["Query"],
    # claim the import, chunk, old pointer, swap (ends the claim), files, file count
    "PUT /api/projects/{p}/sessions/{n}/transcript": ["UpdateItem", "PutItem", "GetItem", "UpdateItem", "Query",
                                                      "UpdateItem"],
    "GET /api/projects/{p}/sessions/{n}/transcript": ["GetItem", "GetItem"],
    "PUT /api/projects/{p}/sessions/{n}/files": ["GetItem", "Query", "BatchWriteItem", "UpdateItem"],
    "GET /api/projects/{p}/sessions/{n}/files": ["Query"],
    "GET /api/projects/{p}/files?path=": ["Query"],
    # the session, the handoff job and the counters in one transaction (read: session, handoff item)
    "POST /api/projects/{p}/sessions/{n}/complete": ["GetItem", "GetItem", "TransactWriteItems"],
    "GET /api/projects/{p}/sessions/{n}/handoff": ["GetItem"],
    "GET /api/projects/{p}/handoff/latest": ["Query"],
    "GET /api/projects/{p}/analytics": ["GetItem", "Query", "Query"],
    # the project (404 for another tenant's), then its sessions: never a transcript
    "GET /api/projects/{p}/timeline": ["GetItem", "Query"],
    "GET /api/projects/{p}/knowledge": ["Query", "GetItem"],
    "GET /api/knowledge?q=": ["Query"],
    # the tenant's projects and accounts, then each project's sessions for its cost (one project here)
    "GET /api/stats": ["Query", "Query"],
    "DELETE /api/projects/{p}": ["UpdateItem", "Query", "BatchWriteItem", "DeleteItem"],
}


def test_requests_per_endpoint(api):
    from chalicelib.storage.models import client

    rows = measure(api, client())
    got = {f"{m} {p}": ops for m, p, ops in rows}
    worker = got.pop("WORKER handoff job (rules, small session)")
    # claim first, finish (one transaction), then the timeline's commit/check summary on the session
    assert worker[0] == "UpdateItem" and worker[-2:] == ["TransactWriteItems", "UpdateItem"], worker
    assert "Scan" not in worker
    assert got == EXPECTED
    assert not any("Scan" in ops for ops in got.values())


def test_cold_token_costs_one_getitem_then_cached(api, tenant_token):
    from bench.request_costs import CallLog
    from chalicelib.domain.tenants import forget_cached_tokens
    from chalicelib.storage.models import client

    log = CallLog()
    log.attach(client())
    forget_cached_tokens()
    api.get("/api/projects")
    assert log.take() == ["GetItem", "Query"]
    api.get("/api/projects")
    assert log.take() == ["Query"]


def test_no_scan_in_application_code():
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "chalicelib").rglob("*.py")
                 if re.search(r"\.scan\(|\bScan\b", p.read_text())]
    assert offenders == []
