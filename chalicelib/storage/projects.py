"""Projects: items under the tenant's partition; counters live on the item."""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import PutError, UpdateError

from chalicelib.errors import Conflict, NotFound
from chalicelib.storage import keys
from chalicelib.storage.common import decode_cursor, error_code, new_id, now_iso, page
from chalicelib.storage.models import AccountItem, BaseItem, ProjectItem

UPDATABLE = ("name", "description", "goal", "pins")


def _not_found(project_id: str) -> NotFound:
    return NotFound(f"project {project_id!r} not found", code="project_not_found")


def create_project(tenant: str, *, name: str, description: str | None, goal: str | None,
                   pins: list[str] | None = None) -> ProjectItem:
    pid = new_id()
    ts = now_iso()
    item = ProjectItem(keys.tenant_pk(tenant), keys.project_sk(pid), id=pid, name=name, description=description,
                       goal=goal, pins=pins or [], created_at=ts, updated_at=ts)
    try:
        item.save(condition=ProjectItem.SK.does_not_exist())
    except PutError as e:  # an id collision is astronomically unlikely; never overwrite
        if error_code(e) != "ConditionalCheckFailedException":
            raise  # e.g. the database is out of reach: a 503, not a made-up collision
        raise Conflict("project id collision, retry the request") from e
    return item


def get_project(tenant: str, project_id: str, *, consistent: bool = False) -> ProjectItem:
    try:
        item = ProjectItem.get(keys.tenant_pk(tenant), keys.project_sk(project_id), consistent_read=consistent)
    except ProjectItem.DoesNotExist:
        raise _not_found(project_id) from None
    if item.state != "active":
        raise _not_found(project_id)
    return item


def list_projects(tenant: str, *, limit: int, cursor: str | None) -> tuple[list[ProjectItem], str | None]:
    pk = keys.tenant_pk(tenant)
    start = decode_cursor(cursor, expect={"PK": pk}, prefix={"SK": keys.PROJECT_PREFIX})
    res = ProjectItem.query(pk, ProjectItem.SK.startswith(keys.PROJECT_PREFIX), limit=limit, page_size=limit,
                            last_evaluated_key=start, filter_condition=ProjectItem.state == "active")
    return page(res)


def tenant_rollup(tenant: str) -> tuple[list[ProjectItem], list[AccountItem]]:
    """Every project and AI account of a tenant: one Query over the tenant partition.

    Both live under `T#{tenant}`, so the stats endpoint reads counters kept on them instead of
    reading sessions. A tenant with more than ~1 MB of such items costs further pages.
    """
    projects: list[ProjectItem] = []
    accounts: list[AccountItem] = []
    conn = BaseItem._get_connection()
    start = None
    while True:
        data = conn.query(keys.tenant_pk(tenant), exclusive_start_key=start)
        for raw in data.get("Items", []):
            sk = raw["SK"]["S"]
            if sk.startswith(keys.PROJECT_PREFIX):
                p = ProjectItem.from_raw_data(raw)
                if p.state == "active":
                    projects.append(p)
            elif sk.startswith(keys.ACCOUNT_PREFIX):
                accounts.append(AccountItem.from_raw_data(raw))
        start = data.get("LastEvaluatedKey")
        if not start:
            return projects, accounts


def update_project(tenant: str, project_id: str, changes: dict[str, Any]) -> ProjectItem:
    item = ProjectItem(keys.tenant_pk(tenant), keys.project_sk(project_id))
    actions = [getattr(ProjectItem, k).set(v) if v is not None else getattr(ProjectItem, k).remove()
               for k, v in changes.items() if k in UPDATABLE]
    actions.append(ProjectItem.updated_at.set(now_iso()))
    try:
        item.update(actions=actions, condition=ProjectItem.state == "active")  # ReturnValues=ALL_NEW
    except UpdateError as e:
        if error_code(e) == "ConditionalCheckFailedException":
            raise _not_found(project_id) from None
        raise
    return item


def delete_project(tenant: str, project_id: str) -> int:
    """Delete the project and every item of its partition. Returns the number of items removed.

    The project is first marked `deleting` (so no session can be created meanwhile), then its
    partition is emptied page by page with batch deletes, then the project item goes.
    """
    head = ProjectItem(keys.tenant_pk(tenant), keys.project_sk(project_id))
    try:
        head.update(actions=[ProjectItem.state.set("deleting")], condition=ProjectItem.SK.exists())
    except UpdateError as e:
        if error_code(e) == "ConditionalCheckFailedException":
            raise _not_found(project_id) from None
        raise
    removed = 0
    pk = keys.project_pk(tenant, project_id)
    with BaseItem.batch_write() as batch:
        for item in BaseItem.query(pk, attributes_to_get=["PK", "SK"]):
            batch.delete(item)
            removed += 1
    head.delete()
    return removed + 1
