"""Health, the OpenAPI document, tenant stats."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api import openapi
from chalicelib.api.common import Ctx, endpoint
from chalicelib.domain import stats

VERSION = "0.1.0"
bp = Blueprint(__name__)


@endpoint(bp, "/api/health", "GET", summary="Liveness (no auth, no database call)", tag="meta", auth=False)
def health(ctx: Ctx) -> dict[str, Any]:
    return {"status": "ok", "version": VERSION}


@endpoint(bp, "/api/openapi.json", "GET", summary="This API as an OpenAPI 3 document", tag="meta", auth=False)
def openapi_doc(ctx: Ctx) -> dict[str, Any]:
    return openapi.build(VERSION)


@endpoint(bp, "/api/stats", "GET", summary="Tenant totals (from project counters)", tag="meta")
def tenant_stats(ctx: Ctx) -> dict[str, Any]:
    return stats.tenant_stats(ctx.tenant)


@endpoint(bp, "/api/projects/{project_id}/analytics", "GET", summary="Per-session series: predicted vs measured",
          tag="meta")
def project_analytics(ctx: Ctx, project_id: str) -> dict[str, Any]:
    from chalicelib.domain.analytics import project_analytics as analytics

    return analytics(ctx.tenant, project_id)
