"""Least privilege that still works: every AWS call a function makes is allowed by its own role.

Each function's real code runs under moto while every botocore call is recorded; each call is
mapped to the IAM action and resource ARN it needs and checked against the packaged template's
policy for that function (resolved for a stack in account 123456789012, us-east-1, like moto).
"""

from __future__ import annotations

import gzip
from urllib.parse import urlparse

from tests.unit.deploy.handler_support import (
    STACK,
    finished_session,
    sqs_event,
    swe_agent_transcript,
    upload_transcript,
)
from tests.unit.deploy.iam_support import allows, denied, recording_calls, role_policy


def _services(calls):
    return {f"{s}:{op}" for s, op, _ in calls}


def test_api_role_covers_the_api(packaged, api, client, env, transcripts_dir):
    policy = role_policy(packaged.template, "APIHandler", STACK)
    with recording_calls() as calls:
        acct = api.post("/api/accounts", {"name": "Work", "provider": "anthropic", "credit_budget": 100}).json_body
        api.get("/api/accounts")
        api.get(f"/api/accounts/{acct['id']}")
        pid = finished_session(api)
        api.patch(f"/api/projects/{pid}", {"description": "AWS"})
        api.put(f"/api/projects/{pid}/pins", ["Never deploy on Fridays"])
        api.get(f"/api/projects/{pid}/pins")
        api.post(f"/api/projects/{pid}/sessions", {"title": "Second", "ai_account": acct["id"]})
        api.get("/api/sessions/in-progress")  # GSI1
        api.patch(f"/api/projects/{pid}/sessions/2", {"credits_used": 3, "ai_account": acct["id"]})
        api.put(f"/api/projects/{pid}/sessions/2/transcript?format=text", raw=b"user: hello\nassistant: hi\n",
                headers={"Content-Type": "text/plain"})
        api.get(f"/api/projects/{pid}/sessions/2/transcript")
        api.put(f"/api/projects/{pid}/sessions/2/files", [{"path": "app.py", "kind": "modified",
                                                           "lines_added": 3, "lines_removed": 1}])
        api.get(f"/api/projects/{pid}/sessions/2/files")
        api.get(f"/api/projects/{pid}/files?path=app.py")  # GSI1: a file's history
        api.post(f"/api/projects/{pid}/sessions/1/handoff", {"mode": "rules"})
        api.get(f"/api/projects/{pid}/sessions/1/handoff")
        api.post(f"/api/projects/{pid}/knowledge", {"title": "Pin versions", "body": "Always.", "kind": "lesson"})
        api.get(f"/api/projects/{pid}/knowledge")
        api.get("/api/knowledge")
        api.get("/api/projects")
        api.get(f"/api/projects/{pid}/sessions")
        api.get("/api/stats")
        api.get(f"/api/projects/{pid}/analytics")
        slot = api.post(f"/api/projects/{pid}/sessions/2/transcript-upload").json_body
        api.get(f"/api/uploads/{slot['upload_id']}")
        assert api.delete(f"/api/projects/{pid}").status_code in (200, 202, 204)
    made = _services(calls)
    assert {"dynamodb:TransactWriteItems", "dynamodb:Query", "sqs:SendMessage", "dynamodb:BatchWriteItem"} <= made
    assert any(op == "Query" and p.get("IndexName") for s, op, p in calls)
    assert denied(policy, calls) == []
    worker = role_policy(packaged.template, "HandoffWorker", STACK)
    assert denied(worker, calls)  # the check can fail: the API's calls are not all the worker's
    # Presigning makes no call, but the URL only works if the role may PutObject on that key.
    url = urlparse(slot["upload_url"])
    assert allows(policy, "s3:PutObject", f"arn:aws:s3:::{STACK.upload_bucket}/uploads/{slot['upload_id']}")
    assert url.path.endswith(f"/uploads/{slot['upload_id']}")


def test_worker_role_covers_the_worker(packaged, api, client, env, monkeypatch):
    import boto3

    policy = role_policy(packaged.template, "HandoffWorker", STACK)
    boto3.client("ssm").put_parameter(Name=STACK.llm_parameter, Value="k", Type="SecureString")
    for k, v in {"MSO_LLM_API_KEY_SSM": STACK.llm_parameter, "MSO_LLM_BASE_URL": "http://127.0.0.1:9/v1",
                 "MSO_LLM_MAX_RETRIES": "0", "MSO_LLM_TIMEOUT_S": "2", "MSO_LLM_DEADLINE_S": "5"}.items():
        monkeypatch.setenv(k, v)
    finished_session(api, mode="auto")
    body = env.jobs()[0]["Body"]
    with recording_calls() as calls:
        client.lambda_.invoke("handoff_worker", sqs_event(client, [body]))
        client.lambda_.invoke("handoff_worker", sqs_event(client, [body]))
    assert "ssm:GetParameter" in _services(calls) and "dynamodb:TransactWriteItems" in _services(calls)
    assert denied(policy, calls) == []
    # SQS polling is done by the event source mapping with the function's role:
    for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"):
        assert allows(policy, action, STACK.queue_arn)


def test_importer_role_covers_the_importer(packaged, api, client, env, transcripts_dir):
    policy = role_policy(packaged.template, "TranscriptUpload", STACK)
    pid = api.post("/api/projects", {"name": "Uploads"}).json_body["id"]
    api.post(f"/api/projects/{pid}/sessions", {})
    slot = upload_transcript(api, env, pid, swe_agent_transcript(transcripts_dir))
    event = client.events.generate_s3_event(bucket=env.bucket, key=f"uploads/{slot['upload_id']}")
    # and a bad upload, which is recorded as failed (another write path)
    bad = api.post(f"/api/projects/{pid}/sessions/1/transcript-upload?format=codex").json_body
    env.s3.put_object(Bucket=env.bucket, Key=f"uploads/{bad['upload_id']}", Body=gzip.compress(b"\x00\x01binary"))
    bad_event = client.events.generate_s3_event(bucket=env.bucket, key=f"uploads/{bad['upload_id']}")
    with recording_calls() as calls:
        client.lambda_.invoke("transcript_upload", event)
        client.lambda_.invoke("transcript_upload", event)
        client.lambda_.invoke("transcript_upload", bad_event)
    assert {"s3:GetObject", "s3:DeleteObject"} <= _services(calls)
    assert denied(policy, calls) == []
    assert api.get(f"/api/uploads/{bad['upload_id']}").json_body["status"] == "failed"
