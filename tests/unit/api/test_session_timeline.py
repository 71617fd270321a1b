"""GET .../sessions/{n}/timeline: one session's events in order, the same for every agent."""

from __future__ import annotations

import json
import pathlib

from chalicelib.domain.session_timeline import cap_events

FIX = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "transcripts"
KINDS = {"edit", "command", "check", "commit", "push", "compaction", "note", "error", "user"}


def _claude() -> bytes:
    def rec(uid: str, ts: str, role: str, content: object) -> dict:
        return {"type": role, "uuid": uid, "timestamp": ts, "cwd": "/w/p", "sessionId": "s1",
                "message": {"role": role, "content": content, **({"id": uid} if role == "assistant" else {})}}
    recs = [
        rec("u1", "2026-11-01T10:00:00Z", "user", "make the parser strict"),
        rec("a1", "2026-11-01T10:01:00Z", "assistant", [
            {"type": "tool_use", "id": "t1", "name": "Edit",
             "input": {"file_path": "/w/p/parse.py", "old_string": "a", "new_string": "b\nc"}}]),
        rec("u2", "2026-11-01T10:01:30Z", "user", [{"type": "tool_result", "tool_use_id": "t1", "content": "ok"}]),
        rec("a2", "2026-11-01T10:02:00Z", "assistant", [
            {"type": "tool_use", "id": "t2", "name": "Bash", "input": {"command": "pytest tests/test_parse.py"}}]),
        rec("u3", "2026-11-01T10:03:00Z", "user", [{"type": "tool_result", "tool_use_id": "t2", "is_error": True,
                                                   "content": "FAILED tests/test_parse.py::test_x\n1 failed in 0.1s"}]),
        rec("a3", "2026-11-01T10:04:00Z", "assistant", [
            {"type": "tool_use", "id": "t3", "name": "Bash", "input": {"command": "git commit -m 'strict parser'"}}]),
        rec("u4", "2026-11-01T10:05:00Z", "user", [{"type": "tool_result", "tool_use_id": "t3",
                                                   "content": "[main 1a2b3c4] strict parser\n 1 file changed"}]),
    ]
    return "\n".join(json.dumps(r) for r in recs).encode()


def _session(api, raw: bytes | None, name: str = "tl") -> str:
    pid = api.post("/api/projects", {"name": name}).json_body["id"]
    api.post(f"/api/projects/{pid}/sessions", {})
    if raw is not None:
        r = api.put(f"/api/projects/{pid}/sessions/1/transcript", raw=raw,
                    headers={"Content-Type": "application/octet-stream"})
        assert r.status_code in (200, 201, 202), r.body
    return pid


def _check_contract(body: dict) -> None:
    assert set(body) >= {"session", "started_at", "ended_at", "events", "truncated"}
    for e in body["events"]:
        assert set(e) == {"index", "at", "kind", "label", "outcome", "path"}
        assert e["kind"] in KINDS and e["outcome"] in ("pass", "fail", None) and len(e["label"]) <= 160
    assert [e["index"] for e in body["events"]] == sorted(e["index"] for e in body["events"])


def test_claude_code_session_events_in_order(api):
    pid = _session(api, _claude())
    r = api.get(f"/api/projects/{pid}/sessions/1/timeline")
    assert r.status_code == 200, r.body
    body = r.json_body
    _check_contract(body)
    assert body["session"] == 1 and body["truncated"] is False
    assert body["started_at"] == "2026-11-01T10:00:00Z" and body["ended_at"] == "2026-11-01T10:05:00Z"
    kinds = [e["kind"] for e in body["events"]]
    assert kinds == ["user", "edit", "check", "commit"]
    user, edit, check, commit = body["events"]
    assert user["label"] == "make the parser strict"
    assert edit["path"] == "/w/p/parse.py" and "+2" in edit["label"]
    assert check["outcome"] == "fail" and "pytest tests/test_parse.py" in check["label"]
    assert commit["outcome"] == "pass" and commit["at"] == "2026-11-01T10:04:00Z"


def test_session_without_transcript_has_no_events_and_other_tenants_get_404(api, other_api):
    pid = _session(api, None, "empty")
    r = api.get(f"/api/projects/{pid}/sessions/1/timeline")
    assert r.status_code == 200 and r.json_body["events"] == [] and r.json_body["truncated"] is False
    assert api.get(f"/api/projects/{pid}/sessions/9/timeline").status_code == 404
    assert other_api.get(f"/api/projects/{pid}/sessions/1/timeline").status_code == 404
    assert api.get(f"/api/projects/{pid}/sessions/abc/timeline").status_code in (400, 404)


def test_codex_transcript(api):
    pid = _session(api, (FIX / "codex_rollout.jsonl").read_bytes(), "codex")
    body = api.get(f"/api/projects/{pid}/sessions/1/timeline").json_body
    _check_contract(body)
    assert {e["path"] for e in body["events"] if e["kind"] == "edit"} == {"calc/ops.py", "tests/test_sub.py"}
    checks = [e for e in body["events"] if e["kind"] == "check"]
    assert checks and checks[0]["outcome"] == "fail"


def test_aider_transcript(api):
    pid = _session(api, (FIX / "aider_modern.md").read_bytes(), "aider")
    body = api.get(f"/api/projects/{pid}/sessions/1/timeline").json_body
    _check_contract(body)
    assert {e["path"] for e in body["events"] if e["kind"] == "edit"} == {"src/app.py", "src/log.py"}
    assert any(e["kind"] == "user" for e in body["events"])


def test_cap_keeps_the_important_kinds_in_order():
    events = [{"index": k, "kind": "note" if k % 3 else "commit"} for k in range(30)]
    kept, cut = cap_events(events, 12)
    assert cut and len(kept) == 12
    assert sum(e["kind"] == "commit" for e in kept) == 10  # every commit survives, notes fill the rest
    assert [e["index"] for e in kept] == sorted(e["index"] for e in kept)
    assert cap_events(events, 30) == (events, False)


def test_background_check_takes_the_outcome_of_its_later_completion(api):
    """A failing check, then background re-runs (BashOutput/TaskOutput) that pass: each event has its own outcome."""
    pid = _session(api, (FIX / "claude_code_background.jsonl").read_bytes(), "bg")
    body = api.get(f"/api/projects/{pid}/sessions/1/timeline").json_body
    _check_contract(body)
    checks = [(e["outcome"], e["label"]) for e in body["events"] if e["kind"] == "check"]
    assert [o for o, _ in checks] == ["fail", "pass", "pass"]
    assert "1 failed, 3 passed" in checks[0][1] and "41 passed" in checks[1][1]
    assert [e["kind"] for e in body["events"]].count("edit") == 2
