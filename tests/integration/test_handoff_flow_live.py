"""End to end on DynamoDB Local over HTTP: transcript in, session completed, handoff out."""

from __future__ import annotations

import gzip
import time
import uuid

import pytest

from chalicelib import jobs

pytestmark = pytest.mark.integration


def _wait_ready(http, path: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = http("GET", path)
        if r.status_code == 200 and r.json()["status"] in ("ready", "failed"):
            return r.json()
        time.sleep(0.2)
    raise AssertionError(f"handoff at {path} not ready after {timeout}s")


def test_real_claude_code_session_to_handoff(live, transcripts_dir):
    http = live("t" + uuid.uuid4().hex[:10])
    pid = http("POST", "/api/projects", {"name": "spotter", "goal": "Ship the transcript viewer"}).json()["id"]
    assert http("PUT", f"/api/projects/{pid}/pins", ["Run mix test before every commit"]).status_code == 200
    first = http("POST", f"/api/projects/{pid}/sessions", {"title": "first", "credit_budget": 50}).json()
    assert first["starting_handoff"] is None
    src = next(transcripts_dir.glob("claude-code/*.jsonl.gz"))
    body = src.read_bytes()  # gzip as it is
    r = http("PUT", f"/api/projects/{pid}/sessions/1/transcript", data=body,
             headers={"Content-Type": "application/gzip"})
    assert r.status_code == 200, r.text
    summary = r.json()
    assert summary["format"] == "claude-code" and summary["messages"] > 100 and summary["tool_calls"] > 10
    files = http("GET", f"/api/projects/{pid}/sessions/1/files", params={"limit": 100}).json()["items"]
    assert files and all(f["source"] == "transcript" for f in files)

    r = http("POST", f"/api/projects/{pid}/sessions/1/complete",
             {"status": "completed", "credits_used": 30, "next_steps": ["wire the viewer to the API"],
              "handoff_mode": "rules"})
    assert r.status_code == 202, r.text
    assert r.json()["handoff"]["status"] in ("pending", "running", "ready")
    jobs.wait_idle(60)
    h = _wait_ready(http, f"/api/projects/{pid}/sessions/1/handoff")
    assert h["status"] == "ready" and h["method"] == "rules"
    assert "Run mix test before every commit" in h["markdown"]
    assert "wire the viewer to the API" in h["markdown"]
    for f in files[:5]:
        assert f["path"] in h["markdown"] or f["path"].rsplit("/", 1)[-1] in h["markdown"]

    md = http("GET", f"/api/projects/{pid}/handoff/latest", params={"format": "md"})
    assert md.status_code == 200 and md.headers["Content-Type"].startswith("text/markdown")
    assert md.text == h["markdown"]

    second = http("POST", f"/api/projects/{pid}/sessions", {"title": "second"}).json()
    assert second["number"] == 2
    assert second["starting_handoff"]["markdown"] == h["markdown"]
    assert second["started_from_handoff"] == 1


def test_bad_transcript_stores_nothing(live):
    http = live("t" + uuid.uuid4().hex[:10])
    pid = http("POST", "/api/projects", {"name": "p"}).json()["id"]
    http("POST", f"/api/projects/{pid}/sessions", {})
    ok = http("PUT", f"/api/projects/{pid}/sessions/1/transcript", data=b"User: hello\nAssistant: hi\n",
              headers={"Content-Type": "text/plain"}, params={"format": "text"})
    assert ok.status_code == 200
    before = http("GET", f"/api/projects/{pid}/sessions/1/transcript").json()
    truncated = b'{"type":"user","message":{"role":"user","content":"hi"}}\n{"type":"assistant","mess'
    for data, fmt in [(truncated, "claude-code"), (b"\x00\x01\x02\xff" * 100, "auto"), (b"", "auto"),
                      (gzip.compress(b"\xff\xfe bad utf8"), "auto")]:
        r = http("PUT", f"/api/projects/{pid}/sessions/1/transcript", data=data, params={"format": fmt},
                 headers={"Content-Type": "application/octet-stream"})
        assert 400 <= r.status_code < 500, (fmt, r.status_code, r.text)
        assert r.json()["error"]["code"].startswith("transcript_")
    after = http("GET", f"/api/projects/{pid}/sessions/1/transcript").json()
    assert after == before


def test_concurrent_reuploads_leave_one_transcript_and_no_orphans(live):
    from concurrent.futures import ThreadPoolExecutor

    from chalicelib.storage import keys
    from chalicelib.storage.models import TranscriptChunkItem
    from chalicelib.storage.sessions import get_session

    tenant = "t" + uuid.uuid4().hex[:10]
    http = live(tenant)
    pid = http("POST", "/api/projects", {"name": "p"}).json()["id"]
    http("POST", f"/api/projects/{pid}/sessions", {})

    def upload(i: int) -> int:
        body = "".join(f"User: upload {i} line {j}\nAssistant: ok {j}\n" for j in range(50)).encode()
        return http("PUT", f"/api/projects/{pid}/sessions/1/transcript", data=body, params={"format": "text"},
                    headers={"Content-Type": "text/plain"}).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        codes = list(pool.map(upload, range(6)))
    # one import at a time: the ones that overlap a running import get 409 and change nothing
    assert set(codes) <= {200, 409} and 200 in codes, codes
    current = get_session(tenant, pid, 1).transcript.upload_id
    chunks = list(TranscriptChunkItem.query(keys.project_pk(tenant, pid),
                                            TranscriptChunkItem.SK.startswith(keys.transcript_prefix(1))))
    assert chunks and {c.upload_id for c in chunks} == {current}
    texts = [m["text"] for m in http("GET", f"/api/projects/{pid}/sessions/1/transcript",
                                     params={"limit": 100}).json()["items"]]
    assert len({t.split(" line ")[0] for t in texts if t.startswith("upload")}) == 1  # one upload, not a mix
