"""Health, the OpenAPI document, tenant stats."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api import openapi, schemas
from chalicelib.api import responses as R
from chalicelib.api.common import Ctx, endpoint, json_response
from chalicelib.domain import stats

VERSION = "0.1.0"
bp = Blueprint(__name__)


@endpoint(bp, "/api/health", "GET", summary="Liveness (no auth, no database call); ?deep=1 also checks the database",
          tag="meta", auth=False, query={"deep": schemas.q_enum(("0", "1"), "0", "1: also check the database")},
          response=R.HEALTH, responses={503: R.HEALTH})
def health(ctx: Ctx) -> Any:
    if ctx.args["deep"] == "0":
        return {"status": "ok", "version": VERSION}
    from chalicelib.storage.health import RETRY_AFTER_S, ping

    if ping():
        return {"status": "ok", "version": VERSION, "database": "ok"}
    return json_response({"status": "unavailable", "version": VERSION, "database": "unavailable"}, 503,
                         {"Retry-After": str(RETRY_AFTER_S)})


@endpoint(bp, "/api/openapi.json", "GET", summary="This API as an OpenAPI 3 document", tag="meta", auth=False,
          response=R.OPENAPI)
def openapi_doc(ctx: Ctx) -> dict[str, Any]:
    return openapi.build(VERSION)


@endpoint(bp, "/api/stats", "GET", summary="Tenant totals (from project counters) and cost (priced from the sessions)", tag="meta",
          response=R.STATS)
def tenant_stats(ctx: Ctx) -> dict[str, Any]:
    return stats.tenant_stats(ctx.tenant)


@endpoint(bp, "/api/projects/{project_id}/analytics", "GET", summary="Per-session series: predicted vs measured",
          tag="meta",
          response=R.ANALYTICS)
def project_analytics(ctx: Ctx, project_id: str) -> dict[str, Any]:
    from chalicelib.domain.analytics import project_analytics as analytics

    return analytics(ctx.tenant, project_id)


@endpoint(bp, "/api/llm/status", "GET", summary="Whether an LLM is configured (model, endpoint host; never the key) "
          "and its last success and failure", tag="meta",
          response=R.LLM_STATUS)
def llm_status(ctx: Ctx) -> dict[str, Any]:
    from chalicelib.domain.llm_status import status

    return status(ctx.tenant)
