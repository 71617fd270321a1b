"""Fact extraction pieces: command outcomes, error lines, ids, todos, file edits, roots."""

from __future__ import annotations

from collections import Counter

import pytest

from chalicelib.handoff.facts import (
    classify,
    display_command,
    error_line,
    extract_facts,
    infer_root,
    run_outcome,
    split_segments,
)
from chalicelib.handoff.rules import prefix_words
from chalicelib.handoff.textutil import clip
from chalicelib.transcripts.model import Message, ToolCall, ToolResult
from tests.unit.handoff.handoff_support import Script


@pytest.mark.parametrize(("output", "is_error", "expected"), [
    ("....\n4 passed in 0.12s", False, "pass"),
    ("FAILED tests/a.py::t - assert 1 == 2\n1 failed, 3 passed in 0.2s", False, "fail"),
    ("Exit code 1\nE   KeyError: 'x'\n1 failed", True, "fail"),
    ("Finished in 1.5 seconds\n14 doctests, 65 tests, 0 failures", False, "pass"),
    ("Finished in 1.0 seconds\n5 tests, 5 failures", False, "fail"),
    ("Tests: 1 failed, 10 passed, 11 total", False, "fail"),
    ("test result: ok. 12 passed; 0 failed; 0 ignored", False, "pass"),
    ("--- FAIL: TestLogin (0.00s)\nFAIL\nFAIL\texample.com/auth\t0.01s", False, "fail"),
    ("ok  \texample.com/auth\t0.01s", False, "pass"),
    ("Exit code 2\n", True, "fail"),
    ("Command running in background with ID: b0be39e. Output is being written to: /tmp/x", False, "running"),
    ("== Compilation error in file lib/a.ex ==\n** (CompileError) lib/a.ex: cannot compile", False, "fail"),
])
def test_run_outcome_of_test_and_build_output(output: str, is_error: bool, expected: str) -> None:
    assert run_outcome(output, is_error)[0] == expected


def test_outcome_summary_is_the_count_line() -> None:
    assert run_outcome("Running ExUnit\n....\n14 doctests, 65 tests, 0 failures\n", False)[1] == (
        "14 doctests, 65 tests, 0 failures")


@pytest.mark.parametrize(("command", "kind"), [
    ("pytest -q tests/unit", "test"), ("uv run pytest -x", "test"), ("python -m pytest", "test"),
    ("mix test test/a_test.exs", "test"), ("npm test", "test"), ("npm run test:unit", "test"),
    ("npx vitest run", "test"), ("cargo test -p core", "test"), ("go test ./...", "test"),
    ("make test", "test"), (".venv/bin/pytest tests", "test"), ("bundle exec rspec spec/a_spec.rb", "test"),
    ("mix compile --warnings-as-errors", "build"), ("npm run build", "build"), ("cargo build --release", "build"),
    ("ruff check .", "build"), ("make", "build"), ("tsc --noEmit", "build"),
    ("pip install -r requirements.txt", "setup"), ("mix deps.get", "setup"),
    ("git status", "git"), ("ls -la", "other"), ("grep -rn pytest .", "other"), ("echo make test", "other"),
])
def test_command_classes(command: str, kind: str) -> None:
    assert classify(command) == kind


def test_segments_and_display_drop_plumbing_not_meaning() -> None:
    cmd = "cd /repo && mix compile --warnings-as-errors 2>&1 && mix test test/a_test.exs 2>&1 | tail -10"
    assert split_segments(cmd) == ["cd /repo", "mix compile --warnings-as-errors", "mix test test/a_test.exs"]
    assert display_command(cmd) == "cd /repo && mix compile --warnings-as-errors && mix test test/a_test.exs"
    heredoc = "git commit -m \"$(cat <<'EOF'\nfeat: x\n\nbody\nEOF\n)\""
    assert display_command(heredoc) == "git commit -m"
    assert split_segments(heredoc) == ['git commit -m "$(cat']


