"""Knowledge items: per project (table), per tenant across projects (GSI1, newest first)."""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import UpdateError

from chalicelib.errors import NotFound
from chalicelib.storage import keys
from chalicelib.storage.common import Tx, decode_cursor, now_iso, page, run_transaction
from chalicelib.storage.models import KnowledgeItem, ProjectItem


def put_item(tenant: str, project_id: str, item_id: str, *, kind: str, title: str, body: str,
             tags: list[str], source_session: int | None) -> tuple[KnowledgeItem, bool]:
    """Create the item unless it exists (ids from session learnings are content hashes: retries
    and duplicate jobs add nothing). Returns (item, created)."""
    ts = now_iso()
    item = KnowledgeItem(keys.project_pk(tenant, project_id), keys.know_sk(item_id), id=item_id,
                         project_id=project_id, kind=kind, title=title, body=body, tags=tags or [],
                         source_session=source_session, created_at=ts,
                         search=" ".join([title, body, *tags]).lower(),
                         GSI1PK=keys.tenant_knowledge_gsi1pk(tenant), GSI1SK=f"{ts}#{item_id}")

    def build(tx: Tx) -> None:
        tx.save("item", item, condition=KnowledgeItem.PK.does_not_exist())
        tx.update("project", ProjectItem(keys.tenant_pk(tenant), keys.project_sk(project_id)),
                  actions=[ProjectItem.knowledge_count.add(1)], condition=ProjectItem.state == "active")

    def on_cancel(failed: frozenset[str]) -> None:
        if "item" in failed:
            raise _Exists
        if "project" in failed:
            raise NotFound(f"project {project_id!r} not found", code="project_not_found")

    try:
        run_transaction(build, on_cancel=on_cancel)
    except _Exists:
        return get_item(tenant, project_id, item_id), False
    return item, True


class _Exists(Exception):
    """The item is there already (a retry, a duplicate job): nothing to add."""


def get_item(tenant: str, project_id: str, item_id: str) -> KnowledgeItem:
    try:
        return KnowledgeItem.get(keys.project_pk(tenant, project_id), keys.know_sk(item_id))
    except KnowledgeItem.DoesNotExist:
        raise NotFound(f"knowledge item {item_id!r} not found", code="knowledge_not_found") from None


def list_project(tenant: str, project_id: str, *, limit: int, cursor: str | None,
                 ) -> tuple[list[KnowledgeItem], str | None]:
    pk = keys.project_pk(tenant, project_id)
    start = decode_cursor(cursor, expect={"PK": pk})
    return page(KnowledgeItem.query(pk, KnowledgeItem.SK.startswith(keys.KNOW_PREFIX), limit=limit,
                                    page_size=limit, last_evaluated_key=start))


def search_tenant(tenant: str, *, q: str | None, limit: int, cursor: str | None,
                  ) -> tuple[list[KnowledgeItem], str | None]:
    """Newest first across projects; `q` filters by substring (a filter: a page may come back short)."""
    gpk = keys.tenant_knowledge_gsi1pk(tenant)
    start = decode_cursor(cursor, expect={"GSI1PK": gpk})
    cond: Any = KnowledgeItem.search.contains(q.lower()) if q else None
    return page(KnowledgeItem.gsi1.query(gpk, scan_index_forward=False, limit=limit, page_size=limit,
                                         last_evaluated_key=start, filter_condition=cond))


def count_use(tenant: str, project_id: str, item_id: str) -> KnowledgeItem:
    item = KnowledgeItem(keys.project_pk(tenant, project_id), keys.know_sk(item_id))
    try:
        item.update(actions=[KnowledgeItem.uses.add(1)], condition=KnowledgeItem.PK.exists())
    except UpdateError as e:
        if e.cause_response_code == "ConditionalCheckFailedException":
            raise NotFound(f"knowledge item {item_id!r} not found", code="knowledge_not_found") from None
        raise
    return item
