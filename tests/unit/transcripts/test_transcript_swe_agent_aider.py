"""SWE-agent trajectories and aider chat histories: the real shared files and hand-made samples."""

from __future__ import annotations

import json
import re

import pytest
from transcript_support import run_import

from chalicelib.transcripts.filechanges import parse_edit_blocks
from chalicelib.transcripts.importers.swe_agent import command_name

# -- SWE-agent -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def traj_doc(shared):
    return json.loads((shared / "swe-agent" / "pydicom__pydicom-1458.traj").read_text())


@pytest.fixture(scope="module")
def swe(shared):
    return run_import(shared / "swe-agent" / "pydicom__pydicom-1458.traj")


def test_swe_demo_is_dropped(swe, traj_doc):
    assert traj_doc["history"][1]["is_demo"] is True
    kept = [h for h in traj_doc["history"] if not h.get("is_demo")]
    assert swe.stats["format"] == "swe-agent"
    assert swe.stats["messages"] == len(kept) + 1 == 26  # + the submission
    assert swe.info["demonstrations_dropped"] == 1
    assert not any("DEMONSTRATION" in m.text for m in swe.messages)
    assert swe.messages[1].text.startswith("We're currently solving the following issue")


def test_swe_actions_become_tool_calls(swe, traj_doc):
    actions = [h["action"] for h in traj_doc["history"] if h.get("action")]
    assert swe.stats["tool_calls"] == len(actions) == 12
    assert [c.name for c in swe.calls] == [command_name(a) for a in actions]
    assert [c.name for c in swe.calls] == ["create", "edit", "bash", "find_file", "open", "edit", "edit", "edit",
                                           "edit", "bash", "bash", "submit"]
    assert swe.calls[2].input == {"command": "python reproduce_bug.py"}
    # the assistant text is the thought, not the thought + fenced command
    assert swe.by_role("assistant")[0].text.startswith("First, I'll create a new Python script")
    assert "```" not in swe.by_role("assistant")[0].text


def test_swe_observations_and_errors(swe):
    results = swe.results
    assert len(results) == 11  # the submit action's observation is the diff, not in history
    failed = [r for r in results if r.is_error]
    # three edits refused by the syntax check + the reproduction traceback
    assert len(failed) == swe.stats["tool_errors"] == 4
    assert sum(1 for r in failed if "syntax error" in r.text) == 3
    assert all(r.tool_call_id and r.name for r in results)


def test_swe_submission_usage_and_final_diff(swe, traj_doc):
    last = swe.messages[-1]
    assert last.role == "system" and last.meta == {"subtype": "submission", "exit_status": "submitted"}
    assert last.text == traj_doc["info"]["submission"]
    stats = traj_doc["info"]["model_stats"]
    assert swe.stats["tokens"] == stats["tokens_sent"] + stats["tokens_received"] == 123981
    assert [(c.path, c.kind, c.lines_added, c.lines_removed) for c in swe.changes] == [
        ("pydicom/pixel_data_handlers/numpy_handler.py", "modified", 3, 2)]
    assert swe.changes[0].summary == "final diff"


def test_swe_without_submission_uses_the_successful_edits(traj_doc):
    doc = json.loads(json.dumps(traj_doc))
    del doc["info"]["submission"]
    got = run_import(json.dumps(doc).encode())
    edits = [h["action"] for h in doc["history"] if h.get("action", "").startswith("edit ")]
    last_edit = edits[-1]  # edit 287:296, the only numpy_handler edit that passed the syntax check
    body = last_edit.split("\n", 1)[1].rstrip("\n").split("\n")[:-1]  # drop end_of_edit
    changes = {c.path: (c.kind, c.lines_added, c.lines_removed) for c in got.changes}
    assert changes == {
        "reproduce_bug.py": ("added", 18, 1),  # create, then edit 1:1 with 18 lines
        "pydicom/pixel_data_handlers/numpy_handler.py": ("modified", len(body), 296 - 287 + 1),
    }
    assert got.messages[-1].meta["subtype"] == "run_end"


def test_swe_function_calling_trajectory(fixtures):
    got = run_import(fixtures / "swe_agent_fc.traj")
    assert got.stats["format"] == "swe-agent"
    assert got.info["demonstrations_dropped"] == 2
    assert not any("DEMO" in m.text for m in got.messages)
    assert [c.name for c in got.calls] == ["str_replace_editor", "str_replace_editor", "bash", "submit"]
    assert got.calls[1].input["command"] == "str_replace"
    assert [r.tool_call_id for r in got.results] == ["call_v1", "call_e1", "call_b1"]
    assert [(c.path, c.kind, c.lines_added, c.lines_removed) for c in got.changes] == [("calc.py", "modified", 2, 0)]
    assert got.stats["tokens"] == 5300


