"""Deriving file changes stays linear in the number of files (issue 20: 4,000 writes took 23 s to
import, 60,000 took 233 s). Counted in operations, not timed: the per-path merge must not rerun over
every change at every message once a session has touched more than its first threshold of files."""

from __future__ import annotations

from chalicelib.transcripts import filechanges
from chalicelib.transcripts.filechanges import FileChangeTracker
from chalicelib.transcripts.model import Message, ToolCall, ToolResult


def _writes(n: int) -> list[Message]:
    out = []
    for i in range(n):
        call = ToolCall("Write", {"file_path": f"/repo/src/m{i}.py", "content": "x = 1\n"}, id=f"t{i}")
        out.append(Message("assistant", tool_calls=[call]))
        out.append(Message("tool", tool_results=[ToolResult("ok", tool_call_id=f"t{i}")]))
    return out


def test_merging_work_grows_linearly_with_distinct_files(monkeypatch):
    merged_items = []
    real = filechanges.merge_changes

    def counting(changes):
        changes = list(changes)
        merged_items.append(len(changes))
        return real(changes)

    monkeypatch.setattr(filechanges, "merge_changes", counting)
    n = 3_000
    tracker = FileChangeTracker("claude-code")
    for m in _writes(n):
        tracker.observe(m)
    result = tracker.result()
    assert len(result) == n and {c.kind for c in result} == {"added"}
    # before: every message past 512 distinct files re-merged them all (about n * n / 2 = 4.5 M items)
    assert sum(merged_items) <= 4 * n, (len(merged_items), sum(merged_items))
