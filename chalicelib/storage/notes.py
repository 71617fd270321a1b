"""A session's account versions (NoteItem): the agent's notes and compaction summaries.

A new version is a conditional put on the next number, so two notes sent at once get two versions
and neither overwrites the other; a retry that lost its answer may add the same text twice, which
only makes an identical newest version.
"""

from __future__ import annotations

from pynamodb.exceptions import PutError

from chalicelib.errors import Conflict
from chalicelib.storage import keys
from chalicelib.storage.common import error_code, now_iso
from chalicelib.storage.models import NoteItem

_TRIES = 5


def latest_note(tenant: str, project_id: str, number: int, *, consistent: bool = True) -> NoteItem | None:
    """The newest version (1 Query, 1 item)."""
    pk = keys.project_pk(tenant, project_id)
    for it in NoteItem.query(pk, NoteItem.SK.startswith(keys.note_prefix(number)), scan_index_forward=False,
                             limit=1, consistent_read=consistent):
        return it
    return None


def add_note(tenant: str, project_id: str, number: int, *, kind: str, text: str, source: str | None) -> NoteItem:
    """Store the next version: 1 Query + 1 conditional PutItem (retried on a concurrent version)."""
    pk = keys.project_pk(tenant, project_id)
    for _ in range(_TRIES):
        last = latest_note(tenant, project_id, number)
        version = int(last.version) + 1 if last is not None else 1
        item = NoteItem(pk, keys.note_sk(number, version), project_id=project_id, number=number, version=version,
                        kind=kind, source=source, text=text, created_at=now_iso())
        try:
            item.save(condition=NoteItem.SK.does_not_exist())
            return item
        except PutError as e:
            if error_code(e) != "ConditionalCheckFailedException":
                raise
    raise Conflict("too many notes written at once for this session: try again", code="note_busy")


def list_notes(tenant: str, project_id: str, number: int, *, limit: int) -> list[NoteItem]:
    """The newest `limit` versions, newest first."""
    pk = keys.project_pk(tenant, project_id)
    return list(NoteItem.query(pk, NoteItem.SK.startswith(keys.note_prefix(number)), scan_index_forward=False,
                               limit=limit))