def test_error_line_prefers_the_error_over_noise() -> None:
    out = ("Exit code 2\nRunning ExUnit with seed: 1\n\n  1) test mount works (MyTest)\n     test/my_test.exs:12\n"
           "     ** (RuntimeError) no :secret_key_base configuration found\n")
    assert error_line(out) == "** (RuntimeError) no :secret_key_base configuration found"
    assert error_line("Exit code 128\nfatal: not a git repository") == "fatal: not a git repository"
    assert error_line("warning: unused x\nerror: undefined function get/2") == "error: undefined function get/2"
    long = "E   AssertionError: " + "x" * 400
    assert len(error_line(long)) <= 150


def test_clip_and_prefix_cut_at_word_boundaries() -> None:
    text = "alpha beta gamma delta epsilon"
    assert clip(text, 100) == text
    c = clip(text, 17)
    assert c.endswith("…") and text.startswith(c[:-1]) and text[len(c) - 1] == " "
    p = prefix_words(text, 17)
    assert text.startswith(p) and text[len(p)] == " " and len(p) <= 17


def test_handoff_files_and_stored_file_changes_come_from_one_extractor() -> None:
    """The handoff's file list and the stored file changes are the same parse of the same calls."""
    from chalicelib.transcripts.filechanges import FileChangeTracker

    patch = ("*** Begin Patch\n*** Update File: src/a.py\n@@\n-x = 1\n+x = 2\n+y = 3\n*** Add File: src/b.py\n"
             "+print('hi')\n*** Delete File: old.txt\n*** End Patch")
    msgs = [Message(role="assistant", tool_calls=[ToolCall("apply_patch", {"input": patch}, "c1"),
                                                  ToolCall("Edit", {"file_path": "/w/p/src/c.py", "old_string": "a\nb",
                                                                    "new_string": "a\nB\nC"}, "c2")]),
            Message(role="tool", tool_results=[ToolResult("Done", "c1"), ToolResult("ok", "c2")])]
    tracker = FileChangeTracker()
    for m in msgs:
        tracker.observe(m)
    stored = {(c.path, c.kind, c.lines_added, c.lines_removed) for c in tracker.result()}
    f = extract_facts(msgs)
    mine = {(ff.path, ff.kind, ff.added, ff.removed) for ff in f.files.values()}
    assert mine == stored == {("src/a.py", "modified", 2, 1), ("src/b.py", "added", 1, 0),
                              ("old.txt", "deleted", 0, 0), ("/w/p/src/c.py", "modified", 2, 1)}


def test_codex_style_apply_patch_through_shell_counts_as_edit() -> None:
    patch = "*** Begin Patch\n*** Update File: src/a.py\n@@\n-x = 1\n+x = 2\n*** End Patch"
    msgs = [Message(role="assistant", tool_calls=[ToolCall("shell", {"command": ["apply_patch", patch]}, "c1")]),
            Message(role="tool", tool_results=[ToolResult("Success. Updated the following files:\nM src/a.py", "c1")])]
    f = extract_facts(msgs)
    assert f.files["src/a.py"].added == 1 and f.files["src/a.py"].removed == 1


def test_root_is_the_outermost_working_directory_or_the_common_project_dir() -> None:
    assert infer_root(Counter({"/w/proj/assets": 5, "/w/proj": 2}), ["/w/proj/lib/a.ex"]) == "/w/proj"
    assert infer_root(Counter(), ["/w/proj/lib/a/b.ex", "/w/proj/test/b_test.exs"]) == "/w/proj"
    assert infer_root(Counter(), ["/w/proj/src/only.py"]) == "/w/proj"
    assert infer_root(Counter(), ["rel/path.py"]) is None


def test_edit_counts_use_the_structured_patch_when_present() -> None:
    data = {"structuredPatch": [{"oldStart": 1, "oldLines": 2, "newStart": 1, "newLines": 3,
                                 "lines": [" a", "-b", "+c", "+d"]}]}
    msgs = [Message(role="assistant", tool_calls=[ToolCall("Edit", {"file_path": "/p/src/x.py", "old_string": "b",
                                                                    "new_string": "c\nd"}, "e1")]),
            Message(role="tool", tool_results=[ToolResult("updated", "e1", data=data)])]
    ff = extract_facts(msgs).files["/p/src/x.py"]
    assert (ff.added, ff.removed, ff.edits) == (2, 1, 1)


