"""Tenants and their bearer tokens. Tokens are random, shown once, and stored only as SHA-256."""

from __future__ import annotations

import re
import secrets
import threading
import time

from chalicelib.config import settings
from chalicelib.errors import BadRequest, Unauthorized
from chalicelib.storage import tokens
from chalicelib.storage.keys import token_hash
from chalicelib.transcripts.redact import redact_fields

TENANT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
TOKEN_PREFIX = "mso_"

_cache: dict[str, tuple[str, float]] = {}
_lock = threading.Lock()


def issue_token(tenant: str, label: str | None = None) -> str:
    """Create a new token for `tenant` and return it (the only time it exists in clear)."""
    if not TENANT_RE.match(tenant):
        raise BadRequest("tenant must be 1-64 letters, digits, '.', '_' or '-'", field="tenant")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    tokens.put_token(token_hash(token), tenant, redact_fields({"label": label}, ("label",))["label"])
    return token


def register_token(token: str, tenant: str, label: str | None = None) -> None:
    """Store a token chosen by the caller (the dev token kept across `make dev` restarts)."""
    if tokens.tenant_for(token_hash(token)) is None:
        tokens.put_token(token_hash(token), tenant, redact_fields({"label": label}, ("label",))["label"])


def tenant_for_token(token: str) -> str:
    """Resolve a bearer token; warm containers remember answers for MSO_AUTH_CACHE_S seconds."""
    if not token or len(token) > 512:
        raise Unauthorized("a valid bearer token is required: send 'Authorization: Bearer <token>'")
    h = token_hash(token)
    ttl = settings().auth_cache_s
    now = time.monotonic()
    with _lock:
        hit = _cache.get(h)
    if hit and hit[1] > now:
        return hit[0]
    tenant = tokens.tenant_for(h)
    if tenant is None:
        raise Unauthorized("the bearer token is not valid (revoked, mistyped, or for another deployment)",
                           code="invalid_token")
    if ttl > 0:
        with _lock:
            if len(_cache) > 10_000:
                _cache.clear()
            _cache[h] = (tenant, now + ttl)
    return tenant


def forget_cached_tokens() -> None:
    with _lock:
        _cache.clear()
