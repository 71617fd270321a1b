"""Typed actions: one record per agent in the registry, each checked on a transcript of that agent."""

from __future__ import annotations

import pathlib
import re

import pytest

from chalicelib.transcripts import actions as A
from chalicelib.transcripts.actions import AGENTS, Edit, Read, Search, Shell, Subagent, Todo, Web, actions_of
from chalicelib.transcripts.importing import import_all
from chalicelib.transcripts.model import Message, ToolCall, ToolResult

ROOT = pathlib.Path(__file__).resolve().parents[3]
FIX = ROOT / "tests" / "fixtures"


def _load(rel: str) -> list:
    messages, stats, _ = import_all((FIX / rel).read_bytes())
    return actions_of(messages, stats.get("format", ""))


def _of(acts: list, cls: type) -> list:
    return [a for a in acts if isinstance(a, cls)]


def test_every_agent_has_a_record_and_families_do_not_overlap() -> None:
    names = {a.agent for a in AGENTS}
    assert {"claude-code", "codex", "aider", "cline", "swe-agent/openhands", "markdown"} <= names
    # a tool name means one action kind across all agents, or classification would depend on order
    fams = [A.EDIT_TOOLS, A.SHELL_TOOLS, A.READ_TOOLS, A.SEARCH_TOOLS, A.TODO_TOOLS, A.BG_OUTPUT_TOOLS, A.WEB_TOOLS]
    for k, f in enumerate(fams):
        for g in fams[k + 1:]:
            assert not (f & g), f & g


def test_claude_code_edits_shell_and_background_completion_folded_in() -> None:
    acts = _load("transcripts/claude_code_background.jsonl")
    shells = _of(acts, Shell)
    assert shells[0].exit_code == 1 and shells[0].failed and shells[0].background_id is None
    bg = [s for s in shells if s.background_id]
    assert len(bg) == 2
    for s in bg:  # the later BashOutput/TaskOutput completion is on the run itself
        assert s.status == "completed" and s.completed_index is not None and s.completed_index > s.index
        assert s.exit_code == 0 and not s.failed
    edits = _of(acts, Edit)
    assert edits and all(e.path.endswith("invoicer/money.py") for e in edits)
    assert _of(acts, Read) and _of(acts, Search)
    assert [a.index for a in acts] == sorted(a.index for a in acts)


def test_claude_code_small_notebook_and_write() -> None:
    edits = _of(_load("transcripts/claude_code_small.jsonl"), Edit)
    assert {e.path.rsplit("/", 1)[-1] for e in edits} == {"tool.py", "README.md", "cli.py", "nb.ipynb"}
    assert all(e.at for e in edits)


def test_codex_patch_edits_and_failed_shell() -> None:
    acts = _load("transcripts/codex_rollout.jsonl")
    edits = _of(acts, Edit)
    assert {e.path for e in edits} == {"calc/ops.py", "tests/test_sub.py"}
    assert all(e.mode == "patch" for e in edits)
    failing = [s for s in _of(acts, Shell) if s.failed]
    assert failing and failing[0].command == "pytest -q" and failing[0].exit_code == 1


def test_aider_importer_emits_normalized_calls() -> None:
    acts = _load("transcripts/aider_modern.md")
    assert {e.path for e in _of(acts, Edit)} == {"src/app.py", "src/log.py"}
    assert len(_of(acts, Shell)) == 1


def test_aider_real_log_reports_applied_edits() -> None:
    acts = _load("real/aider/aider_example_complex-change.md")
    assert _of(acts, Edit)


def test_swe_agent_view_is_a_read_and_edit_is_an_edit() -> None:
    acts = _load("transcripts/swe_agent_fc.traj")
    assert [e.path for e in _of(acts, Edit)] == ["/repo/calc.py"]
    assert len(_of(acts, Read)) == 1 and len(_of(acts, Shell)) == 1


def test_swe_agent_real_trajectory() -> None:
    acts = _load("real/swe-agent/pydicom__pydicom-1458.traj")
    assert any(e.path.endswith("numpy_handler.py") for e in _of(acts, Edit))
    # its text commands are typed too: `open` reads, `find_file` searches, `create` makes a file
    assert _of(acts, Read) and _of(acts, Search)
    assert any(e.path.endswith("reproduce_bug.py") for e in _of(acts, Edit))
    assert {a.tool for a in acts if a.kind == "other"} <= {"submit"}


def test_markdown_export_tool_use() -> None:
    acts = _load("transcripts/claude_code_export_tooluse.md")
    assert [e.path for e in _of(acts, Edit)] == ["/srv/shop/app/pagination.py"]
    assert any(s.failed and "pytest" in s.command for s in _of(acts, Shell))


