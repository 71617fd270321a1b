"""File changes: numstat, unified diffs, apply_patch, aider blocks, merging, and the tracker."""

from __future__ import annotations

import pytest

from chalicelib.errors import AppError
from chalicelib.transcripts.errors import NumstatError
from chalicelib.transcripts.filechanges import (
    FileChangeTracker,
    merge_changes,
    parse_apply_patch,
    parse_edit_blocks,
    parse_numstat,
    parse_unified_diff,
)
from chalicelib.transcripts.model import FileChange, Message, ToolCall, ToolResult


def _t(changes):
    return [(c.path, c.kind, c.lines_added, c.lines_removed, c.old_path) for c in changes]


# -- git diff --numstat ----------------------------------------------------------------------------

def test_numstat_basic_binary_and_renames():
    out = parse_numstat(
        "10\t2\tsrc/app.py\n"
        "-\t-\tassets/logo.png\n"
        "0\t0\told_name.txt => new_name.txt\n"
        "3\t1\tsrc/{utils => helpers}/strings.py\n"
        "5\t0\t{ => pkg}/mod.py\n"
        "\n"
        "1\t1\tdocs/{a.md => b.md}\r\n"
    )
    assert _t(out) == [
        ("src/app.py", "modified", 10, 2, None),
        ("assets/logo.png", "modified", None, None, None),
        ("new_name.txt", "renamed", 0, 0, "old_name.txt"),
        ("src/helpers/strings.py", "renamed", 3, 1, "src/utils/strings.py"),
        ("pkg/mod.py", "renamed", 5, 0, "mod.py"),
        ("docs/b.md", "renamed", 1, 1, "docs/a.md"),
    ]
    assert all(c.source == "numstat" for c in out)


def test_numstat_with_summary_sets_added_and_deleted():
    out = parse_numstat("12\t0\tnew.py\n0\t7\tgone.py\n2\t2\tkept.py\n create mode 100644 new.py\n"
                        " delete mode 100644 gone.py\n mode change 100644 => 100755 kept.py\n")
    assert [(c.path, c.kind) for c in out] == [("new.py", "added"), ("gone.py", "deleted"), ("kept.py", "modified")]


def test_numstat_quoted_path():
    out = parse_numstat('4\t0\t"caf\\303\\251 \\"menu\\".txt"\n')
    assert out[0].path == 'café "menu".txt'


@pytest.mark.parametrize(("text", "line"), [
    ("10\t2\tok.py\nnot a numstat line\n", 2),
    ("1 2 spaces-not-tabs.py\n", 1),
    ("1\t2\tok.py\n\nx\t2\tbad-count.py\n", 3),
    ("diff --git a/x b/x\n", 1),
])
def test_numstat_errors_name_the_line(text, line):
    with pytest.raises(NumstatError) as e:
        parse_numstat(text)
    assert e.value.line == line and f"Line {line}" in e.value.message
    assert isinstance(e.value, AppError) and e.value.to_dict()["error"]["code"] == "invalid_numstat"


def test_numstat_empty_is_empty():
    assert parse_numstat("") == [] and parse_numstat("\n\n") == []


# -- unified diffs ---------------------------------------------------------------------------------

DIFF = """diff --git a/app.py b/app.py
index 111..222 100644
--- a/app.py
+++ b/app.py
@@ -1,4 +1,4 @@
 import os
--- a removed line that starts with dashes
+++ an added line that starts with pluses
 x = 1
@@ -10,2 +10,3 @@ def f():
     pass
+    return 1
 # end
\\ No newline at end of file
diff --git a/new.txt b/new.txt
new file mode 100644
index 0000000..333
--- /dev/null
+++ b/new.txt
@@ -0,0 +1,2 @@
+hello
+world
diff --git a/old.txt b/old.txt
deleted file mode 100644
--- a/old.txt
+++ /dev/null
@@ -1 +0,0 @@
-bye
diff --git a/a/x.py b/b/y.py
similarity index 90%
rename from a/x.py
rename to b/y.py
--- a/a/x.py
+++ b/b/y.py
@@ -1 +1 @@
-v = 1
+v = 2
diff --git a/img.png b/img.png
index 444..555 100644
Binary files a/img.png and b/img.png differ
"""


def test_unified_diff():
    assert _t(parse_unified_diff(DIFF)) == [
        ("app.py", "modified", 2, 1, None),
        ("new.txt", "added", 2, 0, None),
        ("old.txt", "deleted", 0, 1, None),
        ("b/y.py", "renamed", 1, 1, "a/x.py"),
        ("img.png", "modified", None, None, None),
    ]


def test_plain_diff_u_without_git_headers():
    text = "--- a.txt\t2024-01-01\n+++ a.txt\t2024-01-02\n@@ -1,2 +1,2 @@\n-one\n+uno\n two\n"
    assert _t(parse_unified_diff(text)) == [("a.txt", "modified", 1, 1, None)]


# -- Codex apply_patch -----------------------------------------------------------------------------

