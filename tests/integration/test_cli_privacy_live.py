"""`<private>` spans never reach the server (issue 18), end to end: the real `mso` CLI run by Claude
Code's hook payloads in a temporary HOME, the app on DynamoDB Local, and every request body the
server reads recorded at its gateway. Every way the CLI sends text is used in one session: the
incremental Stop upload, the synchronous PreCompact upload, the PostCompact summary, `mso note`,
and the final SessionEnd upload. The server strips spans again for clients that are not `mso`."""

from __future__ import annotations

import gzip
import json
import time
import uuid

import pytest
import requests

from devtools import local_gateway
from tests.integration.cli_support import CLAUDE_IDS, Home, wait_for
from tests.unit.cli import private_spans as ps

pytestmark = pytest.mark.integration

NOTE = """## Current work
Transcript panel threading. <private>SECRET-GOLF-7 staging login</private>

## Next action
Run `mix test`.
"""


@pytest.fixture
def received(monkeypatch) -> list[tuple[str, bytes]]:
    """(path, body) of every request body the server read, gzip undone: what left the machine."""
    seen: list[tuple[str, bytes]] = []
    real = local_gateway.read_body

    def recording(handler, length, sink):
        real(handler, length, sink)
        at = sink.tell()
        sink.seek(0)
        body = sink.read()
        sink.seek(at)
        seen.append((handler.path.split("?")[0], gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body))

    monkeypatch.setattr(local_gateway, "read_body", recording)  # the server runs in this process
    return seen


def _api(home: Home, method: str, path: str, headers: dict[str, str] | None = None, **kw) -> requests.Response:
    r = requests.request(method, home.env["MSO_API_URL"] + path, timeout=60,
                         headers={"Authorization": f"Bearer {home.env['MSO_TOKEN']}", **(headers or {})}, **kw)
    assert r.status_code < 300, (r.status_code, r.text)
    return r


def _everything_stored(home: Home, pid: str, number: int) -> str:
    """What the server keeps of a session and shows back: its record, every transcript message, its
    notes, its checkpoint and its handoff, as one text."""
    base = f"/api/projects/{pid}/sessions/{number}"
    parts = [_api(home, "GET", base).text, _api(home, "GET", base + "/notes").text,
             _api(home, "GET", base + "/checkpoint", params={"format": "json"}).text,
             _api(home, "GET", base + "/handoff").text]
    cursor = None
    while True:
        page = _api(home, "GET", base + "/transcript", params={"limit": 100, **({"cursor": cursor} if cursor else {})})
        parts.append(page.text)
        cursor = page.json()["next_cursor"]
        if not cursor:
            return "\n".join(parts)


