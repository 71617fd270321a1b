"""Claude Code JSONL: the two real sessions, their compaction sub-agent files, a hand-made sample."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from transcript_support import CLAUDE_SESSIONS, claude_records, run_import

from chalicelib.transcripts.errors import TranscriptInvalidJSON
from chalicelib.transcripts.importers.claude_code import ClaudeCodeImporter, small_result_data

SKIPPED = ("progress", "file-history-snapshot", "queue-operation")


def _queued(r: dict) -> bool:
    """A message typed while the agent was busy (Claude Code records it only as an enqueue)."""
    c = r.get("content")
    return (r.get("type") == "queue-operation" and r.get("operation") == "enqueue" and isinstance(c, str)
            and bool(c.strip()) and not c.lstrip().startswith("<"))


def _expected(path: Path) -> dict:
    """Counts computed straight from the raw records, independently of the importer."""
    recs = list(claude_records(path))
    kept = [r for r in recs if r.get("type") not in SKIPPED or _queued(r)]
    tool_uses = [b for r in kept if r["type"] == "assistant" for b in r["message"]["content"] if b["type"] == "tool_use"]
    results = [b for r in kept if r["type"] == "user" and isinstance(r["message"]["content"], list)
               for b in r["message"]["content"] if b["type"] == "tool_result"]
    # Assistant messages: runs of consecutive records sharing message.id (only records that
    # become messages interrupt a run: users, and the compact_boundary system record).
    runs, prev = 0, None
    for r in kept:
        if r["type"] == "system" and r.get("subtype") != "compact_boundary":
            continue
        key = r["message"]["id"] if r["type"] == "assistant" else None
        if key is not None and key != prev:
            runs += 1
        prev = key
    # Tokens: each message.id counted once, at its largest (final) value.
    per_id: dict[str, tuple[int, int]] = {}
    for r in kept:
        if r["type"] == "assistant":
            u = r["message"]["usage"]
            tin = u["input_tokens"] + u.get("cache_creation_input_tokens", 0) + u.get("cache_read_input_tokens", 0)
            a, b = per_id.get(r["message"]["id"], (0, 0))
            per_id[r["message"]["id"]] = (max(a, tin), max(b, u["output_tokens"]))
    cwd = next(r["cwd"] for r in kept if r.get("cwd")) + "/"
    failed = {b["tool_use_id"] for b in results if b.get("is_error")}
    edited = {u["input"]["file_path"].removeprefix(cwd) for u in tool_uses
              if u["name"] in ("Edit", "Write", "MultiEdit") and u["id"] not in failed}
    typed = [r["content"] if _queued(r) else r["message"]["content"] for r in kept
             if _queued(r) or (r["type"] == "user" and isinstance(r["message"]["content"], str)
                               and not r.get("isCompactSummary") and not r.get("isMeta")
                               and not r["message"]["content"].startswith("<"))]
    compact = [r["message"]["content"] for r in kept if r.get("isCompactSummary")]
    return {
        "tool_calls": len(tool_uses),
        "tool_results": len(results),
        "tool_errors": sum(1 for b in results if b.get("is_error")),
        "assistant_messages": runs,
        "tokens": sum(a + b for a, b in per_id.values()),
        "edited": edited,
        "edit_calls": Counter(u["name"] for u in tool_uses if u["name"] in ("Edit", "Write")),
        "typed": typed,
        "compact": compact,
        "boundaries": sum(1 for r in kept if r["type"] == "system" and r.get("subtype") == "compact_boundary"),
    }


@pytest.mark.parametrize("session", CLAUDE_SESSIONS)
def test_real_session_counts_match_the_raw_records(session, shared, claude_session):
    exp = _expected(shared / "claude-code" / f"{session}.jsonl.gz")
    got = claude_session(session)
    assert got.stats["format"] == "claude-code"
    assert got.stats["tool_calls"] == exp["tool_calls"]
    assert len(got.results) == exp["tool_results"]
    assert got.stats["tool_errors"] == exp["tool_errors"]
    assert len(got.by_role("assistant")) == exp["assistant_messages"]
    assert got.stats["tokens"] == exp["tokens"]
    assert [m.text for m in got.by_role("user") if not m.injected] == exp["typed"]
    assert Counter(c.name for c in got.calls if c.name in ("Edit", "Write")) == exp["edit_calls"]
    # every tool result names the tool that produced it
    assert all(r.name for r in got.results)


def test_real_session_literal_numbers(claude_session):
    """Numbers checked by hand against the raw file (258c: 35 Edit + 13 Write calls, 26 files)."""
    got = claude_session(CLAUDE_SESSIONS[0])
    assert got.stats["messages"] == 366
    assert Counter(m.role for m in got.messages) == {"tool": 186, "assistant": 171, "user": 7, "system": 1,
                                                     "summary": 1}
    assert got.stats["tool_calls"] == 186 and got.stats["tool_errors"] == 7
    assert Counter(c.name for c in got.calls)["Edit"] == 35
    assert Counter(c.name for c in got.calls)["Write"] == 13
    assert len(got.changes) == 26
    assert [m.text for m in got.by_role("user") if not m.injected] == [
        "Implement spotter-gqc", "check again", "new beads for the epic were added. tackle them", "did you push?"]
    assert [m.meta.get("queued", False) for m in got.by_role("user") if not m.injected] == [False, True, True, False]
    other = claude_session(CLAUDE_SESSIONS[1])
    assert other.stats["messages"] == 341 and other.stats["tool_calls"] == 177 and other.stats["tool_errors"] == 13


@pytest.mark.parametrize("session", CLAUDE_SESSIONS)
def test_real_session_compaction_summary_and_boundary(session, shared, claude_session):
    exp = _expected(shared / "claude-code" / f"{session}.jsonl.gz")
    got = claude_session(session)
    assert exp["boundaries"] == 1 and len(exp["compact"]) == 1
    summaries = got.by_role("summary")
    assert len(summaries) == 1
    assert summaries[0].text == exp["compact"][0]
    assert summaries[0].text.startswith("This session is being continued from a previous conversation")
    i = got.messages.index(summaries[0])
    boundary = got.messages[i - 1]
    assert boundary.role == "system" and boundary.meta["subtype"] == "compact_boundary"
    assert boundary.meta["trigger"] == "auto" and boundary.meta["preTokens"] > 100_000


@pytest.mark.parametrize("session", CLAUDE_SESSIONS)
def test_real_session_file_changes_are_the_edited_files(session, shared, claude_session):
    exp = _expected(shared / "claude-code" / f"{session}.jsonl.gz")
    got = claude_session(session)
    assert {c.path for c in got.changes} == exp["edited"]
    assert all(c.source == "transcript" and c.kind in ("added", "modified") for c in got.changes)
    # relative to the session's cwd, except files outside it (Claude's plan file)
    assert all(not c.path.startswith("/home/USER/projects") for c in got.changes)
    assert sum((c.lines_added or 0) + (c.lines_removed or 0) for c in got.changes) > 500


def test_real_session_specific_changes(claude_session):
    got = claude_session(CLAUDE_SESSIONS[0])
    ref = got.change("lib/spotter/transcripts/annotation_message_ref.ex")
    assert (ref.kind, ref.lines_added, ref.lines_removed) == ("added", 43, 0)  # Write of a new file
    annotation = got.change("lib/spotter/transcripts/annotation.ex")
    assert annotation.kind == "modified" and annotation.summary == "Edit ×4"
    assert (annotation.lines_added, annotation.lines_removed) == (36, 6)  # from structuredPatch
    plan = claude_session(CLAUDE_SESSIONS[1]).change("/home/USER/.claude/plans/drifting-tumbling-whisper.md")
    assert plan.kind == "added"


def test_real_session_tool_result_data_is_small_and_useful(claude_session):
    got = claude_session(CLAUDE_SESSIONS[0])
    edits = [r for r in got.results if r.name == "Edit"]
    assert len(edits) == 35
    assert all(r.data and r.data["filePath"].endswith((".ex", ".exs", ".js", ".json")) for r in edits)
    assert all("linesAdded" in r.data and "originalFile" not in r.data for r in edits)
    bash = [r for r in got.results if r.name == "Bash" and r.data]
    assert all("interrupted" in r.data or ("error" in r.data and r.is_error) for r in bash)
    assert sum(1 for r in bash if "interrupted" in r.data) == 74  # 72 + 2 background runs
    assert all(len(r.data.get("stdout", "")) <= 1001 for r in bash)
    assert max(len(json.dumps(r.data)) for r in got.results if r.data) < 8000
    assert not any("hook_progress" in m.text for m in got.messages)  # progress records are skipped


def test_real_session_info(claude_session):
    info = claude_session(CLAUDE_SESSIONS[0]).info
    assert info["cwd"] == "/home/USER/projects/spotter-worktrees/spotter-gqc"
    assert info["session_id"] == CLAUDE_SESSIONS[0]
    assert info["model"] == "claude-opus-4-6"
    assert info["cache_read_input_tokens"] > 1_000_000


@pytest.mark.parametrize(("name", "n_messages", "n_injected"), [
    ("258c7280-ae70-4798-800f-63464d01a85d.agent-acompact-fffbd0.jsonl", 4, 2),
    ("8463c716-a2ea-4c14-9efa-87158ebd9f20.agent-acompact-f46190.jsonl", 7, 5),
])
def test_compaction_subagent_files(name, n_messages, n_injected, shared):
    got = run_import(shared / "claude-code" / name)
    assert got.stats["format"] == "claude-code"
    assert got.stats["messages"] == n_messages
    assert sum(1 for m in got.messages if m.injected) == n_injected
    assert got.messages[-2].text.startswith("Your task is to create a detailed summary of the conversation")
    assert got.messages[-1].role == "assistant" and len(got.messages[-1].text) > 10_000


# -- the hand-made sample ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small(fixtures):
    return run_import(fixtures / "claude_code_small.jsonl")


def test_small_sample_messages(small):
    roles = [m.role for m in small.messages]
    assert roles == ["user", "assistant", "tool", "assistant", "tool", "assistant", "tool", "assistant", "tool",
                     "assistant", "tool", "assistant", "tool", "user", "system", "summary", "user", "user", "assistant"]
    assert small.messages[-2].text == "later" and small.messages[-2].meta == {"queued": True}
    first = small.messages[1]
    # three JSONL lines of msg_1 merged: thinking + text + Edit call
    assert first.thinking == "The flag must skip run()." and first.text == "I'll edit tool.py."
    assert [c.name for c in first.tool_calls] == ["Edit"]
    assert [m.injected for m in small.by_role("user")] == [False, True, True, False]
    assert small.stats["tool_calls"] == 6 and small.stats["tool_errors"] == 1
    assert small.messages[8].tool_results[0].is_error and small.messages[8].tool_results[0].name == "Edit"


def test_small_sample_usage_counted_once_per_message_id(small):
    # msg_1: 3 lines; msg_2: 2 lines split by a tool result; msg_3..6: one line each
    assert small.stats["tokens"] == (10 + 100 + 1000 + 120) + (5 + 2000 + 80) + 4 * (1 + 100 + 10)
    msg2_parts = [small.messages[3], small.messages[5]]
    assert [(m.usage.input_tokens, m.usage.output_tokens) for m in msg2_parts] == [(2005, 30), (0, 50)]


def test_small_sample_file_changes(small):
    got = {c.path: (c.kind, c.lines_added, c.lines_removed) for c in small.changes}
    assert got == {
        "tool.py": ("modified", 2, 2),      # replace_all: counted from structuredPatch (two hunks)
        "README.md": ("added", 3, 0),       # Write of a new file (toolUseResult type "create")
        "cli.py": ("modified", 2, 3),       # MultiEdit: 1+1 added, 1+2 removed
        "nb.ipynb": ("modified", 2, 0),     # NotebookEdit new_source
    }  # missing.py is absent: its Edit failed


def test_small_sample_secrets_in_tool_results_and_data(small):
    env = small.messages[12].tool_results[0]
    assert "AKIAIOSFODNN7EXAMPLE" not in env.text and "[REDACTED:aws_access_key]" in env.text
    assert "[REDACTED:aws_secret_key]" in env.data["stdout"]
    assert small.stats["redactions"] == {"aws_access_key": 2, "aws_secret_key": 2}


def test_small_sample_compaction(small):
    boundary, summary = small.messages[14], small.messages[15]
    assert boundary.meta == {"subtype": "compact_boundary", "trigger": "manual", "preTokens": 91234}
    assert summary.role == "summary" and "OPS-42" in summary.text


def test_small_result_data_keeps_only_small_fields():
    data = small_result_data({"filePath": "/a.py", "originalFile": "x" * 10_000, "oldString": "a", "newString": "b",
                              "structuredPatch": [{"lines": ["-a", "+b", "+c", " d"]}], "replaceAll": False})
    assert data == {"filePath": "/a.py", "linesAdded": 2, "linesRemoved": 1,
                    "structuredPatch": [{"lines": ["-a", "+b", "+c", " d"]}], "replaceAll": False}
    big = small_result_data({"structuredPatch": [{"lines": ["+" + "x" * 3000]}]})
    assert big == {"linesAdded": 1, "linesRemoved": 0}
    assert small_result_data("User rejected tool use") == {"error": "User rejected tool use"}
    assert small_result_data({"stdout": "y" * 5000, "stderr": ""}) == {"stdout": "…" + "y" * 999}


def test_malformed_middle_line_names_the_line(fixtures):
    lines = (fixtures / "claude_code_small.jsonl").read_bytes().split(b"\n")
    lines[5] = lines[5][: len(lines[5]) // 2]
    with pytest.raises(TranscriptInvalidJSON) as e:
        run_import(b"\n".join(lines), "claude-code")
    assert e.value.line == 6 and "Line 6" in e.value.message and "not valid JSON" in e.value.message


def test_truncated_last_line_is_reported_as_truncated(fixtures):
    raw = (fixtures / "claude_code_small.jsonl").read_bytes().rstrip(b"\n")
    with pytest.raises(TranscriptInvalidJSON) as e:
        run_import(raw[:-25])
    assert e.value.line == raw.count(b"\n") + 1 and "truncated" in e.value.message


def test_sniff_scores():
    assert ClaudeCodeImporter.sniff('{"type":"user","sessionId":"s","message":{"role":"user","content":"hi"}}\n') >= 0.9
    assert ClaudeCodeImporter.sniff('{"role":"user","content":"hi"}\n{"role":"assistant","content":"yo"}\n') == 0
    assert ClaudeCodeImporter.sniff("# heading\n") == 0
