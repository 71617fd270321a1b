"""Transcript, file-change and large-upload routes."""

from __future__ import annotations

import io
from typing import Any

from chalice import Blueprint

from chalicelib.api import responses as R
from chalicelib.api import schemas
from chalicelib.api.common import Ctx, endpoint
from chalicelib.config import settings
from chalicelib.domain import transcripts, uploads
from chalicelib.errors import BadRequest, PayloadTooLarge
from chalicelib.transcripts.importing import FORMATS

bp = Blueprint(__name__)
BASE = "/api/projects/{project_id}/sessions/{number}"
# Lambda caps request payloads at 6 MB, and API Gateway base64-encodes binary (gzip) bodies (+33%):
# 4 MiB keeps every accepted body inside the limit, so the client gets our 413, not API Gateway's.
MAX_TRANSCRIPT_BODY = 4 * 1024 * 1024
RAW_TYPES = ["application/json", "application/x-ndjson", "application/jsonl", "application/x-jsonlines",
             "text/plain", "text/markdown", "text/x-markdown", "application/gzip", "application/x-gzip",
             "application/octet-stream", "application/x-www-form-urlencoded"]
IMPORT_QUERY = {"format": schemas.q_enum(FORMATS, "auto", "the transcript's format (auto-detected by default)"),
                "conversation": schemas.q_text(500, "ChatGPT or ShareGPT export: the conversation's id or title")}


def _body(ctx: Ctx) -> bytes:
    body = ctx.request.raw_body or b""
    if len(body) > MAX_TRANSCRIPT_BODY:
        raise PayloadTooLarge(
            f"the body is {len(body):,} bytes; uploads through the API are limited to {MAX_TRANSCRIPT_BODY:,} "
            "bytes. For larger transcripts, POST .../transcript-upload to get an upload URL, then PUT the file "
            "there (gzip it first to save time).", code="payload_too_large")
    return body


REPLACE = schemas.q_enum(("false", "true"), "false", "true: replace the transcript of a finished session "
                         "(409 without it); its handoff is then marked as made from the older transcript")


@endpoint(bp, BASE + "/transcript", "PUT", summary="Upload a session's transcript (raw body, gzip accepted; "
          "a finished session's takes ?replace=true)",
          tag="transcripts", query={**IMPORT_QUERY, "replace": REPLACE}, consumes=tuple(RAW_TYPES),
          response=R.IMPORTED)
def put_transcript(ctx: Ctx, project_id: str, number: int) -> dict[str, Any]:
    return transcripts.import_transcript(ctx.tenant, project_id, number, io.BytesIO(_body(ctx)),
                                         fmt=ctx.args["format"], conversation=ctx.args["conversation"],
                                         replace=ctx.args["replace"] == "true")


@endpoint(bp, BASE + "/transcript", "GET", summary="Page through the normalized, redacted messages",
          tag="transcripts", query=schemas.PAGE,
          response=R.page(R.MESSAGE, total=R.INT))
def get_transcript(ctx: Ctx, project_id: str, number: int) -> dict[str, Any]:
    limit, cursor = ctx.page_args()
    return transcripts.page_messages(ctx.tenant, project_id, number, limit=limit, cursor=cursor)


@endpoint(bp, BASE + "/transcript-upload", "POST", summary="Get an upload URL for a large transcript",
          tag="transcripts", status=201, query=IMPORT_QUERY,
          response=R.UPLOAD_SLOT, links={"UploadStatus": ("GET", "/api/uploads/{upload_id}", {"upload_id": "$response.body#/upload_id"}), "Upload": ("PUT", "/api/uploads/{upload_id}", {"upload_id": "$response.body#/upload_id"})})
def start_upload(ctx: Ctx, project_id: str, number: int) -> dict[str, Any]:
    return uploads.start_upload(ctx.tenant, project_id, number, fmt=ctx.args["format"],
                                conversation=ctx.args["conversation"], base_url=public_base_url(ctx))


