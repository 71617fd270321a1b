"""Fixtures shared by every suite: a fake AWS environment, the app, tenants with tokens."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Real third-party transcripts, copied with their licenses (tests/fixtures/real/SOURCES.md), so a clone
# passes on its own.
TRANSCRIPTS = ROOT / "tests" / "fixtures" / "real"

# Never talk to real AWS from a test, whatever the machine has configured.
for _k, _v in {
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1", "MSO_TABLE": "mso-test",
    "MSO_JOBS": "sync",  # handoff jobs run before the request returns (integration tests use "inline")
}.items():
    os.environ[_k] = _v
# The search index of `make dev` goes to a folder: tests keep theirs out of the work tree.
os.environ["MSO_SEARCH_DIR"] = tempfile.mkdtemp(prefix="mso-search-test-")
for _k in ("AWS_PROFILE", "MSO_DYNAMODB_ENDPOINT", "MSO_LLM_API_KEY", "HF_TOKEN"):
    os.environ.pop(_k, None)


@pytest.fixture
def transcripts_dir() -> Path:
    if not TRANSCRIPTS.is_dir():
        pytest.fail(f"real transcripts not found at {TRANSCRIPTS}")
    return TRANSCRIPTS


@pytest.fixture
def aws() -> Iterator[None]:
    """moto's in-memory AWS with the table created (fast unit tests)."""
    from moto import mock_aws

    from chalicelib import aws as aws_clients
    from chalicelib import config
    from chalicelib.domain.tenants import forget_cached_tokens
    from chalicelib.storage.models import configure
    from chalicelib.storage.table import ensure_table

    with mock_aws():
        config.reset()
        aws_clients.reset()
        configure()
        ensure_table()
        forget_cached_tokens()
        yield
    config.reset()
    aws_clients.reset()
    configure()


@pytest.fixture
def sync_jobs(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Handoff jobs run before the request returns, whatever the suite's default (no LLM key is set)."""
    from chalicelib import config

    monkeypatch.setenv("MSO_JOBS", "sync")
    config.reset()
    yield
    config.reset()


@pytest.fixture
def app():
    import app as app_module

    return app_module.app


@pytest.fixture
def client(aws, app):
    from chalice.test import Client

    from devtools.local_gateway import install

    install()  # unknown routes answer 404 JSON, as the deployed API does
    # stage "test" is not in .chalice/config.json: the process environment (above) is what applies
    with Client(app, stage_name="test", project_dir=str(ROOT)) as c:
        yield c


class Api:
    """A thin JSON helper over chalice.test.Client: `api.post(path, body, token=...)`."""

    def __init__(self, client, token: str | None) -> None:
        self.client = client
        self.token = token

    def request(self, method: str, path: str, body=None, *, token: str | None = "default",
                raw: bytes | None = None, headers: dict | None = None):
        import json as _json

        h = {"Content-Type": "application/json"}
        tok = self.token if token == "default" else token
        if tok:
            h["Authorization"] = f"Bearer {tok}"
        h.update(headers or {})
        data = raw if raw is not None else (b"" if body is None else _json.dumps(body).encode())
        return self.client.http.request(method, path, headers=h, body=data)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def put_raw(self, path, data: bytes, content_type: str = "text/plain"):
        return self.request("PUT", path, raw=data, headers={"Content-Type": content_type})


@pytest.fixture
def api(client, tenant_token) -> Api:
    return Api(client, tenant_token)


@pytest.fixture
def other_api(client, other_token) -> Api:
    return Api(client, other_token)


@pytest.fixture
def tenant_token(aws) -> str:
    from chalicelib.domain.tenants import issue_token

    return issue_token("acme")


@pytest.fixture
def other_token(aws) -> str:
    from chalicelib.domain.tenants import issue_token

    return issue_token("globex")
