"""AI accounts: a provider account and its credit budget; spend is summed from sessions."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.common import json_number
from chalicelib.storage import accounts as store
from chalicelib.storage.models import AccountItem
from chalicelib.transcripts.redact import redact_fields


def account_json(a: AccountItem) -> dict[str, Any]:
    budget, used = json_number(a.credit_budget), json_number(a.credits_used)
    return {
        "id": a.id, "name": a.name, "provider": a.provider, "credit_budget": budget, "credits_used": used,
        "credits_left": json_number(float(budget) - float(used)), "sessions": json_number(a.sessions),
        "created_at": a.created_at,
    }


def create(tenant: str, body: dict[str, Any]) -> dict[str, Any]:
    body = redact_fields(body, ("name", "provider"))  # user-typed: redacted on write
    return account_json(store.create_account(tenant, name=body["name"].strip(), provider=body["provider"].strip(),
                                             credit_budget=body.get("credit_budget", 0)))


def get(tenant: str, account_id: str) -> dict[str, Any]:
    return account_json(store.get_account(tenant, account_id))


def list_page(tenant: str, *, limit: int, cursor: str | None) -> dict[str, Any]:
    items, nxt = store.list_accounts(tenant, limit=limit, cursor=cursor)
    return {"items": [account_json(a) for a in items], "next_cursor": nxt}
