"""Whether the database can be reached: a cheap ping, and telling an outage from a bug.

An outage (connection refused, timeouts, throttling, the service's own 5xx) is not the request's
fault and will pass: the API answers it with 503 and Retry-After instead of a 500.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError
from pynamodb.exceptions import PynamoDBException

from chalicelib.config import settings

RETRY_AFTER_S = 5
_TRANSIENT_CODES = frozenset({
    "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
    "InternalServerError", "ServiceUnavailable", "ServiceUnavailableException", "LimitExceededException",
})


def _causes(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    stack: list[BaseException | None] = [exc]
    while stack and len(seen) < 20:
        e = stack.pop()
        if e is None or any(e is s for s in seen):
            continue
        seen.append(e)
        stack += [e.__cause__, e.__context__, getattr(e, "cause", None) if isinstance(e, PynamoDBException) else None]
    return seen


def is_outage(exc: BaseException) -> bool:
    """True when `exc` (or what caused it) says the database is out of reach or overloaded."""
    for e in _causes(exc):
        if isinstance(e, BotoConnectionError | HTTPClientError):  # refused, timeouts, connection closed
            return True
        if isinstance(e, ClientError) and e.response.get("Error", {}).get("Code") in _TRANSIENT_CODES:
            return True
        if isinstance(e, PynamoDBException) and getattr(e, "cause_response_code", None) in _TRANSIENT_CODES:
            return True
    return False


@lru_cache(maxsize=4)
def _ping_client(endpoint: str | None, region: str) -> Any:
    """A client that tries once, with short timeouts: a health check must answer fast either way."""
    from botocore.config import Config
    from botocore.session import get_session

    cfg = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=2, read_timeout=2)
    return get_session().create_client("dynamodb", region_name=region, endpoint_url=endpoint, config=cfg)


def ping() -> bool:
    """One DescribeTable, tried once: True when the table answers (the deep health check)."""
    s = settings()
    try:
        _ping_client(s.dynamodb_endpoint, s.region).describe_table(TableName=s.table_name)
        return True
    except Exception as e:  # noqa: BLE001 - any failure means "not usable"; outages are the usual one
        if is_outage(e) or isinstance(e, ClientError):
            return False
        raise
