"""Transcripts and file changes through the API: import real files, redact, page, replace, reject."""

from __future__ import annotations

import gzip
import json

import pytest

from chalicelib import config
from chalicelib.storage import keys
from chalicelib.storage.models import BaseItem

SECRETS = {
    "hf": "hf_" + "a1B2c3D4e5F6g7H8i9J0kLmNoPqRsTuVwX",
    "openai": "sk-proj-" + "Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56Qr78St90",
    "anthropic": "sk-ant-api03-" + "Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0PpOoNnMm",
    "github": "ghp_" + "1234567890abcdefghijABCDEFGHIJ123456",
    "aws_key": "AKIA" + "IOSFODNN7EXAMPLE",
    "aws_secret": "wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "EXAMPLEKEY",
    "slack": "xoxb-" + "123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    "jwt": "eyJhbGciOiJIUzI1NiJ9." + "eyJzdWIiOiIxMjM0NTY3ODkwIn0." + "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "url_password": "hunter2hunter2",
}


def _secret_transcript() -> bytes:
    msgs = [
        {"role": "user", "content": f"Use my HF token {SECRETS['hf']} and openai {SECRETS['openai']}"},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function", "function": {
            "name": "bash", "arguments": json.dumps({"cmd": f"export ANTHROPIC_API_KEY={SECRETS['anthropic']}"})}}]},
        {"role": "tool", "tool_call_id": "c1", "content": f"GITHUB_TOKEN={SECRETS['github']}\n"
                                                          f"aws_access_key_id = {SECRETS['aws_key']}\n"
                                                          f"aws_secret_access_key = {SECRETS['aws_secret']}"},
        {"role": "user", "content": f"slack {SECRETS['slack']} jwt {SECRETS['jwt']} "
                                    f"db postgres://admin:{SECRETS['url_password']}@db.internal:5432/app\n"
                                    "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo\n"
                                    "-----END RSA PRIVATE KEY-----"},
        {"role": "assistant", "content": "Done. Next: rotate those keys."},
    ]
    return json.dumps(msgs).encode()


@pytest.fixture
def session(api):
    pid = api.post("/api/projects", {"name": "p"}).json_body["id"]
    api.post(f"/api/projects/{pid}/sessions", {})
    return pid


def _put(api, pid, data: bytes, fmt="auto", ctype="application/octet-stream", n=1):
    return api.put(f"/api/projects/{pid}/sessions/{n}/transcript?format={fmt}", raw=data,
                   headers={"Content-Type": ctype})


def test_real_claude_code_session_imports_with_stats_and_files(api, session, transcripts_dir):
    src = sorted(transcripts_dir.glob("claude-code/*.jsonl.gz"))[0]
    r = _put(api, session, src.read_bytes(), ctype="application/gzip")
    assert r.status_code == 200, r.body
    s = r.json_body
    assert s["format"] == "claude-code"
    assert s["messages"] > 100 and s["tool_calls"] > 20 and s["tokens"] > 0 and s["chars"] > 100_000
    stored = api.get(f"/api/projects/{session}/sessions/1").json_body["transcript"]
    assert stored["messages"] == s["messages"] and stored["tool_calls"] == s["tool_calls"]
    page = api.get(f"/api/projects/{session}/sessions/1/transcript?limit=50").json_body
    assert len(page["items"]) == 50 and page["total"] == s["messages"] and page["next_cursor"]
    assert any(m["role"] == "summary" for m in _all_messages(api, session))
    files = api.get(f"/api/projects/{session}/sessions/1/files?limit=100").json_body["items"]
    assert files and all(f["source"] == "transcript" for f in files)


def _all_messages(api, pid, n=1):
    out, cursor = [], None
    while True:
        page = api.get(f"/api/projects/{pid}/sessions/{n}/transcript?limit=100" +
                       (f"&cursor={cursor}" if cursor else "")).json_body
        out += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return out


