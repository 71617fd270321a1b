"""Fixtures shared by every suite: a fake AWS environment, the app, tenants with tokens."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
TRANSCRIPTS = SHARED / "data" / "transcripts"

# Never talk to real AWS from a test, whatever the machine has configured.
for _k, _v in {
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1", "MSO_TABLE": "mso-test",
    "MSO_JOBS": "inline",
}.items():
    os.environ[_k] = _v
for _k in ("AWS_PROFILE", "MSO_DYNAMODB_ENDPOINT", "MSO_LLM_API_KEY", "HF_TOKEN"):
    os.environ.pop(_k, None)


@pytest.fixture
def transcripts_dir() -> Path:
    if not TRANSCRIPTS.is_dir():
        pytest.fail(f"shared transcripts not found at {TRANSCRIPTS}")
    return TRANSCRIPTS


@pytest.fixture
def aws() -> Iterator[None]:
    """moto's in-memory AWS with the table created (fast unit tests)."""
    from moto import mock_aws

    from chalicelib import config
    from chalicelib.domain.tenants import forget_cached_tokens
    from chalicelib.storage.models import configure
    from chalicelib.storage.table import ensure_table

    with mock_aws():
        config.reset()
        configure()
        ensure_table()
        forget_cached_tokens()
        yield
    config.reset()
    configure()


@pytest.fixture
def app():
    import app as app_module

    return app_module.app


@pytest.fixture
def client(aws, app):
    from chalice.test import Client

    with Client(app) as c:
        yield c


@pytest.fixture
def tenant_token(aws) -> str:
    from chalicelib.domain.tenants import issue_token

    return issue_token("acme")


@pytest.fixture
def other_token(aws) -> str:
    from chalicelib.domain.tenants import issue_token

    return issue_token("globex")
