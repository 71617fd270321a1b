"""File changes: from a transcript's edit tool calls, from `git diff --numstat`, or from diffs.

Pure parsers (`parse_numstat`, `parse_unified_diff`, `parse_apply_patch`, `parse_edit_blocks`)
plus `FileChangeTracker`, which watches normalized messages as an import streams and derives
per-file changes:

- Claude Code Edit / MultiEdit / Write / NotebookEdit calls (counts from the result's
  `structuredPatch` when present, else from the call's strings; Write of a new file = added);
- Codex `apply_patch` (the `*** Begin Patch` format, as a custom tool, a function, or inside a
  shell command);
- SWE-agent `edit` / `create` / `insert` commands and `str_replace_editor`, with the final diff
  in `info.submission` taking precedence over everything else (it is what the run produced);
- aider SEARCH/REPLACE (or ORIGINAL/UPDATED) blocks in the model's answers;
- generic editor tools of other agents (path + content / old_str+new_str inputs).

A call whose result is an error (rejected edit, failed patch, syntax-check refusal) changed
nothing and is ignored; a call with no result at all (transcript cut short) is counted.
Changes are merged per path (`merge_changes`): lines summed, kinds resolved (added then
modified = added, added then deleted = deleted, deleted then added = modified, a rename carries
the old path's history). Shell commands (`rm`, `git mv`, `sed -i`) are not interpreted.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .actions import CONTENT_KEYS, LINE_EDIT_COMMANDS, PATH_KEYS
from .errors import NumstatError, TooManyFileChanges
from .model import FileChange, Message, ToolCall, ToolResult

__all__ = [
    "MAX_FILE_CHANGES", "MAX_PATH_CHARS", "EditBlock", "FileChangeTracker", "NumstatError", "TooManyFileChanges", "merge_changes", "parse_apply_patch",
    "parse_edit_blocks", "parse_numstat", "parse_unified_diff",
]


def _lines(s: str) -> int:
    """Lines of text as an editor counts them ("a\\nb" and "a\\nb\\n" are both 2; "" is 0)."""
    if not s:
        return 0
    return s.count("\n") + (0 if s.endswith("\n") else 1)


def diff_counts(old: str, new: str) -> tuple[int, int]:
    """(added, removed) for replacing `old` with `new`: lines outside the common head and tail.
    Exact for the usual single-hunk edit, and cheap (no diff algorithm on big strings).
    An empty `old` is a new file: every line of `new` is added, nothing removed."""
    if not old:
        return new.count("\n") + (1 if new and not new.endswith("\n") else 0), 0
    a, b = old.split("\n"), new.split("\n")
    i = 0
    while i < len(a) and i < len(b) and a[i] == b[i]:
        i += 1
    j = 0
    while j < len(a) - i and j < len(b) - i and a[-1 - j] == b[-1 - j]:
        j += 1
    return len(b) - i - j, len(a) - i - j


# -- git diff --numstat ----------------------------------------------------------------------------

_NUMSTAT = re.compile(r"^(\d+|-)\t(\d+|-)\t(.+)$")
_SUMMARY = re.compile(r"^\s*(create|delete) mode \d+ (.+)$")  # path stripped after: "(.+?)\s*$" backtracks
_SUMMARY_OTHER = re.compile(r"^\s*(rename|copy|mode change|rewrite) ")
_OCTAL = re.compile(rb"\\([0-7]{3})")


def _unquote(path: str) -> str:
    """Undo git's C-style path quoting ("caf\\303\\251.txt" -> "café.txt")."""
    if len(path) >= 2 and path[0] == '"' and path[-1] == '"':
        raw = path[1:-1].encode("utf-8")
        raw = _OCTAL.sub(lambda m: bytes([int(m.group(1), 8)]), raw)
        for esc, ch in ((rb'\"', b'"'), (rb"\t", b"\t"), (rb"\n", b"\n"), (rb"\\", b"\\")):
            raw = raw.replace(esc, ch)
        return raw.decode("utf-8", "replace")
    return path


def _norm(path: str) -> str:
    """Tidy a path rebuilt from git's brace form ("{ => sub}/f" gives "/f" and "sub/f")."""
    return re.sub(r"/{2,}", "/", path).lstrip("/")


