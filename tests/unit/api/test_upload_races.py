"""Concurrent imports of one session's transcript, and concurrent PUTs to one upload URL: exactly
one wins, the others get 409 and nothing of theirs is applied. The race is made deterministic by
starting the second request from inside the first one's import."""

from __future__ import annotations

import gzip
import json

import pytest

from chalicelib.storage import keys
from chalicelib.storage import transcripts as chunk_store
from chalicelib.storage.models import BaseItem

DOC_A = json.dumps([{"role": "user", "content": "first upload"}, {"role": "assistant", "content": "a"}]).encode()
DOC_B = json.dumps([{"role": "user", "content": "second upload"}, {"role": "assistant", "content": "b"},
                    {"role": "user", "content": "more"}]).encode()


@pytest.fixture
def pid(api):
    pid = api.post("/api/projects", {"name": "p"}).json_body["id"]
    api.post(f"/api/projects/{pid}/sessions", {})
    return pid


def _put(api, pid, data):
    return api.put(f"/api/projects/{pid}/sessions/1/transcript?format=auto", raw=data,
                   headers={"Content-Type": "application/octet-stream"})


def _during_first_import(monkeypatch, action):
    """Run `action()` once, while the first import is writing its chunks; return its outcomes."""
    real_add = chunk_store.ChunkWriter.add
    seen: list = []

    def add(self, message):
        if not seen:
            seen.append(None)
            seen[0] = action()
        return real_add(self, message)

    monkeypatch.setattr(chunk_store.ChunkWriter, "add", add)
    return seen


def _transcript_chunks(pid) -> set[str]:
    items = BaseItem.query(keys.project_pk("acme", pid), BaseItem.SK.startswith("TRANSCRIPT#"))
    return {i.SK.split("#")[2] for i in items}


def test_a_second_import_while_one_runs_gets_409_and_stores_nothing(api, pid, monkeypatch):
    inner = _during_first_import(monkeypatch, lambda: _put(api, pid, DOC_B))
    outer = _put(api, pid, DOC_A)
    assert outer.status_code == 200, outer.body
    assert inner[0].status_code == 409, inner[0].body
    assert inner[0].json_body["error"]["code"] == "import_in_progress"
    s = api.get(f"/api/projects/{pid}/sessions/1").json_body
    assert s["transcript"]["messages"] == 2
    assert _transcript_chunks(pid) == {outer.json_body["upload_id"]}
    monkeypatch.undo()
    again = _put(api, pid, DOC_B)  # once the first is done, a re-upload replaces it
    assert again.status_code == 200 and _transcript_chunks(pid) == {again.json_body["upload_id"]}


def test_a_failed_import_releases_the_session_for_the_next_one(api, pid):
    assert _put(api, pid, b"\xff\xfe not a transcript \x00").status_code == 400
    assert _put(api, pid, DOC_A).status_code == 200


def _slot(api, pid) -> str:
    r = api.post(f"/api/projects/{pid}/sessions/1/transcript-upload?format=auto")
    assert r.status_code == 201
    return r.json_body["upload_id"]


def _put_url(api, upload_id, data):
    return api.put(f"/api/uploads/{upload_id}", raw=gzip.compress(data), token=None,
                   headers={"Content-Type": "application/gzip"})


def test_a_second_put_to_one_upload_url_while_it_imports_gets_409(api, pid, monkeypatch):
    upload_id = _slot(api, pid)
    inner = _during_first_import(monkeypatch, lambda: _put_url(api, upload_id, DOC_B))
    outer = _put_url(api, upload_id, DOC_A)
    assert outer.status_code == 200, outer.body
    assert inner[0].status_code == 409 and inner[0].json_body["error"]["code"] == "upload_in_progress"
    assert api.get(f"/api/uploads/{upload_id}").json_body["status"] == "done"
    assert api.get(f"/api/projects/{pid}/sessions/1").json_body["transcript"]["messages"] == 2
    monkeypatch.undo()
    assert _put_url(api, upload_id, DOC_B).json_body == outer.json_body  # done: the same answer again


def test_an_upload_url_while_a_direct_import_runs_gets_409_and_can_be_retried(api, pid, monkeypatch):
    upload_id = _slot(api, pid)
    inner = _during_first_import(monkeypatch, lambda: _put_url(api, upload_id, DOC_B))
    assert _put(api, pid, DOC_A).status_code == 200
    assert inner[0].status_code == 409 and inner[0].json_body["error"]["code"] == "import_in_progress"
    assert api.get(f"/api/uploads/{upload_id}").json_body["status"] == "waiting"
    monkeypatch.undo()
    retry = _put_url(api, upload_id, DOC_B)
    assert retry.status_code == 200 and retry.json_body["messages"] == 3


