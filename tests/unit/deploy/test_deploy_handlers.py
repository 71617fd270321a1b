"""The SQS worker and the S3 importer, invoked as Lambda would invoke them (moto for AWS).

Events come from chalice.test's generators and go through `client.lambda_.invoke`, so the
decorators' wiring in app.py (names, event parsing) is exercised too. Both handlers must be
idempotent: SQS and S3 deliver at least once.
"""

from __future__ import annotations

import json

import pytest

from chalicelib.storage import keys
from chalicelib.storage.models import BaseItem
from chalicelib.storage.projects import get_project
from tests.unit.deploy.handler_support import (
    STACK,
    TENANT,
    finished_session,
    sqs_event,
    swe_agent_transcript,
    upload_transcript,
)


def test_worker_makes_the_handoff_once_per_job(api, client, env):
    pid = finished_session(api)
    h = api.get(f"/api/projects/{pid}/sessions/1/handoff").json_body
    assert h["status"] == "pending"  # queued on SQS, not built by the API
    messages = env.jobs()
    assert len(messages) == 1
    job = json.loads(messages[0]["Body"])
    assert job["tenant"] == TENANT and job["project_id"] == pid and job["number"] == 1

    event = sqs_event(client, [messages[0]["Body"]])
    client.lambda_.invoke("handoff_worker", event)
    ready = api.get(f"/api/projects/{pid}/sessions/1/handoff").json_body
    assert ready["status"] == "ready" and ready["method"] == "rules" and ready["version"] == 1
    assert "Deploy to eu-west-1 (TASK-9)" in ready["markdown"]
    assert get_project(TENANT, pid).handoffs_ready == 1

    client.lambda_.invoke("handoff_worker", event)  # SQS redelivers the same message
    again = api.get(f"/api/projects/{pid}/sessions/1/handoff").json_body
    assert again == ready
    project = get_project(TENANT, pid)
    assert project.handoffs_ready == 1 and project.latest_handoff == 1
    # the worker queues no handoff, only the session's search index update (one per run that made it ready)
    assert [json.loads(m["Body"]).get("type") for m in env.jobs()] == ["search_index"]


def test_worker_reads_the_llm_key_from_ssm_and_still_delivers_without_the_llm(api, client, env, monkeypatch):
    """On AWS the key is an SSM parameter; an unreachable LLM falls back to the rule-based handoff."""
    import boto3

    boto3.client("ssm").put_parameter(Name="/mso/llm-api-key", Value="hf_test_key", Type="SecureString")
    for k, v in {"MSO_LLM_API_KEY_SSM": "/mso/llm-api-key", "MSO_LLM_BASE_URL": "http://127.0.0.1:9/v1",
                 "MSO_LLM_MAX_RETRIES": "0", "MSO_LLM_TIMEOUT_S": "2", "MSO_LLM_DEADLINE_S": "5"}.items():
        monkeypatch.setenv(k, v)
    pid = finished_session(api, mode="auto")
    body = env.jobs()[0]["Body"]
    client.lambda_.invoke("handoff_worker", sqs_event(client, [body]))
    h = api.get(f"/api/projects/{pid}/sessions/1/handoff").json_body
    assert h["status"] == "ready" and h["method"] == "rules" and "LLM" in (h["reason"] or ""), h
    from chalicelib.llm.settings import _ssm_cache

    assert _ssm_cache == {"/mso/llm-api-key": "hf_test_key"}  # fetched once, kept for the container


def test_importer_imports_the_upload_and_deletes_it(api, client, env, transcripts_dir):
    pid = api.post("/api/projects", {"name": "Uploads"}).json_body["id"]
    api.post(f"/api/projects/{pid}/sessions", {})
    slot = upload_transcript(api, env, pid, swe_agent_transcript(transcripts_dir))
    key = f"uploads/{slot['upload_id']}"
    event = client.events.generate_s3_event(bucket=env.bucket, key=key, event_name="ObjectCreated:Put")

    client.lambda_.invoke("transcript_upload", event)
    assert env.keys() == []  # imported, then deleted
    status = api.get(f"/api/uploads/{slot['upload_id']}").json_body
    assert status["status"] == "done" and status["result"]["format"] == "swe-agent"
    session = api.get(f"/api/projects/{pid}/sessions/1").json_body
    chunks = BaseItem.count(keys.project_pk(TENANT, pid), BaseItem.SK.startswith("TRANSCRIPT#"))
    assert chunks >= 1 and session["transcript"]["messages"] == status["result"]["messages"]

    client.lambda_.invoke("transcript_upload", event)  # S3 delivers the same event again
    assert api.get(f"/api/uploads/{slot['upload_id']}").json_body == status
    assert api.get(f"/api/projects/{pid}/sessions/1").json_body["transcript"] == session["transcript"]
    assert BaseItem.count(keys.project_pk(TENANT, pid), BaseItem.SK.startswith("TRANSCRIPT#")) == chunks
    page = api.get(f"/api/projects/{pid}/sessions/1/transcript?limit=100").json_body
    assert len(page["items"]) == min(100, status["result"]["messages"])


def test_importer_ignores_objects_it_does_not_know(client, env):
    env.s3.put_object(Bucket=env.bucket, Key="uploads/not-a-slot", Body=b"hello")
    client.lambda_.invoke("transcript_upload", client.events.generate_s3_event(bucket=env.bucket,
                                                                               key="uploads/not-a-slot"))
    assert env.keys() == ["uploads/not-a-slot"]  # left for the bucket's 1-day lifecycle rule


def test_a_failed_job_comes_back_soon_and_heals(api, client, env, monkeypatch):
    """A fault that is not the LLM's (here: the generator raising) fails the invocation; the worker
    makes the message visible again after a short back-off instead of the queue's 30 minutes."""
    from chalicelib import config
    from chalicelib.domain import handoffs

    monkeypatch.setenv("MSO_RETRY_BASE_S", "0")  # the first back-off step, made instant for the test
    config.reset()
    config.settings()
    pid = finished_session(api)
    real = handoffs.generate
    monkeypatch.setattr(handoffs, "generate", lambda *a, **k: (_ for _ in ()).throw(ConnectionError("throttled")))

    msg = env.sqs.receive_message(QueueUrl=env.queue_url, AttributeNames=["All"],
                                  VisibilityTimeout=1800)["Messages"][0]
    event = {"Records": [{"body": msg["Body"], "receiptHandle": msg["ReceiptHandle"], "messageId": msg["MessageId"],
                          "attributes": {"ApproximateReceiveCount": msg["Attributes"]["ApproximateReceiveCount"]},
                          "eventSource": "aws:sqs", "eventSourceARN": STACK.queue_arn}]}
    with pytest.raises(ConnectionError):
        client.lambda_.invoke("handoff_worker", event)
    assert api.get(f"/api/projects/{pid}/sessions/1/handoff").json_body["status"] == "failed"
    again = env.sqs.receive_message(QueueUrl=env.queue_url).get("Messages", [])
    assert [m["Body"] for m in again] == [msg["Body"]]  # visible again at once, not after 30 minutes

    monkeypatch.setattr(handoffs, "generate", real)
    client.lambda_.invoke("handoff_worker", sqs_event(client, [again[0]["Body"]]))
    healed = api.get(f"/api/projects/{pid}/sessions/1/handoff").json_body
    assert healed["status"] == "ready" and healed["version"] == 1 and healed["attempts"] == 2