def test_swe_function_calling_without_submission_uses_str_replace(fixtures):
    doc = json.loads((fixtures / "swe_agent_fc.traj").read_text())
    doc["info"].pop("submission")
    got = run_import(json.dumps(doc).encode())
    # the view call changes nothing; the str_replace adds two lines (relative to the cwd /repo)
    assert [(c.path, c.kind, c.lines_added, c.lines_removed) for c in got.changes] == [("calc.py", "modified", 2, 0)]


def test_swe_trajectory_only_file():
    doc = {"trajectory": [{"action": "ls\n", "observation": "a.py\n", "thought": "Look around.", "response": "",
                           "state": '{"working_dir": "/w"}'},
                          {"action": "submit\n", "observation": "", "thought": "Done.", "response": ""}],
           "info": {"exit_status": "submitted", "submission": ""}}
    got = run_import(json.dumps(doc).encode())
    assert [m.role for m in got.messages] == ["assistant", "tool", "assistant", "tool", "system"]
    assert got.calls[0].name == "bash" and got.info["cwd"] == "/w"


# -- aider -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "n_user", "n_blocks", "files"), [
    ("aider_example_add-test.md", 3, 2, {"tests/test_commands.py"}),
    ("aider_example_complex-change.md", 10, 15, {"tests/test_main.py", "aider/main.py", "aider/getinput.py"}),
])
def test_aider_real_transcripts(name, n_user, n_blocks, files, shared):
    path = shared / "aider" / name
    text = path.read_text()
    assert len(re.findall(r"^<<<<<<< ", text, re.M)) == n_blocks  # independent count
    got = run_import(path)
    assert got.stats["format"] == "aider"
    users = got.by_role("user")
    assert len(users) == n_user == len(re.findall(r"^#### ", text, re.M))
    blocks = [b for m in got.by_role("assistant") for b in parse_edit_blocks(m.text)]
    assert len(blocks) == n_blocks
    assert {b.path for b in blocks} == files == {c.path for c in got.changes}
    assert not any(m.text.startswith(("parent:", "# Create", "# A complex")) for m in got.messages)  # page prose
    assert not any("<div" in m.text for m in got.messages)


def test_aider_add_test_changes(shared):
    path = shared / "aider" / "aider_example_add-test.md"
    blocks = re.findall(r"^<<<<<<< ORIGINAL\n(.*?)^=======\n(.*?)^>>>>>>> UPDATED", path.read_text(), re.M | re.S)
    searches = [s.count("\n") for s, _ in blocks]
    replaces = [r.count("\n") for _, r in blocks]
    assert searches == [0, 2] and replaces == [24, 2]  # an empty ORIGINAL: the file is new
    got = run_import(path)
    c = got.change("tests/test_commands.py")
    assert (c.kind, c.lines_added, c.lines_removed) == ("added", 24 + 2, 0 + 2)
    assert got.by_role("user")[1].text == "/run pytest tests/test_commands.py"
    tool_texts = [r.text for r in got.results]
    assert any("AttributeError: 'list' object has no attribute 'split'" in t for t in tool_texts)
    assert tool_texts[0].split("\n")[:2] == ["$ aider tests/test_commands.py", "Creating empty file tests/test_commands.py"]


def test_aider_complex_change_counts(shared):
    got = run_import(shared / "aider" / "aider_example_complex-change.md")
    edits = {c.path: c.summary for c in got.changes}
    # one "Applied edit to" line per block in this older log: each line is one edit of its own block
    assert edits == {"tests/test_main.py": "edit ×8", "aider/main.py": "edit ×2", "aider/getinput.py": "edit ×5"}
    # the user's pasted API signature stays one user message (a long #### line)
    assert any(m.text.startswith("prompt_toolkit.shortcuts.prompt(") for m in got.by_role("user"))


def test_aider_modern_history(fixtures):
    got = run_import(fixtures / "aider_modern.md")
    # aider's output block, then its edits and its commit as normalized tool calls and results
    assert [m.role for m in got.messages] == ["system", "tool", "user", "assistant", "tool", "assistant", "tool",
                                              "assistant", "tool", "user", "tool"]
    assert got.messages[0].meta == {"subtype": "session_start"} and got.info["started_at"] == "2024-08-05 19:33:02"
    assert got.messages[2].text == "add a --verbose flag\nand log the config at startup"
    assert [(c.name, c.input.get("file_path")) for c in got.messages[5].tool_calls] == [
        ("edit", "src/app.py"), ("write", "src/log.py")]
    assert got.messages[7].tool_calls[0].input == {"command": "git commit -m 'feat: add --verbose' -- src/app.py src/log.py"}
    assert got.messages[8].tool_results[0].text == "[HEAD 1a2b3c4] feat: add --verbose"
    assert {c.path: (c.kind, c.lines_added, c.lines_removed) for c in got.changes} == {
        "src/app.py": ("modified", 1, 0), "src/log.py": ("added", 4, 0)}
    assert got.results[-1].text == "..\n2 passed in 0.02s"
