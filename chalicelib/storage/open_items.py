"""A project's open-items ledger: one item per normalized text, written with conditional puts.

Every write touches one item under a condition on that item only (put if absent, reopen if it
was closed by an earlier session, close if open), so sessions adding and closing items at the
same time never overwrite each other: there is no read-modify-write of a shared list.
"""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import PutError, UpdateError

from chalicelib.storage import keys
from chalicelib.storage.common import decode_cursor, encode_cursor, error_code, now_iso
from chalicelib.storage.models import OpenItem

STATUSES = ("open", "closed")


def _conditional_failed(e: PutError | UpdateError) -> bool:
    return error_code(e) == "ConditionalCheckFailedException"


def add_item(tenant: str, project_id: str, item_id: str, *, text: str, kind: str, session: int,
             source: str) -> bool:
    """Open an item unless it is open already. An item closed by an earlier session is opened
    again (a later session raised it anew); one closed by this or a later session stays closed,
    so regenerating an old handoff cannot undo a later close. Returns True when written."""
    item = OpenItem(keys.project_pk(tenant, project_id), keys.item_sk(item_id), id=item_id, text=text,
                    kind=kind, status="open", source=source, opened_by=session, opened_at=now_iso())
    cond = OpenItem.PK.does_not_exist() | ((OpenItem.status == "closed") & (OpenItem.closed_by < session))
    try:
        item.save(condition=cond)
    except PutError as e:
        if _conditional_failed(e):
            return False
        raise
    return True


def close_item(tenant: str, project_id: str, item_id: str, *, session: int) -> OpenItem | None:
    """Close an open item; None when it does not exist or is closed already (closing is idempotent)."""
    item = OpenItem(keys.project_pk(tenant, project_id), keys.item_sk(item_id))
    try:
        item.update(actions=[OpenItem.status.set("closed"), OpenItem.closed_by.set(session),
                             OpenItem.closed_at.set(now_iso())],
                    condition=OpenItem.status == "open")
    except UpdateError as e:
        if _conditional_failed(e):
            return None
        raise
    return item


def get_item(tenant: str, project_id: str, item_id: str, *, consistent: bool = False) -> OpenItem | None:
    try:
        return OpenItem.get(keys.project_pk(tenant, project_id), keys.item_sk(item_id), consistent_read=consistent)
    except OpenItem.DoesNotExist:
        return None


def list_items(tenant: str, project_id: str, *, status: str | None, limit: int, cursor: str | None,
               ) -> tuple[list[OpenItem], str | None]:
    """A page of items, optionally of one status. The status is a filter, so this reads on until
    the page is full or the partition range ends: a page never comes back short while more match."""
    pk = keys.project_pk(tenant, project_id)
    start = decode_cursor(cursor, expect={"PK": pk}, prefix={"SK": keys.ITEM_PREFIX})
    cond: Any = (OpenItem.status == status) if status else None
    out: list[OpenItem] = []
    # the iterator reads page after page by itself; stop as soon as the page is full
    for it in OpenItem.query(pk, OpenItem.SK.startswith(keys.ITEM_PREFIX), filter_condition=cond,
                             page_size=limit, last_evaluated_key=start):
        out.append(it)
        if len(out) == limit:  # resume after this item, not after the page DynamoDB read
            return out, encode_cursor({"PK": it.PK, "SK": it.SK})
    return out, None


def all_items(tenant: str, project_id: str, *, consistent: bool = True) -> list[OpenItem]:
    """Every ledger item of the project (open and closed): what a handoff job reads when it runs."""
    pk = keys.project_pk(tenant, project_id)
    return list(OpenItem.query(pk, OpenItem.SK.startswith(keys.ITEM_PREFIX), consistent_read=consistent))
