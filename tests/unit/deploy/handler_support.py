"""The AWS side of the app under moto: a queue, the upload bucket, settings as on Lambda, and flows
that drive the worker and the importer the way SQS and S3 would."""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.unit.deploy.iam_support import Stack

STACK = Stack()
QUEUE_NAME = STACK.queue_arn.rsplit(":", 1)[-1]
BUCKET = STACK.upload_bucket  # the name the template gives the upload bucket
TENANT = "acme"  # conftest's tenant_token


@dataclass
class AwsEnv:
    sqs: Any
    s3: Any
    queue_url: str
    bucket: str

    def jobs(self) -> list[dict[str, Any]]:
        """Receive (and delete) every queued handoff job message."""
        out: list[dict[str, Any]] = []
        while True:
            msgs = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not msgs:
                return out
            for m in msgs:
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"])
            out += msgs

    def keys(self, prefix: str = "") -> list[str]:
        return [o["Key"] for o in self.s3.list_objects_v2(Bucket=self.bucket, Prefix=prefix).get("Contents", [])]


def setup_aws_env(monkeypatch: Any, **extra_env: str) -> AwsEnv:
    """Inside mock_aws: create the queue and bucket, set the environment the template gives Lambda."""
    import boto3

    from chalicelib import config

    sqs, s3 = boto3.client("sqs"), boto3.client("s3")
    url = sqs.create_queue(QueueName=QUEUE_NAME)["QueueUrl"]
    s3.create_bucket(Bucket=BUCKET)
    for k, v in {"MSO_JOBS": "sqs", "MSO_QUEUE_URL": url, "MSO_UPLOAD_BUCKET": BUCKET, **extra_env}.items():
        monkeypatch.setenv(k, v)
    config.reset()
    config.settings()  # cache now: chalice's test client patches the dev stage's env into requests
    return AwsEnv(sqs, s3, url, BUCKET)


def finished_session(api: Any, *, mode: str = "rules") -> str:
    """A project whose session 1 is completed (its handoff job queued). Returns the project id."""
    pid = api.post("/api/projects", {"name": "Deploy", "goal": "Run on AWS"}).json_body["id"]
    assert api.post(f"/api/projects/{pid}/sessions", {"title": "Package", "tasks_planned": 2}).status_code == 201
    r = api.post(f"/api/projects/{pid}/sessions/1/complete", {
        "status": "completed", "handoff_mode": mode, "tasks_completed": 2,
        "accomplishments": ["Template passes cfn-lint"], "next_steps": ["Deploy to eu-west-1 (TASK-9)"]})
    assert r.status_code == 202, r.body
    return pid


def sqs_event(client: Any, bodies: list[str]) -> dict[str, Any]:
    return client.events.generate_sqs_event(message_bodies=bodies, queue_name=QUEUE_NAME)


def upload_transcript(api: Any, env: AwsEnv, pid: str, data: bytes) -> dict[str, Any]:
    """Ask for a presigned URL and PUT the gzipped file there, as the dashboard does."""
    import requests

    slot = api.post(f"/api/projects/{pid}/sessions/1/transcript-upload?format=auto").json_body
    assert slot["upload_url"].split("?")[0].endswith(f"/uploads/{slot['upload_id']}")
    assert BUCKET in slot["upload_url"]
    r = requests.put(slot["upload_url"], data=gzip.compress(data), headers={"Content-Type": "application/gzip"},
                     timeout=30)
    assert r.status_code == 200, r.text
    assert env.keys("uploads/") == [f"uploads/{slot['upload_id']}"]
    return slot


def swe_agent_transcript(transcripts_dir: Path) -> bytes:
    return (transcripts_dir / "swe-agent" / "pydicom__pydicom-1458.traj").read_bytes()
