"""Commands and checks: every shell command's count and last result, the test and build checks each run
ran with their outcomes, background runs until their completion arrives, and the list of runs (with
the failed runs' output) that the errors observer later reads to tell whether an error was fixed.
"""

from __future__ import annotations

import posixpath
import re

from chalicelib.transcripts.actions import Shell

from ..facts import (
    _COUNT_PATTERNS,
    _SUMMARY_LINE_RE,
    CheckFact,
    CommandFact,
    NoteFact,
    TranscriptFacts,
    _family,
    classify,
    error_line,
    failing_test_files,
    run_outcome,
)
from ..textutil import clip, code, safe_inline
from .errors import ErrorsObserver

Run = tuple[int, str, str | None, str]  # (index, family, error key or None, command as displayed)


_TEST_FAIL_RE = re.compile(r"(?m)^(?:--- FAIL|FAIL\b|FAILED\b|\s*FAIL\s)")


def _chain_outcomes(raw: str, keys: list[str], outcome: str, summary: str, text: str) -> dict[str, str]:
    """Each check's outcome in one command line. An `a && b` chain stops at its first failure, so in a
    failed chain the checks before the failing one passed and those after it never ran: a test
    summary with failures (or a test runner's FAIL line) names the test run; a passing summary names a later
    check; else the first."""
    if outcome != "fail" or len(keys) < 2 or "||" in raw or ";" in raw.split("\n", 1)[0] or "&&" not in raw:
        return {k: outcome for k in keys}
    failed_n = 0
    for pat in ("failed", "errors"):
        for m in _COUNT_PATTERNS[pat].finditer(summary or ""):
            failed_n = max(failed_n, int(m.group(1)))
    first_test = next((n for n, k in enumerate(keys) if classify(k) == "test"), None)
    at = 0 if not summary or first_test is None else first_test if failed_n else first_test + 1
    if not summary and first_test is not None and _TEST_FAIL_RE.search(text[-4000:]):
        at = first_test
    at = min(at, len(keys) - 1)
    return {k: ("pass" if n < at else "fail") for n, k in enumerate(keys) if n <= at}


