"""The facts pass: reads each message and its typed actions once and hands them to the observers.

The pipeline itself keeps only what locates the session (its directories, for the project root and
for where a git command started), the counters of the stats, and the commands whose output never came.
A failure inside one message costs that message only; a failure in one finish step costs that step
only (`guard`), so the rest of the facts still reach the document.

Finish order (`_finish`), each step needing the ones before it:
 1. the root (from the directories and the edited paths) and the branch (git);
 2. files: shell-made changes placed under the root; then edits and actions sorted by index;
 3. the unanswered commands, then git: their "unseen" events and each file's commit state;
 4. the files outside the project, the shell texts;
 5. errors: resolved by later runs (checks), silent passes (aider), covered failures (checks, git hooks);
 6. tasks: the ids the user typed (needs the branch and the tracker's tasks);
 7. the stats.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from chalicelib.transcripts.actions import (
    Action,
    ActionReader,
    EditCall,
    Other,
    Plan,
    Read,
    Search,
    Shell,
    Todo,
    Wait,
    Web,
    never_ran,
    task_notifications,
)
from chalicelib.transcripts.model import Message

from .. import guard, tracker
from ..facts import (
    _EXIT_RE,
    NoteFact,
    TranscriptFacts,
    _family,
    _is_inspection,
    classify,
    display_command,
    infer_root,
    split_segments,
)
from ..textutil import clip
from .checks import ChecksObserver
from .errors import ErrorsObserver
from .files import FilesObserver
from .git import GitObserver
from .notes import NotesObserver
from .tasks import TasksObserver

# Commands that change the work tree by themselves (not checks, not reads): an action that took effect.
_CHANGES_FILES = re.compile(
    r"^(?:sudo\s+)?(?:chmod|chown|rm|mv|cp|mkdir|rmdir|touch|ln|patch|truncate|unzip|tar\s+-?x\w*|sed\s+-i\S*"
    r"|git\s+(?:reset|revert|checkout|switch|restore|rebase|merge|cherry-pick|stash|rm|mv)|/undo)(?![\w-])")
_REJECTED_RE = re.compile(r"^(?:The user doesn't want to proceed|User rejected)")
# the person's Ctrl-C as agents log it: aider's own lines, Claude Code's marker
_INTERRUPT = re.compile(r"(?m)^\^C(?: KeyboardInterrupt| again to exit)?\s*$|\[Request interrupted by user")


def _look_or_act(command: str) -> str:
    """"inspect" for a command that only looks (what the agent says next may be a finding), else "act"."""
    segs = [s for s in split_segments(command) if not s.startswith("cd ")]
    return "inspect" if segs and all(_is_inspection(s) for s in segs) else "act"


class Pipeline:
    """One pass over a transcript, dispatching to the observers; `run` returns the filled facts."""

    def __init__(self, fmt: str = "") -> None:
        self.f = TranscriptFacts()
        # the one normalizer of tool calls (and, through it, the one file-change extractor, shared with import)
        self.reader = ActionReader(fmt)
        self.notes = NotesObserver(self.f)
        self.errors = ErrorsObserver(self.f)
        self.checks = ChecksObserver(self.f, self.errors)
        self.files = FilesObserver(self.f, self.notes)
        self.git = GitObserver(self.f)
        self.tasks = TasksObserver(self.f)
        self.cwds: Counter = Counter()
        self.cd_targets: Counter = Counter()
        self.interrupts: list[int] = []  # messages that end in the person's Ctrl-C (aider's `^C KeyboardInterrupt`)
        self.shell_texts: list[tuple[int, str]] = []
        self.unshown: list[tuple[int, str]] = []  # commands that ran but whose output the format never records
        self.tool_calls = 0
        self.tokens_in = 0
        self.tokens_out = 0
        self.chars = 0
        self.first_ts: str | None = None
        self.last_ts: str | None = None
        self.summaries = 0
        self.shell_cwd = ""  # the agent's shell directory as its records last gave it (a `cd` persists)
        self.first_cwd = ""
        self.call_cwd: dict[str, str] = {}  # tool call id -> the shell directory when it was called

    # -- messages

    def run(self, messages: Iterable[Message]) -> TranscriptFacts:
        n = 0
        for i, m in enumerate(messages):
            n += 1
            try:
                self.chars += m.chars()
                if m.timestamp:
                    if self.first_ts is None:
                        self.first_ts = m.timestamp
                    self.last_ts = m.timestamp
                if m.usage:
                    self.tokens_in += m.usage.input_tokens
                    self.tokens_out += m.usage.output_tokens
                if (m.meta or {}).get("interrupted") or _INTERRUPT.search(m.text[-400:]) or any(
                        _INTERRUPT.search(r.text[-400:]) for r in m.tool_results):
                    self.interrupts.append(i)
                    self.f.interrupted_at = i
                meta = m.meta or {}
                cwd = meta.get("cwd")
                if isinstance(cwd, str) and cwd.startswith("/"):
                    self.cwds[cwd] += 1
                    self.shell_cwd = cwd.rstrip("/") or "/"
                    self.first_cwd = self.first_cwd or self.shell_cwd
                self.git.meta(meta)
                role = m.role
                if role == "user":
                    self._user(i, m)
                elif role == "assistant":
                    self.notes.assistant(i, m, self.errors)
                elif role == "summary":
                    self.summaries += 1
                for step, act in self.reader.observe(i, m):  # calls, then results, then edits that took effect
                    if step == "call":
                        self._call(i, act)
                    elif step == "result":
                        self._result(i, act)
                    else:
                        self.files.record_edits(act)
            except Exception as exc:  # noqa: BLE001 - one message it cannot read costs that message only
                guard.record(self.f.failures, f"facts: message {i}", exc)
        guard.run(self.f.failures, "facts: file changes", lambda: self._flush_edits(n), None)
        return self._finish(n)

    def _flush_edits(self, n: int) -> None:
        for _step, edits in self.reader.finish(n - 1):
            self.files.record_edits(edits)

    def _user(self, i: int, m: Message) -> None:
        """The person's words go to the notes; an injected message may carry background runs' completions."""
        text = m.text or ""
        if not text.strip():
            return
        stripped = text.lstrip()
        if m.injected or stripped.startswith("<") or stripped.startswith("[Request interrupted"):
            if "<task-id>" in text:
                for bg_id, status, code in task_notifications(text):
                    self.checks.bg_outcome(i, bg_id, status, code, "")
            return
        self.notes.user(i, m, text)

    # -- tool calls (typed actions from the reader: no raw tool name or input shape here)

    def _call(self, i: int, a: Action) -> None:
        notes = self.notes
        self.tool_calls += 1
        self.errors.moved_on()  # the assistant moved on without explaining the error
        if isinstance(a, Shell):
            notes.last_tool_kind = _look_or_act(a.command)
            self.shell_texts.append((i, a.command))
            if a.call_id:
                self.call_cwd[a.call_id] = self.shell_cwd
        elif isinstance(a, EditCall):  # a patch sent through the shell is judged by its command like any other
            notes.last_tool_kind = _look_or_act(a.command) if a.command else "act"
        elif isinstance(a, (Read, Search)):
            if isinstance(a, Read) and a.path:
                self.f.reads[a.path] += 1
            notes.last_tool_kind = "inspect"
        elif isinstance(a, Todo):
            if a.items is not None:
                notes.todo_call(i, a.items)
        elif isinstance(a, Plan):
            if a.text:
                self.f.plan, self.f.plan_index = a.text.strip(), i
        elif isinstance(a, Web):
            notes.scan_urls(i, a.url, "assistant")
            notes.last_tool_kind = "inspect"
        elif not isinstance(a, Wait):  # any other tool (a subagent, an MCP tool): only its failure is of interest
            notes.last_tool_kind = "act"

    # -- tool results

    def _result(self, i: int, a: Action) -> None:
        if never_ran(a.output, a.is_error):  # cancelled by the harness: neither a run nor a failure
            return
        if a.is_error and isinstance(a, (EditCall, Shell)) and _REJECTED_RE.match(a.output):
            self.notes.rejected(i, a)
            return
        if isinstance(a, Other):
            self.errors.other_result(i, a)
        elif isinstance(a, Shell):
            self._shell(a)
        elif isinstance(a, Wait) and a.report is not None:  # None: e.g. the user rejected the wait
            self.checks.bg_outcome(i, *a.report)
        # an edit call's changes come as Edit actions; a subagent's failure is not an error of the work

    def _shell(self, sh: Shell) -> None:
        """One shell run with its result, to each observer in turn: the command and its checks, the error
        it showed, git, trackers, the files it changed, the URLs it named."""
        raw, text, ri = sh.command, sh.output, sh.result_index if sh.result_index is not None else sh.index
        if not raw.strip():
            return
        if text and not sh.is_error:
            self.tasks.output(text)
        # The format says the command ran but records neither its output nor its exit status (aider's
        # `Running …`): its result is not known, however the command looks.
        unshown = not sh.output_shown
        if unshown:
            self.unshown.append((sh.index, raw))
        segs = split_segments(raw)
        self._cd_targets(segs)
        work = [s for s in segs if not s.startswith("cd ") and s not in ("cd",)]
        # the importer may know what a command is when its words do not say (aider's --test-cmd)
        forced = sh.check_kind if sh.check_kind in ("test", "build") and len(work) == 1 else None
        classes = [forced] if forced else [classify(s) for s in work]
        exit_m = _EXIT_RE.match(text)
        failed = sh.is_error or bool(exit_m and int(exit_m.group(1)) != 0)
        disp = display_command(raw)
        self.checks.count_command(sh.index, disp, classes, failed)
        check_keys, outcome = self.checks.checks(sh, segs, disp, forced, unshown)
        if check_keys:
            failed = outcome == "fail"
        bg_id = sh.background_id
        fam_seg = next((s for s, c in zip(work, classes, strict=True) if c in ("test", "build")), work[0] if work else "")
        family = _family(fam_seg)
        err_key = None
        if failed and work and not all(_is_inspection(s) for s in work):
            err_key = self.errors.error(ri, text, disp, family, bool(check_keys))
        if not bg_id:
            self.checks.record_run(ri, family, err_key, disp, text, failed, bool(check_keys))
        if check_keys and not bg_id:
            self.f.actions.append(NoteFact(f"check:{check_keys[0]}", ri, "tool"))
        elif not failed and not bg_id and any(c == "setup" or _CHANGES_FILES.match(s)
                                              for s, c in zip(work, classes, strict=True)):
            # a command that changed something (chmod, rm, an install, `git reset`) is an action that
            # took effect too: the last action is not the commit it came after
            self.f.actions.append(NoteFact(f"ran:{clip(disp, 120)}", ri, "tool"))
        if ("git" in classes or "git " in raw) and not unshown:  # unshown: an "unseen" git event (_finish)
            self.git.shell_run(ri, raw, text, failed, segs, self._start_dir(sh.call_id))
        if not failed and "HEAD is now at" in text:
            self.git.undone(raw, text)
        if tracker.TRACKER_CMD_RE.search(" " + raw + " "):
            self.tasks.tracker(ri, work, text, failed)
        if not failed:
            self.files.shell_run(ri, segs, text, raw)
        if "://" in text:
            self.notes.scan_urls(ri, text[:4000], "tool", cap=3)
        self.notes.scan_urls(sh.index, raw, "assistant", cap=5)

    def _cd_targets(self, segs: list[str]) -> None:
        """Absolute directories the session `cd`s into: they hint at the project root."""
        for seg in segs:
            if seg.startswith("cd "):
                target = seg[3:].strip().strip("'\"")
                if target.startswith("/"):
                    self.cd_targets[target] += 1

    def _start_dir(self, call_id: str) -> str:
        """Where a command started: a subdirectory of the session's first directory that an earlier `cd`
        left the shell in (its records say so), absolute; "" for the first directory or when not known."""
        here, first = self.call_cwd.get(call_id, ""), self.first_cwd
        return here if first and here.startswith(first + "/") else ""

    # -- end of transcript

    def _finish(self, n: int) -> TranscriptFacts:
        f = self.f
        f.root = infer_root(self.cwds, f.files.keys(), self.cd_targets)
        f.branch = self.git.branch
        self.files.finish()
        f.edits.sort(key=lambda e: e.index)
        f.actions.sort(key=lambda a: a.index)
        f.unanswered = sorted([(sh.index, sh.command) for sh in self.reader.unanswered()] + self.unshown)
        self.git.unseen()
        guard.run(f.failures, "facts: git state", self.git.commit_states, None)
        f.outside = sorted({e.path for e in f.edits if not f.in_project(e.path)})
        f.shell_texts = self.shell_texts
        guard.run(f.failures, "facts: errors", lambda: self.errors.resolve(self.checks), None)
        guard.run(f.failures, "facts: silent passes",
                  lambda: self.errors.silent_passes(self.checks, self.interrupts), None)
        guard.run(f.failures, "facts: covered failures", lambda: self.errors.covered_failures(self.checks), None)
        guard.run(f.failures, "facts: task ids", lambda: self.tasks.task_ids(self.shell_texts), None)
        f.stats = {
            "messages": n,
            "tool_calls": self.tool_calls,
            "user_messages": len(f.user_messages),
            "shell_commands": sum(c.count for c in f.commands.values()),
            "files_edited": len(f.files),
            "files_read": len(f.reads),
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "chars": self.chars,
            "first_timestamp": self.first_ts,
            "last_timestamp": self.last_ts,
            "compaction_summaries": self.summaries,
        }
        return f
