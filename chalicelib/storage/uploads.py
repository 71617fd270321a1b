"""Large-upload slots (presigned S3 PUT on AWS, a local PUT route with `make dev`)."""

from __future__ import annotations

from datetime import timedelta

from pynamodb.exceptions import UpdateError

from chalicelib.storage import keys
from chalicelib.storage.common import now_iso
from chalicelib.storage.models import UploadItem

SLOT_TTL = timedelta(days=2)


def create_slot(upload_id: str, *, tenant: str, project_id: str, number: int, fmt: str,
                conversation: str | None) -> UploadItem:
    item = UploadItem(keys.upload_pk(upload_id), keys.UPLOAD_SK, tenant=tenant, project_id=project_id,
                      number=number, format=fmt, conversation=conversation, created_at=now_iso(),
                      expires_at=SLOT_TTL)
    item.save(condition=UploadItem.PK.does_not_exist())
    return item


def get_slot(upload_id: str) -> UploadItem | None:
    try:
        return UploadItem.get(keys.upload_pk(upload_id), keys.UPLOAD_SK, consistent_read=True)
    except UploadItem.DoesNotExist:
        return None


def claim_slot(upload_id: str) -> bool:
    """waiting|failed -> importing; False when another delivery already has it (or it is done)."""
    item = UploadItem(keys.upload_pk(upload_id), keys.UPLOAD_SK)
    try:
        item.update(actions=[UploadItem.status.set("importing")],
                    condition=UploadItem.status.is_in("waiting", "failed"))
    except UpdateError as e:
        if e.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def finish_slot(upload_id: str, status: str, result: dict) -> None:
    UploadItem(keys.upload_pk(upload_id), keys.UPLOAD_SK).update(
        actions=[UploadItem.status.set(status), UploadItem.result.set(result)])
