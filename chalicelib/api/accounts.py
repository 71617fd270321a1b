"""AI account routes."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api import responses as R
from chalicelib.api import schemas
from chalicelib.api.common import Ctx, endpoint
from chalicelib.domain import accounts

bp = Blueprint(__name__)


@endpoint(bp, "/api/accounts", "POST", summary="Create an AI account", tag="accounts", status=201,
          body=schemas.ACCOUNT_CREATE,
          response=R.ACCOUNT, links={"GetAccount": ("GET", "/api/accounts/{account_id}", {"account_id": "$response.body#/id"})})
def create_account(ctx: Ctx) -> dict[str, Any]:
    return accounts.create(ctx.tenant, ctx.json(schemas.ACCOUNT_CREATE))


@endpoint(bp, "/api/accounts", "GET", summary="List AI accounts with spend", tag="accounts", query=schemas.PAGE,
          response=R.page(R.ACCOUNT))
def list_accounts(ctx: Ctx) -> dict[str, Any]:
    limit, cursor = ctx.page_args()
    return accounts.list_page(ctx.tenant, limit=limit, cursor=cursor)


@endpoint(bp, "/api/accounts/{account_id}", "GET", summary="Get an AI account", tag="accounts",
          response=R.ACCOUNT)
def get_account(ctx: Ctx, account_id: str) -> dict[str, Any]:
    return accounts.get(ctx.tenant, account_id)
