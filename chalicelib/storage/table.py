"""The table's definition, in one place: used to create it locally and by the deploy template."""

from __future__ import annotations

import contextlib
from typing import Any

from chalicelib.config import settings
from chalicelib.storage.models import GSI1_NAME, client

TTL_ATTRIBUTE = "expires_at"


def table_definition(table_name: str) -> dict[str, Any]:
    """CreateTable arguments: PK/SK, one overloaded GSI, on-demand billing."""
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": n, "AttributeType": "S"} for n in ("PK", "SK", "GSI1PK", "GSI1SK")
        ],
        "KeySchema": [
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": GSI1_NAME,
                "KeySchema": [
                    {"AttributeName": "GSI1PK", "KeyType": "HASH"},
                    {"AttributeName": "GSI1SK", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    }


def ensure_table() -> bool:
    """Create the table if it is missing (local and tests only). Returns True if created."""
    c = client()
    name = settings().table_name
    try:
        c.describe_table(TableName=name)
        return False
    except c.exceptions.ResourceNotFoundException:
        pass
    try:
        c.create_table(**table_definition(name))
    except c.exceptions.ResourceInUseException:
        return False
    c.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100})
    with contextlib.suppress(Exception):  # TTL is optional locally (older emulators lack it)
        c.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE}
        )
    return True
