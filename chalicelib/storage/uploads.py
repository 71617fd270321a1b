"""Large-upload slots (presigned S3 PUT on AWS, a local PUT route with `make dev`)."""

from __future__ import annotations

from datetime import timedelta

from pynamodb.exceptions import UpdateError

from chalicelib.storage import keys
from chalicelib.storage.common import error_code, now_iso
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
    """waiting|failed -> importing; False when another delivery has it (or it is done).

    The claim is a lease like the session's import claim (storage/transcripts.claim_import): the
    import renews `claimed_at` as it runs, so one not renewed for IMPORT_LEASE_S was left by an
    import that died, and is retaken."""
    from chalicelib.storage.transcripts import lease_expired_before

    item = UploadItem(keys.upload_pk(upload_id), keys.UPLOAD_SK)
    stale = lease_expired_before()
    try:
        item.update(actions=[UploadItem.status.set("importing"), UploadItem.claimed_at.set(now_iso())],
                    condition=UploadItem.status.is_in("waiting", "failed")
                    | ((UploadItem.status == "importing") & (UploadItem.claimed_at < stale)))
    except UpdateError as e:
        if error_code(e) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def renew_slot(upload_id: str) -> None:
    """Renew an importing slot's lease; nothing when there is no such slot (a direct upload)."""
    try:
        UploadItem(keys.upload_pk(upload_id), keys.UPLOAD_SK).update(
            actions=[UploadItem.claimed_at.set(now_iso())], condition=UploadItem.status == "importing")
    except UpdateError as e:
        if error_code(e) != "ConditionalCheckFailedException":
            raise


def unclaim_slot(upload_id: str) -> None:
    """importing -> waiting: the import could not start (the session was busy); PUT again later."""
    UploadItem(keys.upload_pk(upload_id), keys.UPLOAD_SK).update(actions=[UploadItem.status.set("waiting")],
                                                                 condition=UploadItem.status == "importing")


def finish_slot(upload_id: str, status: str, result: dict) -> None:
    UploadItem(keys.upload_pk(upload_id), keys.UPLOAD_SK).update(
        actions=[UploadItem.status.set(status), UploadItem.result.set(result)])