def test_every_secret_kind_is_redacted_in_storage_and_in_the_handoff(api, session, monkeypatch):
    r = _put(api, session, _secret_transcript(), fmt="openai", ctype="application/json")
    assert r.status_code == 200, r.body
    red = r.json_body["redactions"]
    assert sum(red.values()) >= len(SECRETS) + 1  # + the private key block
    stored = json.dumps(_all_messages(api, session))
    for name, value in SECRETS.items():
        assert value not in stored, name
    assert "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo" not in stored
    assert "[REDACTED:" in stored
    assert "admin" in stored and "db.internal" in stored  # only the password goes
    monkeypatch.setenv("MSO_JOBS", "sync")
    config.reset()
    api.post(f"/api/projects/{session}/sessions/1/complete", {"handoff_mode": "rules"})
    md = api.get(f"/api/projects/{session}/sessions/1/handoff").json_body["markdown"]
    for name, value in SECRETS.items():
        assert value not in md, name


def test_reupload_replaces_the_transcript(api, session):
    assert _put(api, session, b"User: first version\nAssistant: ok\n", fmt="text").status_code == 200
    assert _put(api, session, b"User: second\nAssistant: fine\nUser: third\n", fmt="text").status_code == 200
    texts = [m["text"] for m in _all_messages(api, session)]
    assert not any("first version" in t for t in texts)
    chunks = BaseItem.count(keys.project_pk("acme", session), BaseItem.SK.startswith(keys.transcript_prefix(1)))
    assert chunks == 1


@pytest.mark.parametrize("data,fmt,code", [
    (b"", "auto", "transcript_empty"),
    (b'{"type":"user","message":{"role":"user","content":"hi"}}\n{"type":"assi', "claude-code", None),
    (bytes(range(256)) * 20, "auto", None),
    (b"\xff\xfe\xfa not utf8 " * 10, "text", None),
    (b'[{"role": "user", "content": "hi"}]', "codex", None),
])
def test_bad_input_is_4xx_and_stores_nothing(api, session, data, fmt, code):
    r = _put(api, session, data, fmt=fmt)
    assert 400 <= r.status_code < 500, r.body
    err = r.json_body["error"]
    assert err["code"].startswith("transcript_") and err["message"]
    if code:
        assert err["code"] == code
    assert api.get(f"/api/projects/{session}/sessions/1").json_body["transcript"] is None
    assert BaseItem.count(keys.project_pk("acme", session), BaseItem.SK.startswith("TRANSCRIPT#")) == 0


def test_unknown_format_and_too_large(api, session, monkeypatch):
    r = _put(api, session, b"hello", fmt="word")
    assert r.status_code == 400 and r.json_body["error"]["field"] == "format"
    from chalicelib.api import transcripts

    monkeypatch.setattr(transcripts, "MAX_TRANSCRIPT_BODY", 1000)
    r = _put(api, session, b"x" * 1001, fmt="text")
    assert r.status_code == 413
    assert "transcript-upload" in r.json_body["error"]["message"]


def test_large_upload_flow_locally(api, session, transcripts_dir):
    r = api.post(f"/api/projects/{session}/sessions/1/transcript-upload?format=auto")
    assert r.status_code == 201
    slot = r.json_body
    assert slot["method"] == "PUT" and slot["upload_url"].endswith(f"/api/uploads/{slot['upload_id']}")
    data = (transcripts_dir / "swe-agent" / "pydicom__pydicom-1458.traj").read_bytes()
    put = api.put(f"/api/uploads/{slot['upload_id']}", raw=gzip.compress(data), token=None,
                  headers={"Content-Type": "application/gzip"})
    assert put.status_code == 200, put.body
    assert put.json_body["format"] == "swe-agent"
    status = api.get(f"/api/uploads/{slot['upload_id']}").json_body
    assert status["status"] == "done" and status["result"]["messages"] == put.json_body["messages"]
    again = api.put(f"/api/uploads/{slot['upload_id']}", raw=gzip.compress(data), token=None,
                    headers={"Content-Type": "application/gzip"})
    assert again.json_body == put.json_body  # idempotent
    assert api.put("/api/uploads/not-a-real-upload-id", raw=b"x", token=None).status_code == 404