def _split_rename(path: str) -> tuple[str, str | None]:
    """'a => b' and 'dir/{a => b}/f' -> (new, old); anything else -> (path, None).

    String searches, not a backtracking regex: a hostile line of "{ => => ..." took time
    quadratic in its length (16 KB: 0.35 s, so a 1 MB body minutes)."""
    arrow = path.find(" => ")
    if arrow < 0:
        return _unquote(path), None
    lb = path.rfind("{", 0, arrow)
    rb = path.find("}", arrow + 4)
    if lb >= 0 and rb >= 0 and "}" not in path[lb + 1:arrow] and "{" not in path[arrow + 4:rb]:
        pre, post = path[:lb], path[rb + 1:]
        return _norm(pre + path[arrow + 4:rb] + post), _norm(pre + path[lb + 1:arrow] + post)
    old, new = path[:arrow], path[arrow + 4:]
    return _unquote(new.strip()), _unquote(old.strip())


MAX_FILE_CHANGES = 5_000  # per PUT .../files, as the JSON list's maxItems (api/schemas.FILES_PUT)
MAX_PATH_CHARS = 1_024  # as the JSON path's maxLength; the path is part of a DynamoDB sort key


def parse_numstat(text: str, *, max_items: int | None = MAX_FILE_CHANGES) -> list[FileChange]:
    """Parse `git diff --numstat` output (optionally with `--summary`).

    Each line is "added<TAB>removed<TAB>path"; binary files show "-" counts (-> None); renames
    show "old => new" or "dir/{old => new}/file" (-> kind "renamed", old_path). `--summary`
    lines ("create mode ...", "delete mode ...") set kind added/deleted; other summary lines are
    ignored. Blank lines are skipped; any other line raises NumstatError with its line number.
    One pass, each line read once; past `max_items` file lines it stops with TooManyFileChanges
    (413) before reading further, and a path over MAX_PATH_CHARS is a NumstatError naming its line.
    """
    changes: list[FileChange] = []
    by_path: dict[str, FileChange] = {}
    pending_kinds: dict[str, str] = {}
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip("\r")
        if not line.strip():
            continue
        m = _NUMSTAT.match(line)
        if m:
            a, r, p = m.groups()
            if len(p) > 2 * MAX_PATH_CHARS + 8:  # both sides of a rename at most
                raise NumstatError(f"Line {n}: the path is {len(p):,} characters; a path has at most "
                                   f"{MAX_PATH_CHARS:,}.", line=n)
            path, old = _split_rename(p)
            if len(path) > MAX_PATH_CHARS or len(old or "") > MAX_PATH_CHARS:
                raise NumstatError(f"Line {n}: the path is over {MAX_PATH_CHARS:,} characters.", line=n)
            if max_items is not None and len(changes) >= max_items:
                raise TooManyFileChanges(
                    f"the numstat output lists more than {max_items:,} files; one PUT .../files takes at most "
                    f"{max_items:,} (send the files of one session, or trim the diff to source paths)",
                    limit=max_items)
            fc = FileChange(path=path, kind="renamed" if old else "modified",
                            lines_added=None if a == "-" else int(a), lines_removed=None if r == "-" else int(r),
                            old_path=old, source="numstat")
            changes.append(fc)
            by_path[path] = fc
            continue
        s = _SUMMARY.match(line)
        if s:
            pending_kinds[_unquote(s.group(2).strip())] = "added" if s.group(1) == "create" else "deleted"
            continue
        if _SUMMARY_OTHER.match(line):
            continue
        shown = line if len(line) <= 80 else line[:77] + "..."
        raise NumstatError(
            f"Line {n} is not `git diff --numstat` output: expected 'added<TAB>removed<TAB>path' "
            f"(counts are numbers, or '-' for binary files), got {shown!r}.", line=n)
    for path, kind in pending_kinds.items():
        if path in by_path and by_path[path].kind != "renamed":
            by_path[path].kind = kind  # type: ignore[assignment]
    return changes


# -- unified diffs ---------------------------------------------------------------------------------

_HUNK = re.compile(r"^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@")
_GIT_HEADER = re.compile(r'^diff --git (?:"?a/)?(.+?)"? (?:"?b/)?(.+?)"?$')


