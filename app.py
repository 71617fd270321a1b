"""Multi-Session Orchestrator: the Chalice app and its Lambda entry points.

Everything importable lives in chalicelib/; this file only wires it up:
- `app` (API handler): the REST API and, with `make dev`, the dashboard (chalicelib.api);
- `handoff_worker`: builds handoffs from the SQS job queue (the only code that calls an LLM);
- `transcript_upload`: imports large transcripts PUT to the upload bucket through presigned URLs.
"""

import json
import os

from chalice import Chalice

from chalicelib import api, logs
from chalicelib.storage.models import configure

logs.configure()
configure()

app = Chalice(app_name="mso")
app.api.binary_types.extend(["application/gzip", "application/x-gzip"])
api.register(app)

# Resource names are fixed at package time; the deploy template creates resources with these names.
QUEUE_NAME = os.environ.get("MSO_QUEUE_NAME", "mso-handoff-jobs")
UPLOAD_BUCKET = os.environ.get("MSO_UPLOAD_BUCKET_NAME", "mso-transcript-uploads")


@app.on_sqs_message(queue=QUEUE_NAME, batch_size=1, name="handoff_worker")
def handoff_worker(event):
    """One job per message: a handoff (a duplicate delivery is recognised and skipped), or a search
    index update (`type` search_index / search_reindex: chalicelib.search.service.run_job)."""
    from chalicelib.domain.handoffs import run_job
    from chalicelib.search.service import is_search_job
    from chalicelib.search.service import run_job as run_search_job

    for record in event:
        try:
            job = json.loads(record.body)
            (run_search_job if is_search_job(job) else run_job)(job)
        except Exception:
            from chalicelib.jobs import retry_later

            attrs = record.to_dict().get("attributes") or {}
            retry_later(record.receipt_handle, int(attrs.get("ApproximateReceiveCount", 1)))
            raise  # the handoff item says "failed"; SQS redelivers the message (DLQ after 5 tries)


@app.on_s3_event(bucket=UPLOAD_BUCKET, events=["s3:ObjectCreated:*"], prefix="uploads/", name="transcript_upload")
def transcript_upload(event):
    """Import a transcript uploaded through a presigned URL, then delete the object."""
    from chalicelib.domain.uploads import handle_s3_object

    handle_s3_object(event.bucket, event.key)