class ChecksObserver:
    """`commands` and `checks` in the shared facts record; `runs` and the failed runs' texts for the end."""

    def __init__(self, f: TranscriptFacts, errors: ErrorsObserver) -> None:
        self.f = f
        self.errors = errors  # a failed background run is an error too
        self.bg: dict[str, list[str]] = {}
        self.bg_cmd: dict[str, str] = {}  # background id -> the command as displayed (what runs[3] compares)
        self.runs: list[Run] = []
        # failed runs that printed a test summary: their output, to tell which failures they still showed
        self.failed_tests: dict[int, str] = {}
        self.fail_text: dict[int, str] = {}  # each failed run's output tail: is an earlier error still in it?
        self.auto_checks: set[str] = set()  # checks the agent ran by itself after edits (importer's check_kind)
        self.check_runs: list[tuple[int, dict[str, tuple[str, str]]]] = []  # (index, {check: (outcome, cwd)})

    def count_command(self, ci: int, disp: str, classes: list[str], failed: bool) -> None:
        """One more run of a command as displayed, with its top class and whether it failed."""
        top = next((c for c in ("test", "build", "setup", "git") if c in classes), "other")
        cf = self.f.commands.get(disp)
        if cf is None:
            cf = self.f.commands[disp] = CommandFact(disp, top, first=ci)
        cf.count += 1
        cf.last = ci
        cf.failed = failed

    def checks(self, sh: Shell, segs: list[str], disp: str, forced: str | None,
               unshown: bool) -> tuple[list[str], str]:
        """The test and build checks a shell run ran and their outcomes: (their keys, the run's outcome)."""
        ci, ri, text = sh.index, sh.result_index if sh.result_index is not None else sh.index, sh.output
        check_keys: list[str] = []
        check_dirs: dict[str, tuple[str, str]] = {}  # key -> (kind, the directory it ran in)
        here = ""
        for seg in segs:
            if seg.startswith("cd "):
                to = seg[3:].strip().strip("'\"")
                here = to if to.startswith("/") or not here else posixpath.join(here, to)
                continue
            cls = forced or classify(seg)
            if cls in ("test", "build"):
                key = clip(safe_inline(seg), 180)
                check_keys.append(key)
                check_dirs[key] = (cls, here)
        if not check_keys:
            return [], ""
        outcome, summary = ("unknown", "") if unshown else run_outcome(text, sh.is_error)
        if sh.background_id:
            outcome, summary = "running", ""
            self.bg[sh.background_id] = check_keys
            self.bg_cmd[sh.background_id] = disp
        ran = _chain_outcomes(sh.command, check_keys, outcome, summary, text)
        for key in check_keys:
            if key not in ran:  # after the failing check of an `a && b` chain: it never ran
                continue
            ch = self.f.checks.get(key)
            if ch is None:
                ch = self.f.checks[key] = CheckFact(key, check_dirs[key][0], first=ci)
            ch.runs += 1
            ch.last = ci
            ch.cwd = check_dirs[key][1]
            self.set_outcome(key, ran[key], summary if ran[key] == outcome else "")
            if ran[key] == "fail":
                ch.fail_line, ch.fail_index = error_line(text), ri
                ch.fail_files = failing_test_files(text[-20_000:])
            if forced:
                self.auto_checks.add(key)
            ch.fix_declined = ran[key] == "fail" and bool(sh.fix_declined)
        said = (f"User declined the offer to fix {code(disp)} when it failed" if sh.fix_declined == "no" else
                f"User interrupted the attempt to fix {code(disp)} (Ctrl-C) when it failed")
        if sh.fix_declined and check_keys and not any(d.text == said for d in self.f.decisions):
            self.f.decisions.append(NoteFact(said, ri, "user"))
        self.check_runs.append((ri, {k: (o, check_dirs[k][1]) for k, o in ran.items()}))
        return check_keys, outcome

    def record_run(self, ri: int, family: str, err_key: str | None, disp: str, text: str, failed: bool,
                   is_check: bool) -> None:
        """A foreground run finished: kept for the end, with its output when it failed."""
        self.runs.append((ri, family, err_key if failed else None, disp))
        if failed:  # whitespace-normalized once, as `_shows` compares
            self.fail_text[ri] = " ".join(text[-20_000:].split())
        if failed and is_check and _SUMMARY_LINE_RE.search(text[-4000:]):
            self.failed_tests[ri] = text[-20_000:]

    def set_outcome(self, key: str, outcome: str, summary: str) -> None:
        """A check's latest outcome and its pass/fail tally."""
        ch = self.f.checks[key]
        ch.outcome = outcome
        if outcome != "running":
            ch.summary = summary
        if outcome == "pass":
            ch.passes += 1
        elif outcome == "fail":
            ch.fails += 1

    def bg_outcome(self, i: int, bg_id: str, status: str, code: int | None, output: str) -> None:
        """Outcome of a background run, from TaskOutput/BashOutput or a task notification."""
        keys = self.bg.get(bg_id)
        status = status.lower()
        if not keys or status in ("running", "pending"):
            return
        if output:
            outcome, summary = run_outcome(output, code not in (None, 0))
        else:
            outcome, summary = ("pass" if code in (None, 0) and status == "completed" else "fail"), ""
        if code not in (None, 0) or status in ("failed", "error", "killed"):
            outcome = "fail"
        for key in keys:
            self.set_outcome(key, outcome, summary)
        err_key = None
        command = self.bg_cmd.pop(bg_id, keys[0])
        if outcome == "fail":
            err_key = self.errors.error(i, output or f"{keys[0]}: exit code {code}", command, _family(keys[0]), True)
        self.runs.append((i, _family(keys[0]), err_key, command))  # the same 4 fields as a foreground run
        del self.bg[bg_id]
