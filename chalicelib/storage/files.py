"""File changes: one item per (session, path); a file's history across sessions via GSI1."""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import UpdateError

from chalicelib.errors import NotFound
from chalicelib.storage import keys
from chalicelib.storage.common import decode_cursor, error_code, page
from chalicelib.storage.models import BaseItem, FileChangeItem, SessionItem

EXPLICIT = ("api", "numstat")  # sources a person or git stated: transcript-derived ones never replace them


def _item(tenant: str, project_id: str, number: int, fc: dict[str, Any]) -> FileChangeItem:
    return FileChangeItem(
        keys.project_pk(tenant, project_id), keys.file_sk(number, fc["path"]),
        project_id=project_id, number=number, path=fc["path"], kind=fc.get("kind", "modified"),
        lines_added=fc.get("lines_added"), lines_removed=fc.get("lines_removed"),
        summary=fc.get("summary") or None, old_path=fc.get("old_path"), source=fc.get("source", "api"),
        GSI1PK=keys.file_history_gsi1pk(tenant, project_id, fc["path"]), GSI1SK=keys.session_sk(number),
    )


def list_session_files(tenant: str, project_id: str, number: int, *, limit: int | None = None,
                       cursor: str | None = None) -> tuple[list[FileChangeItem], str | None]:
    pk = keys.project_pk(tenant, project_id)
    start = decode_cursor(cursor, expect={"PK": pk}, prefix={"SK": keys.file_prefix(number)})
    res = FileChangeItem.query(pk, FileChangeItem.SK.startswith(keys.file_prefix(number)), limit=limit,
                               page_size=limit, last_evaluated_key=start)
    return page(res)


def all_session_files(tenant: str, project_id: str, number: int) -> list[FileChangeItem]:
    return list(FileChangeItem.query(keys.project_pk(tenant, project_id),
                                     FileChangeItem.SK.startswith(keys.file_prefix(number))))


def replace_session_files(tenant: str, project_id: str, number: int, changes: list[dict[str, Any]],
                          *, only_source: str | None = None, rev: int | None = None) -> int:
    """Replace a session's file changes; returns how many the session now has.

    With `only_source="transcript"`, only transcript-derived items are replaced, and a path that a
    person or `git diff --numstat` already stated keeps that statement. The set is written with a
    batch (not a transaction: it may hold thousands of items), then the session's count is set on
    condition that its `rev` is still the one read first. A concurrent replacement makes that
    condition fail, and the loser replaces again on top of the winner's items: one of the two
    lists wins whole, never a mix of both. A caller that has just written the session passes its
    `rev` and spares the first read.
    """
    pk, sk = keys.project_pk(tenant, project_id), keys.session_sk(number)
    for _ in range(10):
        try:
            if rev is None:
                rev = SessionItem.get(pk, sk, consistent_read=True, attributes_to_get=["rev"]).rev
        except SessionItem.DoesNotExist:
            raise NotFound(f"session {number} of project {project_id!r} not found",
                           code="session_not_found") from None
        existing = all_session_files(tenant, project_id, number)
        keep = {f.path for f in existing if only_source and f.source in EXPLICIT}
        new_paths = {c["path"] for c in changes if c["path"] not in keep}
        with BaseItem.batch_write() as batch:
            for f in existing:
                if (only_source is None or f.source == only_source) and f.path not in new_paths:
                    batch.delete(f)
            for c in changes:
                if c["path"] not in keep:
                    batch.save(_item(tenant, project_id, number, c))
        others = {f.path for f in existing if only_source and f.source != only_source}
        total = len(new_paths | others)
        try:
            # on condition that rev is still the one read (the VersionAttribute check), bumping it
            SessionItem(pk, sk, rev=rev).update(actions=[SessionItem.files.set(total)],
                                                condition=SessionItem.PK.exists())
            return total
        except UpdateError as e:
            if error_code(e) != "ConditionalCheckFailedException":
                raise
            rev = None  # read it again
    raise RuntimeError("the session kept changing while its file changes were replaced")


def file_history(tenant: str, project_id: str, path: str, *, limit: int, cursor: str | None,
                 ) -> tuple[list[FileChangeItem], str | None]:
    gpk = keys.file_history_gsi1pk(tenant, project_id, path)
    start = decode_cursor(cursor, expect={"GSI1PK": gpk, "PK": keys.project_pk(tenant, project_id)},
                          prefix={"SK": keys.FILE_PREFIX})
    return page(FileChangeItem.gsi1.query(gpk, limit=limit, page_size=limit, last_evaluated_key=start))
