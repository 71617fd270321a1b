"""Knowledge items: per project (table), per tenant across projects (GSI1, newest first)."""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import UpdateError

from chalicelib.errors import NotFound
from chalicelib.storage import keys
from chalicelib.storage.common import Tx, decode_cursor, encode_cursor, error_code, now_iso, run_transaction
from chalicelib.storage.models import KnowledgeItem, ProjectItem


def put_item(tenant: str, project_id: str, item_id: str, *, kind: str, title: str, body: str | None,
             tags: list[str], source_session: int | None) -> tuple[KnowledgeItem, bool]:
    """Create the item unless it exists (ids from session learnings are content hashes: retries
    and duplicate jobs add nothing). Returns (item, created)."""
    ts = now_iso()
    item = KnowledgeItem(keys.project_pk(tenant, project_id), keys.know_sk(item_id), id=item_id,
                         project_id=project_id, kind=kind, title=title, body=body, tags=tags or [],
                         source_session=source_session, created_at=ts,
                         search=" ".join([title, body or "", *tags]).lower(),
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


def project_items(tenant: str, project_id: str) -> list[KnowledgeItem]:
    """Every item of a project, newest first (one Query per MB; ids of learnings are content
    hashes, so the key order is not time order: the sort is on created_at)."""
    pk = keys.project_pk(tenant, project_id)
    items = list(KnowledgeItem.query(pk, KnowledgeItem.SK.startswith(keys.KNOW_PREFIX)))
    return sorted(items, key=lambda k: (k.created_at or "", k.id), reverse=True)


def _filters(project_id: str | None, kind: str | None) -> Any:
    cond: Any = None
    for c in ((KnowledgeItem.project_id == project_id) if project_id else None,
              (KnowledgeItem.kind == kind) if kind else None):
        if c is not None:
            cond = c if cond is None else cond & c
    return cond


def list_tenant(tenant: str, *, project_id: str | None, kind: str | None, limit: int, cursor: str | None,
                ) -> tuple[list[KnowledgeItem], str | None]:
    """Newest first across projects (GSI1), optionally of one project or kind. Filters are read
    past until the page is full, so a page never comes back short while more match."""
    gpk = keys.tenant_knowledge_gsi1pk(tenant)
    start = decode_cursor(cursor, expect={"GSI1PK": gpk},
                          prefix={"PK": keys.project_pk(tenant, ""), "SK": keys.KNOW_PREFIX})
    out: list[KnowledgeItem] = []
    for it in KnowledgeItem.gsi1.query(gpk, scan_index_forward=False, page_size=limit, last_evaluated_key=start,
                                       filter_condition=_filters(project_id, kind)):
        out.append(it)
        if len(out) == limit:  # resume after this item
            return out, encode_cursor({"PK": it.PK, "SK": it.SK, "GSI1PK": it.GSI1PK, "GSI1SK": it.GSI1SK})
    return out, None


def all_tenant(tenant: str, *, project_id: str | None, kind: str | None) -> list[KnowledgeItem]:
    """Every item of the tenant (filtered), newest first: what relevance ranking reads."""
    return list(KnowledgeItem.gsi1.query(keys.tenant_knowledge_gsi1pk(tenant), scan_index_forward=False,
                                         filter_condition=_filters(project_id, kind)))


def update_item(tenant: str, project_id: str, item_id: str, changes: dict[str, Any]) -> KnowledgeItem:
    """Change title, body, kind or tags (the search text follows); 404 if the item is gone."""
    cur = get_item(tenant, project_id, item_id)
    title, body = changes.get("title", cur.title), changes.get("body", cur.body or "")
    tags = changes.get("tags", list(cur.tags or []))
    actions = [KnowledgeItem.search.set(" ".join([title, body, *tags]).lower()),
               KnowledgeItem.updated_at.set(now_iso())]
    for name in ("title", "kind", "tags"):
        if name in changes:
            actions.append(getattr(KnowledgeItem, name).set(changes[name]))
    if "body" in changes:
        actions.append(KnowledgeItem.body.set(changes["body"]) if changes["body"] else KnowledgeItem.body.remove())
    try:
        cur.update(actions=actions, condition=KnowledgeItem.PK.exists())
    except UpdateError as e:
        if error_code(e) == "ConditionalCheckFailedException":
            raise NotFound(f"knowledge item {item_id!r} not found", code="knowledge_not_found") from None
        raise
    return cur


def delete_item(tenant: str, project_id: str, item_id: str) -> None:
    """Delete the item and count it off the project, in one transaction (deleting twice is a 404)."""

    def build(tx: Tx) -> None:
        tx.delete("item", KnowledgeItem(keys.project_pk(tenant, project_id), keys.know_sk(item_id)),
                  condition=KnowledgeItem.PK.exists())
        tx.update("project", ProjectItem(keys.tenant_pk(tenant), keys.project_sk(project_id)),
                  actions=[ProjectItem.knowledge_count.add(-1)], condition=ProjectItem.SK.exists())

    def on_cancel(failed: frozenset[str]) -> None:
        if failed:
            raise NotFound(f"knowledge item {item_id!r} not found", code="knowledge_not_found")

    run_transaction(build, on_cancel=on_cancel)


def count_use(tenant: str, project_id: str, item_id: str) -> KnowledgeItem:
    item = KnowledgeItem(keys.project_pk(tenant, project_id), keys.know_sk(item_id))
    try:
        item.update(actions=[KnowledgeItem.uses.add(1)], condition=KnowledgeItem.PK.exists())
    except UpdateError as e:
        if error_code(e) == "ConditionalCheckFailedException":
            raise NotFound(f"knowledge item {item_id!r} not found", code="knowledge_not_found") from None
        raise
    return item
