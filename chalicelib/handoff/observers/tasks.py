"""Tasks: what tracker commands (bd, gh issue, …; tracker.TRACKERS) changed and printed, and the task
ids the user typed, confirmed by a tracker, the branch or a keyword before them, titled from the
trackers' own listings in the shell output.
"""

from __future__ import annotations

import re
from collections import Counter

from .. import tracker
from ..facts import (
    HASH_ID_RE,
    HYPHEN_ID_RE,
    ID_KEYWORD_RE,
    JIRA_RE,
    WORD_ID_RE,
    NoteFact,
    TaskFact,
    TaskIdFact,
    TranscriptFacts,
    split_segments,
)
from ..textutil import clip, one_line, safe_inline

_JIRA_STOP = {"UTF", "SHA", "ISO", "GPT", "MD", "AES", "RSA", "HTTP", "TLS", "SSL", "IPV", "X", "V", "ES", "H", "P",
              "CVE", "RFC", "PEP", "GPL", "LGPL", "AGPL", "COVID", "WCAG", "ECMA", "TS", "CWE", "GHSA", "ARM", "X86"}
_TITLE_DECOR = re.compile(r"(?:\s+[^\w\s(\"'`]+\s*\w{1,3})+$")  # trailing "● P2"-style tags


class TasksObserver:
    """`tasks`, `tracker_commands`, `task:` actions and (at the end) `task_ids` in the shared facts record."""

    def __init__(self, f: TranscriptFacts) -> None:
        self.f = f
        self.shell_outputs: list[str] = []  # successful runs' output heads: where a tracker printed titles

    def output(self, text: str) -> None:
        """A successful shell run's output, kept (its head) for the titles of task ids."""
        self.shell_outputs.append(text[:4000])

    def tracker(self, i: int, work: list[str], text: str, failed: bool) -> None:
        """Task statuses: what the command asked for, then what the tracker printed (which wins).
        Only segments that run a tracker count (tracker.TRACKERS), and its output is read in that
        tracker's own forms, so a package list or a log line is never taken for tasks."""
        ran = [t for t in (tracker.tracker_of(seg) for seg in work) if t is not None]
        if not ran:
            return
        if not failed:
            for seg in work:
                if tracker.tracker_of(seg) is not None:
                    self.f.tracker_commands.append((i, clip(safe_inline(seg), 160)))
                for tid, status in tracker.command_changes(seg):
                    if tid.strip("-").lower() in ("in-progress",):
                        continue
                    t = self.task(tid)
                    self.task_status(t, status, i)
                    t.touched = True
                    self.f.actions.append(NoteFact(f"task:{t.id}:{status}", i, "tool"))
        lines, specs = tracker.parse_output(text, ran[0].outputs)
        for tl in lines:
            t = self.task(tl.id)
            if tl.title and (not t.title or len(tl.title) >= len(t.title) // 2):
                t.title = tl.title if not t.title or tl.relation == "" else t.title
            if tl.kind:
                t.kind = tl.kind
            if tl.relation == "confirm:created" and t.created_index < 0:
                t.created_index = i
            if tl.status:
                self.task_status(t, tl.status, i)
            if tl.relation == "parent" and tl.parent:
                self.task(tl.parent).parent = tl.id
                self.add_child(tl.id, tl.parent)
            elif tl.relation == "child" and tl.parent:
                t.parent = tl.parent
                self.add_child(tl.parent, tl.id)
        for sp in specs:
            t = self.task(sp.id)
            t.spec, t.spec_index, t.output_files = sp.text, i, sp.output_files

    def task(self, tid: str) -> TaskFact:
        """The task with this id, made on first sight."""
        t = self.f.tasks.get(tid)
        if t is None:
            t = self.f.tasks[tid] = TaskFact(tid)
        return t

    def add_child(self, parent: str, child: str) -> None:
        p = self.task(parent)
        if child not in p.children:
            p.children.append(child)

    def task_status(self, t: TaskFact, status: str, i: int) -> None:
        """The latest status wins; the first `in_progress` is when the task started."""
        if i >= t.status_index:
            t.status, t.status_index = status, i
        if status == "in_progress" and t.started_index < 0:
            t.started_index = i

    # -- end of transcript

    def task_ids(self, shell_texts: list[tuple[int, str]]) -> None:
        """Task ids in the user's words (needs `f.branch` and `f.user_messages`); `shell_texts` are the
        commands as typed, whose program names are never task ids."""
        f = self.f
        program_names: set[str] = set()
        for _, cmd in shell_texts:
            for seg in split_segments(cmd):
                toks = seg.split()
                if toks:
                    program_names.add(toks[0])
        found: dict[str, TaskIdFact] = {}
        confirmed = set(f.tasks) | {w.strip("'\"`,;()") for _i, c in f.tracker_commands for w in c.split()[1:]}
        if f.branch:
            confirmed |= {f.branch, *re.split(r"[/_]", f.branch)}

        def add(tid: str, i: int) -> None:
            t = found.get(tid)
            if t is None:
                found[tid] = TaskIdFact(tid, i, i)
            else:
                t.mentions += 1
                t.last = i

        for um in f.user_messages:
            text = um.text
            for m in HASH_ID_RE.finditer(text):
                add("#" + m.group(1), um.index)
            for m in JIRA_RE.finditer(text):
                if m.group(1).split("-", 1)[0] not in _JIRA_STOP:
                    add(m.group(1), um.index)
            for m in WORD_ID_RE.finditer(text):
                add(one_line(m.group(1)), um.index)
            if "-" in text:
                for m in HYPHEN_ID_RE.finditer(text):
                    tok = m.group(1)
                    if JIRA_RE.fullmatch(tok) or len(tok) > 40 or tok in program_names:
                        continue
                    keyword = ID_KEYWORD_RE.search(text[max(0, m.start() - 12):m.start()])
                    # a lower-case `name-73` is a task id only where a tracker or the branch names it
                    # (`icu-73`, `idna-3` are package names), or the user calls it a task
                    if tok in confirmed or keyword:
                        add(tok, um.index)
        if not found:
            return
        # statuses and sub-tasks come from the tracker's own output (tracker.py), not from here
        for t in found.values():
            title = self.title_of(t.id)
            if title:
                t.titles[t.id] = title
        f.task_ids = sorted(found.values(), key=lambda t: t.first)

    def title_of(self, tid: str) -> str:
        """A tracker's title for an id, as its CLI prints it (`ID: Title`, `ID · Title [..]`).

        Listings decorate titles differently; the most frequent (then shortest) variant wins.
        """
        rx = re.compile(r"(?<![\w.-])" + re.escape(tid) + r"(?![\w.-])\s*(?:\[[^\]\n]*\]\s*)*[:·|–—-]\s+"
                        r"([^\n\[]{6,}?)\s*(?:\[|$)", re.M)
        seen: Counter = Counter()
        for out in self.shell_outputs:
            if tid in out:
                for m in rx.finditer(out):
                    title = _TITLE_DECOR.sub("", one_line(m.group(1)))
                    if " " in title:
                        seen[title] += 1
        if not seen:
            return ""
        best = sorted(seen.items(), key=lambda kv: (-kv[1], len(kv[0]), kv[0]))[0][0]
        return clip(safe_inline(best), 110)