def test_files_as_json_and_numstat_and_history(api, session):
    api.post(f"/api/projects/{session}/sessions", {})
    r = api.put(f"/api/projects/{session}/sessions/1/files", [
        {"path": "src/app.py", "kind": "modified", "lines_added": 10, "lines_removed": 2, "summary": "routes"},
        {"path": "README.md", "kind": "added", "lines_added": 40, "lines_removed": 0}])
    assert r.status_code == 200 and r.json_body["files"] == 2
    numstat = "5\t1\tsrc/app.py\n-\t-\tassets/logo.png\n3\t3\tsrc/{old => new}/util.py\n"
    r = api.put(f"/api/projects/{session}/sessions/2/files", raw=numstat.encode(),
                headers={"Content-Type": "text/plain"})
    assert r.status_code == 200, r.body
    files = {f["path"]: f for f in api.get(f"/api/projects/{session}/sessions/2/files").json_body["items"]}
    assert files["assets/logo.png"]["lines_added"] is None
    assert files["src/new/util.py"]["kind"] == "renamed" and files["src/new/util.py"]["old_path"] == "src/old/util.py"
    hist = api.get(f"/api/projects/{session}/files?path=src/app.py").json_body["items"]
    assert [(h["session"], h["lines_added"]) for h in hist] == [(1, 10), (2, 5)]
    assert api.get(f"/api/projects/{session}/files").status_code == 400
    bad = api.put(f"/api/projects/{session}/sessions/2/files", raw=b"not numstat at all",
                  headers={"Content-Type": "text/plain"})
    assert bad.status_code == 400 and bad.json_body["error"]["code"] == "invalid_numstat"
    bad = api.put(f"/api/projects/{session}/sessions/2/files", [{"path": "x", "lines_added": -1}])
    assert bad.status_code == 400


def test_numstat_without_its_type_gets_a_hint(api, session):
    api.post(f"/api/projects/{session}/sessions", {})
    for ctype in ("application/x-www-form-urlencoded", "application/json"):  # curl -d, or a wrong type
        r = api.put(f"/api/projects/{session}/sessions/1/files", raw=b"5\t1\tsrc/app.py\n",
                    headers={"Content-Type": ctype})
        err = r.json_body["error"]
        assert r.status_code == 400 and err["code"] == "invalid_json"
        assert "Content-Type: text/plain" in err["message"] and "text/plain" in err["hint"]


def test_lone_surrogates_in_a_transcript_are_replaced_not_fatal(api, session):
    body = b'[{"role": "user", "content": "broken \\udc00 emoji"}, {"role": "assistant", "content": "ok \\ud83d\\ude00"}]'
    r = _put(api, session, body, fmt="openai", ctype="application/json")
    assert r.status_code == 200, r.body
    texts = [m["text"] for m in _all_messages(api, session)]
    assert texts == ["broken \ufffd emoji", "ok \U0001f600"]


def test_tokens_are_input_output_cache_read_and_cache_write(api, session):
    """Claude Code re-reads its context from the cache each turn: one sum would read as millions."""
    from pathlib import Path

    data = (Path(__file__).resolve().parents[2] / "fixtures" / "transcripts" / "claude_code_small.jsonl").read_bytes()
    r = _put(api, session, data, fmt="claude-code")
    assert r.status_code == 200, r.body
    want = {"input_tokens": 10 + 5 + 4, "output_tokens": 120 + 80 + 4 * 10,
            "cache_read_tokens": 1000 + 2000 + 4 * 100, "cache_write_tokens": 100}
    assert {k: r.json_body[k] for k in want} == want
    assert r.json_body["tokens"] == want["input_tokens"] + want["output_tokens"]
    t = api.get(f"/api/projects/{session}/sessions/1").json_body["transcript"]
    assert {k: t[k] for k in want} == want and t["tokens"] == 259
