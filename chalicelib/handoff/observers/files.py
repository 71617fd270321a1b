"""Files the session changed: edits that took effect (from the shared file-change extractor) and
changes made by shell commands (`mv`, `rm`, `cat > f`), the latter placed under the project root only
at the end, once the root is known.

A new file is stamped with the assistant's latest intent, which the notes observer owns; an edit of a
checklist file (TODO.md) is read for its checked items through the notes observer too.
"""

from __future__ import annotations

import posixpath
import re

from chalicelib.transcripts.actions import Edit, tool_key

from .. import shellfx, tracker
from ..facts import EditEvent, FileFact, NoteFact, TranscriptFacts
from ..textutil import clip, safe_inline
from .notes import NotesObserver

_BUILD_DIR = re.compile(r"/(?:_build|node_modules|deps|\.git|dist|build|target|__pycache__|\.venv|vendor)/")


class FilesObserver:
    """`files`, `edits` and their `edit:` actions in the shared facts record."""

    def __init__(self, f: TranscriptFacts, notes: NotesObserver) -> None:
        self.f = f
        self.notes = notes
        self.shell_changes: list[tuple[int, shellfx.ShellChange]] = []

    def record_edits(self, edits: list[Edit]) -> None:
        """Changes the shared file-change extractor saw take effect (one call's worth)."""
        if not edits:
            return
        i = edits[0].effect_index
        if any(tracker.checklist_tracker(e.path) for e in edits):  # TODO.md items checked off or added
            self.notes.scan_checklist(i, "\n".join(edits[0].call_lines), "checklist file")
        for e in edits:
            sample = [clip(safe_inline(t), 110) for t in e.lines[:2]]
            self.file_event(i, e.path, e.change, e.added, e.removed, sample,
                            tool_key(e.tool) if e.by_call else "edit block", e.old_path, "\n".join(e.lines),
                            rewrite=e.mode == "write" and e.change == "modified", old_text="\n".join(e.old_lines))

    def file_event(self, i: int, path: str, kind: str, add: int | None, rem: int | None, sample: list[str],
                   how: str, old_path: str | None = None, text: str = "", rewrite: bool = False,
                   old_text: str = "") -> None:
        """One change of one file: its running totals, an edit event and an `edit:` action."""
        ff = self.f.files.get(path)
        if ff is None:
            ff = FileFact(path=path, kind=kind, first=i, intent=self.notes.last_intent, added=0, removed=0,
                          created=kind == "added")
            self.f.files[path] = ff
        elif kind in ("deleted", "renamed"):
            ff.kind = kind
        if old_path:
            ff.old_path = old_path
        ff.added = None if add is None or ff.added is None else ff.added + add
        ff.removed = None if rem is None or ff.removed is None else ff.removed + rem
        ff.edits += 1
        ff.last = i
        ev = EditEvent(i, path, add, rem, sample, how, text, rewrite, old_text)
        self.f.edits.append(ev)
        self.f.actions.append(NoteFact(f"edit:{path}", i, "tool"))

    def shell_run(self, i: int, segs: list[str], text: str, raw: str = "") -> None:
        """File changes a successful shell run made, kept until the root is known (`finish`)."""
        cwd = ""
        for seg in segs:
            if seg.startswith("cd "):
                cwd = seg[3:].strip().strip("'\"")
                continue
            for ch in shellfx.file_changes(seg, text, cwd):
                self.shell_changes.append((i, ch))
        head = raw.split("\n", 1)[0]
        if "<<" in head and "\n" in raw and "$(" not in head:  # `cat <<EOF > cfg.yml`: the redirect is on line one
            for ch in shellfx.file_changes(head.split("&&")[-1].strip(), "", cwd):
                if ch.why:
                    self.shell_changes.append((i, ch))

    def finish(self) -> None:
        """Shell-made changes, placed under the directory they ran in (needs `f.root`)."""
        f = self.f
        for i, ch in self.shell_changes:
            if _BUILD_DIR.search("/" + ch.path):
                continue
            base = ch.cwd if ch.cwd.startswith("/") else posixpath.join(f.root, ch.cwd) if f.root else ch.cwd
            path = ch.path if ch.path.startswith("/") else posixpath.normpath(posixpath.join(base, ch.path)) \
                if base else posixpath.normpath(ch.path)
            old = None
            if ch.old_path:
                old = ch.old_path if ch.old_path.startswith("/") or not base else posixpath.join(base, ch.old_path)
            if f.root and path.startswith(f.root + "/") and path[len(f.root) + 1:] in f.files:
                path = path[len(f.root) + 1:]  # the same file an edit tool named by its relative path (Codex)
            if old and f.root and old.startswith(f.root + "/") and old[len(f.root) + 1:] in f.files:
                old = old[len(f.root) + 1:]
            self.file_event(i, path, ch.kind, None if ch.kind == "modified" else 0, None if ch.kind == "modified"
                            else 0, [], ch.why, old)
            if old and ch.kind == "renamed":  # a plain `mv` leaves the old path's deletion to stage too
                self.file_event(i, old, "deleted", 0, 0, [], ch.why)