def test_apply_patch_all_operations():
    patch = ("*** Begin Patch\n*** Add File: docs/new.md\n+# New\n+\n+text\n*** Update File: src/a.py\n"
             "@@ def f():\n-    return 1\n+    return 2\n+    # note\n*** Update File: src/old.py\n*** Move to: src/new.py\n"
             "@@\n-x = 1\n+x = 2\n*** Delete File: tmp.txt\n*** End Patch")
    assert _t(parse_apply_patch(patch)) == [
        ("docs/new.md", "added", 3, 0, None),
        ("src/a.py", "modified", 2, 1, None),
        ("src/new.py", "renamed", 1, 1, "src/old.py"),
        ("tmp.txt", "deleted", 0, 0, None),
    ]
    assert parse_apply_patch("no patch here") == []


# -- aider edit blocks -----------------------------------------------------------------------------

def test_edit_blocks_styles():
    text = ("Old style, path inside the fence:\n\n```python\nsrc/a.py\n<<<<<<< ORIGINAL\nx = 1\n=======\nx = 2\n"
            ">>>>>>> UPDATED\n```\n\nNew style, path before the fence:\n\n**src/b.py**\n```\n<<<<<<< SEARCH\n=======\n"
            "new file\n>>>>>>> REPLACE\n<<<<<<< SEARCH\na\nb\n=======\nc\n>>>>>>> REPLACE\n```\n")
    blocks = parse_edit_blocks(text)
    assert [(b.path, b.search, b.replace) for b in blocks] == [
        ("src/a.py", ["x = 1"], ["x = 2"]),
        ("src/b.py", [], ["new file"]),
        ("src/b.py", ["a", "b"], ["c"]),  # no path line: the previous block's path
    ]


# -- merging ---------------------------------------------------------------------------------------

def test_merge_resolves_kinds_and_sums_lines():
    fc = FileChange
    merged = merge_changes([
        fc("a.py", "added", 10, 0, summary="Write"), fc("a.py", "modified", 2, 1, summary="Edit"),
        fc("a.py", "modified", 1, 1, summary="Edit"),
        fc("b.py", "modified", 1, 0), fc("b.py", "deleted", 0, 5),
        fc("c.py", "deleted", 0, 3), fc("c.py", "added", 4, 0),
        fc("d.py", "added", 3, 0), fc("d.py", "deleted", 0, 3),
        fc("e.bin", "modified", None, None), fc("e.bin", "modified", 3, 0),
        fc("old.py", "modified", 2, 0), fc("new.py", "renamed", 1, 1, old_path="old.py"),
    ])
    assert _t(merged) == [
        ("a.py", "added", 13, 2, None),
        ("b.py", "deleted", 1, 5, None),
        ("c.py", "modified", 4, 3, None),
        ("d.py", "deleted", 3, 3, None),
        ("e.bin", "modified", None, None, None),
        ("new.py", "renamed", 3, 1, "old.py"),  # the rename carries old.py's earlier edit
    ]
    assert merged[0].summary == "Write, Edit ×2"


# -- the tracker over generic tool shapes ----------------------------------------------------------

def _call(name, **inp):
    return Message(role="assistant", tool_calls=[ToolCall(name=name, input=inp, id=f"id-{name}-{len(inp)}")])


def _result(call_msg, error=False, data=None):
    c = call_msg.tool_calls[0]
    return Message(role="tool", tool_results=[ToolResult(text="ok", tool_call_id=c.id, is_error=error, data=data)])


def test_tracker_generic_editor_tools():
    tr = FileChangeTracker("openai")
    msgs = [
        _call("create_file", path="/w/a.txt", content="1\n2\n3\n"),
        _call("str_replace_based_edit_tool", command="str_replace", path="/w/b.py", old_str="x", new_str="y\nz"),
        _call("str_replace_based_edit_tool", command="view", path="/w/c.py"),
        _call("replace_in_file", path="/w/d.py", diff="<<<<<<< SEARCH\nold\n=======\nnew\nnewer\n>>>>>>> REPLACE"),
        _call("shell", command=["apply_patch", "*** Begin Patch\n*** Add File: e.md\n+hi\n*** End Patch\n"]),
        _call("edit_file", path="/w/f.py", old_string="a", new_string="b"),
    ]
    for m in msgs:
        tr.observe(m)
        tr.observe(_result(m, error=m.tool_calls[0].name == "edit_file"))  # the last edit failed
    got = _t(tr.result("/w"))
    assert got == [("a.txt", "added", 3, 0, None), ("b.py", "modified", 2, 1, None),
                   ("d.py", "modified", 2, 1, None), ("e.md", "added", 1, 0, None)]


def test_tracker_counts_calls_without_a_result():
    tr = FileChangeTracker("claude-code")
    tr.observe(_call("Write", file_path="/p/x.py", content="a\nb"))  # transcript ends before the result
    assert _t(tr.result("/p")) == [("x.py", "added", 2, 0, None)]


def test_tracker_uses_the_result_patch_and_type():
    tr = FileChangeTracker("claude-code")
    m = _call("Write", file_path="/p/x.py", content="a\nb\nc")
    tr.observe(m)
    tr.observe(_result(m, data={"type": "update", "filePath": "/p/x.py", "linesAdded": 1, "linesRemoved": 4}))
    assert _t(tr.result("/p")) == [("x.py", "modified", 1, 4, None)]
