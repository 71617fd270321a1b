"""Decompression bombs and huge messages on every import path (issue 12, item 1).

The bombs are real: gigabytes of one letter, a few megabytes gzip-compressed (tests/support/bombs.py).
Each must end in a 413 with nothing stored; peak memory and time to 413 are measured by
`python -m bench.hardening_bench`, not here.
"""

from __future__ import annotations

import json

import pytest

from chalicelib import config
from chalicelib.storage import keys
from chalicelib.storage.models import TranscriptChunkItem
from tests.support.bombs import gzip_bomb


@pytest.fixture
def pid(api) -> str:
    pid = api.post("/api/projects", {"name": "p"}).json_body["id"]
    api.post(f"/api/projects/{pid}/sessions", {})
    return pid


def _nothing_stored(api, tenant: str, pid: str) -> None:
    s = api.get(f"/api/projects/{pid}/sessions/1").json_body
    assert s["transcript"] is None
    chunks = list(TranscriptChunkItem.query(keys.project_pk(tenant, pid),
                                            TranscriptChunkItem.SK.startswith("TRANSCRIPT#")))
    assert chunks == []


def _put(api, pid, data: bytes, fmt: str = "auto"):
    return api.put(f"/api/projects/{pid}/sessions/1/transcript?format={fmt}", raw=data,
                   headers={"Content-Type": "application/gzip"})


def test_direct_upload_of_a_2_gib_bomb_is_413_and_stores_nothing(api, pid):
    bomb = gzip_bomb(2048)  # 2 GiB of "a", no newline, ~2 MB compressed
    assert len(bomb) < 3_000_000
    r = _put(api, pid, bomb)
    assert r.status_code == 413, r.body
    err = r.json_body["error"]
    assert err["code"] == "transcript_too_large" and "MiB" in err["message"]
    _nothing_stored(api, "acme", pid)


@pytest.mark.parametrize("fmt", ["auto", "text", "claude-code"])
def test_bomb_of_many_lines_is_413_at_the_configured_cap(api, pid, monkeypatch, fmt):
    monkeypatch.setenv("MSO_MAX_TRANSCRIPT_BYTES", str(8 * 1024 * 1024))
    config.reset()
    if fmt == "claude-code":  # a gigabyte of valid records
        bomb = gzip_bomb(1024, fill=b'{"type":"user","sessionId":"s1","message":{"role":"user","content":"hi"}}\n')
    else:  # a gigabyte of lines and no role marker: one endless message
        bomb = gzip_bomb(1024, line=b"\n", fill=b"ab\n")
    r = _put(api, pid, bomb, fmt=fmt)
    assert r.status_code == 413, r.body
    assert "8 MiB" in r.json_body["error"]["message"]
    _nothing_stored(api, "acme", pid)


def test_upload_url_bomb_is_413_recorded_and_stores_nothing(api, pid, monkeypatch):
    monkeypatch.setenv("MSO_MAX_UPLOAD_BYTES", str(16 * 1024 * 1024))
    config.reset()
    slot = api.post(f"/api/projects/{pid}/sessions/1/transcript-upload").json_body
    r = api.put(f"/api/uploads/{slot['upload_id']}", raw=gzip_bomb(4096, line=b"\n"), token=None,
                headers={"Content-Type": "application/gzip"})
    assert r.status_code == 413, r.body
    assert r.json_body["error"]["code"] == "transcript_too_large"
    status = api.get(f"/api/uploads/{slot['upload_id']}").json_body
    assert status["status"] == "failed" and status["result"]["code"] == "transcript_too_large"
    _nothing_stored(api, "acme", pid)


def test_upload_url_caps_the_compressed_body(api, pid, monkeypatch):
    monkeypatch.setenv("MSO_MAX_UPLOAD_BODY_BYTES", "1000")
    config.reset()
    slot = api.post(f"/api/projects/{pid}/sessions/1/transcript-upload").json_body
    r = api.put(f"/api/uploads/{slot['upload_id']}", raw=b"user: hi\n" * 200, token=None,
                headers={"Content-Type": "text/plain"})
    assert r.status_code == 413 and r.json_body["error"]["code"] == "payload_too_large"
    assert "1,000" in r.json_body["error"]["message"]
    _nothing_stored(api, "acme", pid)


def test_s3_import_path_caps_the_bomb(api, pid, monkeypatch):
    from chalicelib import aws
    from chalicelib.domain import uploads

    monkeypatch.setenv("MSO_UPLOAD_BUCKET", "uploads-test")
    monkeypatch.setenv("MSO_MAX_UPLOAD_BYTES", str(16 * 1024 * 1024))
    config.reset()
    aws.reset()
    s3 = aws.s3()
    s3.create_bucket(Bucket="uploads-test")
    slot = api.post(f"/api/projects/{pid}/sessions/1/transcript-upload").json_body
    key = uploads.S3_PREFIX + slot["upload_id"]
    s3.put_object(Bucket="uploads-test", Key=key, Body=gzip_bomb(4096))
    assert uploads.handle_s3_object("uploads-test", key) == "rejected"
    status = api.get(f"/api/uploads/{slot['upload_id']}").json_body
    assert status["status"] == "failed" and status["result"]["code"] == "transcript_too_large"
    _nothing_stored(api, "acme", pid)
    assert s3.list_objects_v2(Bucket="uploads-test").get("KeyCount", 0) == 0


def test_a_huge_message_is_cut_with_a_marker_saying_how_much(api, pid):
    big = "word " * 300_000  # 1.5 MB in one message
    body = json.dumps([{"role": "user", "content": "start"}, {"role": "assistant", "content": big},
                       {"role": "tool", "tool_call_id": "c", "content": "z" * 600_000}]).encode()
    r = api.put(f"/api/projects/{pid}/sessions/1/transcript?format=openai", raw=body,
                headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.body
    items = api.get(f"/api/projects/{pid}/sessions/1/transcript").json_body["items"]
    assert len(items) == 3 and items[0]["text"] == "start"
    for m in items[1:]:
        stored = json.dumps(m, ensure_ascii=False).encode()
        assert len(stored) < 256 * 1024 + 1024
    text = items[1]["text"]
    assert text.startswith("word word") and "characters cut" in text
    cut = int(text.rsplit("[", 1)[1].split(" characters cut")[0].replace(",", "").strip("… "))
    assert 1_200_000 < cut < 1_300_000
    assert r.json_body["clipped_messages"] == 2


def test_a_json_document_bomb_stops_at_the_document_limit(api, pid, monkeypatch):
    monkeypatch.setenv("MSO_MAX_DOCUMENT_BYTES", str(4 * 1024 * 1024))
    config.reset()
    head = b'[{"role": "user", "content": "hello"}, {"role": "assistant", "content": "'
    r = _put(api, pid, gzip_bomb(1024, prefix=head, fill=b"a"), fmt="openai")
    assert r.status_code == 413, r.body
    assert "4 MiB" in r.json_body["error"]["message"]
    _nothing_stored(api, "acme", pid)


def test_a_bad_byte_count_keeps_the_default_cap(monkeypatch):
    for bad in ("¹²", "-5", "nan", "0"):
        monkeypatch.setenv("MSO_MAX_UPLOAD_BYTES", bad)
        config.reset()
        assert config.settings().max_upload_bytes == 512 * 1024 * 1024
    config.reset()
