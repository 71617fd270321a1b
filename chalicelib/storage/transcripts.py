"""Transcript chunks: gzip-compressed JSON lines of normalized messages, each item under 400 KB.

A transcript is written under a fresh upload id, then the session's pointer is swapped to it in
one conditional update, then the old upload's chunks are deleted: readers follow the pointer, so
they see the old transcript or the new one, never a mix, and a failed import leaves nothing.
"""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.exceptions import UpdateError

from chalicelib.errors import Conflict, NotFound
from chalicelib.storage import keys
from chalicelib.storage.common import error_code, now_iso
from chalicelib.storage.models import BaseItem, SessionItem, TranscriptChunkItem, TranscriptInfo
from chalicelib.storage.sessions import session_ref

RAW_CHUNK_BYTES = 900_000  # uncompressed JSON per chunk; gzip brings it far below the item limit
MAX_ITEM_BYTES = 350_000  # compressed ceiling per chunk (DynamoDB's limit is 400 KB per item)


class ChunkWriter:
    """Accumulates message dicts and writes full chunks as it goes (memory stays ~ one chunk), and
    renews the import's claim every RENEW_EVERY_S while it does (see claim_import)."""

    def __init__(self, tenant: str, project_id: str, number: int, upload_id: str) -> None:
        self.tenant, self.project_id = tenant, project_id
        self.pk = keys.project_pk(tenant, project_id)
        self.number, self.upload_id = number, upload_id
        self.renewed = time.monotonic()
        self.lines: list[bytes] = []
        self.size = 0
        self.first = 0  # index of the first message in the pending chunk
        self.count = 0  # messages written so far (all chunks)
        self.chunks = 0
        self.index: list[int] = []  # first message index of each chunk, for paging

    def add(self, message: dict[str, Any]) -> None:
        if time.monotonic() - self.renewed >= RENEW_EVERY_S:
            renew_import(self.tenant, self.project_id, self.number, self.upload_id)
            self.renewed = time.monotonic()
        line = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()
        self.lines.append(line)
        self.size += len(line) + 1
        if self.size >= RAW_CHUNK_BYTES:
            self._flush()

    def _flush(self) -> None:
        if not self.lines:
            return
        self._write(self.lines)
        self.lines, self.size = [], 0

    def _write(self, lines: list[bytes]) -> None:
        data = gzip.compress(b"\n".join(lines), compresslevel=6, mtime=0)
        if len(data) > MAX_ITEM_BYTES and len(lines) > 1:  # incompressible content: split the chunk
            half = len(lines) // 2
            self._write(lines[:half])
            self._write(lines[half:])
            return
        if len(data) > MAX_ITEM_BYTES:  # one huge message: keep its start, say it was cut
            msg = json.loads(lines[0])
            msg["text"] = msg.get("text", "")[:200_000] + "\n[... truncated: message over the storage limit]"
            msg.pop("tool_results", None)
            data = gzip.compress(json.dumps(msg).encode(), mtime=0)
        TranscriptChunkItem(self.pk, keys.transcript_sk(self.number, self.upload_id, self.chunks),
                            number=self.number, upload_id=self.upload_id, chunk=self.chunks,
                            first=self.first, count=len(lines), data=data).save()
        self.index.append(self.first)
        self.first += len(lines)
        self.count += len(lines)
        self.chunks += 1

    def close(self) -> None:
        self._flush()

    def discard(self) -> None:
        """Delete whatever this upload wrote (a failed import stores nothing)."""
        delete_upload(self.pk, self.number, self.upload_id)


def delete_upload(pk: str, number: int, upload_id: str) -> int:
    n = 0
    with BaseItem.batch_write() as batch:
        for item in BaseItem.query(pk, BaseItem.SK.startswith(keys.transcript_prefix(number, upload_id)),
                                   attributes_to_get=["PK", "SK"]):
            batch.delete(item)
            n += 1
    return n


# An import's claim is a lease: a running import renews it every RENEW_EVERY_S, so a claim not
# renewed for IMPORT_LEASE_S was left by an import that died (its process, or the database under
# it) and the next upload takes it over within seconds, not after the longest possible import.
IMPORT_LEASE_S = 30
RENEW_EVERY_S = 10


def _busy(number: int) -> Conflict:
    return Conflict(f"another upload of session {number}'s transcript is being imported; retry when it is done",
                    code="import_in_progress")


def claim_import(tenant: str, project_id: str, number: int, upload_id: str, *, replace: bool = True) -> None:
    """Make `upload_id` the one import of this session's transcript in progress, or raise 409.

    One conditional UpdateItem: set `importing_upload` **if** no import holds it (or the one that
    does last renewed its lease, `importing_since`, more than IMPORT_LEASE_S ago: it died). It bumps
    `rev`, so a session change that read the item before the claim is retried and cannot drop it.
    Two concurrent uploads: the second is refused before it reads a byte, so nothing of it is ever
    applied. An import that lost its lease all the same (stalled past it) finds out at its next
    renewal or at its swap, both conditional on the claim: it stops with 409 and swaps nothing.
    Without `replace`, a finished session that has a transcript is refused too (in the same condition).
    """
    pk, sk = keys.project_pk(tenant, project_id), keys.session_sk(number)
    stale = lease_expired_before()
    cond = SessionItem.PK.exists() & (SessionItem.importing_upload.does_not_exist()
                                      | (SessionItem.importing_since < stale))
    if not replace:
        cond &= (SessionItem.status == "in_progress") | SessionItem.transcript.does_not_exist()
    try:
        session_ref(tenant, project_id, number).update(  # bumps rev unchecked
            actions=[SessionItem.importing_upload.set(upload_id), SessionItem.importing_since.set(now_iso())],
            condition=cond, add_version_condition=False)
    except UpdateError as e:
        if error_code(e) != "ConditionalCheckFailedException":
            raise
        try:
            cur = SessionItem.get(pk, sk, consistent_read=True, attributes_to_get=["PK", "status", "transcript"])
        except SessionItem.DoesNotExist:
            raise NotFound(f"session {number} of project {project_id!r} not found",
                           code="session_not_found") from None
        if not replace and cur.status != "in_progress" and cur.transcript is not None:
            raise Conflict(f"session {number} is {cur.status} and already has a transcript "
                           f"({int(cur.transcript.messages or 0):,} messages, uploaded {cur.transcript.uploaded_at}); "
                           "its handoff was made from it. To replace it, send the upload again with ?replace=true "
                           "(the handoff is then marked as made from the older transcript until it is regenerated)",
                           code="transcript_exists") from None
        raise _busy(number) from None


