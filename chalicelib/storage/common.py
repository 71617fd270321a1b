"""Helpers shared by the access-pattern modules: clock, ids, cursors, transactions."""

from __future__ import annotations

import base64
import json
import random
import secrets
import string
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.errors import BadRequest
from chalicelib.storage.models import BaseItem

T = TypeVar("T")
_ALPHABET = string.digits + string.ascii_lowercase


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def new_id() -> str:
    """Short, time-ordered id (base36 milliseconds + random), so lists come out in creation order."""
    ms = int(time.time() * 1000)
    head = ""
    while ms:
        ms, r = divmod(ms, 36)
        head = _ALPHABET[r] + head
    return head + "".join(secrets.choice(_ALPHABET) for _ in range(6))


def connection() -> Connection:
    return BaseItem._get_connection().connection


def pack_cursor(plain: dict[str, Any]) -> str:
    """The one cursor codec: a JSON object, base64url without padding (opaque to clients)."""
    raw = json.dumps(plain, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def unpack_cursor(cursor: str) -> dict[str, Any]:
    """The JSON object of a `pack_cursor` cursor; anything else is a 400 invalid_cursor."""
    try:
        plain = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(plain, dict):
            raise ValueError
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("cursor is not valid: pass back next_cursor from the previous page unchanged",
                         code="invalid_cursor", field="cursor") from None
    return plain


def encode_cursor(last_key: dict[str, Any] | None) -> str | None:
    """A DynamoDB LastEvaluatedKey as a cursor (None at the end of the list)."""
    if not last_key:
        return None
    return pack_cursor({k: v.get("S") if isinstance(v, dict) else v for k, v in last_key.items()})


def decode_cursor(cursor: str | None, *, expect: dict[str, str]) -> dict[str, Any] | None:
    """Decode a cursor and check it points into the partition being listed (never another tenant's)."""
    if not cursor:
        return None
    plain = unpack_cursor(cursor)
    if not all(isinstance(v, str) for v in plain.values()):
        raise BadRequest("cursor is not valid: pass back next_cursor from the previous page unchanged",
                         code="invalid_cursor", field="cursor")
    for k, v in expect.items():
        if plain.get(k) != v:
            raise BadRequest("cursor does not belong to this list", code="invalid_cursor", field="cursor")
    return {k: {"S": v} for k, v in plain.items()}


def page(results: Iterator[T]) -> tuple[list[T], str | None]:
    items = list(results)
    return items, encode_cursor(getattr(results, "last_evaluated_key", None))


def cancellation_codes(err: TransactWriteError) -> list[str | None]:
    reasons = getattr(err, "cancellation_reasons", None) or []
    return [getattr(r, "code", None) if r is not None else None for r in reasons]


def run_transaction(build: Callable[[TransactWrite], Any], *, on_cancel: Callable[[list[str | None]], None],
                    attempts: int = 40) -> None:
    """Run a write transaction, retrying contention with jittered backoff.

    `build` adds the operations (it is called again on each attempt, so it should re-read state);
    `on_cancel` gets the per-item cancellation codes and raises when retrying cannot help.
    """
    delay = 0.01
    for attempt in range(attempts):
        try:
            with TransactWrite(connection=connection()) as tx:
                build(tx)
            return
        except TransactWriteError as err:
            codes = cancellation_codes(err)
            if not codes and "TransactionConflict" not in str(err) and "ThrottlingException" not in str(err):
                raise
            on_cancel(codes)  # raises if the failure is final
            if attempt == attempts - 1:
                raise
            time.sleep(delay * (1 + random.random()))
            delay = min(delay * 1.7, 0.5)
