"""On DynamoDB Local over HTTP: ten concurrent re-uploads of one transcript, six concurrent PUTs to
one upload URL. Every answer is 200 or 409 (never a 500), one import wins at a time, and what is
stored is exactly the winner's: its pointer, its chunks only, its file changes."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

pytestmark = pytest.mark.integration


def _chunk_uploads(tenant: str, pid: str) -> set[str]:
    from chalicelib.storage import keys
    from chalicelib.storage.models import BaseItem

    items = BaseItem.query(keys.project_pk(tenant, pid), BaseItem.SK.startswith("TRANSCRIPT#"))
    return {i.SK.split("#")[2] for i in items}


def test_ten_concurrent_reuploads_one_wins_at_a_time(live, transcripts_dir):
    tenant = "t" + uuid.uuid4().hex[:10]
    http = live(tenant)
    pid = http("POST", "/api/projects", {"name": "uploads"}).json()["id"]
    http("POST", f"/api/projects/{pid}/sessions", {})
    data = sorted(transcripts_dir.glob("claude-code/*.jsonl.gz"))[0].read_bytes()
    url = f"/api/projects/{pid}/sessions/1/transcript?format=auto"
    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(lambda _: http("PUT", url, data=data,
                                               headers={"Content-Type": "application/gzip"}), range(10)))
    codes = sorted(r.status_code for r in results)
    assert set(codes) <= {200, 409}, [r.text for r in results if r.status_code not in (200, 409)]
    assert 200 in codes and 409 in codes
    assert all(r.json()["error"]["code"] == "import_in_progress" for r in results if r.status_code == 409)
    winners = [r.json() for r in results if r.status_code == 200]
    s = http("GET", f"/api/projects/{pid}/sessions/1").json()
    live_upload = s["transcript"]  # the last winner's
    assert live_upload["messages"] == winners[0]["messages"]
    assert _chunk_uploads(tenant, pid) <= {w["upload_id"] for w in winners} and len(_chunk_uploads(tenant, pid)) == 1
    files = http("GET", f"/api/projects/{pid}/sessions/1/files", params={"limit": 100}).json()["items"]
    assert s["files"] == len(files) == winners[0]["files"]
    page = http("GET", f"/api/projects/{pid}/sessions/1/transcript", params={"limit": 5}).json()
    assert page["total"] == winners[0]["messages"]


def test_six_concurrent_puts_to_one_upload_url_import_once(live, transcripts_dir, monkeypatch):
    from chalicelib.domain import uploads

    calls = []
    real = uploads.import_transcript

    def counted(*a, **kw):
        calls.append(1)
        return real(*a, **kw)

    monkeypatch.setattr(uploads, "import_transcript", counted)
    tenant = "t" + uuid.uuid4().hex[:10]
    http = live(tenant)
    pid = http("POST", "/api/projects", {"name": "url"}).json()["id"]
    http("POST", f"/api/projects/{pid}/sessions", {})
    slot = http("POST", f"/api/projects/{pid}/sessions/1/transcript-upload?format=auto").json()
    data = sorted(transcripts_dir.glob("claude-code/*.jsonl.gz"))[0].read_bytes()
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda _: http("PUT", f"/api/uploads/{slot['upload_id']}", data=data,
                                               headers={"Content-Type": "application/gzip"}), range(6)))
    codes = [r.status_code for r in results]
    assert set(codes) <= {200, 409} and 200 in codes, codes
    assert all(r.json()["error"]["code"] == "upload_in_progress" for r in results if r.status_code == 409)
    assert len(calls) == 1  # imported once (the others were refused, or answered the done result)
    done = [r.json() for r in results if r.status_code == 200]
    assert all(d == done[0] for d in done)
    assert http("GET", f"/api/uploads/{slot['upload_id']}").json()["status"] == "done"
    assert _chunk_uploads(tenant, pid) == {slot["upload_id"]}
