"""Codex CLI rollouts: the hand-made sample (envelope layout), the legacy layout, usage, errors."""

from __future__ import annotations

import json

import pytest
from transcript_support import run_import

from chalicelib.transcripts.errors import TranscriptWrongFormat
from chalicelib.transcripts.importers.codex import CodexImporter


@pytest.fixture(scope="module")
def codex(fixtures):
    return run_import(fixtures / "codex_rollout.jsonl")


def test_detected_and_counted(codex, fixtures):
    raw = [json.loads(line) for line in (fixtures / "codex_rollout.jsonl").read_text().splitlines()]
    items = [r["payload"] for r in raw if r["type"] == "response_item"]
    assert codex.stats["format"] == "codex"
    assert codex.stats["tool_calls"] == sum(1 for i in items if i["type"] in ("function_call", "custom_tool_call"))
    assert len(codex.results) == sum(1 for i in items if i["type"].endswith("_output"))
    assert [m.role for m in codex.messages] == ["user", "user", "assistant", "tool", "assistant", "tool",
                                                "assistant", "tool", "assistant", "tool", "assistant"]


def test_event_msg_duplicates_are_not_imported(codex):
    # user_message / agent_message / agent_reasoning events repeat the response items
    assert sum(1 for m in codex.messages if "please fix it" in m.text) == 1
    assert sum(1 for m in codex.messages if m.text.startswith("Fixed `add()`")) == 1
    assert sum(1 for m in codex.messages if "Running the tests" in m.thinking) == 1


def test_user_messages_and_injected_context(codex):
    env, ask = codex.by_role("user")
    assert env.injected and env.text.startswith("<environment_context>")
    assert not ask.injected and "CALC-12" in ask.text
    assert "Sup3rS3cret" not in ask.text and "[REDACTED:url_password]" in ask.text
    assert codex.stats["redactions"] == {"url_password": 1}


def test_tool_calls_and_results(codex):
    calls = codex.calls
    assert [c.name for c in calls] == ["shell", "apply_patch", "apply_patch", "shell"]
    assert calls[0].input["command"] == ["bash", "-lc", "pytest -q"]  # arguments JSON decoded
    assert calls[1].input["input"].startswith("*** Begin Patch")
    results = codex.results
    assert [(r.name, r.is_error) for r in results] == [("shell", True), ("apply_patch", True),
                                                       ("apply_patch", False), ("shell", False)]
    assert results[0].data == {"exit_code": 1} and "1 failed, 1 passed" in results[0].text
    assert codex.stats["tool_errors"] == 2


def test_token_usage_is_the_final_cumulative_total(codex):
    assert codex.stats["tokens"] == 18900 + 730
    assert codex.stats["input_tokens"] == 18900
    first = codex.by_role("assistant")[0]
    assert (first.usage.input_tokens, first.usage.output_tokens) == (4210, 96)


def test_cached_input_is_its_own_kind_per_model_with_the_peak_prompt(codex):
    """OpenAI counts cached prompt tokens inside input_tokens: they are priced apart (a tenth of the rate)."""
    assert codex.imp.info["cache_read_input_tokens"] == 16384
    assert codex.imp.info["usage_by_model"] == {"gpt-5-codex": {
        "input_tokens": 18900 - 16384, "output_tokens": 730, "cache_read_tokens": 16384, "cache_write_tokens": 0}}
    assert codex.imp.info["peak_context_tokens"] == 5230  # the largest last_token_usage.input_tokens


def test_file_changes_from_apply_patch_skip_the_failed_one(codex):
    got = {c.path: (c.kind, c.lines_added, c.lines_removed) for c in codex.changes}
    assert got == {"calc/ops.py": ("modified", 1, 1), "tests/test_sub.py": ("added", 5, 0)}


def test_info(codex):
    assert codex.info["model"] == "gpt-5-codex"
    assert codex.info["cwd"] == "/home/dev/proj/calc"
    assert codex.info["git_branch"] == "fix-add"


def test_legacy_layout_without_envelopes():
    lines = [
        {"id": "a1b2", "timestamp": "2025-05-20T10:00:00Z", "instructions": None},
        {"record_type": "state"},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "list files"}]},
        {"type": "function_call", "name": "shell", "arguments": '{"command":["ls"]}', "call_id": "c1"},
        {"type": "function_call_output", "call_id": "c1", "output": '{"output":"a.py\\n","metadata":{"exit_code":0}}'},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "One file: a.py"}]},
    ]
    body = "\n".join(json.dumps(x) for x in lines).encode() + b"\n"
    got = run_import(body)
    assert got.stats["format"] == "codex"
    assert [m.role for m in got.messages] == ["user", "assistant", "tool", "assistant"]
    assert got.results[0].text == "a.py\n" and not got.results[0].is_error
    assert got.info["session_id"] == "a1b2"


def test_plain_text_output_and_last_token_usage_and_compaction():
    rec = [
        {"type": "response_item", "payload": {"type": "message", "role": "user",
                                              "content": [{"type": "input_text", "text": "run it"}]}},
        {"type": "response_item", "payload": {"type": "function_call", "name": "exec_command",
                                              "arguments": '{"cmd":"make"}', "call_id": "x"}},
        {"type": "event_msg", "payload": {"type": "token_count",
                                          "info": {"last_token_usage": {"input_tokens": 50, "output_tokens": 7}}}},
        {"type": "response_item", "payload": {"type": "function_call_output", "call_id": "x",
                                              "output": "Exit code: 2\nWall time: 0.1 seconds\nOutput:\nmake: *** Error"}},
        {"type": "compacted", "payload": {"message": "Summary of the work so far: make fails."}},
    ]
    body = "\n".join(json.dumps({"timestamp": "2025-11-01T00:00:00Z", **r}) for r in rec) + "\n"
    got = run_import(body.encode(), "codex")
    assert got.results[0].is_error and got.results[0].data == {"exit_code": 2}
    assert got.stats["tokens"] == 57
    assert got.messages[-1].role == "summary" and "make fails" in got.messages[-1].text


def test_claude_code_body_declared_as_codex_is_refused(fixtures):
    with pytest.raises(TranscriptWrongFormat) as e:
        run_import(fixtures / "claude_code_small.jsonl", "codex")
    assert e.value.code == "transcript_wrong_format"
    assert "not in the codex format" in e.value.message and "claude-code" in e.value.message


def test_sniff():
    assert CodexImporter.sniff('{"timestamp":"t","type":"session_meta","payload":{"id":"x"}}\n') >= 0.9
    assert CodexImporter.sniff('{"type":"user","sessionId":"s"}\n') == 0
