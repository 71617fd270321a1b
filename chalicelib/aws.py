"""boto3 clients for S3 and SQS, created once per container (the first costs ~150 ms).

S3 presigns with SigV4 on the regional virtual host (bucket.s3.<region>.amazonaws.com): boto3's
default (SigV2 on the global host) is refused in regions opened since 2014, and a fresh bucket
outside us-east-1 answers the global host with a redirect, which breaks a browser's CORS upload.
boto3 is imported here, lazily, so the API's cold start pays for it only on the paths that need it.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

from chalicelib.config import settings

_lock = threading.Lock()


@lru_cache(maxsize=4)
def _client(service: str, endpoint: str | None, region: str) -> Any:
    import boto3
    from botocore.config import Config

    cfg = Config(signature_version="s3v4", s3={"addressing_style": "virtual"}) if service == "s3" else None
    with _lock:  # boto3's default session is not thread-safe while creating clients
        return boto3.session.Session().client(service, region_name=region, endpoint_url=endpoint, config=cfg)


def s3() -> Any:
    s = settings()
    return _client("s3", s.s3_endpoint, s.region)


def sqs() -> Any:
    return _client("sqs", None, settings().region)


def reset() -> None:
    """Forget cached clients (tests switch between moto and real endpoints)."""
    _client.cache_clear()
