"""The database out of reach: 503 JSON with Retry-After, and a health check that can tell (issue 12, item 5)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devtools import ddb
from tests.conftest import ROOT


@pytest.fixture
def unreachable(monkeypatch) -> Iterator[object]:
    """The app pointed at a closed port on 127.0.0.1 (nothing listens: connection refused)."""
    from chalice.test import Client

    import app as app_module
    from chalicelib import config
    from chalicelib.domain.tenants import forget_cached_tokens
    from chalicelib.storage.models import configure
    from devtools.local_gateway import install

    monkeypatch.setenv("MSO_DYNAMODB_ENDPOINT", f"http://127.0.0.1:{ddb.free_port()}")
    config.reset()
    configure()
    forget_cached_tokens()
    install()
    with Client(app_module.app, stage_name="test", project_dir=str(ROOT)) as c:
        yield c
    monkeypatch.delenv("MSO_DYNAMODB_ENDPOINT")
    config.reset()
    configure()


@pytest.mark.parametrize("method,path", [("GET", "/api/projects"), ("POST", "/api/projects"),
                                         ("GET", "/api/projects/p1/sessions/1/transcript")])
def test_requests_get_503_with_retry_after(unreachable, method, path):
    r = unreachable.http.request(method, path, headers={"Authorization": "Bearer mso_whatever",
                                                        "Content-Type": "application/json"},
                                 body=b'{"name": "x"}' if method == "POST" else b"")
    assert r.status_code == 503, r.body
    assert r.json_body["error"]["code"] == "database_unavailable"
    assert int(r.headers["Retry-After"]) >= 1
    assert "internal_error" not in r.body.decode()


def test_health_tells_when_asked_deep(unreachable):
    assert unreachable.http.get("/api/health").status_code == 200  # liveness: the process answers
    r = unreachable.http.get("/api/health?deep=1")
    assert r.status_code == 503 and r.json_body["database"] == "unavailable"
    assert r.headers["Retry-After"]


def test_deep_health_is_ok_when_the_database_answers(api):
    r = api.get("/api/health?deep=1", token=None)
    assert r.status_code == 200 and r.json_body["database"] == "ok"
