"""The index's storage on moto S3 + DynamoDB: upload and cold download, ETag revalidation, the
one-writer lease under concurrent writers, a lost lease, and the rebuild from the table."""

from __future__ import annotations

import json
import threading
import time
from urllib.parse import quote

import pytest

from chalicelib.errors import ServiceUnavailable
from chalicelib.search import index, service, store
from chalicelib.search.documents import Row

BUCKET = "mso-test-uploads"


@pytest.fixture
def s3(aws, monkeypatch):
    from chalicelib import aws as clients
    from chalicelib import config

    monkeypatch.setenv("MSO_UPLOAD_BUCKET", BUCKET)
    config.reset()
    clients.s3().create_bucket(Bucket=BUCKET)
    store.forget_cache()
    yield clients.s3()
    store.forget_cache()
    config.reset()


def _import(api, pid, n, text: str) -> None:
    r = api.put(f"/api/projects/{pid}/sessions/{n}/transcript?format=text", raw=text.encode(),
                headers={"Content-Type": "text/plain"})
    assert r.status_code == 200, r.body


def _hits(api, pid, q):
    return api.get(f"/api/projects/{pid}/search?q={quote(q)}&limit=50").json_body["items"]


@pytest.fixture
def project(api, s3):
    pid = api.post("/api/projects", {"name": "p"}).json_body["id"]
    for _ in range(2):
        api.post(f"/api/projects/{pid}/sessions", {})
    _import(api, pid, 1, "User: the walrus cache is stale\nAssistant: cleared the walrus cache\n")
    _import(api, pid, 2, "User: ship the otter release\nAssistant: otter shipped\n")
    return pid


def test_index_is_an_object_per_tenant_and_project_and_a_cold_reader_downloads_it(api, s3, project):
    key = store.object_key("acme", project, "s0")
    assert key == f"search/acme/{project}/s0.sqlite"
    head = s3.head_object(Bucket=BUCKET, Key=key)
    assert head["ContentLength"] > 0
    store.forget_cache()  # a new container: nothing in /tmp
    assert {h["session"] for h in _hits(api, project, "walrus")} == {1}


def test_a_reader_revalidates_by_etag_and_sees_another_writers_rows(api, s3, project, monkeypatch):
    assert _hits(api, project, "narwhal") == []
    # another container writes the index: here, the object is replaced behind this cache's back
    with store.writing("acme", project, "s0") as w:
        index.replace_part(w.conn, "notes", 2, [Row("note", "the narwhal note", 2, None, None, "note:1")])
    store._cache.clear()  # this container still holds the older copy's entry ...
    assert _hits(api, project, "narwhal")  # ... and a fresh check finds the new ETag
    monkeypatch.setattr(store, "FRESH_S", 0.0)
    assert _hits(api, project, "narwhal")  # a 304 keeps the copy


def test_concurrent_writers_take_turns_and_both_rows_survive(s3, api, project):
    order: list[str] = []
    first_in = threading.Event()

    def writer(name: str, hold: float, owner: int) -> None:
        with store.writing("acme", project, "s0") as w:
            order.append(f"{name} in")
            first_in.set()
            time.sleep(hold)  # a long write: the other writer must wait for the lease, not interleave
            index.replace_part(w.conn, "notes", owner, [Row("note", f"{name} wrote this", owner, None, None,
                                                            "note:1")])
            order.append(f"{name} out")

    a = threading.Thread(target=writer, args=("alpha", 0.5, 101))
    a.start()
    first_in.wait(5)
    b = threading.Thread(target=writer, args=("beta", 0.0, 102))
    b.start()
    a.join(10)
    b.join(10)
    assert order == ["alpha in", "alpha out", "beta in", "beta out"]
    store.forget_cache()
    assert _hits(api, project, "alpha") and _hits(api, project, "beta")
    assert _hits(api, project, "walrus")  # the imports' rows were kept by both writers


def test_a_writer_that_cannot_get_the_lease_gives_up_with_503(s3, project):
    with store.writing("acme", project, "s0"), pytest.raises(ServiceUnavailable) as e, \
            store.writing("acme", project, "s0", wait_s=0.3):
        pass
    assert e.value.code == "search_index_busy"


