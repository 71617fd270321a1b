"""token -> tenant: a GetItem on the token's SHA-256 (the token itself is never stored)."""

from __future__ import annotations

from chalicelib.storage import keys
from chalicelib.storage.common import now_iso
from chalicelib.storage.models import TokenItem


def put_token(token_hash: str, tenant: str, label: str | None = None) -> None:
    TokenItem(keys.token_pk(token_hash), keys.TOKEN_SK, tenant=tenant, label=label,
              created_at=now_iso()).save(condition=TokenItem.PK.does_not_exist())


def tenant_for(token_hash: str) -> str | None:
    try:
        return TokenItem.get(keys.token_pk(token_hash), keys.TOKEN_SK).tenant
    except TokenItem.DoesNotExist:
        return None


def delete_token(token_hash: str) -> None:
    TokenItem(keys.token_pk(token_hash), keys.TOKEN_SK).delete()