def test_a_transcript_without_roles_answers_with_a_warning(api, pid):
    r = api.put(f"/api/projects/{pid}/sessions/1/transcript?format=auto", raw=b"# Notes\n\njust notes, no roles\n",
                headers={"Content-Type": "text/markdown"})
    assert r.status_code == 200, r.body
    assert [w["code"] for w in r.json_body["warnings"]] == ["no_roles_recognised"]
    ok = api.put(f"/api/projects/{pid}/sessions/1/transcript?format=auto", raw=b"User: hi\nAssistant: hello\n",
                 headers={"Content-Type": "text/plain"})
    assert ok.status_code == 200 and ok.json_body["warnings"] == []


def test_an_import_claim_left_by_a_dead_import_is_taken_over(api, pid):
    from chalicelib.storage.models import SessionItem

    SessionItem(keys.project_pk("acme", pid), keys.session_sk(1)).update(
        actions=[SessionItem.importing_upload.set("dead"), SessionItem.importing_since.set("2020-01-01T00:00:00.000Z")],
        add_version_condition=False)
    assert _put(api, pid, DOC_A).status_code == 200
    s = SessionItem.get(keys.project_pk("acme", pid), keys.session_sk(1))
    assert s.importing_upload is None and s.transcript.messages == 2


def test_an_upload_slot_left_importing_by_a_dead_import_is_taken_over(api, pid):
    from chalicelib.storage.models import UploadItem

    upload_id = _slot(api, pid)
    UploadItem(keys.upload_pk(upload_id), keys.UPLOAD_SK).update(
        actions=[UploadItem.status.set("importing"), UploadItem.claimed_at.set("2020-01-01T00:00:00.000Z")])
    r = _put_url(api, upload_id, DOC_A)
    assert r.status_code == 200 and r.json_body["messages"] == 2


def test_an_s3_delivery_meeting_a_running_import_keeps_the_object_for_the_retry(api, pid, monkeypatch):
    from chalicelib import aws
    from chalicelib.domain import uploads
    from chalicelib.errors import Conflict

    upload_id = _slot(api, pid)
    s3 = aws.s3()
    s3.create_bucket(Bucket="mso-uploads-test")
    s3.put_object(Bucket="mso-uploads-test", Key=uploads.S3_PREFIX + upload_id, Body=DOC_A)
    inner = _during_first_import(monkeypatch, lambda: _try(lambda: uploads.handle_s3_object("mso-uploads-test", uploads.S3_PREFIX
                                                                                             + upload_id)))
    assert _put(api, pid, DOC_B).status_code == 200
    assert isinstance(inner[0], Conflict) and inner[0].code == "import_in_progress"
    assert s3.get_object(Bucket="mso-uploads-test", Key=uploads.S3_PREFIX + upload_id)["Body"].read() == DOC_A  # kept
    monkeypatch.undo()
    assert uploads.handle_s3_object("mso-uploads-test", uploads.S3_PREFIX + upload_id) == "done"  # Lambda's retry
    assert api.get(f"/api/projects/{pid}/sessions/1").json_body["transcript"]["messages"] == 2


def _try(fn):
    try:
        return fn()
    except Exception as e:  # noqa: BLE001 - the test inspects it
        return e


def test_a_swap_that_committed_but_lost_its_answer_keeps_the_transcript(api, pid, monkeypatch):
    real = chunk_store.swap_transcript

    def lost(*a, **kw):
        real(*a, **kw)
        raise ConnectionError("the answer was lost after the commit")

    monkeypatch.setattr(chunk_store, "swap_transcript", lost)
    r = _put(api, pid, DOC_A)
    assert r.status_code == 200, r.body
    page = api.get(f"/api/projects/{pid}/sessions/1/transcript").json_body
    assert page["total"] == 2 and [m["text"] for m in page["items"]] == ["first upload", "a"]


def test_a_swap_that_failed_stores_nothing_and_frees_the_session(api, pid, monkeypatch):
    def failed(*a, **kw):
        raise ConnectionError("refused before the commit")

    monkeypatch.setattr(chunk_store, "swap_transcript", failed)
    assert _put(api, pid, DOC_A).status_code == 500
    assert _transcript_chunks(pid) == set()
    monkeypatch.undo()
    assert _put(api, pid, DOC_B).status_code == 200
