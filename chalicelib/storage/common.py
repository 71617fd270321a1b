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
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: "[[[[..." fits in 2 KB
        raise bad_cursor() from None
    return plain


def bad_cursor(message: str = "cursor is not valid: pass back next_cursor from the previous page unchanged",
               ) -> BadRequest:
    """The one error of a cursor the server did not make (tampered, truncated, another list's)."""
    return BadRequest(message, code="invalid_cursor", field="cursor")


def encode_cursor(last_key: dict[str, Any] | None) -> str | None:
    """A DynamoDB LastEvaluatedKey as a cursor (None at the end of the list)."""
    if not last_key:
        return None
    return pack_cursor({k: v.get("S") if isinstance(v, dict) else v for k, v in last_key.items()})


# The attributes of a start key: the table's key, plus the index's on GSI1. DynamoDB refuses any
# other set, an empty value or an oversized one with a ValidationException (a 500 if let through).
_TABLE_KEY = frozenset({"PK", "SK"})
_GSI1_KEY = _TABLE_KEY | {"GSI1PK", "GSI1SK"}
_MAX_KEY_BYTES = {"PK": 2048, "GSI1PK": 2048, "SK": 1024, "GSI1SK": 1024}


def _storable_key(name: str, value: Any) -> bool:
    """A key value DynamoDB takes: a non-empty string of UTF-8 (no lone surrogate) within its size."""
    if not isinstance(value, str):
        return False
    try:
        return 0 < len(value.encode("utf-8")) <= _MAX_KEY_BYTES[name]
    except UnicodeEncodeError:
        return False


def decode_cursor(cursor: str | None, *, expect: dict[str, str],
                  prefix: dict[str, str] | None = None) -> dict[str, Any] | None:
    """Decode a cursor and check it is a start key DynamoDB accepts for this very list.

    `expect` are the exact values (the partition being listed: never another tenant's), `prefix` the
    prefixes the other key attributes must have (the sort-key range queried: DynamoDB refuses a start
    key outside it). A cursor on GSI1 is recognised by a GSI1PK in `expect`.
    """
    if not cursor:
        return None
    plain = unpack_cursor(cursor)
    want = _GSI1_KEY if "GSI1PK" in expect else _TABLE_KEY
    if set(plain) != want or not all(_storable_key(k, v) for k, v in plain.items()):
        raise bad_cursor()
    for k, v in expect.items():
        if plain[k] != v:
            raise bad_cursor("cursor does not belong to this list")
    for k, v in (prefix or {}).items():
        if not plain[k].startswith(v):
            raise bad_cursor("cursor does not belong to this list")
    return {k: {"S": v} for k, v in plain.items()}


def page(results: Iterator[T]) -> tuple[list[T], str | None]:
    items = list(results)
    return items, encode_cursor(getattr(results, "last_evaluated_key", None))


def error_code(err: Exception) -> str | None:
    """The DynamoDB error code behind a pynamodb error (e.g. "ConditionalCheckFailedException"), or
    None. Safe where `cause_response_code` is not: when the connection dropped, the cause's
    `response` is None and that property raises AttributeError, hiding the outage."""
    response = getattr(getattr(err, "cause", None), "response", None)
    return (response.get("Error") or {}).get("Code") if isinstance(response, dict) else None


def cancellation_codes(err: TransactWriteError) -> list[str | None]:
    reasons = getattr(err, "cancellation_reasons", None) or []
    return [getattr(r, "code", None) if r is not None else None for r in reasons]


class Tx:
    """A TransactWrite whose operations have names, so a cancellation says which condition failed.

    DynamoDB reports one reason per operation in the order they were sent, and pynamodb sends
    condition checks, then deletes, puts and updates, whatever the order of the calls: counting
    positions by hand breaks as soon as an operation is optional. Each name is used once.
    """

    _KINDS = ("condition_check", "delete", "save", "update")  # the order pynamodb sends them in

    def __init__(self, tx: TransactWrite) -> None:
        self._tx = tx
        self._names: dict[str, list[str]] = {k: [] for k in self._KINDS}

    def _add(self, kind: str, name: str) -> None:
        if name in self.names:
            raise ValueError(f"transaction operation {name!r} named twice")
        self._names[kind].append(name)

    def condition_check(self, name: str, model_cls: type, hash_key: Any, range_key: Any, *, condition: Any) -> None:
        self._add("condition_check", name)
        self._tx.condition_check(model_cls, hash_key, range_key, condition=condition)

    def delete(self, name: str, model: Any, *, condition: Any = None) -> None:
        self._add("delete", name)
        self._tx.delete(model, condition=condition)

    def save(self, name: str, model: Any, *, condition: Any = None) -> None:
        self._add("save", name)
        self._tx.save(model, condition=condition)

    def update(self, name: str, model: Any, actions: list[Any], *, condition: Any = None,
               add_version_condition: bool = True) -> None:
        self._add("update", name)
        self._tx.update(model, actions=actions, condition=condition, add_version_condition=add_version_condition)

    @property
    def names(self) -> list[str]:
        """The operations' names in the order DynamoDB reports on them."""
        return [n for k in self._KINDS for n in self._names[k]]

    def failed(self, err: TransactWriteError) -> frozenset[str]:
        """The names of the operations whose condition failed."""
        return frozenset(n for n, code in zip(self.names, cancellation_codes(err), strict=False)
                         if code == "ConditionalCheckFailed")


def run_transaction(build: Callable[[Tx], Any], *, on_cancel: Callable[[frozenset[str]], None],
                    attempts: int = 40) -> None:
    """Run a write transaction, retrying contention with jittered backoff.

    `build` adds the named operations (it is called again on each attempt, so it should re-read
    state); `on_cancel` gets the names of the operations whose condition failed and raises when
    retrying cannot help (returning means: read again and retry).
    """
    delay = 0.01
    for attempt in range(attempts):
        tx = None
        try:
            with TransactWrite(connection=connection()) as raw:
                tx = Tx(raw)
                build(tx)
            return
        except TransactWriteError as err:
            codes = cancellation_codes(err)
            if not codes and "TransactionConflict" not in str(err) and "ThrottlingException" not in str(err):
                raise
            on_cancel(tx.failed(err) if tx is not None else frozenset())  # raises if the failure is final
            if attempt == attempts - 1:
                raise
            time.sleep(delay * (1 + random.random()))
            delay = min(delay * 1.7, 0.5)
