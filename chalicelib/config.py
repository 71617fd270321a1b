"""Settings read from the environment, in one place.

Read lazily (and cached) so tests can change the environment and call `reset()`; on Lambda the
values come from the stage's `environment_variables` in `.chalice/config.json` or the template.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache


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


def _flag(name: str, default: str = "0") -> bool:
    return os.environ.get(name, default).strip().lower() in ("1", "true", "yes", "on")


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
        auth_cache_s=float(os.environ.get("MSO_AUTH_CACHE_S", "60")),
        max_body_bytes=int(os.environ.get("MSO_MAX_BODY_BYTES", str(6 * 1024 * 1024))),
        retry_base_s=float(os.environ.get("MSO_RETRY_BASE_S", "30")),
    )


def reset() -> None:
    """Forget cached settings (tests, and after the dev server changes its environment)."""
    settings.cache_clear()
