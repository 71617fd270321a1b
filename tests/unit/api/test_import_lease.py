"""An import's claim on its session is a short lease renewed while it imports (issue 20, item 3:
after an outage, a claim left by a request that died with the database refused every upload for
6 minutes). The race style follows test_upload_races.py: the second request is started from inside
the first one's import."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.storage import keys
from chalicelib.storage import transcripts as chunk_store
from chalicelib.storage.models import BaseItem, SessionItem, UploadItem

DOC_A = json.dumps([{"role": "user", "content": "first upload"}, {"role": "assistant", "content": "a"},
                    {"role": "user", "content": "and more"}]).encode()
DOC_B = json.dumps([{"role": "user", "content": "second upload"}, {"role": "assistant", "content": "b"}]).encode()


@pytest.fixture
def pid(api):
    pid = api.post("/api/projects", {"name": "p"}).json_body["id"]
    api.post(f"/api/projects/{pid}/sessions", {})
    return pid


def _put(api, pid, data):
    return api.put(f"/api/projects/{pid}/sessions/1/transcript?format=auto", raw=data,
                   headers={"Content-Type": "application/octet-stream"})


def _ago(seconds: float) -> str:
    return (datetime.now(UTC) - timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _claim(pid, upload_id: str, renewed: str) -> None:
    SessionItem(keys.project_pk("acme", pid), keys.session_sk(1)).update(
        actions=[SessionItem.importing_upload.set(upload_id), SessionItem.importing_since.set(renewed)],
        add_version_condition=False)


def _session(pid) -> SessionItem:
    return SessionItem.get(keys.project_pk("acme", pid), keys.session_sk(1), consistent_read=True)


def _chunks(pid) -> set[str]:
    return {i.SK.split("#")[2] for i in BaseItem.query(keys.project_pk("acme", pid),
                                                       BaseItem.SK.startswith("TRANSCRIPT#"))}


def test_a_claim_left_by_a_request_that_died_is_taken_over_within_a_minute(api, pid):
    _claim(pid, "died-with-the-database", _ago(chunk_store.IMPORT_LEASE_S + 15))  # 45 s: before, 6 min
    r = _put(api, pid, DOC_A)
    assert r.status_code == 200, r.body
    s = _session(pid)
    assert s.importing_upload is None and s.transcript.messages == 3
    assert chunk_store.IMPORT_LEASE_S <= 60


def test_a_claim_renewed_within_its_lease_still_refuses_a_second_import(api, pid):
    _claim(pid, "running", _ago(5))
    r = _put(api, pid, DOC_B)
    assert r.status_code == 409 and r.json_body["error"]["code"] == "import_in_progress"
    assert _session(pid).importing_upload == "running" and _chunks(pid) == set()


def _during_import(monkeypatch, steps):
    """Run steps[k]() just before the first import adds its message k (0-based); outcomes by k."""
    real_add = chunk_store.ChunkWriter.add
    seen: dict[int, object] = {}
    count = {"n": 0}

    def add(self, message):
        k = count["n"]
        count["n"] += 1
        if k in steps and k not in seen:
            seen[k] = steps[k]()
        return real_add(self, message)

    monkeypatch.setattr(chunk_store.ChunkWriter, "add", add)
    return seen


def test_a_long_import_renews_its_lease_so_no_second_import_runs_beside_it(api, pid, monkeypatch):
    monkeypatch.setattr(chunk_store, "RENEW_EVERY_S", 0)  # renew at every message
    holder = {}

    def lease_looks_old():  # as if the import had been running for minutes
        holder["id"] = _session(pid).importing_upload
        _claim(pid, holder["id"], "2020-01-01T00:00:00.000Z")

    seen = _during_import(monkeypatch, {0: lease_looks_old, 2: lambda: _put(api, pid, DOC_B)})
    first = _put(api, pid, DOC_A)
    assert first.status_code == 200, first.body
    assert seen[2].status_code == 409 and seen[2].json_body["error"]["code"] == "import_in_progress"
    assert _session(pid).transcript.messages == 3 and _chunks(pid) == {first.json_body["upload_id"]}


def test_an_import_that_lost_its_lease_stops_and_stores_nothing(api, pid, monkeypatch):
    monkeypatch.setattr(chunk_store, "RENEW_EVERY_S", 0)
    seen = _during_import(monkeypatch, {1: lambda: _claim(pid, "the-next-upload", _ago(0))})  # taken over
    r = _put(api, pid, DOC_A)
    assert r.status_code == 409 and r.json_body["error"]["code"] == "import_in_progress"
    assert 1 in seen and _session(pid).transcript is None and _chunks(pid) == set()
    assert _session(pid).importing_upload == "the-next-upload"


def test_an_upload_url_slot_left_importing_is_taken_over_within_a_minute(api, pid):
    r = api.post(f"/api/projects/{pid}/sessions/1/transcript-upload?format=auto")
    upload_id = r.json_body["upload_id"]
    UploadItem(keys.upload_pk(upload_id), keys.UPLOAD_SK).update(
        actions=[UploadItem.status.set("importing"), UploadItem.claimed_at.set(_ago(chunk_store.IMPORT_LEASE_S + 15))])
    r = api.put(f"/api/uploads/{upload_id}", raw=gzip.compress(DOC_A), token=None,
                headers={"Content-Type": "application/gzip"})
    assert r.status_code == 200 and r.json_body["messages"] == 3, r.body
