"""The handoff's file bookkeeping stays linear in the number of files (issue 20: 4,000 writes took
48 s to hand off). Counted in items visited, not timed."""

from __future__ import annotations

from chalicelib.handoff import state
from chalicelib.handoff.facts import extract_facts, merge_file_changes
from chalicelib.transcripts.model import FileChange, Message, ToolCall, ToolResult


class CountingDict(dict):
    visited = 0

    def __iter__(self):
        for k in super().__iter__():
            CountingDict.visited += 1
            yield k


class CountingList(list):
    visited = 0

    def __iter__(self):
        for x in super().__iter__():
            CountingList.visited += 1
            yield x

    def __reversed__(self):
        for x in super().__reversed__():
            CountingList.visited += 1
            yield x


def _writes(n: int) -> list[Message]:
    out = [Message("user", "split the module")]
    for i in range(n):
        call = ToolCall("Write", {"file_path": f"/repo/src/m{i}.py", "content": "x = 1\n"}, id=f"t{i}")
        out.append(Message("assistant", tool_calls=[call]))
        out.append(Message("tool", tool_results=[ToolResult("ok", tool_call_id=f"t{i}")]))
    return out


def test_numstat_paths_are_matched_without_scanning_every_file():
    n = 2_000
    facts = extract_facts(_writes(n), root_hint="/repo")
    assert len(facts.files) == n
    facts.files = CountingDict(facts.files)
    CountingDict.visited = 0
    posted = [FileChange(path=f"src/m{i}.py", kind="modified", lines_added=3, lines_removed=1, source="numstat")
              for i in range(n)] + [FileChange(path=f"docs/new{i}.md", kind="added", lines_added=1, lines_removed=0,
                                               source="numstat") for i in range(n)]
    facts.root = None  # relative numstat paths then match the absolute ones by suffix, the costly case
    merge_file_changes(facts, posted)
    # before: each change not found by its display path scanned every file (n * 2n visits)
    assert CountingDict.visited <= 4 * n, CountingDict.visited
    assert facts.files["/repo/src/m7.py"].added == 3 and facts.files["/repo/src/m7.py"].source == "numstat"
    assert facts.files["docs/new7.md"].kind == "added" and len(facts.files) == 2 * n


def test_uncommitted_files_find_their_last_edit_in_one_pass():
    n = 2_000
    facts = extract_facts(_writes(n), root_hint="/repo")
    facts.edits = CountingList(facts.edits)
    CountingList.visited = 0
    gs = state._git_state(facts)
    assert len(gs.changed) + len(gs.uncommitted) == n
    # before: a reversed scan of every edit for each file (n * n / 2 visits)
    assert CountingList.visited <= 2 * n, CountingList.visited