def _run(calls: list[ToolCall], results: list[ToolResult]) -> list:
    msgs = [Message(role="assistant", tool_calls=calls, timestamp="2026-01-01T00:00:00Z"),
            Message(role="tool", tool_results=results)]
    return actions_of(msgs)


def test_cline_tools() -> None:
    acts = _run(
        [ToolCall("write_to_file", {"path": "src/a.ts", "content": "x\ny\n"}, "1"),
         ToolCall("execute_command", {"command": "npm test"}, "2"),
         ToolCall("read_file", {"path": "src/b.ts"}, "3"),
         ToolCall("search_files", {"path": "src", "regex": "foo"}, "4")],
        [ToolResult("ok", "1"), ToolResult("Exit code 1\nFAIL src/a.test.ts", "2", is_error=True),
         ToolResult("...", "3"), ToolResult("...", "4")])
    (e,) = _of(acts, Edit)
    assert (e.path, e.added, e.mode) == ("src/a.ts", 2, "write")
    (s,) = _of(acts, Shell)
    assert s.command == "npm test" and s.exit_code == 1 and s.failed
    assert _of(acts, Read)[0].path == "src/b.ts" and _of(acts, Search)[0].query == "foo"


def test_codex_argv_command_cwd_and_plan() -> None:
    acts = _run(
        [ToolCall("shell", {"command": ["bash", "-lc", "go test ./..."], "workdir": "/w"}, "1"),
         ToolCall("update_plan", {"plan": [{"step": "write parser", "status": "in_progress"}]}, "2")],
        [ToolResult("ok", "1", data={"exit_code": 0}), ToolResult("Plan updated", "2")])
    (s,) = _of(acts, Shell)
    assert (s.command, s.cwd, s.exit_code, s.failed) == ("go test ./...", "/w", 0, False)
    assert _of(acts, Todo)[0].items == [("write parser", "in_progress")]


def test_claude_code_todo_subagent_web_and_mcp_prefix() -> None:
    acts = _run(
        [ToolCall("TodoWrite", {"todos": [{"content": "fix bug", "status": "completed"}]}, "1"),
         ToolCall("Task", {"description": "explore the parser"}, "2"),
         ToolCall("WebFetch", {"url": "https://example.com/doc"}, "3"),
         ToolCall("mcp__ide__Edit", {"file_path": "a.py", "old_string": "a", "new_string": "b\nc"}, "4")],
        [ToolResult("ok", k) for k in "1234"])
    assert _of(acts, Todo)[0].items == [("fix bug", "completed")]
    assert _of(acts, Subagent)[0].description == "explore the parser"
    assert _of(acts, Web)[0].url == "https://example.com/doc"
    (e,) = _of(acts, Edit)
    assert (e.path, e.added, e.removed, e.mode) == ("a.py", 2, 1, "edit")


def test_failed_edit_is_not_an_edit() -> None:
    acts = _run([ToolCall("Edit", {"file_path": "a.py", "old_string": "a", "new_string": "b"}, "1")],
                [ToolResult("String not found", "1", is_error=True)])
    assert not _of(acts, Edit)


@pytest.mark.parametrize("literal", ["todowrite", "bashoutput", "taskoutput", "str_replace_editor",
                                     "exec_command", "execute_command", "write_to_file", "apply_patch\""])
def test_no_raw_tool_names_outside_the_registry(literal: str) -> None:
    """Only chalicelib/transcripts/actions.py (and the importers) know the agents' tool names."""
    for p in sorted((ROOT / "chalicelib" / "handoff").rglob("*.py")):
        code = "\n".join(ln for ln in p.read_text().splitlines() if not ln.lstrip().startswith("#"))
        code = re.sub(r'"""[\s\S]*?"""', "", code)
        assert not re.search(r"[\"']" + re.escape(literal.strip('"')) + r"[\"']", code, re.I), (p.name, literal)


def _every_transcript() -> list[pathlib.Path]:
    files = [p for p in (FIX / "transcripts").iterdir() if p.is_file()]
    for sub in ("real/claude-code", "real/aider", "real/swe-agent", "real/aider-multi"):
        files += [p for p in (FIX / sub).rglob("*") if p.is_file() and p.suffix in (".jsonl", ".md", ".traj", ".gz")
                  and not p.name.startswith(("LICENSE", "README", "SOURCES"))]
    return sorted(files)


