"""aider chat history (`.aider.chat.history.md`) and the transcripts on aider's website.

Markdown, read line by line: `# aider chat started at <time>` opens a session, `#### ` lines are
what the user typed (consecutive ones form one message), `> ` lines are aider's own output (file
added, command output, "Applied edit to ..."; one tool message per block), everything else is
the model's answer, including its SEARCH/REPLACE edit blocks. Lines inside a model's code fences
are never taken for markers. YAML front matter, `<div>` wrappers and prose before the first chat
line (website pages) are dropped.

What aider did is normalized into the tool calls every other agent's importer emits, so nothing
downstream knows aider's Markdown: each `> Applied edit to X` becomes an edit call of X carrying the
blocks the model wrote for X (a write when they create it), and each `> Commit <sha> <subject>` a
shell `git commit` of the files applied since the previous commit, answered `[HEAD <sha>] <subject>`
as git prints it (aider commits the files it edited, never a shell command's deletions; only
`/commit` commits everything tracked; the branch is not logged). Blocks aider did not
apply are not changes. aider's own prompts (`Add file to the chat? (Y)es/(N)o …`), even when logged
as a `#### ` line, are its output, not the user's words, and the messages aider writes to the model
itself (a failed edit's reflection, "I added these files to the chat: …") are marked `injected`; the
model's `<thinking-content-…>` spans go to `Message.thinking`, never into its text.
"""

from __future__ import annotations

import re
import shlex
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from ..filechanges import EditBlock, parse_edit_blocks
from ..model import Message, ToolCall, ToolResult
from .base import Importer

_STARTED = re.compile(r"^# aider chat started at (.+?)\s*$")
_DIV = re.compile(r"^\s*</?div\b[^>]*>\s*$")
_FENCE = re.compile(r"^\s*(```|~~~|</?source\b)")  # aider also fences edit blocks with <source>…</source>
_PROMPT = re.compile(r"\? \(Y\)es/\(N\)o\b")  # aider asking: "Add file to the chat? (Y)es/(N)o/… [Yes]: y"
_APPLIED = re.compile(r"^Applied edit to (\S.*?)\s*$")
_COMMIT = re.compile(r"^Commit ([0-9a-f]{7,40}) (\S.*?)\s*$")
_DIRTY_COMMIT = re.compile(r"^Committing (\S.*?) before applying edits\.?\s*$")  # the person's own changes
_RUNNING = re.compile(r"^Running (\S.*?)\s*$")  # a shell command aider ran for the user (/run, or a yes)
_TEST_CMD = re.compile(r"\s--test-cmd[\s=](.+?)(?=\s--[a-z]|\s*$)")  # on the command line aider logs at its start
_LINT_RUN = "## Running: "  # aider's own lint run, its output below, then "Attempt to fix lint errors?"
# aider's own lines around a check's output (prompts, edits, commits): where that output starts
_AIDER_OWN = ("Run shell command?", "Commit ", "Committing ", "Applied edit", "Running ", "You can use /undo",
              "No changes made to git tracked files", "Added ", "Tokens:", "Cost:", "Diff since", "Attempt to fix",
              "Create new file?", "Allow edits", "Add ", "# Fix any errors below", _LINT_RUN)
_REMOVED = re.compile(r"^Removed: ([0-9a-f]{7,40}) (\S.*?)\s*$")  # aider's /undo of its last commit
_NOW_AT = re.compile(r"^Now at:\s+([0-9a-f]{7,40}) (\S.*?)\s*$")
# What aider itself sends the model as the user, logged as `#### ` lines like a person's words
_REFLECTION = re.compile(r"^(?:# \d+ SEARCH/REPLACE blocks? failed to match!|I added these files to the chat:"
                         r"|Find the \"AI\" comments below|(?:# )?Fix any errors below, if possible|I ran this command:)")
_THINKING = re.compile(r"<(thinking-content-[0-9a-f]*)>(.*?)(?:</\1>|\Z)", re.S)


