"""Errors and their resolution.

During the pass it keeps one `ErrorFact` per distinct first error line (a repeat counts on the first)
and the errors still waiting for the assistant's diagnosis. At the end it decides, from the check
observer's runs, whether each error was fixed, by which run and by which edits; an agent whose checks
print only failures (aider) and a covering later run or pre-commit hook can answer a failure too.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from chalicelib.transcripts.actions import Other, silent_passes

from .. import checktargets
from ..facts import (
    EditEvent,
    ErrorFact,
    TranscriptFacts,
    display_command,
    error_line,
    error_tokens,
    failing_test_files,
    split_segments,
)
from ..textutil import clip, code, first_sentence, norm_key, one_line, safe_inline

if TYPE_CHECKING:
    from collections.abc import Callable

    from .checks import ChecksObserver, Run


def _check_part(command: str) -> str:
    """The command without the `cd dir &&` that only chose where it ran, nor its `2>&1`."""
    work = [seg for seg in split_segments(command) if not seg.startswith("cd ") and seg != "cd"]
    return re.sub(r"\s+\d?>&\d\s*$", "", work[-1] if len(work) == 1 else command).strip()


def _same_target(later: str, failed: str) -> bool:
    """Two check commands that check the same thing: the whole suite of the same tool and
    subcommand, or the same target file run another way."""
    later, failed = _check_part(later), _check_part(failed)
    a, b = [t for t in later.split() if "=" not in t], [t for t in failed.split() if "=" not in t]
    if not a or not b or a[0] != b[0]:
        return False
    if len(a) <= 2 and a[:2] == b[:2]:
        return True
    return len(a) <= len(b) and a[-1].rsplit("/", 1)[-1] == b[-1].rsplit("/", 1)[-1]


def _still_shows(run: tuple[int, str, str | None, str], key: str, line: str, fail_text: dict[int, str]) -> bool:
    """Whether a run still shows an error: as its first error, or further down its output (a run whose
    first error changed may still print this one)."""
    return run[2] == key or (run[2] is not None and _shows(fail_text.get(run[0], ""), line))


def _shows(output: str, line: str) -> bool:
    """Whether a run's output (whitespace-normalized: `fail_text`) still holds an error line, whatever its
    indentation and trailing spaces."""
    want = " ".join(line.split())
    return bool(want) and want in output


def _narrower_run(e: ErrorFact, runs: list[Run], failed_tests: dict[int, str],
                  still: Callable[[Run], bool]) -> Run | None:
    """The first later run of the same tool, narrowed to the test files whose failures showed the error
    (`mix test a_test.exs` after `mix test` failed only in a_test.exs), if it no longer shows it: the
    error is gone, though the wider run was not repeated. None when the failing run named no test file,
    or that narrower run still shows it."""
    files = set(failing_test_files(failed_tests.get(e.index, "")))
    if not files:
        return None
    tool = e.command.split()[:2]
    for r in runs:
        if r[0] <= e.index or r[3] == e.command or r[3].split()[:2] != tool:
            continue
        ran = {t.rsplit("/", 1)[-1].split(":", 1)[0] for t in checktargets.target(r[3]).targets}
        if files <= ran:
            return None if still(r) or (r[2] is not None and r[0] not in failed_tests) else r
    return None


def _touches(ev: EditEvent, tokens: set[str]) -> bool:
    if not tokens:
        return False
    base = ev.path.rsplit("/", 1)[-1]
    stem = base.rsplit(".", 1)[0]
    if base in tokens or stem in tokens or any(t in stem and len(t) >= 6 for t in tokens):
        return True
    low = ev.text.lower()
    return any(t.lower() in low for t in tokens if len(t) >= 5)


class ErrorsObserver:
    """`errors` in the shared facts record, and their fixes (`resolve`, `silent_passes`, `covered_failures`)."""

    def __init__(self, f: TranscriptFacts) -> None:
        self.f = f
        self.error_by_line: dict[str, ErrorFact] = {}
        self.awaiting_diag: list[ErrorFact] = []

    def error(self, i: int, text: str, command: str, family: str, is_check: bool) -> str:
        """Record a failure's first error line; returns its key (what later runs are compared on)."""
        line = error_line(text) or "(no output)"
        key = norm_key(line) or "?"
        old = self.error_by_line.get(key)
        if old is not None:
            old.count += 1
            old.index, old.command, old.family = i, command, family
            old.tokens |= error_tokens(text)
            old.diagnosis = ""
            self.awaiting_diag.append(old)
            return key
        e = ErrorFact(line=line, command=command, family=family, index=i, is_check=is_check,
                      tokens=error_tokens(text))
        self.error_by_line[key] = e
        self.f.errors.append(e)
        self.awaiting_diag.append(e)
        return key

    def diagnose(self, text: str) -> None:
        """The assistant's first sentence after errors is their diagnosis."""
        if self.awaiting_diag:
            diag = first_sentence(text, 160)
            for e in self.awaiting_diag:
                e.diagnosis = diag
            self.awaiting_diag = []

    def moved_on(self) -> None:
        """A tool call before any words: the assistant did not explain the error."""
        self.awaiting_diag = []

    def other_result(self, i: int, a: Other) -> None:
        """A failed call of any other tool (a skill, an MCP tool) is an error too."""
        if not a.is_error or a.quiet:
            return
        what = f"{a.tool} {one_line(a.arg)}".strip() if a.arg else a.tool
        what = clip(safe_inline(what), 80)
        self.error(i, a.output or "(no output)", what, what, False)
        self.f.errors[-1].tool = a.tool if self.f.errors[-1].command == what else self.f.errors[-1].tool

    # -- end of transcript

    def resolve(self, checks: ChecksObserver) -> None:
        """An error counts as fixed when the next run of the same command family no longer shows it.

        The files edited between the error and that next run are what was tried as the fix.
        """
        runs, fail_text, failed_tests = checks.runs, checks.fail_text, checks.failed_tests
        for e in self.f.errors:
            key = norm_key(e.line) or "?"
            if e.tool:  # a failed tool call: resolved only if the same call later succeeded
                e.resolved = None
                verbs = [v for v in ("commit", "push", "test", "merge", "rebase", "deploy") if v in e.command.lower()]
                later = next((c for c in self.f.commands.values() if c.first > e.index and not c.failed and c.kind
                              == "git" and any(re.search(r"\bgit\s+" + v, c.command) for v in verbs)), None)
                if later is not None:
                    e.later = later.command
                continue
            def still(r: tuple[int, str, str | None, str], key: str = key, line: str = e.line) -> bool:
                return _still_shows(r, key, line, fail_text)
            same = [r for r in runs if r[0] > e.index and (
                r[3] == e.command if e.is_check else r[1] == e.family)]
            nxt = next((r for r in same if not still(r)), same[-1] if same else None)
            if e.is_check and (nxt is None or still(nxt)):
                # the same target checked another way and passing answers it (`mix test` after
                # `mix test a_test.exs`, `node build.js` from assets/ after `node assets/build.js`)
                # a wider run that failed for other tests answers it too, when its summary shows the
                # tests ran and this failure's line is no longer in its output
                other = next((r for r in runs if r[0] > e.index and r[3] != e.command
                              and _same_target(r[3], e.command) and (r[2] is None or (
                                  r[2] != key and r[0] in failed_tests and e.line not in failed_tests[r[0]]))),
                             None)
                if other is not None:
                    nxt = other
            if e.is_check and (nxt is None or still(nxt)):
                narrower = _narrower_run(e, runs, failed_tests, still)
                if narrower is not None:
                    nxt, e.gone_in = narrower, narrower[3]
            end = nxt[0] if nxt is not None else 1 << 60
            e.resolved = None if nxt is None else not still(nxt)
            if nxt is None and e.is_check:  # the re-run was issued at the cut: its answer never came
                e.rerun_issued = any(ci > e.index and (display_command(cmd) == e.command
                                                      or _same_target(display_command(cmd), e.command))
                                     for ci, cmd in self.f.unanswered)
            if e.resolved and nxt is not None:
                e.fix_index = nxt[0]
                # an edit that brings back an earlier failure moved the error, it did not fix it
                back = nxt[2] is not None and any(r[0] < e.index and r[2] == nxt[2] for r in runs)
                e.gave_way = next((o.line for o in self.f.errors if (norm_key(o.line) or "?") == nxt[2]), "") \
                    if back else ""
            if e.resolved and nxt is not None and nxt[3] != e.command and nxt[2] is None:  # it passed
                e.fix_command = nxt[3]
            start = e.index
            if e.resolved:
                start, end = self._fix_window(e, key, end, checks)
            seen: dict[str, None] = {}
            for ev in self.f.edits:
                if start < ev.index < end and self.f.in_project(ev.path) and _touches(ev, e.tokens):
                    seen[ev.path] = None
                    e.fix_edits.append(ev)
            e.fixed_files = list(seen)

    def _fix_window(self, e: ErrorFact, key: str, end: int, checks: ChecksObserver) -> tuple[int, int]:
        """The edits that fixed an error lie between the last run of its tool that still showed it and
        the first that no longer did: a run whose first error changed can still print the old one further
        down (10 of 12 tests pass, the old failure among the 2), and a narrower run that no longer shows
        it bounds the fix sooner than the next full run."""
        start = e.index
        for r in checks.runs:
            if not e.index < r[0] < end or r[1] != e.family:
                continue
            if _still_shows(r, key, e.line, checks.fail_text):
                start = r[0]  # still there: the fix came after this run
            else:
                return start, r[0]
        return start, end

    def silent_passes(self, checks: ChecksObserver, interrupts: list[int]) -> None:
        """An agent whose own after-edit checks print only failures (aider's auto-lint and auto-test):
        an edit of the checked file after a failure of such a check, with no failure after it, is that
        check passing (the log never prints a pass; the summary says why it counts as one), and its
        error is gone, fixed by that edit."""
        if not silent_passes(self.f.fmt):
            return
        for key in checks.auto_checks:
            ch = self.f.checks.get(key)
            if ch is None or ch.outcome != "fail":
                continue
            named = {p.replace("\\", "/") for p in re.findall(r"[\w./\\-]+\.\w+", key)}
            later = [e for e in self.f.edits if e.index > ch.fail_index and (
                not named or e.path.replace("\\", "/") in named)]  # the checked file itself, not its namesakes
            # silence means a pass only if aider got to run the check: a Ctrl-C after the edit (before the
            # next prompt) stopped it, and the log then never showed the check at all
            nxt_prompt = min((u.index for u in self.f.user_messages if later and u.index > later[-1].index),
                             default=1 << 60)
            if not later or any(later[-1].index <= k < nxt_prompt for k in interrupts):
                continue
            ch.outcome = "pass"  # what the agent's silence after the edit means; the summary says so
            ch.summary = f"no failure after the edit of {code(later[0].path)}; aider prints only failures"
            ch.last = later[-1].index  # it ran after each of those edits, silently
            for e in self.f.errors:
                if e.is_check and e.index == ch.fail_index and e.resolved is not True:
                    e.resolved, e.fix_index = True, later[0].index
                    e.fix_edits, e.fixed_files = later[:1], [later[0].path]

    def covered_failures(self, checks: ChecksObserver) -> None:
        """A check failure is answered by a later run that covers its target and passed (the same target
        again, a wider run of the same tool, the check chained after another command), or by a commit
        whose pre-commit hook ran that check and passed; a covering run that failed again keeps it."""
        f = self.f
        hooks = [(e.index, e.sha, e.hooks) for e in f.git.events if e.kind == "commit" and e.hooks]
        for e in f.errors:
            if not e.is_check or e.resolved is True or e.tool:
                continue
            mine = [checktargets.target(k, cwd) for i, ran in checks.check_runs if i == e.index
                    for k, (o, cwd) in ran.items() if o == "fail"]
            if not mine:
                continue
            events = [(i, "run", ran) for i, ran in checks.check_runs if i > e.index]
            events += [(i, "hook", (sha, hk)) for i, sha, hk in hooks if i > e.index]
            for i, what, data in sorted(events, key=lambda x: x[0]):
                if what == "hook":
                    sha, hk = data
                    if any(checktargets.hook_covers(hk, t) for t in mine):
                        e.resolved, e.fix_index = True, i
                        e.fix_command = f"git commit ({sha}: its pre-commit hook ran the check and passed)"
                        break
                    continue
                hits = [(k, o) for k, (o, cwd) in data.items()
                        if any(checktargets.covers(checktargets.target(k, cwd), t) for t in mine)]
                if any(o == "fail" for _k, o in hits):
                    break
                passed = next((k for k, o in hits if o == "pass"), None)
                if passed is not None:
                    e.resolved, e.fix_index = True, i
                    if passed != e.command:
                        e.fix_command = passed
                    break
