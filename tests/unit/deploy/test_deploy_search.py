"""The search index on the AWS wiring (moto): an import queues a search_index message, the worker
Lambda builds the index into the upload bucket under search/, and the API reads it from there."""

from __future__ import annotations

import json

from tests.unit.deploy.handler_support import BUCKET, TENANT, sqs_event


def test_import_queues_the_index_job_the_worker_writes_s3_and_the_api_reads_it(api, client, env):
    from chalicelib.search import store

    pid = api.post("/api/projects", {"name": "Deploy"}).json_body["id"]
    api.post(f"/api/projects/{pid}/sessions", {})
    r = api.put(f"/api/projects/{pid}/sessions/1/transcript?format=text",
                raw=b"User: the heron deploy stalls on eu-west-1\nAssistant: raised the timeout\n",
                headers={"Content-Type": "text/plain"})
    assert r.status_code == 200, r.body
    bodies = [m["Body"] for m in env.jobs()]
    assert [json.loads(b)["type"] for b in bodies] == ["search_index"]  # queued, not run by the API
    assert api.get(f"/api/projects/{pid}/search?q=heron").json_body["items"] == []  # not indexed yet

    client.lambda_.invoke("handoff_worker", sqs_event(client, bodies))
    head = env.s3.head_object(Bucket=BUCKET, Key=f"search/{TENANT}/{pid}/s0.sqlite")
    assert head["ContentLength"] > 0
    store.forget_cache()  # the API's container downloads it
    hits = api.get(f"/api/projects/{pid}/search?q=heron").json_body["items"]
    assert [(h["session"], h["message_index"], h["kind"]) for h in hits] == [(1, 0, "prompt")]


def test_the_worker_role_may_migrate_a_first_layout_index_into_shards(packaged, api, client, env):
    """A project whose index is still one file (the first layout) is rebuilt into shards by the worker's
    next index job: it lists and deletes search/* objects, which its role must allow (and the API's
    searches read a missing shard as 'none yet', which needs s3:ListBucket on real S3, else a 403)."""
    from chalicelib.search import store
    from tests.unit.deploy.handler_support import STACK
    from tests.unit.deploy.iam_support import denied, recording_calls, role_policy

    pid = api.post("/api/projects", {"name": "Old"}).json_body["id"]
    api.post(f"/api/projects/{pid}/sessions", {})
    api.put(f"/api/projects/{pid}/sessions/1/transcript?format=text",
            raw=b"User: the egret migrates\nAssistant: noted\n", headers={"Content-Type": "text/plain"})
    bodies = [m["Body"] for m in env.jobs()]
    env.s3.put_object(Bucket=BUCKET, Key=f"search/{TENANT}/{pid}.sqlite", Body=b"first layout")
    with recording_calls() as calls:
        client.lambda_.invoke("handoff_worker", sqs_event(client, bodies))
    assert denied(role_policy(packaged.template, "HandoffWorker", STACK), calls) == []
    assert {op for s, op, _ in calls if s == "s3"} >= {"ListObjectsV2", "DeleteObject", "PutObject"}
    keys = {o["Key"] for o in env.s3.list_objects_v2(Bucket=BUCKET, Prefix=f"search/{TENANT}/{pid}")["Contents"]}
    assert keys == {f"search/{TENANT}/{pid}/s0.sqlite", f"search/{TENANT}/{pid}/p.sqlite"}
    store.forget_cache()
    with recording_calls() as calls:
        hits = api.get(f"/api/projects/{pid}/search?q=egret").json_body["items"]
    assert [h["session"] for h in hits] == [1]
    assert denied(role_policy(packaged.template, "APIHandler", STACK), calls) == []