def split_thinking(text: str) -> tuple[str, str]:
    """(answer, visible reasoning): the `<thinking-content-…>` spans taken out of a model's answer."""
    if "<thinking-content" not in text:
        return text, ""
    thoughts = [m.group(2).strip() for m in _THINKING.finditer(text)]
    return _THINKING.sub("", text).strip(), "\n\n".join(t for t in thoughts if t)


def _same_file(block: EditBlock, path: str) -> bool:
    return block.path == path or block.path.endswith("/" + path) or path.endswith("/" + block.path)


def _edit_call(path: str, mine: list[EditBlock], cid: str) -> ToolCall:
    """The edit aider applied to `path` (`mine`: its blocks), in the shape of any agent's edit tool."""
    if mine and not any(ln.strip() for b in mine for ln in b.search):
        return ToolCall("write", {"file_path": path, "content": "\n".join(mine[-1].replace)}, cid)
    edits = [{"old_string": "\n".join(b.search), "new_string": "\n".join(b.replace)} for b in mine]
    return ToolCall("edit", {"file_path": path, "edits": edits}, cid)


_ABS = re.compile(r"^(?:/|~/|[A-Za-z]:[\\/])")


class _Names:
    """One name per file: aider logs a file by the path the model wrote, relative (`main.py`) or
    absolute (`C:\\src\\app\\main.py`). Once an absolute path ends in a relative one already seen, the
    rest is the repository's root, and every later path under it is logged relative to it."""

    def __init__(self) -> None:
        self.relative: dict[str, list[str]] = {}  # basename -> relative paths seen
        self.roots: list[str] = []

    def name(self, path: str) -> str:
        if not _ABS.match(path):
            self.relative.setdefault(re.split(r"[\\/]", path)[-1], []).append(path)
            return path
        for root in self.roots:
            if path.startswith((root + "/", root + "\\")):
                return path[len(root) + 1:]
        for rel in self.relative.get(re.split(r"[\\/]", path)[-1], ()):
            for sep in ("/", "\\"):
                if path.endswith(sep + rel) and len(path) > len(rel) + 1:
                    self.roots.append(path[:-len(rel) - 1])
                    return rel
        return path


def _commit_command(subject: str, applied: list[str], answer_files: list[str], typed: str) -> str:
    """The `git commit` an aider `Commit <sha>` line stands for, naming only what aider commits.

    aider's own commits take the files it edited as pathspecs (never a file a shell command
    deleted or moved): the files it logged as applied, or, when a partly failed answer logged none,
    the files that answer wrote blocks for. Only `/commit` commits every tracked change (`-a`).
    With neither, the commit's files are not known: a bare commit, whose staging was not seen.
    """
    head = f"git commit -m {shlex.quote(subject)}"
    if applied:
        return head + " -- " + " ".join(shlex.quote(p) for p in dict.fromkeys(applied))
    if typed.split(maxsplit=1)[:1] == ["/commit"]:
        return head + " -a"
    if answer_files:
        return head + " -- " + " ".join(shlex.quote(p) for p in answer_files)
    return head