def test_failed_edits_do_not_count() -> None:
    msgs = [Message(role="assistant", tool_calls=[ToolCall("Edit", {"file_path": "/p/a.py", "old_string": "x",
                                                                    "new_string": "y"}, "e1")]),
            Message(role="tool", tool_results=[ToolResult("<tool_use_error>String to replace not found",
                                                          "e1", is_error=True)])]
    assert extract_facts(msgs).files == {}


def test_background_test_run_gets_its_outcome_from_task_output() -> None:
    msgs = [
        Message(role="assistant", tool_calls=[ToolCall("Bash", {"command": "mix test", "run_in_background": True},
                                                       "b1")]),
        Message(role="tool", tool_results=[ToolResult("Command running in background with ID: abc123. Output is "
                                                      "being written to: /tmp/abc123.output", "b1")]),
        Message(role="assistant", tool_calls=[ToolCall("TaskOutput", {"task_id": "abc123"}, "t1")]),
        Message(role="tool", tool_results=[ToolResult("<status>completed</status>\n<exit_code>0</exit_code>\n"
                                                      "<output>\n12 tests, 0 failures\n</output>", "t1")]),
    ]
    ch = extract_facts(msgs).checks["mix test"]
    assert ch.outcome == "pass" and ch.summary == "12 tests, 0 failures"


def test_background_run_failure_from_a_task_notification() -> None:
    msgs = [
        Message(role="assistant", tool_calls=[ToolCall("Bash", {"command": "pytest"}, "b1")]),
        Message(role="tool", tool_results=[ToolResult("Command running in background with ID: zz9. Output", "b1")]),
        Message(role="user", injected=True, text="<task-notification>\n<task-id>zz9</task-id>\n<status>failed"
                                                  "</status>\n<summary>Background command failed (exit code 1)"
                                                  "</summary>\n</task-notification>"),
    ]
    assert extract_facts(msgs).checks["pytest"].outcome == "fail"


def test_todowrite_replaces_the_list() -> None:
    s = Script().todos([("a thing", "pending"), ("b thing", "pending")]).todos([("b thing", "completed"),
                                                                                ("c thing", "in_progress")])
    todos = {t.content: t.status for t in extract_facts(s.messages).todos.values()}
    assert todos == {"b thing": "completed", "c thing": "in_progress"}


def test_task_ids_only_from_typed_text() -> None:
    s = (Script().user("Work on PROJ-12, #345, ticket 9 and T-7 (UTF-8 please)")
         .say("Also see ABC-999 in the logs").bash("echo DEF-1", "DEF-1"))
    ids = [t.id for t in extract_facts(s.messages).task_ids]
    assert sorted(ids) == sorted(["PROJ-12", "#345", "ticket 9", "T-7"])  # not UTF-8, ABC-999 or DEF-1


def test_user_rejection_is_recorded_as_a_decision() -> None:
    msgs = [Message(role="assistant", tool_calls=[ToolCall("Bash", {"command": "rm -rf build"}, "r1")]),
            Message(role="tool", tool_results=[ToolResult("The user doesn't want to proceed with this tool use.",
                                                          "r1", is_error=True)])]
    f = extract_facts(msgs)
    assert [d.text for d in f.decisions] == ["User rejected the command `rm -rf build`"]
    assert f.errors == []


def test_inspection_failures_are_not_errors() -> None:
    s = Script().bash("grep -rn TODO src", "Exit code 1", is_error=True).bash("ls missing", "Exit code 2\nls: "
                                                                               "cannot access", is_error=True)
    assert extract_facts(s.messages).errors == []


def test_results_without_ids_pair_in_order() -> None:
    msgs = [Message(role="assistant", tool_calls=[ToolCall("Bash", {"command": "pytest"})]),
            Message(role="tool", tool_results=[ToolResult("3 passed")])]
    assert extract_facts(msgs).checks["pytest"].outcome == "pass"
