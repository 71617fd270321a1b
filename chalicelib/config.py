"""Settings read from the environment, in one place, and the constants several layers share.

Read lazily (and cached) so tests can change the environment and call `reset()`; on Lambda the
values come from the stage's `environment_variables` in `.chalice/config.json` or the template.
Numbers are read by `env_number` everywhere (the LLM settings too), so a bad value is treated
the same way wherever it is set.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

from chalicelib.logs import event, get_logger

log = get_logger("config")
N = TypeVar("N", int, float)

# The handoff's size budget in characters, for the rule-based and the LLM writer alike.
HANDOFF_BUDGET_CHARS = 9500

_MiB = 1024 * 1024


@dataclass(frozen=True)
class Settings:
    table_name: str
    region: str
    dynamodb_endpoint: str | None  # DynamoDB Local / moto server; None on AWS
    jobs_mode: str  # "inline" (background thread, `make dev`) or "sqs" (AWS)
    queue_url: str | None
    upload_bucket: str | None
    s3_endpoint: str | None
    serve_ui: bool
    ui_dir: str
    data_dir: str
    auth_cache_s: float
    max_body_bytes: int
    retry_base_s: float  # first delay before a failed handoff job is retried (doubles each time)
    # Transcript imports (gzip bombs stop at these, with a 413): uncompressed bytes per path, one
    # line, one whole JSON document, one stored message; and the raw body of PUT /api/uploads/{id}.
    max_transcript_bytes: int = 64 * _MiB  # PUT .../transcript (the body itself is at most 4 MiB)
    max_upload_bytes: int = 512 * _MiB  # through the upload URL (local PUT or S3)
    max_upload_body_bytes: int = 512 * _MiB  # the compressed (or plain) body sent to the upload URL
    max_line_bytes: int = 32 * _MiB
    max_document_bytes: int = 32 * _MiB  # parsed whole: 32 MiB of a real export takes ~130 MB parsed
    max_message_bytes: int = 256 * 1024
    # Where clients reach this API (MSO_PUBLIC_URL): absolute URLs the API hands out (the upload URL
    # of `make dev`) are built from it, never from a request's Host header, which a client can forge.
    public_url: str | None = None


def _flag(name: str, default: str = "0") -> bool:
    return os.environ.get(name, default).strip().lower() in ("1", "true", "yes", "on")


def env_number(env: Mapping[str, str], name: str, default: N, *, minimum: float = 0) -> N:
    """`env[name]` as a number of `default`'s type (int or float), or `default` when unset.

    A malformed, non-finite or too small value logs `settings.invalid` (the name, never the value)
    and keeps the default: a typo in a tuning knob must not take the service down.
    """
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < minimum:
        event(log, "settings.invalid", logging.WARNING, name=name, default=default)
        return default
    return type(default)(value)


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The current settings (cached; `reset()` re-reads the environment)."""
    return Settings(
        table_name=os.environ.get("MSO_TABLE", "mso"),
        region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        dynamodb_endpoint=os.environ.get("MSO_DYNAMODB_ENDPOINT") or None,
        jobs_mode=os.environ.get("MSO_JOBS", "inline"),
        queue_url=os.environ.get("MSO_QUEUE_URL") or None,
        upload_bucket=os.environ.get("MSO_UPLOAD_BUCKET") or None,
        s3_endpoint=os.environ.get("MSO_S3_ENDPOINT") or None,
        serve_ui=_flag("MSO_SERVE_UI"),
        ui_dir=os.environ.get("MSO_UI_DIR", os.path.join(os.path.dirname(os.path.dirname(__file__)), "ui")),
        data_dir=os.environ.get("MSO_DATA_DIR", ".data"),
        auth_cache_s=env_number(os.environ, "MSO_AUTH_CACHE_S", 60.0),
        max_body_bytes=env_number(os.environ, "MSO_MAX_BODY_BYTES", 6 * 1024 * 1024, minimum=1),
        retry_base_s=env_number(os.environ, "MSO_RETRY_BASE_S", 30.0),
        max_transcript_bytes=env_number(os.environ, "MSO_MAX_TRANSCRIPT_BYTES", 64 * _MiB, minimum=1),
        max_upload_bytes=env_number(os.environ, "MSO_MAX_UPLOAD_BYTES", 512 * _MiB, minimum=1),
        max_upload_body_bytes=env_number(os.environ, "MSO_MAX_UPLOAD_BODY_BYTES", 512 * _MiB, minimum=1),
        max_line_bytes=env_number(os.environ, "MSO_MAX_LINE_BYTES", 32 * _MiB, minimum=1),
        max_document_bytes=env_number(os.environ, "MSO_MAX_DOCUMENT_BYTES", 32 * _MiB, minimum=1),
        max_message_bytes=env_number(os.environ, "MSO_MAX_MESSAGE_BYTES", 256 * 1024, minimum=1),
        public_url=(os.environ.get("MSO_PUBLIC_URL") or "").strip().rstrip("/") or None,
    )


def reset() -> None:
    """Forget cached settings (tests, and after the dev server changes its environment)."""
    settings.cache_clear()
