"""Transcript chunks: gzip-compressed JSON lines of normalized messages, each item under 400 KB.

A transcript is written under a fresh upload id, then the session's pointer is swapped to it in
one conditional update, then the old upload's chunks are deleted: readers follow the pointer, so
they see the old transcript or the new one, never a mix, and a failed import leaves nothing.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Iterator
from typing import Any

from pynamodb.exceptions import UpdateError

from chalicelib.errors import NotFound
from chalicelib.storage import keys
from chalicelib.storage.common import now_iso
from chalicelib.storage.models import BaseItem, SessionItem, TranscriptChunkItem, TranscriptInfo

RAW_CHUNK_BYTES = 900_000  # uncompressed JSON per chunk; gzip brings it far below the item limit
MAX_ITEM_BYTES = 350_000  # compressed ceiling per chunk (DynamoDB's limit is 400 KB per item)


class ChunkWriter:
    """Accumulates message dicts and writes full chunks as it goes (memory stays ~ one chunk)."""

    def __init__(self, tenant: str, project_id: str, number: int, upload_id: str) -> None:
        self.pk = keys.project_pk(tenant, project_id)
        self.number, self.upload_id = number, upload_id
        self.lines: list[bytes] = []
        self.size = 0
        self.first = 0  # index of the first message in the pending chunk
        self.count = 0  # messages written so far (all chunks)
        self.chunks = 0
        self.index: list[int] = []  # first message index of each chunk, for paging

    def add(self, message: dict[str, Any]) -> None:
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


def swap_transcript(tenant: str, project_id: str, number: int, info: dict[str, Any]) -> tuple[str | None, int]:
    """Point the session at the new upload (and its stats); returns (previous upload id, new rev).

    The swap is conditional on the session's `rev`, so of two concurrent re-uploads each one sees
    the pointer it replaces, and every old upload's chunks are deleted exactly once.
    """
    pk, sk = keys.project_pk(tenant, project_id), keys.session_sk(number)
    missing = NotFound(f"session {number} of project {project_id!r} not found", code="session_not_found")
    for _ in range(20):
        try:
            old = SessionItem.get(pk, sk, consistent_read=True, attributes_to_get=["transcript", "rev"])
        except SessionItem.DoesNotExist:
            raise missing from None
        old_upload = old.transcript.upload_id if old.transcript is not None else None
        session = SessionItem(pk, sk)
        try:
            session.update(
                actions=[SessionItem.transcript.set(TranscriptInfo(uploaded_at=now_iso(), **info)),
                         SessionItem.rev.add(1), SessionItem.updated_at.set(now_iso())],
                condition=SessionItem.rev == (old.rev or 0))
        except UpdateError as e:
            if e.cause_response_code == "ConditionalCheckFailedException":
                continue  # the session changed since we read it: read again
            raise
        if old_upload and old_upload != info["upload_id"]:
            delete_upload(pk, number, old_upload)
        return old_upload, int(session.rev)
    raise RuntimeError("the session kept changing while its transcript was swapped")


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
