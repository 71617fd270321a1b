"""Transcript chunks: stay under the item limit, page across chunks, swap atomically, discard cleanly."""

from __future__ import annotations

import random
import string

import pytest

from chalicelib.domain import transcripts as domain
from chalicelib.storage import keys
from chalicelib.storage import transcripts as store
from chalicelib.storage.models import BaseItem, TranscriptChunkItem
from chalicelib.storage.projects import create_project
from chalicelib.storage.sessions import create_session, get_session


@pytest.fixture
def pid(aws, monkeypatch):
    monkeypatch.setattr(store, "RAW_CHUNK_BYTES", 20_000)  # many small chunks, same code path
    p = create_project("acme", name="p", description=None, goal=None)
    create_session("acme", p.id, {})
    return p.id


def _write(pid: str, upload: str, n_messages: int, noise: bool = False) -> store.ChunkWriter:
    w = store.ChunkWriter("acme", pid, 1, upload)
    rnd = random.Random(7)
    for i in range(n_messages):
        text = "".join(rnd.choices(string.printable, k=3000)) if noise else f"message {i} " + "x" * 200
        w.add({"role": "user" if i % 2 == 0 else "assistant", "text": text, "i": i})
    w.close()
    return w


def _swap(pid: str, w: store.ChunkWriter) -> None:
    store.claim_import("acme", pid, 1, w.upload_id)  # only the import holding the claim may swap
    store.swap_transcript("acme", pid, 1, {"upload_id": w.upload_id, "chunks": w.chunks, "format": "text",
                                           "index": w.index, "messages": w.count})


def test_chunks_hold_everything_in_order(pid):
    w = _write(pid, "u1", 500)
    assert w.chunks > 3 and w.count == 500
    _swap(pid, w)
    got = list(store.iter_messages("acme", pid, 1, "u1"))
    assert [m["i"] for m in got] == list(range(500))


def test_incompressible_content_is_split_below_item_limit(pid, monkeypatch):
    monkeypatch.setattr(store, "RAW_CHUNK_BYTES", 2_000_000)
    monkeypatch.setattr(store, "MAX_ITEM_BYTES", 100_000)
    w = _write(pid, "u1", 200, noise=True)
    sizes = [len(c.data) for c in TranscriptChunkItem.query(keys.project_pk("acme", pid),
                                                            TranscriptChunkItem.SK.startswith("TRANSCRIPT#"))]
    assert len(sizes) == w.chunks >= 4
    assert max(sizes) <= 100_000


def test_paging_crosses_chunks_without_gaps(pid):
    _swap(pid, _write(pid, "u1", 230))
    seen, cursor = [], None
    while True:
        page = domain.page_messages("acme", pid, 1, limit=37, cursor=cursor)
        assert page["total"] == 230
        seen += [m["i"] for m in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == list(range(230))


def test_reupload_swaps_atomically_and_removes_old_chunks(pid):
    _swap(pid, _write(pid, "u1", 100))
    first_page = domain.page_messages("acme", pid, 1, limit=10, cursor=None)
    _swap(pid, _write(pid, "u2", 40))
    assert get_session("acme", pid, 1).transcript.upload_id == "u2"
    prefix = keys.transcript_prefix(1)
    left = {c.upload_id for c in TranscriptChunkItem.query(keys.project_pk("acme", pid),
                                                            TranscriptChunkItem.SK.startswith(prefix))}
    assert left == {"u2"}
    # a reader holding a cursor of the old upload is told, instead of getting a mix
    from chalicelib.errors import Conflict

    with pytest.raises(Conflict):
        domain.page_messages("acme", pid, 1, limit=10, cursor=first_page["next_cursor"])


def test_discard_leaves_nothing(pid):
    w = _write(pid, "u9", 300)
    assert w.chunks > 1
    w.discard()
    assert BaseItem.count(keys.project_pk("acme", pid), BaseItem.SK.startswith(keys.transcript_prefix(1))) == 0
    assert get_session("acme", pid, 1).transcript is None