def test_no_private_span_leaves_the_machine_through_any_hook_or_command(home, tenant, received):
    from chalicelib.domain import handoffs

    sid = CLAUDE_IDS[0]
    path = home.claude_transcript(sid)
    full = ps.claude_with_spans(path.read_text())
    lines = full.splitlines(keepends=True)
    path.write_text("".join(lines[: len(lines) // 2]))  # the session so far: the first spans are in it

    home.hook("claude", "session-start", "claude-session-start", sid)
    home.hook("claude", "stop", "claude-stop", sid)  # incremental upload, detached
    home.wait_log("job_delivered", sid)
    path.write_text(full)
    home.hook("claude", "pre-compact", "claude-pre-compact", sid)  # synchronous upload + checkpoint
    payload = json.loads(home.payload("claude-post-compact", sid))
    payload["compact_summary"] += "\n8. Secrets:\n   <private>SECRET-FOXTROT-6\n   the deploy key</private>\n"
    r = home.mso("hook", "claude", "post-compact", stdin=json.dumps(payload))
    assert r.returncode == 0 and r.stderr == "", r
    home.wait_log("note_delivered", sid)
    r = home.mso("note", stdin=NOTE, env={"CLAUDE_CODE_SESSION_ID": sid})
    assert r.returncode == 0, r
    home.hook("claude", "session-end", "claude-session-end", sid)
    from chalicelib.domain import projects, sessions

    [proj] = projects.list_page(tenant, limit=10, cursor=None)["items"]
    wait_for(lambda: handoffs.get(tenant, proj["id"], 1)["status"] == "ready"
             if sessions.get(tenant, proj["id"], 1)["status"] == "completed" else False)

    uploads = [b for p, b in received if p.endswith("/transcript") or "/uploads/" in p]
    notes = [b for p, b in received if p.endswith("/notes")]
    assert len(uploads) >= 3 and len(notes) == 2  # stop, pre-compact, session-end; summary and note
    for body in uploads[1:]:  # the later uploads carry the whole transcript: every span cut, the rest intact
        ps.assert_no_trace(body, full)
    sent = b"\n".join(b for _, b in received).decode()
    assert "SECRET-" not in sent and "the deploy key" not in sent and "staging login" not in sent
    assert "Retry with backoff in src/sync/flush.ts" in sent and "Transcript panel threading." in sent

    stored = _everything_stored(home, proj["id"], 1)
    assert "SECRET-" not in stored and "[PRIVATE]" in stored
    assert "Implement spotter-gqc [PRIVATE] now" in stored  # the title: the first prompt, its span cut


def test_the_server_cuts_spans_from_a_client_that_is_not_mso(home, tenant, received):
    """A transcript PUT by any other client (curl, a script) and a note POSTed directly: the server
    removes the spans before storing, so nothing of them is kept or shown."""
    pid = _api(home, "POST", "/api/projects", json={"name": "spotter"}).json()["id"]
    n = _api(home, "POST", f"/api/projects/{pid}/sessions", json={"external_id": "curl"}).json()["number"]
    text = ps.claude_with_spans()
    _api(home, "PUT", f"/api/projects/{pid}/sessions/{n}/transcript", data=gzip.compress(text.encode()),
         headers={"Content-Type": "application/octet-stream"})
    _api(home, "POST", f"/api/projects/{pid}/sessions/{n}/notes", json={"kind": "handoff", "text": NOTE})
    assert "SECRET-ALPHA-1" in b"\n".join(b for _, b in received).decode()  # it did reach the server
    _api(home, "POST", f"/api/projects/{pid}/sessions/{n}/complete", json={"handoff_mode": "rules"})
    from chalicelib.domain import handoffs

    wait_for(lambda: handoffs.get(tenant, pid, n)["status"] == "ready")
    stored = _everything_stored(home, pid, n)
    assert "SECRET-" not in stored and "the vault code" not in stored and "staging login" not in stored
    assert "[PRIVATE]" in stored and "Implement spotter-gqc [PRIVATE] now" in stored
    assert "Transcript panel threading." in stored


def test_excluded_paths_and_projects_send_nothing_from_any_hook(home, tenant, received):
    """`exclude` in config.toml: a directory glob and a project-name pattern. Every hook of a whole
    Claude Code session there (start, stop, pre-compact, post-compact, end) makes no request at all,
    spools nothing and leaves nothing for the orphan sweep; a directory not listed is captured."""
    import re

    cfg = home.home / ".config" / "mso" / "config.toml"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text('exclude = ["~/clients/*", "billing*"]\n')
    client_dir = home.home / "clients" / "acme"
    named = home.home / "work" / "svc"  # its directory name is not excluded: its project's name is
    for d in (client_dir, named):
        d.mkdir(parents=True)
    (named / ".mso.toml").write_text('project = "Billing-API"\n')
    raw = home.claude_transcript(CLAUDE_IDS[0]).read_text()

    for cwd in (client_dir, named):
        sid = str(uuid.uuid4())
        transcript = home.home / ".claude" / "projects" / re.sub(r"[^A-Za-z0-9]", "-", str(cwd)) / f"{sid}.jsonl"
        transcript.parent.mkdir(parents=True, exist_ok=True)
        transcript.write_text(raw)
        for event, fixture in (("session-start", "claude-session-start"), ("stop", "claude-stop"),
                               ("pre-compact", "claude-pre-compact"), ("post-compact", "claude-post-compact"),
                               ("session-start", "claude-session-start-compact"),
                               ("session-end", "claude-session-end")):
            payload = json.loads(home.payload(fixture, sid))
            payload.update(cwd=str(cwd), transcript_path=str(transcript))
            r = home.mso("hook", "claude", event, stdin=json.dumps(payload))
            assert r.returncode == 0 and r.stderr == "" and r.stdout == "", (event, r)
    time.sleep(1)  # a detached uploader, had any been started, would have sent by now
    assert received == [] and home.spool() == [] and list((home.state / "sessions").glob("*.json")) == []
    why = [e["reason"] for e in home.log_events() if e["event"] == "hook_excluded"]
    assert len(why) == 12 and sum("matches the directory" in w for w in why) == 6
    assert sum("project name 'Billing-API'" in w for w in why) == 6

    # the same session in a directory that is not listed is captured
    sid = CLAUDE_IDS[1]
    home.claude_transcript(sid)
    home.hook("claude", "session-start", "claude-session-start", sid)
    home.hook("claude", "session-end", "claude-session-end", sid)
    home.wait_log("job_delivered", sid)
    assert any(p.endswith("/transcript") for p, _ in received)
