"""The upload URL comes from configuration, never from the Host header a client sends."""

from __future__ import annotations

import pytest

from chalicelib import config

FORGED = {"Host": "evil.example", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"}


@pytest.fixture
def pid(api):
    pid = api.post("/api/projects", {"name": "p"}).json_body["id"]
    api.post(f"/api/projects/{pid}/sessions", {})
    return pid


def _slot(api, pid):
    r = api.post(f"/api/projects/{pid}/sessions/1/transcript-upload", headers=FORGED)
    assert r.status_code == 201, r.body
    return r.json_body


def test_a_forged_host_does_not_redirect_the_upload(api, pid, monkeypatch):
    monkeypatch.setenv("MSO_PUBLIC_URL", "https://mso.internal.example/base/")
    config.reset()
    try:
        slot = _slot(api, pid)
    finally:
        monkeypatch.delenv("MSO_PUBLIC_URL")
        config.reset()
    assert slot["upload_url"] == f"https://mso.internal.example/base/api/uploads/{slot['upload_id']}"
    assert slot["status_url"] == f"/api/uploads/{slot['upload_id']}"


def test_without_a_configured_url_the_upload_url_is_relative_not_the_hosts(api, pid):
    slot = _slot(api, pid)
    assert "evil" not in slot["upload_url"] + slot["status_url"]
    assert slot["upload_url"] == f"/api/uploads/{slot['upload_id']}"