class AiderImporter(Importer):
    """aider Markdown chat history (streams line by line)."""

    name = "aider"

    @classmethod
    def sniff(cls, head: str) -> float:
        if "# aider chat started at" in head:
            return 0.95
        text = "\n" + head  # substring counts, not multi-line regexes: detection runs on every upload
        if "\n#### " not in text:
            return 0.0
        if "\n> " in text or "\n<<<<<<< " in text:
            return 0.8
        return 0.3

    def parse(self, stream: TextIO | Iterable[str]) -> Iterator[Message]:
        kind: str | None = None  # "user" | "tool" | "assistant" for the block being built
        buf: list[str] = []
        started = False
        in_front_matter = False
        in_fence = False
        in_block = False  # between `<<<<<<< SEARCH` and its `=======`, inside a fence
        timestamp: str | None = None
        first = True

        blocks: list[EditBlock] = []  # the edit blocks of the model's last answer
        answer_files: list[str] = []  # the files the model's last answer wrote blocks for
        applied: list[str] = []  # files applied since aider's last commit
        tracked: set[str] = set()  # files an aider commit of this session took: git tracks them
        dirty: list[str] = []  # "Committing X before applying edits": the next commit takes X, not the edits
        last_typed = ""  # the user's last message (`/commit` commits every tracked change)
        names = _Names()
        calls = 0
        test_cmd = ""  # the session's --test-cmd: what aider's auto-test ran

        def actions(lines: list[str]) -> list[tuple[list[ToolCall], list[ToolResult]]]:
            """aider's edits and commits in one output block, as normalized tool calls: one turn for
            the edits before each commit, one for the commit (so the commit comes after them)."""
            nonlocal calls, test_cmd
            turns: list[tuple[list[ToolCall], list[ToolResult]]] = []
            out: list[ToolCall] = []
            results: list[ToolResult] = []
            left = Counter(am.group(1) for ln in lines if (am := _APPLIED.match(ln)))  # lines still to come
            lint_cmd, lint_from = "", 0
            for k, ln in enumerate(lines):
                if "--test-cmd" in ln and (tm := _TEST_CMD.search(" " + ln)):
                    test_cmd = tm.group(1).strip().strip("'\"")
                if ln.startswith(_LINT_RUN):
                    lint_cmd, lint_from = ln[len(_LINT_RUN):].strip(), k + 1
                    continue
                if ln.startswith(("Attempt to fix test errors?", "Attempt to fix lint errors?")):
                    # aider's auto-test or auto-lint failed (a pass prints nothing): its output is above
                    lint = "lint" in ln[:26]
                    start = lint_from if lint else k
                    while not lint and start > 0 and not lines[start - 1].startswith(_AIDER_OWN) \
                            and "(Y)es/(N)o" not in lines[start - 1]:
                        start -= 1
                    output = "\n".join(x for x in lines[start:k] if x.strip() and not x.startswith(_AIDER_OWN))
                    command = (lint_cmd or "aider's built-in lint") if lint else (test_cmd or "aider's --test-cmd")
                    calls += 1
                    if out:
                        turns.append((out, results))
                        out, results = [], []
                    # "n" to the offer, or Ctrl-C while aider tried: the person chose not to have it fixed now
                    answer = ln.rsplit("]:", 1)[-1].strip().lower() if "]:" in ln else ln.rsplit("?", 1)[-1].strip().lower()
                    declined = ("no" if answer.startswith("n") else
                                "interrupted" if any(x.startswith("^C") for x in lines[k + 1:k + 5]) else "")
                    turns.append(([ToolCall("shell", {"command": command, "check_kind": "build" if lint else "test"},
                                            f"aider-{calls}")],
                                  [ToolResult(output or "(aider: the check failed)", f"aider-{calls}", is_error=True,
                                              name="shell", data={"fix_declined": declined} if declined else None)]))
                    lint_cmd = ""
                    continue
                if ln.startswith("No changes made to git tracked files"):
                    # nothing to commit: the next commit does not take these edits, and an edit of a file git
                    # tracks changed nothing (aider applied a block whose replacement equals its search)
                    noop = {a for a in applied if a in tracked}
                    if noop:
                        keep = [j for j, c in enumerate(out) if c.input.get("file_path") not in noop]
                        out, results = [out[j] for j in keep], [results[j] for j in keep]
                    applied.clear()
                    continue
                if ln.startswith("Committing ") and (dm := _DIRTY_COMMIT.match(ln)):
                    dirty.append(names.name(dm.group(1)))
                    continue
                if ln.startswith("Unable to add ") and "Cmd('git') failed" in ln:
                    # `git add` refused it (a .gitignore entry): aider's next commit does not take it. The
                    # add aider ran is a failed shell run with git's own words (what the facts read)
                    refused = ln[len("Unable to add "):].split(": Cmd(", 1)[0].replace("\\", "/")
                    mine = [a for a in applied if refused.endswith(a.replace("\\", "/"))]
                    applied[:] = [a for a in applied if a not in mine]
                    said: list[str] = []
                    for x in lines[k + 1:k + 12]:
                        if x.startswith(("Commit ", "Applied edit to ", "Running ", "No changes made")):
                            break
                        if not x.startswith("cmdline:"):
                            said.append(x.removeprefix("stderr: ").strip("'"))
                    calls += 1
                    if out:
                        turns.append((out, results))
                        out, results = [], []
                    turns.append(([ToolCall("shell", {"command": f"git add {mine[0] if mine else refused}"},
                                            f"aider-{calls}")],
                                  [ToolResult("\n".join(said), f"aider-{calls}", is_error=True, name="shell")]))
                    continue
                rm = _RUNNING.match(ln) if ln.startswith("Running ") else None
                if rm is not None:
                    # aider shows a command's output on the terminal only: the log holds neither the
                    # output nor the exit status ("Added 22 lines of output to the chat" at most), so
                    # the result is marked not shown rather than read as a silent success
                    calls += 1
                    if out:
                        turns.append((out, results))
                        out, results = [], []
                    turns.append(([ToolCall("shell", {"command": rm.group(1)}, f"aider-{calls}")],
                                  [ToolResult("", f"aider-{calls}", name="shell", data={"output_shown": False})]))
                    continue
                am = _APPLIED.match(ln) if ln.startswith("Applied edit to ") else None
                cm = _COMMIT.match(ln) if ln.startswith("Commit ") else None
                um = _REMOVED.match(ln) if ln.startswith("Removed: ") else None
                if um is not None:  # /undo: git's own words for a reset to the commit before
                    calls += 1
                    now = next((nm for x in lines if (nm := _NOW_AT.match(x))), None)
                    where = f"{now.group(1)} {now.group(2)}" if now else "HEAD~1"
                    if out:
                        turns.append((out, results))
                        out, results = [], []
                    turns.append(([ToolCall("shell", {"command": "/undo"}, f"aider-{calls}")],
                                  [ToolResult(f"HEAD is now at {where}", f"aider-{calls}", name="shell")]))
                    continue
                if am is None and cm is None:
                    continue
                calls += 1
                cid = f"aider-{calls}"
                if am is not None:
                    path = am.group(1)
                    # aider prints one line per file, older versions one per block: share its blocks out
                    mine = [b for b in blocks if _same_file(b, path)]
                    take = -(-len(mine) // max(left[path], 1))
                    left[path] -= 1
                    for b in mine[:take]:
                        blocks.remove(b)
                    path = names.name(path)
                    out.append(_edit_call(path, mine[:take], cid))
                    results.append(ToolResult(f"Applied edit to {path}", cid, name=out[-1].name))
                    applied.append(path)
                elif cm is not None:
                    sha, subject = cm.group(1), cm.group(2)
                    if dirty:  # aider committed the files someone changed before it applied its edits
                        command = _commit_command(subject, dirty, [], "")
                        tracked.update(dirty)
                        dirty.clear()
                        if out:
                            turns.append((out, results))
                        turns.append(([ToolCall("shell", {"command": command}, cid)],
                                      [ToolResult(f"[HEAD {sha}] {subject}", cid, name="shell")]))
                        out, results = [], []
                        continue
                    command = _commit_command(subject, applied, answer_files, last_typed)
                    tracked.update(applied)
                    if out:
                        turns.append((out, results))
                    turns.append(([ToolCall("shell", {"command": command}, cid)],
                                  [ToolResult(f"[HEAD {sha}] {subject}", cid, name="shell")]))
                    out, results = [], []
                    applied.clear()
            if out:
                turns.append((out, results))
            return turns

        def flush() -> list[Message]:
            nonlocal kind, buf, blocks, answer_files, in_fence, in_block, last_typed
            k, lines = kind, buf
            kind, buf = None, []
            in_fence = in_block = False  # a fence left open by one answer does not swallow the next one
            if k is None:
                return []
            text = "\n".join(lines).strip("\n")
            if not text.strip():
                return []
            if k == "user":
                words = text.strip()
                if not _REFLECTION.match(words):
                    last_typed, answer_files = words, []
                return [Message(role="user", text=words, timestamp=timestamp, injected=bool(_REFLECTION.match(words)))]
            if k == "tool":
                out = [Message(role="tool", timestamp=timestamp, tool_results=[ToolResult(text.strip("\n"), name="aider")])]
                if any(ln.strip() == "Git repo: none" for ln in lines):  # aider runs without git here
                    out[0].meta["git_repo"] = "none"
                for done, results in actions(lines):
                    meta: dict[str, Any] = {"normalized_from": "aider"}
                    out += [Message(role="assistant", tool_calls=done, timestamp=timestamp, meta=meta),
                            Message(role="tool", tool_results=results, timestamp=timestamp, meta=dict(meta))]
                if any(ln.strip().startswith("^C") for ln in lines):
                    # the person's Ctrl-C after this block's actions: what aider runs after an edit (its lint
                    # and test) may never have run, so its silence is no pass
                    out[-1].meta["interrupted"] = True
                return out
            answer, thinking = split_thinking(text.strip())
            blocks = parse_edit_blocks(answer)
            if blocks:  # aider's echo of a failed block (no file name) does not replace the answer's files
                answer_files = list(dict.fromkeys(b.path for b in blocks if b.path))
            if not answer and not thinking:
                return []
            return [Message(role="assistant", text=answer, thinking=thinking, timestamp=timestamp)]

        for raw in stream:
            line = raw.rstrip("\r\n")
            if first:
                first = False
                if line.strip() == "---":
                    in_front_matter = True
                    continue
            if in_front_matter:
                if line.strip() == "---":
                    in_front_matter = False
                continue
            c = line[:1]  # dispatch on the first character: most lines need no regex at all
            m = _STARTED.match(line) if c == "#" and line.startswith("# aider chat started at") else None
            if in_fence and c in ("#", ">") and line.endswith("  ") and line.startswith(("> ", "#### ")):
                in_fence = in_block = False  # aider ends its own lines with two spaces: a fence left open
            if kind == "assistant" and in_fence and m is None:  # a new session also ends a dangling fence
                buf.append(line)
                if line.startswith(("<<<<<<<", "=======", ">>>>>>>")):  # a fence line in a SEARCH part is content
                    in_block = line.startswith("<")
                elif not in_block and ("`" in line or "~" in line or "source" in line) and _FENCE.match(line):
                    in_fence = False
                continue
            if m:
                in_fence = in_block = False
                yield from flush()
                started = True
                timestamp = m.group(1)
                test_cmd = ""
                self.info.setdefault("started_at", timestamp)
                yield Message(role="system", text=line.lstrip("# ").strip(), timestamp=timestamp,
                              meta={"subtype": "session_start"})
                continue
            if c == "#" and line.startswith("#### ") and "(Y)es/(N)o" in line and _PROMPT.search(line):
                c = ">"  # aider's question and the answer typed to it: aider's output, not a request
                line = "> " + line[5:]
            if c == "#" and (line.startswith("#### ") or line == "####"):
                started = True
                if kind != "user":
                    yield from flush()
                    kind = "user"
                buf.append(line[5:].rstrip())
                continue
            if c == ">":
                started = True
                if kind != "tool":
                    yield from flush()
                    kind = "tool"
                buf.append((line[2:] if line.startswith("> ") else line[1:]).rstrip())
                continue
            if not started or (c == "<" and _DIV.match(line)):
                continue
            if kind == "tool" and line and not line.isspace():
                # aider wrapped a line of its own output ("Cost: …", a traceback's "  File …"): its output
                # block runs to the next blank line, and the model's answer always starts after one
                buf.append(line.rstrip())
                continue
            if not line or line.isspace():
                if kind == "tool":
                    yield from flush()
                elif kind == "assistant":
                    buf.append("")
                continue  # blank lines between user lines keep the user message open
            if kind != "assistant":
                yield from flush()
                kind = "assistant"
            buf.append(line)
            if ("`" in line or "~" in line or "source" in line) and _FENCE.match(line):
                in_fence, in_block = True, False
        yield from flush()
