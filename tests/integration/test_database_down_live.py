"""DynamoDB Local killed under a running server: 503 with Retry-After, a deep health check that tells,
and service back once it returns (issue 12, item 5). The unit suite covers a closed port."""

from __future__ import annotations

import pytest

from devtools import ddb

pytestmark = pytest.mark.integration


@pytest.fixture
def own_ddb(monkeypatch):
    """A DynamoDB Local of this test's own (it gets killed), with the app pointed at it."""
    from chalicelib import config
    from chalicelib.domain.tenants import forget_cached_tokens
    from chalicelib.storage.models import configure
    from chalicelib.storage.table import ensure_table

    port = ddb.free_port()
    state = {"proc": ddb.start(ddb.ensure_jar(ddb.default_install_dir()), port, db_path=None), "port": port}
    monkeypatch.setenv("MSO_DYNAMODB_ENDPOINT", f"http://127.0.0.1:{port}")
    config.reset()
    configure()
    ensure_table()
    forget_cached_tokens()
    yield state
    ddb.stop(state["proc"])
    monkeypatch.delenv("MSO_DYNAMODB_ENDPOINT")
    config.reset()
    configure()


def test_killing_dynamodb_local_gives_503_then_service_resumes(own_ddb, _server):
    from chalicelib.domain.tenants import issue_token
    from chalicelib.storage.table import ensure_table
    from tests.integration.conftest import Http

    http = Http(_server[0], issue_token("down"))
    pid = http("POST", "/api/projects", {"name": "before"}).json()["id"]
    assert http("GET", "/api/health?deep=1").json()["database"] == "ok"

    own_ddb["proc"].kill()  # SIGKILL: the database vanishes mid-run
    own_ddb["proc"].wait(10)
    for method, path, body in (("GET", f"/api/projects/{pid}", None), ("POST", "/api/projects", {"name": "x"}),
                               ("POST", f"/api/projects/{pid}/sessions", {})):
        r = http(method, path, body)
        assert r.status_code == 503, r.text
        assert r.json()["error"]["code"] == "database_unavailable" and r.headers["Retry-After"] == "5"
    deep = http("GET", "/api/health?deep=1")
    assert deep.status_code == 503 and deep.json()["database"] == "unavailable"
    assert http("GET", "/api/health").status_code == 200

    own_ddb["proc"] = ddb.start(ddb.ensure_jar(ddb.default_install_dir()), own_ddb["port"], db_path=None)
    ensure_table()  # in memory: it came back empty
    assert http("GET", "/api/health?deep=1").status_code == 200
    assert http("GET", f"/api/projects/{pid}").status_code in (401, 404)  # answered, not a 5xx