def public_base_url(ctx: Ctx) -> str:
    """Where this API is reached, from configuration only: MSO_PUBLIC_URL, else the API's own address
    from the request context (API Gateway's domain and stage; the local server's bound address).
    Never the Host header: a forged one would send the upload to the forger's server. Without
    either, "" (the upload URL is then relative to the API, as status_url is)."""
    configured = settings().public_url
    if configured:
        return configured
    rc = ctx.request.context or {}
    domain = rc.get("domainName")
    if not domain:
        return ""
    if domain.startswith(("127.0.0.1:", "localhost:", "[::1]:")):
        return f"http://{domain}"
    stage = rc.get("stage")
    return f"https://{domain}" + (f"/{stage}" if stage and domain.endswith(".amazonaws.com") else "")


@endpoint(bp, "/api/uploads/{upload_id}", "GET", summary="Status of a large upload", tag="transcripts",
          response=R.UPLOAD_STATUS)
def upload_status(ctx: Ctx, upload_id: str) -> dict[str, Any]:
    return uploads.upload_status(ctx.tenant, upload_id)


@endpoint(bp, "/api/uploads/{upload_id}", "PUT", summary="Local large-upload target (make dev; S3 on AWS)",
          tag="transcripts", auth=False, consumes=tuple(RAW_TYPES),
          response=R.IMPORTED)
def local_upload(ctx: Ctx, upload_id: str) -> dict[str, Any]:
    body, size = ctx.body_stream()
    return uploads.import_upload(upload_id, body, size=size)


@endpoint(bp, BASE + "/files", "PUT", summary="Set a session's file changes (JSON list or git diff --numstat)",
          tag="files", body=schemas.FILES_PUT,
          # form-encoding too (curl -d): such a body gets the JSON error with a hint, not a bare 415
          consumes=("application/json", "text/plain", "application/x-www-form-urlencoded"),
          response=R.FILES_SET)
def put_files(ctx: Ctx, project_id: str, number: int) -> dict[str, Any]:
    ctype = ((ctx.request.headers or {}).get("content-type") or "application/json").split(";")[0].strip()
    if ctype == "text/plain":
        changes = transcripts.parse_numstat_body(_body(ctx))
        return transcripts.put_files(ctx.tenant, project_id, number, changes, "numstat")
    try:
        body = ctx.json(schemas.FILES_PUT)
    except BadRequest as e:
        if e.code != "invalid_json":
            raise
        # most often `git diff --numstat` output sent without its type (curl -d sends form-encoding)
        raise BadRequest(f"{e.message}. To send `git diff --numstat` output, set Content-Type: text/plain",
                         code="invalid_json", details={"hint": "curl -H 'Content-Type: text/plain' "
                                                       "--data-binary @numstat.txt .../files"}) from None
    items = body["items"] if isinstance(body, dict) else body
    return transcripts.put_files(ctx.tenant, project_id, number, items, "api")


@endpoint(bp, BASE + "/files", "GET", summary="A session's file changes", tag="files", query=schemas.PAGE,
          response=R.page(R.FILE_CHANGE))
def list_files(ctx: Ctx, project_id: str, number: int) -> dict[str, Any]:
    limit, cursor = ctx.page_args()
    return transcripts.list_files(ctx.tenant, project_id, number, limit=limit, cursor=cursor)


@endpoint(bp, "/api/projects/{project_id}/files", "GET", summary="One file's history across sessions",
          tag="files", query={"path": schemas.q_text(1024, "the file path, e.g. src/app.py", min_len=1,
                                                     required=True), **schemas.PAGE},
          response=R.page(R.FILE_CHANGE))
def file_history(ctx: Ctx, project_id: str) -> dict[str, Any]:
    limit, cursor = ctx.page_args()
    return transcripts.file_history(ctx.tenant, project_id, ctx.args["path"], limit=limit, cursor=cursor)
