"""Integration suite: a real DynamoDB Local (started here, in memory) and the app over real HTTP."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
import requests

from devtools import ddb

if TYPE_CHECKING:
    from tests.integration.cli_support import Home, Server


@pytest.fixture(scope="session")
def ddb_endpoint() -> Iterator[str]:
    if not ddb.java_available():
        pytest.fail("Java 17 is needed for the integration suite (DynamoDB Local); install a JRE")
    emulator = ddb.ensure_jar(ddb.default_install_dir())
    port = ddb.free_port()
    proc = ddb.start(emulator, port, db_path=None)
    yield f"http://127.0.0.1:{port}"
    ddb.stop(proc)


@pytest.fixture
def local_db(ddb_endpoint, monkeypatch) -> Iterator[str]:
    """Point the models at DynamoDB Local for one test (unit tests use moto)."""
    from chalicelib import config
    from chalicelib.domain.tenants import forget_cached_tokens
    from chalicelib.storage.models import configure
    from chalicelib.storage.table import ensure_table

    monkeypatch.setenv("MSO_DYNAMODB_ENDPOINT", ddb_endpoint)
    monkeypatch.setenv("MSO_JOBS", "inline")  # as with make dev: jobs run in a background thread
    config.reset()
    configure()
    ensure_table()
    forget_cached_tokens()
    yield ddb_endpoint
    monkeypatch.delenv("MSO_DYNAMODB_ENDPOINT")
    config.reset()
    configure()


@pytest.fixture(scope="session")
def _server() -> Iterator[tuple[str, object]]:
    from devtools.local_gateway import local_server

    port = ddb.free_port()
    server = local_server(port)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{port}", server
    server.shutdown()


class Http:
    """requests against the live server, with a tenant's token."""

    def __init__(self, base: str, token: str | None) -> None:
        self.base, self.token = base, token
        self.s = requests.Session()

    def __call__(self, method: str, path: str, json=None, **kw) -> requests.Response:
        headers = kw.pop("headers", {})
        if self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        return self.s.request(method, self.base + path, json=json, headers=headers, timeout=60, **kw)


@pytest.fixture
def live(local_db, _server):
    """A factory: live(tenant) -> Http client for that tenant, on a fresh token."""
    from chalicelib.domain.tenants import issue_token

    base = _server[0]

    def make(tenant: str | None) -> Http:
        return Http(base, issue_token(tenant) if tenant else None)

    return make


@pytest.fixture
def server(local_db) -> Iterator[Server]:
    """The app on its own port for one test, which the test may stop and start again (the CLI tests take
    it away under a running client). Tests that never stop it use the shared `live` instead."""
    from tests.integration.cli_support import Server

    srv = Server(ddb.free_port())
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def tenant(local_db) -> str:
    """A fresh tenant id: each test sees only its own projects and sessions."""
    return "t" + uuid.uuid4().hex[:10]


@pytest.fixture
def home(tmp_path, server, tenant) -> Home:
    """A temporary HOME where the `mso` CLI runs against `server` with a token of `tenant`."""
    from chalicelib.domain.tenants import issue_token
    from tests.integration.cli_support import Home

    return Home(tmp_path, server, issue_token(tenant))