@pytest.mark.parametrize("path", _every_transcript(), ids=lambda p: str(p.relative_to(FIX)))
def test_every_fixture_gives_ordered_actions_within_the_transcript(path: pathlib.Path) -> None:
    import gzip

    raw = path.read_bytes()
    messages, stats, _ = import_all(gzip.decompress(raw) if path.suffix == ".gz" else raw)
    acts = actions_of(messages, stats.get("format", ""))
    assert [a.index for a in acts] == sorted(a.index for a in acts)
    assert all(0 <= a.index < len(messages) for a in acts)
    for sh in _of(acts, Shell):
        assert sh.completed_index is None or sh.completed_index > sh.index


@pytest.mark.parametrize("history", sorted((FIX / "real" / "aider-multi").glob("*/aider.chat.history.md")),
                         ids=lambda p: p.parent.name)
def test_real_aider_histories_give_one_edit_per_applied_edit(history: pathlib.Path) -> None:
    """aider logs "Applied edit to <file>" once per file it changed: each is one Edit action, but for an
    edit of a file git tracks that aider followed with "No changes made to git tracked files" (it
    changed nothing)."""
    messages, stats, _ = import_all(history.read_bytes())
    edits = _of(actions_of(messages, stats.get("format", "")), Edit)
    text = history.read_text()
    noop = sum(m.group(0).count("Applied edit to") for m in
               re.finditer(r"^(?:> Applied edit to .*\n)+> No changes made to git tracked files", text, re.M))
    assert text.count("Applied edit to") - noop <= len(edits) <= text.count("Applied edit to")
    assert len(edits) > 0


def test_the_reader_gives_calls_then_results_then_the_edits_that_took_effect() -> None:
    """One message's steps come in the order they happen, each action as it was at that point."""
    reader = A.ActionReader()
    calls = Message(role="assistant", tool_calls=[
        ToolCall("Edit", {"file_path": "a.py", "old_string": "x = 1", "new_string": "x = 2\ny = compute()"}, "1"),
        ToolCall("Bash", {"command": "pytest -q", "check_kind": "test"}, "2"),
        ToolCall("TodoWrite", {"not_a_list": 1}, "3")])
    results = Message(role="user", tool_results=[
        ToolResult("ok", "1"), ToolResult("1 failed", "2", is_error=True, data={"output_shown": False})])
    first = list(reader.observe(0, calls))
    assert [(s, type(a).__name__) for s, a in first] == [("call", "EditCall"), ("call", "Shell"), ("call", "Todo")]
    assert first[0][1].path == "a.py" and first[2][1].items is None  # every call is one action
    second = list(reader.observe(1, results))
    assert [s for s, _ in second] == ["result", "result", "edits"]
    sh = second[1][1]
    assert (sh.result_index, sh.is_error, sh.output_shown, sh.check_kind) == (1, True, False, "test")
    (e,) = second[2][1]
    assert (e.index, e.effect_index, e.path, e.lines, e.by_call) == (0, 1, "a.py", ["x = 2", "y = compute()"], True)
    assert reader.unanswered() == []


def test_results_without_ids_pair_with_their_calls_in_order() -> None:
    """Formats without call ids: a result goes to the oldest call still waiting, an edit call included,
    so the edit's rejection is not taken for the shell command's result."""
    acts = _run([ToolCall("Edit", {"file_path": "a.py", "old_string": "a", "new_string": "b"}),
                 ToolCall("Bash", {"command": "make"})],
                [ToolResult("The user doesn't want to proceed with this tool use.", is_error=True),
                 ToolResult("Exit code 0\nbuilt")])
    (s,) = _of(acts, Shell)
    assert s.output == "Exit code 0\nbuilt" and not s.failed


def test_a_wait_reports_on_its_background_run() -> None:
    reader = A.ActionReader()
    steps = list(reader.observe(0, Message(role="assistant", tool_calls=[
        ToolCall("Bash", {"command": "npm test", "run_in_background": True}, "1")])))
    steps += list(reader.observe(1, Message(role="user", tool_results=[
        ToolResult("Command running in background with ID: b7", "1")])))
    steps += list(reader.observe(2, Message(role="assistant", tool_calls=[ToolCall("BashOutput", {"bash_id": "b7"}, "2")])))
    steps += list(reader.observe(3, Message(role="user", tool_results=[
        ToolResult("<status>completed</status><exit_code>1</exit_code><stdout>1 failed</stdout>", "2")])))
    wait = next(a for s, a in steps if s == "result" and isinstance(a, A.Wait))
    assert wait.report == ("b7", "completed", 1, "1 failed")
    sh = next(a for s, a in steps if isinstance(a, Shell))
    assert (sh.background_id, sh.status, sh.exit_code, sh.completed_index) == ("b7", "completed", 1, 3)