def _diff_path(p: str) -> str | None:
    p = p.split("\t", 1)[0].strip()
    p = _unquote(p)
    if p == "/dev/null":
        return None
    if p.startswith(("a/", "b/")):
        p = p[2:]
    return p


def parse_unified_diff(text: str) -> list[FileChange]:
    """Changes in a unified diff (`git diff`, `diff -u`, SWE-agent's `info.submission`).

    Hunk-aware: +/- lines are counted only inside hunks (using the hunk header's line counts), so
    a removed line that starts with "--" is not taken for a file header. New/deleted files come
    from /dev/null sides or git's "new file mode"/"deleted file mode"; renames from "rename
    from/to"; "Binary files ... differ" gives None counts.
    """
    out: list[FileChange] = []
    cur: FileChange | None = None
    old_left = new_left = 0
    pending_old: str | None = None

    def start(path: str, kind: str = "modified", old: str | None = None) -> FileChange:
        fc = FileChange(path=path, kind=kind, lines_added=0, lines_removed=0, old_path=old)  # type: ignore[arg-type]
        out.append(fc)
        return fc

    for line in text.split("\n"):
        if old_left > 0 or new_left > 0:
            if line.startswith("+"):
                new_left -= 1
                if cur is not None and cur.lines_added is not None:
                    cur.lines_added += 1
                continue
            if line.startswith("-"):
                old_left -= 1
                if cur is not None and cur.lines_removed is not None:
                    cur.lines_removed += 1
                continue
            if line.startswith(" ") or line == "":
                old_left -= 1
                new_left -= 1
                continue
            if line.startswith("\\"):
                continue  # "\ No newline at end of file"
            old_left = new_left = 0  # malformed hunk: fall through to header parsing
        g = _GIT_HEADER.match(line)
        if g:
            cur = start(_diff_path("b/" + g.group(2)) or g.group(2))
            pending_old = _diff_path("a/" + g.group(1))
            continue
        if line.startswith("new file mode") and cur is not None:
            cur.kind = "added"
            continue
        if line.startswith("deleted file mode") and cur is not None:
            cur.kind = "deleted"
            continue
        if line.startswith("rename from ") and cur is not None:
            cur.old_path = _unquote(line[len("rename from "):])
            cur.kind = "renamed"
            continue
        if line.startswith("rename to ") and cur is not None:
            cur.path = _unquote(line[len("rename to "):])
            continue
        if line.startswith("Binary files ") and cur is not None:
            cur.lines_added = cur.lines_removed = None
            continue
        if line.startswith("--- "):
            pending_old = _diff_path(line[4:])
            continue
        if line.startswith("+++ "):
            new = _diff_path(line[4:])
            if cur is None or (cur.lines_added or cur.lines_removed) or (new and cur.path != new and cur.kind != "renamed"):
                cur = start(new or pending_old or "")
            if new is None:
                cur.kind = "deleted"
                cur.path = pending_old or cur.path
            elif pending_old is None and cur.kind != "renamed":
                cur.kind = "added"
            continue
        h = _HUNK.match(line)
        if h:
            old_left = int(h.group(1)) if h.group(1) is not None else 1
            new_left = int(h.group(2)) if h.group(2) is not None else 1
            if cur is None:
                cur = start(pending_old or "")
            continue
    return [c for c in out if c.path]


# -- Codex apply_patch -----------------------------------------------------------------------------

_PATCH_BLOCK = re.compile(r"\*\*\* Begin Patch\n.*?(?:\*\*\* End Patch|\Z)", re.S)


def parse_apply_patch(text: str) -> list[FileChange]:
    """Changes in Codex's apply_patch format (`*** Add File:`, `*** Update File:` with optional
    `*** Move to:`, `*** Delete File:`); several patches in one string are all read."""
    out: list[FileChange] = []
    for block in _PATCH_BLOCK.findall(text):
        cur: FileChange | None = None
        for line in block.split("\n"):
            if line.startswith("*** "):
                head = line[4:]
                if head.startswith("Add File: "):
                    cur = FileChange(path=head[10:].strip(), kind="added")
                    out.append(cur)
                elif head.startswith("Update File: "):
                    cur = FileChange(path=head[13:].strip(), kind="modified")
                    out.append(cur)
                elif head.startswith("Delete File: "):
                    cur = FileChange(path=head[13:].strip(), kind="deleted")
                    out.append(cur)
                    cur = None
                elif head.startswith("Move to: ") and cur is not None:
                    cur.old_path, cur.path = cur.path, head[9:].strip()
                    cur.kind = "renamed"
                continue
            if cur is None:
                continue
            if line.startswith("+"):
                cur.lines_added = (cur.lines_added or 0) + 1
            elif line.startswith("-"):
                cur.lines_removed = (cur.lines_removed or 0) + 1
    return out