def lease_expired_before() -> str:
    """The renewal time before which a lease has run out (same format as now_iso)."""
    return (datetime.now(UTC) - timedelta(seconds=IMPORT_LEASE_S)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def renew_import(tenant: str, project_id: str, number: int, upload_id: str) -> None:
    """Renew the lease of this import's claim (and of its upload URL's slot, if it came through one);
    409 when the claim is no longer its own (it stalled past its lease and another import took over)."""
    from chalicelib.storage.uploads import renew_slot

    try:
        session_ref(tenant, project_id, number).update(  # bumps rev unchecked, like the claim
            actions=[SessionItem.importing_since.set(now_iso())],
            condition=SessionItem.importing_upload == upload_id, add_version_condition=False)
    except UpdateError as e:
        if error_code(e) == "ConditionalCheckFailedException":
            raise _busy(number) from None
        raise
    renew_slot(upload_id)


def release_import(tenant: str, project_id: str, number: int, upload_id: str) -> None:
    """Give up the claim of a failed import (if it is still ours); bumps `rev` like the claim."""
    try:
        session_ref(tenant, project_id, number).update(  # bumps rev unchecked
            actions=[SessionItem.importing_upload.remove(), SessionItem.importing_since.remove()],
            condition=SessionItem.importing_upload == upload_id, add_version_condition=False)
    except UpdateError as e:
        if error_code(e) != "ConditionalCheckFailedException":
            raise


def swap_transcript(tenant: str, project_id: str, number: int, info: dict[str, Any], *, title: str | None = None,
                    model: str | None = None) -> tuple[str | None, int, str]:
    """Point the session at the new upload (and its stats) and end its import claim; returns
    (previous upload id, new rev, the session's status).

    One UpdateItem conditional on the claim still being this upload's (claim_import), so only the
    import holding it can swap, and each old upload's chunks are deleted exactly once. If the claim
    was lost (this import stalled past its lease and another took over), nothing is swapped: 409.
    `title` and `model` (what the transcript shows) are set in the same write where none is set yet.
    """
    pk, sk = keys.project_pk(tenant, project_id), keys.session_sk(number)
    old = SessionItem.get(pk, sk, consistent_read=True, attributes_to_get=["PK", "transcript", "status"])
    old_upload = old.transcript.upload_id if old.transcript is not None else None
    session = session_ref(tenant, project_id, number)
    try:  # bumps rev unchecked: the claim, not the rev, says who may swap
        session.update(
            actions=[SessionItem.transcript.set(TranscriptInfo(uploaded_at=now_iso(), **info)),
                     SessionItem.importing_upload.remove(), SessionItem.importing_since.remove(),
                     SessionItem.updated_at.set(now_iso()),
                     *([SessionItem.title.set(SessionItem.title | title)] if title else []),
                     *([SessionItem.model.set(SessionItem.model | model)] if model else [])],
            condition=SessionItem.importing_upload == info["upload_id"], add_version_condition=False)
    except UpdateError as e:
        if error_code(e) == "ConditionalCheckFailedException":
            raise _busy(number) from None
        raise
    if old_upload and old_upload != info["upload_id"]:
        delete_upload(pk, number, old_upload)
    return old_upload, int(session.rev), str(old.status or "in_progress")


def live_upload(tenant: str, project_id: str, number: int) -> tuple[str | None, int] | None:
    """(the upload id the session points at, its rev), or None when that cannot be read now."""
    try:
        item = SessionItem.get(keys.project_pk(tenant, project_id), keys.session_sk(number), consistent_read=True,
                               attributes_to_get=["PK", "transcript", "rev"])
    except Exception:  # noqa: BLE001 - unknown: the caller keeps what it wrote
        return None
    return (item.transcript.upload_id if item.transcript is not None else None), int(item.rev or 0)


def get_chunk(tenant: str, project_id: str, number: int, upload_id: str, chunk: int) -> TranscriptChunkItem:
    return TranscriptChunkItem.get(keys.project_pk(tenant, project_id), keys.transcript_sk(number, upload_id, chunk))


def read_chunks(tenant: str, project_id: str, number: int, upload_id: str) -> Iterator[TranscriptChunkItem]:
    """Every chunk of one upload, in order: one Query (paged by DynamoDB every ~1 MB)."""
    return TranscriptChunkItem.query(keys.project_pk(tenant, project_id),
                                     TranscriptChunkItem.SK.startswith(keys.transcript_prefix(number, upload_id)))


def decode_chunk(item: TranscriptChunkItem) -> list[dict[str, Any]]:
    return [json.loads(line) for line in gzip.decompress(item.data).split(b"\n") if line]


def iter_messages(tenant: str, project_id: str, number: int, upload_id: str) -> Iterable[dict[str, Any]]:
    for item in read_chunks(tenant, project_id, number, upload_id):
        yield from decode_chunk(item)