def test_a_writer_that_lost_its_lease_stores_nothing(s3, api, project):
    from chalicelib.storage import keys

    before = s3.head_object(Bucket=BUCKET, Key=store.object_key("acme", project, "s0"))["ETag"]
    with pytest.raises(store.LeaseLost), store.writing("acme", project, "s0") as w:
        index.replace_part(w.conn, "notes", 9, [Row("note", "should never be stored", 9, None, None, "note:1")])
        item = store.SearchLeaseItem.get(keys.project_pk("acme", project), store.lease_sk("s0"))
        item.owner = "someone-else"  # the lease expired and another writer took it
        item.save()
    assert s3.head_object(Bucket=BUCKET, Key=store.object_key("acme", project, "s0"))["ETag"] == before
    store.forget_cache()
    assert _hits(api, project, "never") == []


def test_reindex_rebuilds_from_the_table(s3, api, project):
    from chalicelib.search.reindex import reindex

    store.delete_index("acme", project)
    assert _hits(api, project, "walrus") == []
    api.post(f"/api/projects/{project}/knowledge", {"title": "Walrus caches expire hourly", "body": "TTL 3600"})
    out = reindex("acme")
    assert out[0]["project_id"] == project and out[0]["sessions"] == 2
    store.forget_cache()
    kinds = {h["kind"] for h in _hits(api, project, "walrus")}
    assert {"prompt", "assistant", "knowledge"} <= kinds
    assert {h["session"] for h in _hits(api, project, "otter")} == {2}


def test_reindex_job_message_and_unknown_session(s3, api, project):
    assert service.run_job({"type": service.JOB_REINDEX, "tenant": "acme", "project_id": project})["sessions"] == 2
    assert service.run_job({"type": service.JOB_INDEX, "tenant": "acme", "project_id": project, "number": 99}) == {}


def test_the_worker_lambda_dispatches_search_messages(s3, api, project, monkeypatch):
    import app as app_module

    seen = []
    monkeypatch.setattr(service, "run_job", lambda job: seen.append(job))
    body = {"type": "search_index", "tenant": "acme", "project_id": project, "number": 1}
    event = {"Records": [{"body": json.dumps(body), "receiptHandle": "r", "attributes": {},
                          "messageAttributes": {}, "eventSourceARN": "arn:aws:sqs:us-east-1:1:q", "messageId": "m"}]}
    app_module.handoff_worker(event, None)
    assert seen == [body]


def test_a_damaged_index_is_503_and_the_cross_project_search_still_answers(api, s3, project):
    from chalicelib.search.store import object_key

    other = api.post("/api/projects", {"name": "q"}).json_body["id"]
    api.post(f"/api/projects/{other}/sessions", {})
    _import(api, other, 1, "User: the walrus migrates\n")
    s3.put_object(Bucket=BUCKET, Key=object_key("acme", project, "s0"), Body=b"not a database" * 100)
    store.forget_cache()
    r = api.get(f"/api/projects/{project}/search?q=walrus")
    assert r.status_code == 503 and r.json_body["error"]["code"] == "search_unavailable"
    hits = api.get("/api/search?q=walrus").json_body["items"]
    assert {h["project_id"] for h in hits} == {other}


def test_readers_and_a_writer_in_threads_never_fail(s3, api, project):
    """Queries keep answering while writers replace the cached copy under them."""
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            try:
                assert service.search_project("acme", project, "walrus")["items"]
            except BaseException as e:  # noqa: BLE001 - collected and asserted below
                errors.append(e)
                return

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    for k in range(5):
        with store.writing("acme", project, "s0") as w:
            index.replace_part(w.conn, "notes", 50 + k, [Row("note", f"note {k}", 1, None, None, "note:1")])
    stop.set()
    for t in threads:
        t.join(10)
    assert errors == []


def test_deleting_the_project_deletes_its_index(s3, api, project):
    from botocore.exceptions import ClientError

    assert api.delete(f"/api/projects/{project}").status_code == 200
    with pytest.raises(ClientError):
        s3.head_object(Bucket=BUCKET, Key=store.object_key("acme", project, "s0"))
