"""Sessions that explain themselves (issue 18): a session the hooks create has no title, no model and
an API-clock duration of the seconds between two hook calls; the transcript gives all three. Run
with the real `mso` CLI, the agents' own hook payloads on stdin, a temporary HOME holding real
transcripts, the app on DynamoDB Local."""

from __future__ import annotations

import gzip
import json
import uuid
from datetime import datetime

import pytest

from tests.conftest import TRANSCRIPTS
from tests.integration.cli_support import CLAUDE_IDS, find_session, wait_for

pytestmark = pytest.mark.integration


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _raw_span(text: str) -> tuple[datetime, datetime]:
    """The first and last timestamps any record of the file carries (the bounds of the real work)."""
    stamps = [_ts(o["timestamp"]) for o in map(json.loads, text.splitlines()) if o.get("timestamp")]
    return min(stamps), max(stamps)


def test_claude_title_model_and_duration_come_from_the_transcript_not_the_hook_clock(home, tenant):
    from chalicelib.domain import projects

    sid = CLAUDE_IDS[1]  # a real session of 1 h 13 min whose first request is 148 characters
    path = home.claude_transcript(sid)
    full = path.read_text()
    lines = full.splitlines(keepends=True)
    path.write_text("".join(lines[: len(lines) // 2]))

    home.hook("claude", "session-start", "claude-session-start", sid)
    created = find_session(tenant, sid)
    assert (created["title"], created["model"], created["transcript"]) == (None, None, None)

    # the first Stop uploads the transcript so far: the running session already has its title and model
    home.hook("claude", "stop", "claude-stop", sid)
    home.wait_log("job_delivered", sid)
    running = find_session(tenant, sid)
    request = ("Work on bead spotter-fum. Run bd show spotter-fum to see the issue details and bd ready to find "
               "available subtasks. Start with the first ready task.")
    assert running["status"] == "in_progress"
    assert running["title"] == "Work on bead spotter-fum. Run bd show spotter-fum to see the issue details and…"
    assert request.startswith(running["title"][:-1]) and len(running["title"]) <= 80
    assert running["model"] == "claude-opus-4-6"

    # the session ends seconds after it started (by the API's clock): its duration is the transcript's
    path.write_text(full)
    home.hook("claude", "session-end", "claude-session-end", sid)
    done = wait_for(lambda: (s := find_session(tenant, sid)) and s["status"] == "completed" and s)
    t = done["transcript"]
    first, last = _raw_span(full)
    started, ended = _ts(t["started_at"]), _ts(t["ended_at"])
    assert first <= started < ended <= last
    assert (started - first).total_seconds() < 60 and (last - ended).total_seconds() < 60
    assert done["duration_s"] == int((ended - started).total_seconds())
    assert done["duration_s"] > 3600  # over an hour of work, not the seconds between two hook calls
    api_clock = (_ts(done["ended_at"]) - _ts(done["started_at"])).total_seconds()
    assert api_clock < 600
    assert projects.get(tenant, done["project_id"])["duration_s"] == done["duration_s"]
    assert (done["title"], done["model"]) == (running["title"], running["model"])


def test_codex_title_model_and_span_come_from_the_rollout_with_secrets_redacted(home, tenant):
    sid = str(uuid.uuid4())
    rollout = home.codex_rollout(sid)
    home.hook("codex", "session-start", "codex-session-start", sid)
    home.hook("codex", "session-end", "codex-session-end", sid)  # transcript_path null: found by session id
    done = wait_for(lambda: (s := find_session(tenant, sid)) and s["status"] == "completed" and s)
    # the first request a person typed (the environment context Codex injects before it is not one),
    # with the database password it quotes redacted
    assert done["title"].startswith("The add() test fails, please fix it (task CALC-12).")
    assert "Sup3rS3cret" not in done["title"] and len(done["title"]) <= 80
    assert done["model"] == "gpt-5-codex"
    t = done["transcript"]
    first, last = _raw_span(rollout.read_text())
    started, ended = _ts(t["started_at"]), _ts(t["ended_at"])
    assert first <= started < ended <= last
    assert done["duration_s"] == int((ended - started).total_seconds()) >= 20


def test_the_title_a_person_typed_is_kept_over_the_transcript(home, tenant, server):
    """`mso` users may name a session before its transcript arrives; the transcript only fills gaps."""
    from chalicelib.domain import sessions

    sid = CLAUDE_IDS[0]
    home.claude_transcript(sid)
    home.hook("claude", "session-start", "claude-session-start", sid)
    s = find_session(tenant, sid)
    sessions.update(tenant, s["project_id"], s["number"], {"title": "Transcript panel: metadata and threads"})
    home.hook("claude", "session-end", "claude-session-end", sid)
    done = wait_for(lambda: (x := find_session(tenant, sid)) and x["status"] == "completed" and x)
    assert done["title"] == "Transcript panel: metadata and threads"
    assert done["model"] == "claude-opus-4-6" and done["duration_s"] > 3600
    raw = gzip.decompress((TRANSCRIPTS / "claude-code" / f"{sid}.jsonl.gz").read_bytes()).decode()
    assert "Implement spotter-gqc" in raw  # what the transcript would have given