# -- aider edit blocks -----------------------------------------------------------------------------

@dataclass
class EditBlock:
    """One aider SEARCH/REPLACE block: `search` empty means a new file."""

    path: str
    search: list[str] = field(default_factory=list)
    replace: list[str] = field(default_factory=list)


_BLOCK_START = re.compile(r"^<{5,9} (SEARCH|ORIGINAL|HEAD)\s*$")
_BLOCK_MID = re.compile(r"^={5,9}\s*$")
_BLOCK_END = re.compile(r"^>{5,9} (REPLACE|UPDATED|updated)\s*$")
_FENCE_LINE = re.compile(r"^\s*(```|~~~)")


def _clean_path(line: str) -> str:
    s = line.strip().strip("`*_:").strip()
    if s.startswith("#"):
        s = s.lstrip("#").strip()
    return s


def parse_edit_blocks(text: str) -> list[EditBlock]:
    """aider edit blocks: the file path is the line before the block (inside the fence, old style)
    or before the opening fence (newer style); a block without one reuses the previous path."""
    if "<<<<<<< " not in text or "=======" not in text:
        return []
    lines = text.split("\n")
    blocks: list[EditBlock] = []
    last_path = ""
    i = 0
    n = len(lines)
    while i < n:
        if not (lines[i].startswith("<<<<<") and _BLOCK_START.match(lines[i])):
            i += 1
            continue
        path = ""
        k = i - 1
        while k >= 0 and not lines[k].strip():
            k -= 1
        if k >= 0 and _FENCE_LINE.match(lines[k]):
            k -= 1
            while k >= 0 and not lines[k].strip():
                k -= 1
        if k >= 0 and not _BLOCK_END.match(lines[k]) and not _FENCE_LINE.match(lines[k]):
            cand = _clean_path(lines[k])
            if cand and " " not in cand and len(cand) < 300:
                path = cand
        path = path or last_path
        block = EditBlock(path=path)
        i += 1
        part = block.search
        while i < n and not (lines[i].startswith(">>>>>") and _BLOCK_END.match(lines[i])):
            if part is block.search and lines[i].startswith("=====") and _BLOCK_MID.match(lines[i]):
                part = block.replace
            else:
                part.append(lines[i])
            i += 1
        i += 1
        if path:
            blocks.append(block)
            last_path = path
    return blocks


# -- merging ---------------------------------------------------------------------------------------

def _add(a: int | None, b: int | None) -> int | None:
    return None if a is None or b is None else a + b


def _resolve(old: str, new: str) -> str:
    if new == "deleted":
        return "deleted"
    if old == "deleted":
        return "modified" if new in ("added", "modified") else new
    if old in ("added", "renamed"):
        return old
    return new


def merge_changes(changes: Iterable[FileChange]) -> list[FileChange]:
    """One FileChange per path, in order of first appearance (see module docstring for kinds)."""
    merged: dict[str, FileChange] = {}
    counts: dict[str, dict[str, int]] = {}
    for c in changes:
        key = c.path
        prev = merged.get(key)
        if c.kind == "renamed" and c.old_path and c.old_path in merged and c.old_path != key:
            prev_old = merged.pop(c.old_path)
            hist = counts.pop(c.old_path, {})
            origin = prev_old.old_path if prev_old.kind == "renamed" else c.old_path
            nc = FileChange(path=key, kind="added" if prev_old.kind == "added" else "renamed",
                            lines_added=_add(prev_old.lines_added, c.lines_added),
                            lines_removed=_add(prev_old.lines_removed, c.lines_removed),
                            old_path=None if prev_old.kind == "added" else origin, source=c.source)
            merged[key] = nc
            counts[key] = hist
            hist[c.summary or "rename"] = hist.get(c.summary or "rename", 0) + 1
            continue
        if prev is None:
            merged[key] = FileChange(path=key, kind=c.kind, lines_added=c.lines_added, lines_removed=c.lines_removed,
                                     old_path=c.old_path, source=c.source)
            counts[key] = {}
        else:
            prev.kind = _resolve(prev.kind, c.kind)  # type: ignore[assignment]
            prev.lines_added = _add(prev.lines_added, c.lines_added)
            prev.lines_removed = _add(prev.lines_removed, c.lines_removed)
            if c.old_path and not prev.old_path:
                prev.old_path = c.old_path
        if c.summary:
            counts[key][c.summary] = counts[key].get(c.summary, 0) + 1
    for key, fc in merged.items():
        hist = counts.get(key) or {}
        fc.summary = ", ".join(f"{name} ×{n}" if n > 1 else name for name, n in hist.items())
        if fc.kind != "renamed":
            fc.old_path = None
    return list(merged.values())


