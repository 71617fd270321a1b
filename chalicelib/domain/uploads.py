"""Large transcripts: a presigned S3 PUT (AWS) or a local PUT route (`make dev`), then one import.

The upload id is an unguessable capability, as a presigned URL is; its slot in the table says
which tenant, project and session the object belongs to. Importing the same upload twice (S3
events are at-least-once) writes the same chunks under the same id: the result is identical.
"""

from __future__ import annotations

import secrets
from typing import Any, BinaryIO

from chalicelib import aws
from chalicelib.config import settings
from chalicelib.domain.transcripts import import_transcript
from chalicelib.errors import AppError, Conflict, NotFound, PayloadTooLarge
from chalicelib.storage import uploads as store
from chalicelib.storage.sessions import get_session

URL_TTL_S = 3600
S3_PREFIX = "uploads/"


def start_upload(tenant: str, project_id: str, number: int, *, fmt: str, conversation: str | None,
                 base_url: str) -> dict[str, Any]:
    get_session(tenant, project_id, number)
    upload_id = secrets.token_urlsafe(24)
    store.create_slot(upload_id, tenant=tenant, project_id=project_id, number=number, fmt=fmt,
                      conversation=conversation)
    bucket = settings().upload_bucket
    if bucket:
        url = aws.s3().generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": S3_PREFIX + upload_id},
                                           ExpiresIn=URL_TTL_S)
    else:
        url = f"{base_url.rstrip('/')}/api/uploads/{upload_id}"
    return {"upload_id": upload_id, "upload_url": url, "method": "PUT", "expires_in": URL_TTL_S,
            "status_url": f"/api/uploads/{upload_id}",
            "how": "PUT the raw file (gzip allowed) to upload_url; then GET status_url with your token"}


def check_upload(upload_id: str) -> None:
    """404 unless `upload_id` names a live upload slot: the id is the upload URL's only credential,
    so a server checks it before reading (or storing) a byte of the body."""
    if store.get_slot(upload_id) is None:
        raise NotFound("unknown or expired upload id: ask for a new one with POST .../transcript-upload",
                       code="upload_not_found")


def import_upload(upload_id: str, raw: BinaryIO, *, size: int | None = None) -> dict[str, Any]:
    """Import an upload's body once (`size`: its length when known, checked against the body limit).

    Of concurrent PUTs (or S3 deliveries) of one upload, the one that claims the slot imports; the
    others get 409 `upload_in_progress` and read nothing. Once it is done, a PUT again answers the
    same result. When the session is busy with another import, the slot goes back to `waiting`
    (409 `import_in_progress`): the same PUT can be retried."""
    slot = store.get_slot(upload_id)
    if slot is None:
        raise NotFound("unknown or expired upload id: ask for a new one with POST .../transcript-upload",
                       code="upload_not_found")
    if slot.status == "done" and slot.result:
        return dict(slot.result)
    if not store.claim_slot(upload_id):
        slot = store.get_slot(upload_id)
        if slot is not None and slot.status == "done" and slot.result:
            return dict(slot.result)
        raise Conflict("this upload is being imported by another request; GET its status_url to follow it",
                       code="upload_in_progress")
    try:
        if size is not None and size > settings().max_upload_body_bytes:
            raise PayloadTooLarge(
                f"the upload is {size:,} bytes; an upload URL takes at most {settings().max_upload_body_bytes:,} "
                "(gzip the file first: transcripts compress about 10 times)", code="payload_too_large")
        result = import_transcript(slot.tenant, slot.project_id, int(slot.number), raw, fmt=slot.format,
                                   conversation=slot.conversation, upload_id=upload_id,
                                   max_bytes=settings().max_upload_bytes)
    except Conflict:
        store.unclaim_slot(upload_id)
        raise
    except AppError as e:
        store.finish_slot(upload_id, "failed", e.to_dict()["error"])
        raise
    store.finish_slot(upload_id, "done", result)
    return result


def upload_status(tenant: str, upload_id: str) -> dict[str, Any]:
    slot = store.get_slot(upload_id)
    if slot is None or slot.tenant != tenant:
        raise NotFound("unknown or expired upload id", code="upload_not_found")
    return {"upload_id": upload_id, "status": slot.status, "project_id": slot.project_id,
            "number": int(slot.number), "result": slot.result}


def handle_s3_object(bucket: str, key: str) -> str:
    """The S3 event handler's work: import the object, then delete it. Returns the outcome."""
    if not key.startswith(S3_PREFIX):
        return "ignored"
    upload_id = key[len(S3_PREFIX):]
    slot = store.get_slot(upload_id)
    if slot is None:
        return "unknown"
    if slot.status == "done":
        return "duplicate"
    s3 = aws.s3()
    obj = s3.get_object(Bucket=bucket, Key=key)
    body = obj["Body"]  # a stream: read as it is imported, never whole
    try:
        import_upload(upload_id, body, size=obj.get("ContentLength"))
        outcome = "done"
    except Conflict:
        body.close()
        raise  # another import runs: keep the object; the failed invocation is retried by Lambda
    except AppError:
        outcome = "rejected"  # bad input: recorded on the slot, not retried
    finally:
        body.close()
    s3.delete_object(Bucket=bucket, Key=key)
    return outcome
