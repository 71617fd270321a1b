"""AI accounts: provider accounts with a credit budget; sessions reference them by id."""

from __future__ import annotations

from chalicelib.errors import NotFound
from chalicelib.storage import keys
from chalicelib.storage.common import decode_cursor, new_id, now_iso, page
from chalicelib.storage.models import AccountItem


def create_account(tenant: str, *, name: str, provider: str, credit_budget: float) -> AccountItem:
    aid = new_id()
    item = AccountItem(keys.tenant_pk(tenant), keys.account_sk(aid), id=aid, name=name, provider=provider,
                       credit_budget=credit_budget, created_at=now_iso())
    item.save(condition=AccountItem.SK.does_not_exist())
    return item


def get_account(tenant: str, account_id: str) -> AccountItem:
    try:
        return AccountItem.get(keys.tenant_pk(tenant), keys.account_sk(account_id))
    except AccountItem.DoesNotExist:
        raise NotFound(f"AI account {account_id!r} not found", code="account_not_found") from None


def list_accounts(tenant: str, *, limit: int, cursor: str | None) -> tuple[list[AccountItem], str | None]:
    pk = keys.tenant_pk(tenant)
    start = decode_cursor(cursor, expect={"PK": pk}, prefix={"SK": keys.ACCOUNT_PREFIX})
    return page(AccountItem.query(pk, AccountItem.SK.startswith(keys.ACCOUNT_PREFIX), limit=limit,
                                  page_size=limit, last_evaluated_key=start))