# -- the tracker -----------------------------------------------------------------------------------

_WRITE_NAMES = ("write", "create")
_EDIT_NAME_HINTS = ("edit", "write", "create", "replace", "patch", "insert", "notebook")
_SWE_FILE = re.compile(r"\[File: (?P<path>[^\n\]]+?) \(\d+ lines total\)\]")
_SWE_OPEN = re.compile(r"\(Open file: (?P<path>[^\n)]+)\)")
_SWE_EDIT = re.compile(r"^edit (\d+):(\d+)\n(.*?)(?:\nend_of_edit\s*)?$", re.S)
_SWE_INSERT = re.compile(r"^(?:insert \d+|append)\n(.*?)(?:\nend_of_(?:insert|append)\s*)?$", re.S)


def _strings(obj: Any) -> Iterable[str]:
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _strings(v)


def _change(path: str, kind: str, added: int | None, removed: int | None, summary: str) -> FileChange:
    return FileChange(path=path, kind=kind, lines_added=added, lines_removed=removed,  # type: ignore[arg-type]
                      summary=summary)


MERGE_AT = 512  # changes kept before the first merge per path


class FileChangeTracker:
    """Derives file changes from messages as they stream by (feed `observe`, then `result`).

    Keeps only the candidate changes of calls still waiting for their result and the merged
    per-file totals, so memory does not grow with the transcript.
    """

    def __init__(self, fmt: str = "", *, record: bool = False) -> None:
        self.fmt = fmt
        self.record = record  # keep each call's changes for `drain` (the handoff's fact extractor)
        self._recorded: list[tuple[ToolCall | None, list[FileChange]]] = []
        self._changes: list[FileChange] = []
        self._merge_at = MERGE_AT  # merge `_changes` per path when it grows past this
        self._pending: dict[str, tuple[ToolCall, list[FileChange]]] = {}
        self._submission: list[FileChange] | None = None
        self._open_file: str | None = None
        self.skipped = 0  # messages whose tool calls could not be read for file changes

    # feeding ---------------------------------------------------------------------------------
    def observe(self, msg: Message) -> None:
        """Take note of one message. File changes are derived, best-effort data: a message whose
        tool input has an unexpected shape is skipped (counted in `skipped`), never fatal."""
        try:
            self._observe(msg)
        except (KeyError, TypeError, AttributeError, IndexError, ValueError):
            self.skipped += 1

    def _observe(self, msg: Message) -> None:
        for call in msg.tool_calls:
            changes = self._from_call(call)
            if not changes and not (self.fmt == "swe-agent" and call.name in LINE_EDIT_COMMANDS):
                continue
            if call.id:
                self._pending[call.id] = (call, changes)
            else:
                self._commit(changes, call)
        for res in msg.tool_results:
            entry = self._pending.pop(res.tool_call_id, None) if res.tool_call_id else None
            if entry is not None and not res.is_error:
                self._commit(self._refine(entry[0], entry[1], res), entry[0])
            if self.fmt == "swe-agent":
                self._track_open_file(res.text)
        if msg.meta.get("subtype") == "submission" and msg.text.strip():
            self._submission = parse_unified_diff(msg.text)
        if len(self._changes) > self._merge_at:
            # merged again only when the list has doubled: with more distinct files than the first
            # threshold, merging at every message made an import quadratic in its files
            self._changes = merge_changes(self._changes)
            self._merge_at = max(MERGE_AT, 2 * len(self._changes))

    def drain(self) -> list[tuple[ToolCall | None, list[FileChange]]]:
        """The changes committed since the last call, with the call that made each (None for
        aider's edit blocks); only kept with `record=True`."""
        out, self._recorded = self._recorded, []
        return out

    def flush_pending(self) -> None:
        """Count the calls still waiting for a result as done (a transcript cut short)."""
        for call, changes in self._pending.values():
            self._commit(self._refine(call, changes, None), call)
        self._pending.clear()

    def result(self, cwd: str | None = None) -> list[FileChange]:
        """The merged changes; paths under `cwd` are made relative to it."""
        if self._submission is not None:
            out = merge_changes(self._submission)
            for c in out:
                c.summary = c.summary or "final diff"
            return out
        self.flush_pending()  # no result seen: assume the call ran
        changes = merge_changes(self._changes)
        if cwd:
            root = cwd.rstrip("/") + "/"
            for c in changes:
                if c.path.startswith(root):
                    c.path = c.path[len(root):]
                if c.old_path and c.old_path.startswith(root):
                    c.old_path = c.old_path[len(root):]
            changes = merge_changes(changes)
        return changes

    # internals -------------------------------------------------------------------------------
    def _commit(self, changes: list[FileChange], call: ToolCall | None) -> None:
        kept = [c for c in changes if c.path]
        for c in kept:
            c.source = "transcript"
            self._changes.append(c)
        if self.record and kept:
            self._recorded.append((call, [FileChange(**vars(c)) for c in kept]))

    def _track_open_file(self, text: str) -> None:
        opened = _SWE_OPEN.findall(text)  # the footer names the file open after the command
        if opened and opened[-1].strip() != "n/a":
            self._open_file = opened[-1].strip()
            return
        f = _SWE_FILE.search(text)
        if f:
            self._open_file = f.group("path").strip()

    def _refine(self, call: ToolCall, changes: list[FileChange], res: ToolResult | None) -> list[FileChange]:
        """Use what the result knows better than the call (Claude Code's structuredPatch and
        create/update type; SWE-agent's "[File: ...]" header naming the edited file)."""
        data = res.data if res is not None and isinstance(res.data, dict) else None
        if data and len(changes) == 1:
            c = changes[0]
            if data.get("type") == "create":
                c.kind = "added"
            elif data.get("type") == "update" and c.kind == "added":
                c.kind = "modified"
            if isinstance(data.get("linesAdded"), int) and isinstance(data.get("linesRemoved"), int) \
                    and (data["linesAdded"] or data["linesRemoved"] or c.kind != "added"):
                c.lines_added, c.lines_removed = data["linesAdded"], data["linesRemoved"]
        if self.fmt == "swe-agent" and res is not None:
            f = _SWE_FILE.search(res.text)
            cmd = call.input.get("command") if isinstance(call.input.get("command"), str) else ""
            if call.name in LINE_EDIT_COMMANDS:
                path = f.group("path").strip() if f else self._open_file
                if not changes and path:
                    changes = self._swe_edit(cmd, path)
                for c in changes:
                    c.path = c.path or path or ""
            elif call.name == "create" and f and changes:
                changes[0].path = f.group("path").strip()
        elif self.fmt == "swe-agent" and res is None and not changes and call.name in LINE_EDIT_COMMANDS:
            cmd = call.input.get("command") if isinstance(call.input.get("command"), str) else ""
            changes = self._swe_edit(cmd, self._open_file or "")
        return changes

    @staticmethod
    def _swe_edit(cmd: str, path: str) -> list[FileChange]:
        m = _SWE_EDIT.match(cmd)
        if m:
            start, end = int(m.group(1)), int(m.group(2))
            return [_change(path, "modified", _lines(m.group(3)), max(0, end - start + 1), "edit")]
        m = _SWE_INSERT.match(cmd)
        if m:
            return [_change(path, "modified", _lines(m.group(1)), 0, "insert")]
        return []

    def _from_call(self, call: ToolCall) -> list[FileChange]:
        """Candidate changes from one tool call's input (before its result is known)."""
        name = call.name
        inp = call.input if isinstance(call.input, dict) else {}
        low = name.lower()
        # apply_patch anywhere: Codex custom tool, function, or a shell command carrying the patch
        for s in _strings(inp):
            if "*** Begin Patch" in s:
                return [self._named(c, "apply_patch") for c in parse_apply_patch(s)]
        if self.fmt == "swe-agent" and name in ("create", "str_replace_editor", "bash") and "command" in inp \
                and isinstance(inp["command"], str) and len(inp) == 1:
            return self._swe_command(name, inp["command"])
        if not any(h in low for h in _EDIT_NAME_HINTS):
            return []
        path = next((inp[k] for k in PATH_KEYS if isinstance(inp.get(k), str) and inp[k]), None)
        if not path:
            if "patch" in low or "diff" in low:
                diff = next((s for s in _strings(inp) if "\n+++ " in s or s.startswith("--- ")), None)
                if diff:
                    return [self._named(c, name) for c in parse_unified_diff(diff)]
            return []
        command = inp.get("command")
        if isinstance(command, str) and command in ("view", "undo_edit", "read"):
            return []
        if isinstance(inp.get("edits"), list):  # MultiEdit
            added = removed = 0
            for e in inp["edits"]:
                if isinstance(e, dict):
                    a, r = diff_counts(str(e.get("old_string") or ""), str(e.get("new_string") or ""))
                    added, removed = added + a, removed + r
            return [_change(path, "modified", added, removed, name)]
        old = inp.get("old_string", inp.get("old_str"))
        new = inp.get("new_string", inp.get("new_str"))
        if isinstance(old, str) and isinstance(new, str):
            a, r = diff_counts(old, new)
            return [_change(path, "modified", a, r, name)]
        if command == "insert" and isinstance(new, str):
            return [_change(path, "modified", _lines(new), 0, name)]
        if isinstance(inp.get("new_source"), str):  # NotebookEdit
            mode = inp.get("edit_mode") or "replace"
            if mode == "delete":
                return [_change(path, "modified", 0, 0, name)]
            return [_change(path, "modified", _lines(inp["new_source"]), 0, name)]
        content = next((inp[k] for k in CONTENT_KEYS if isinstance(inp.get(k), str)), None)
        if content is not None and (command == "create" or any(w in low for w in _WRITE_NAMES)):
            return [_change(path, "added", _lines(content), 0, name)]
        if isinstance(inp.get("diff"), str) and "=======" in inp["diff"]:  # Cline replace_in_file
            blocks = parse_edit_blocks(f"{path}\n{inp['diff']}")
            return [_change(path, "modified", sum(len(b.replace) for b in blocks),
                            sum(len(b.search) for b in blocks), name)] if blocks else []
        if isinstance(inp.get("code_edit"), str):  # Cursor edit_file: elided context lines
            body = [ln for ln in inp["code_edit"].split("\n") if "existing code" not in ln]
            return [_change(path, "modified", len(body), None, name)]
        return []

    @staticmethod
    def _named(c: FileChange, name: str) -> FileChange:
        c.summary = name
        return c

    def _swe_command(self, name: str, command: str) -> list[FileChange]:
        """SWE-agent text-mode commands: `create <path>`, `str_replace_editor <cmd> <path> ...`."""
        first, _, rest = command.strip().partition(" ")
        if first == "create" and rest.strip():
            return [_change(rest.strip().split()[0], "added", 0, 0, "create")]
        if first == "str_replace_editor":
            try:
                argv = shlex.split(command)
            except ValueError:
                return []
            if len(argv) < 3:
                return []
            sub, path = argv[1], argv[2]
            opts: dict[str, str] = {}
            k = 3
            while k + 1 < len(argv):
                if argv[k].startswith("--"):
                    opts[argv[k][2:]] = argv[k + 1]
                    k += 2
                else:
                    k += 1
            if sub == "create":
                return [_change(path, "added", _lines(opts.get("file_text", "")), 0, "str_replace_editor")]
            if sub == "str_replace":
                a, r = diff_counts(opts.get("old_str", ""), opts.get("new_str", ""))
                return [_change(path, "modified", a, r, "str_replace_editor")]
            if sub == "insert":
                return [_change(path, "modified", _lines(opts.get("new_str", "")), 0, "str_replace_editor")]
        return []
