"""Fact extraction: one pass over a normalized transcript, keeping what a next session needs.

A long agent session is hundreds of tool calls; most of them (reads, greps, status checks) do not
matter to whoever continues the work. This module keeps the facts that do: files edited (with
line counts and why), test and build commands with their latest outcome, errors and what fixed
them, task ids the user typed, the user's own words, todo state, decisions, commits, URLs.

It is a pure function of its inputs and runs in one linear pass (the regexes only look at user
text, assistant text, shell commands and the outputs of shell commands), so a 10 MB transcript
costs about as much as parsing it.

This module holds the typed records (`TranscriptFacts` and its parts), the pure helpers other modules
share (classify, split_segments, run_outcome, error_line, ...) and `extract_facts`; the pass itself is
the observers' pipeline (observers/: git, checks, errors, tasks, notes, files), one module per concern.
"""

from __future__ import annotations

import posixpath
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from chalicelib.transcripts.model import FileChange, Message

from . import gitstate, guard, shellfx
from .ecosystems import command_pattern
from .textutil import clip, one_line, safe_inline

# ----------------------------------------------------------------------------- command classes

# the check and setup commands come from the ecosystems registry (ecosystems.py): one record per tool
TEST_RE = command_pattern(("test",))
BUILD_RE = command_pattern(("lint", "build", "typecheck"))
SETUP_RE = command_pattern(("setup",))
_INSPECT_FIRST = {
    "grep", "rg", "ls", "find", "cat", "head", "tail", "wc", "which", "test", "[", "diff", "echo", "stat",
    "file", "pgrep", "ps", "pwd", "type", "sed", "awk", "sort", "uniq", "less", "tree", "du", "df", "true",
}
_INSPECT_GIT = {"diff", "log", "status", "show", "branch", "ls-files", "rev-parse", "remote", "stash"}

_SEG_SPLIT = re.compile(r"\s*(?:&&|\|\||;|\n)\s*")
_NOISE = [
    re.compile(r"\s*\d?>&\d"),
    re.compile(r"\s*\d?>\s*/dev/null"),
    re.compile(r"\s*\|\s*(?:tail|head)(?:\s+-n)?(?:\s+-?\d+)?\s*$"),
    re.compile(r"\s*\|\s*(?:tail|head)(?:\s+-n)?(?:\s+-?\d+)?\s*(?=\||$)"),
]

# ----------------------------------------------------------------------------- text patterns

URL_RE = re.compile(r"https?://[^\s<>\"'`)\]}|]+")
CHECKLIST_RE = re.compile(r"(?m)^[ \t]*[-*][ \t]+\[([ xX])\][ \t]+(\S.*)$")
HASH_ID_RE = re.compile(r"(?<![\w&/#])#(\d{1,7})\b")
JIRA_RE = re.compile(r"(?<![\w-])([A-Z][A-Z0-9]{0,9}-\d{1,7})(?![\w-])")
WORD_ID_RE = re.compile(
    r"\b((?:issue|ticket|bug|task|story|pr|pull request|card|epic|bead)s?\s+#?\d{1,7})\b", re.IGNORECASE
)
HYPHEN_ID_RE = re.compile(r"(?<![\w/.@-])([A-Za-z][A-Za-z0-9_]*(?:-[A-Za-z0-9]+)+(?:\.\d+)*)(?![\w/-]|\.[A-Za-z])")
ID_KEYWORD_RE = re.compile(r"(?i)\b(?:bead|ticket|issue|task|epic|story|bug|card|jira|linear)\s+$")

CORRECTION_RE = re.compile(
    r"(?i)(?:^\s*(?:no|nope|nah|wait|stop)\b|\b(?:don'?t|do not|instead|actually|rather|prefer|should(?:n'?t)?"
    r"|must(?:n'?t)?|never|always|wrong|not what i|make sure|keep|avoid|use\s+\w+\s+(?:not|instead))\b)"
)
DECISION_RE = re.compile(
    r"(?i)\b(?:I(?:'ll| will) (?:go with|switch to)|decided|decision|instead of|rather than|went with"
    r"|going with|chose|opted|switch(?:ed|ing)? to|the (?:right|better|best|simplest|cleanest|safest) "
    r"(?:approach|fix|way|option)|approach is|trade-?off)\b"
)
LEARN_RE = re.compile(
    r"(?i)\b(?:the (?:issue|problem|root cause|cause|bug|culprit) (?:is|was)|turns out|(?:doesn'?t|does not|don'?t)"
    r" support|not supported|lesson|gotcha|note that|important:|the pattern (?:is|here))\b"
)
ERRORISH_RE = re.compile(
    r"(?i)(?:\berror\b|exception|traceback|\bfailed\b|failure|fatal|undefined|cannot|can't|not found|no such"
    r"|denied|refused|invalid|unexpected|panic|segmentation|\bE\s{2,})"
)
_FAIL_MARK_RE = re.compile(
    r"(?m)^\s*(?:\*\* \(\w*Error\)|==+ (?:Compilation|Build) error|error(?:\[\w+\])?:|Error:|FAILED\b|FAIL\b"
    r"|Traceback \(most recent call last\)|npm ERR!|make: \*\*\*)"
)
_EXIT_RE = re.compile(r"^Exit code (-?\d+)")
_XML_EXIT_RE = re.compile(r"<exit_code>(-?\d+)</exit_code>")
_BG_RE = re.compile(r"running in background with ID: (\w+)")
_COMMIT_RE = re.compile(r"(?m)^\[([^\s\]]+)(?: \(root-commit\))? ([0-9a-f]{7,40})\] (.+)$")
_COUNT_PATTERNS = {
    "failed": re.compile(r"(\d+)\s+(?:failed|failing|failures?)\b", re.I),
    "errors": re.compile(r"(\d+)\s+errors?\b(?!\s*(?:and|,)?\s*\d+\s+warnings? (?:were|was) emitted)", re.I),
    "passed": re.compile(r"(\d+)\s+(?:passed|passing|tests?|examples?|ok)\b", re.I),
}
_SUMMARY_LINE_RE = re.compile(
    r"(?im)^.*\b\d+\s+(?:passed|failed|failures?|tests?|examples?|errors?|passing|failing)\b.*$"
)
_NO_TESTS_RE = re.compile(r"(?i)\b(?:no tests ran|no tests found|0 tests)\b")
_MARKERS = {
    "lib", "src", "test", "tests", "spec", "app", "apps", "assets", "config", "priv", "docs", "pkg", "cmd",
    "internal", "scripts", "bin", "include", "web", "client", "server", "packages", "chalicelib", "ui",
}


# ----------------------------------------------------------------------------- fact records


@dataclass
class FileFact:
    path: str
    kind: str = "modified"
    added: int | None = 0
    removed: int | None = 0
    edits: int = 0
    first: int = 0
    last: int = 0
    intent: str = ""
    commit: str = ""
    commit_sha: str = ""
    committed_at: int = -1
    summary: str = ""
    source: str = "transcript"
    old_path: str | None = None
    created: bool = False  # the session created it (added, then maybe deleted again: a scratch file)

    @property
    def scratch(self) -> bool:
        """Created and deleted within the session: no change to the work tree at all."""
        return self.created and self.kind == "deleted"


@dataclass
class CheckFact:
    command: str
    kind: str  # test | build
    runs: int = 0
    first: int = 0
    last: int = 0
    outcome: str = "unknown"  # pass | fail | running | unknown
    summary: str = ""
    passes: int = 0
    fails: int = 0
    cwd: str = ""  # where its last run ran (`cd web && …`), for what its targets name
    fail_line: str = ""  # the telling line of its latest failing run's own output ("" when none was seen)
    fail_index: int = -1
    fail_files: tuple[str, ...] = ()  # test files its latest failing run named (where its failures were)
    fix_declined: bool = False  # its latest failure: the person declined the offer to fix it


@dataclass
class CommandFact:
    command: str
    kind: str  # test | build | setup | git | other
    count: int = 0
    first: int = 0
    last: int = 0
    failed: bool = False


@dataclass
class ErrorFact:
    line: str
    command: str
    family: str
    index: int
    count: int = 1
    diagnosis: str = ""
    fixed_files: list[str] = field(default_factory=list)
    resolved: bool | None = None
    is_check: bool = False
    tokens: set[str] = field(default_factory=set)  # names in the failure output (files, modules, identifiers)
    fix_command: str = ""  # the different command that then succeeded (`git push --set-upstream …`)
    fix_edits: list[EditEvent] = field(default_factory=list)  # edits after it that touched what it named
    tool: str = ""  # a failed call of a non-shell tool (Skill, MCP, …)
    fix_index: int = -1  # the run that no longer showed it
    later: str = ""  # what the session did instead, when it did not retry
    rerun_issued: bool = False  # not answered, but a re-run was issued whose result the transcript ends before
    gave_way: str = ""  # the run that no longer showed it failed again on an EARLIER error (this one): a step back
    gone_in: str = ""  # a narrower later run of the tests that failed with it no longer showed it (the wider run was not repeated)


@dataclass
class TaskIdFact:
    id: str
    first: int
    last: int
    mentions: int = 1
    titles: dict[str, str] = field(default_factory=dict)  # id -> title seen in tool output


@dataclass
class TodoFact:
    content: str
    status: str
    index: int
    source: str = "todo"


@dataclass
class CommitFact:
    sha: str
    subject: str
    branch: str
    index: int
    pushed: bool = False
    undone: str = ""  # the command that reset the branch to before it (`/undo`, `git reset --hard HEAD~1`)


@dataclass
class UserMsg:
    index: int
    text: str
    queued: bool = False


@dataclass
class NoteFact:
    text: str
    index: int
    who: str  # user | assistant | tool


@dataclass
class EditEvent:
    """One change that took effect: an edit tool call or a shell command that changed a file."""

    index: int
    path: str
    added: int | None = 0
    removed: int | None = 0
    sample: list[str] = field(default_factory=list)  # first lines the edit put in (what it did)
    how: str = ""  # the tool, or the shell command that made the change
    text: str = ""  # every line it put in (capped), to link a fix to the error it names
    rewrite: bool = False  # a whole-file write over a file that existed: its lines are not all new
    old_text: str = ""  # the lines it took out (what the file had there before)

    def lines_naming(self, tokens: set[str], limit: int = 2) -> list[str]:
        """The added lines that mention one of `tokens` (the relevant part of a fix), else the sample."""
        hits = [ln.strip() for ln in self.text.split("\n") if any(t.lower() in ln.lower() for t in tokens if len(t) >= 5)]
        hits = [clip(safe_inline(h), 110) for h in hits if len(h.strip()) >= 4]
        return hits[:limit] or self.sample[:limit]


@dataclass
class TaskFact:
    """A tracker task as the transcript last showed it."""

    id: str
    title: str = ""
    kind: str = ""
    status: str = ""
    status_index: int = -1
    parent: str = ""
    children: list[str] = field(default_factory=list)
    spec: str = ""
    spec_index: int = -1
    output_files: list[str] = field(default_factory=list)
    started_index: int = -1  # when the session claimed it (status set to in_progress)
    created_index: int = -1  # when the session filed it (the tracker printed "Created")
    touched: bool = False  # the session changed its status


@dataclass
class GitFacts:
    """Git state as git printed it."""

    status: shellfx.GitStatus | None = None
    status_index: int = -1
    upstream: str = ""
    no_upstream_index: int = -1  # a push failed for "no upstream branch"
    upstream_index: int = -1
    no_tracking_index: int = -1  # a long `git status` named the branch and no tracking branch
    last_push_index: int = -1
    messages: list[tuple[int, str]] = field(default_factory=list)  # full commit messages
    forced: list[str] = field(default_factory=list)  # paths added with `git add -f`
    ignored: list[str] = field(default_factory=list)  # paths git refused as ignored
    explicit_adds: int = 0
    wildcard_adds: int = 0
    hooks: list[str] = field(default_factory=list)  # pre-commit hook lines seen in commit output
    no_repo: bool = False  # the agent said the directory has no git repository
    events: list[gitstate.GitEvent] = field(default_factory=list)  # adds, commits, snapshots, in order


@dataclass
class TranscriptFacts:
    root: str | None = None
    fmt: str = ""  # the transcript's format (its agent), for what the agent registry says about it
    branch: str | None = None
    files: dict[str, FileFact] = field(default_factory=dict)
    reads: Counter = field(default_factory=Counter)
    checks: dict[str, CheckFact] = field(default_factory=dict)
    commands: dict[str, CommandFact] = field(default_factory=dict)
    errors: list[ErrorFact] = field(default_factory=list)
    task_ids: list[TaskIdFact] = field(default_factory=list)
    user_messages: list[UserMsg] = field(default_factory=list)
    todos: dict[str, TodoFact] = field(default_factory=dict)
    decisions: list[NoteFact] = field(default_factory=list)
    learnings: list[NoteFact] = field(default_factory=list)
    urls: dict[str, NoteFact] = field(default_factory=dict)
    commits: list[CommitFact] = field(default_factory=list)
    plan: str = ""
    plan_index: int = -1
    last_assistant: str = ""
    last_assistant_index: int = -1
    interrupted_at: int = -1  # the last message that ended in the person's Ctrl-C
    steps: list[NoteFact] = field(default_factory=list)  # first sentence of each assistant text
    stats: dict[str, Any] = field(default_factory=dict)
    edits: list[EditEvent] = field(default_factory=list)  # every change that took effect, in order
    tasks: dict[str, TaskFact] = field(default_factory=dict)
    git: GitFacts = field(default_factory=GitFacts)
    learned: list[NoteFact] = field(default_factory=list)  # findings stated after reading code
    actions: list[NoteFact] = field(default_factory=list)  # actions that took effect, in order
    outside: list[str] = field(default_factory=list)  # files changed outside the project root
    tracker_commands: list[tuple[int, str]] = field(default_factory=list)  # successful tracker commands
    shell_texts: list[tuple[int, str]] = field(default_factory=list)  # every shell command as typed
    unanswered: list[tuple[int, str]] = field(default_factory=list)  # shell commands whose result never came or was not recorded
    failures: list[dict[str, Any]] = field(default_factory=list)  # steps that raised (guard.record)
    git_files: dict[str, gitstate.FileGit] = field(default_factory=dict)  # display path -> commit state

    def display(self, path: str) -> str:
        """Path as shown to the next session: relative to the project root when under it."""
        if self.root and path.startswith(self.root + "/"):
            return path[len(self.root) + 1:]
        return path

    def in_project(self, path: str) -> bool:
        """Relative paths and absolute paths under the root are project files; an agent's plan
        file in its home directory is not."""
        return not path.startswith("/") or (self.root is not None and path.startswith(self.root + "/"))

    def edited_since(self, index: int) -> list[EditEvent]:
        return [e for e in self.edits if e.index > index and self.in_project(e.path)]


# ----------------------------------------------------------------------------- helpers


# a test file as failure output names it (`test/a_test.exs:163`, `tests/test_b.py::test_x`, `src/c.test.ts`)
# (from a name's start only: the leading run would otherwise be retried at every character of a long output)
TEST_FILE = re.compile(r"(?<![\w./-])(?:[\w./-]*(?:_test|_spec|\.test|\.spec)\.[a-z]{1,5}\b"
                       r"|[\w./-]*\btest_\w+\.[a-z]{1,5}\b)")


# a stack frame in a dependency, not a test of the project: `(phoenix 1.7.14) lib/phoenix/test/conn_test.ex:12`,
# `.../site-packages/_pytest/python.py`, `node_modules/jest-circus/build/run.js`
_DEP_FRAME = re.compile(r"\([\w-]+ [\w.+-]+\) \S*$|(?:site-packages|node_modules|dist-packages|/deps|/vendor)/\S*$")


def failing_test_files(output: str) -> tuple[str, ...]:
    """The test files a failed run's output names (their base names, in order): runners name the files
    whose tests failed; a dependency's stack frame is left out."""
    out: dict[str, None] = {}
    for m in TEST_FILE.finditer(output):
        line_start = output.rfind("\n", 0, m.start()) + 1
        if not _DEP_FRAME.search(output[line_start:m.end()]):
            out[m.group(0).rsplit("/", 1)[-1]] = None
    return tuple(out)


def checks_test_file(name: str) -> bool:
    """Whether a file name is a test file's (what a runner names when its tests fail)."""
    return bool(TEST_FILE.fullmatch(name))


def clean_segment(seg: str) -> str:
    """A shell segment without output plumbing (`2>&1`, `| tail -5`), as a person would retype it."""
    s = seg.strip()
    for rx in _NOISE:
        s = rx.sub("", s)
    return one_line(s)


def _unquoted_split(text: str) -> list[str]:
    """`text` cut at `&&`, `||`, `;`, newlines and pipes outside quotes: each piece is
    (segment, ends_in_pipe). A commit message like `-m 'fix; tidy'` stays one segment."""
    out: list[tuple[str, bool]] = []
    buf: list[str] = []
    quote = ""
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if quote:
            if ch == quote:
                quote = ""
            elif ch == "\\" and quote == '"' and i + 1 < n:
                buf.append(ch)
                i += 1
                ch = text[i]
            buf.append(ch)
        elif ch in "'\"":
            quote = ch
            buf.append(ch)
        elif text.startswith(("&&", "||"), i) or ch in ";\n":
            out.append(("".join(buf), False))
            buf = []
            i += 2 if ch in "&|" else 1
            continue
        elif ch == "|":
            out.append(("".join(buf), True))
            buf = []
        else:
            buf.append(ch)
        i += 1
    out.append(("".join(buf), False))
    return out


def split_segments(command: str) -> list[str]:
    """Top-level segments of a shell command (heredoc bodies removed, `cd` kept separately); of a
    pipeline only its first command counts."""
    head = command.split("<<", 1)[0]
    if "'" not in head and '"' not in head:  # the common case: no quote can hide a separator
        pieces = [(seg.split(" | ", 1)[0] if " | " in seg else seg) for seg in _SEG_SPLIT.split(head)]
    else:
        pieces, piped = [], False
        for seg, to_pipe in _unquoted_split(head):
            if not piped:
                pieces.append(seg)
            piped = to_pipe
    out = []
    for seg in pieces:
        seg = clean_segment(seg)
        if seg and seg not in ("(", ")", "{", "}"):
            out.append(seg)
    return out


def display_command(command: str) -> str:
    """One-line form of a command for the handoff (first line, plumbing removed, clipped)."""
    lines = command.strip().split("\n")
    first = lines[0]
    if "<<" in first:
        first = first.split("<<", 1)[0].rstrip(' "$(cat') or first
        first = first.rstrip()
    parts = [clean_segment(p) for p in re.split(r"\s*(&&|\|\||;)\s*", first)]
    text = ""
    for p in parts:
        if p in ("&&", "||", ";"):
            text += f" {p} " if p != ";" else "; "
        else:
            text += p
    text = safe_inline(text.strip(" &;|"))
    if len(lines) > 1 and "<<" not in lines[0]:
        text = clip(text, 150) + " …"
    return clip(text, 180)


def classify(seg: str) -> str:
    if TEST_RE.match(seg):
        return "test"
    if SETUP_RE.match(seg):
        return "setup"
    if BUILD_RE.match(seg):
        return "build"
    if seg.startswith("git "):
        return "git"
    return "other"


def _family(seg: str) -> str:
    toks = seg.split()
    if not toks:
        return ""
    if toks[0] in ("npx", "uv", "poetry", "bundle", "python", "python3", "sudo") and len(toks) > 2:
        return " ".join(toks[:3])
    return " ".join(toks[:2])


def is_inspection(seg: str) -> bool:
    """A command that only looks (ls, cat, grep, git status/log/diff, ...): it changes nothing."""
    return _is_inspection(seg)


def _is_inspection(seg: str) -> bool:
    toks = seg.split()
    if not toks:
        return True
    first = posixpath.basename(toks[0])
    if first in _INSPECT_FIRST:
        return True
    return first == "git" and len(toks) > 1 and toks[1] in _INSPECT_GIT


def run_outcome(text: str, is_error: bool) -> tuple[str, str]:
    """(outcome, summary line) of a test/build run from its output and error flag."""
    if _BG_RE.search(text[:300]):
        return "running", ""
    tail = text[-4000:]
    exit_code = None
    m = _EXIT_RE.match(text) or _XML_EXIT_RE.search(text)
    if m:
        exit_code = int(m.group(1))
    summary = ""
    for sm in _SUMMARY_LINE_RE.finditer(tail):
        summary = sm.group(0).strip()
    summary = clip(safe_inline(summary), 100) if summary else ""
    failed = 0
    if summary:
        for key in ("failed", "errors"):
            for cm in _COUNT_PATTERNS[key].finditer(summary):
                failed = max(failed, int(cm.group(1)))
    if is_error or (exit_code is not None and exit_code != 0) or failed > 0:
        return "fail", summary
    if _FAIL_MARK_RE.search(tail):
        return "fail", summary
    if summary and _NO_TESTS_RE.search(summary):
        return "unknown", summary
    return "pass", summary


_TOP_ERROR_RE = re.compile(
    r"(?:^\*\* \(|^E\s+\S|(?-i:\b\w*(?:Error|Exception)\b)|^(?:error|fatal|panic)(?:\[\w+\])?:|^npm ERR!"
    r"|^assert|\bassertion\b|\bundefined (?:function|method|variable|reference|name)|\bcannot\b|\bnot found\b|\bno such\b)",
    re.IGNORECASE,
)
_SKIP_LINE_RE = re.compile(r"(?i)^(?:warning\b|\d+\) test\b|\d+ errors?\b|exit code\b|│|└|\^)")


def error_line(text: str) -> str:
    """The most telling line of a failure output, clipped (what a person would quote)."""
    lines = [ln.strip() for ln in text[:8000].split("\n")]
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", ln) for ln in lines if ln and not ln.startswith("<")]
    lines = [ln for ln in lines if not _SKIP_LINE_RE.match(ln)]
    best = next((ln for ln in lines if _TOP_ERROR_RE.search(ln)), "")
    if not best:
        best = next((ln for ln in lines if ERRORISH_RE.search(ln)), lines[0] if lines else "")
    return clip(safe_inline(best), 150)


def _root_from_paths(paths: list[str]) -> str | None:
    """The directory most absolute paths sit in before their first source-tree segment
    (`/w/proj/lib/a.ex` -> `/w/proj`); else the common directory of them all."""
    abs_paths = [p for p in paths if p.startswith("/")]
    if not abs_paths:
        return None
    votes: Counter = Counter()
    for p in abs_paths:
        parts = p.split("/")
        for i, part in enumerate(parts[:-1]):
            if i >= 2 and part in _MARKERS:
                votes["/".join(parts[:i])] += 1
                break
    if votes:
        return sorted(votes.items(), key=lambda kv: (-kv[1], len(kv[0]), kv[0]))[0][0]
    dirs = sorted({posixpath.dirname(p) for p in abs_paths})
    common = posixpath.commonpath(dirs) if len(dirs) > 1 else dirs[0]
    return common if common.count("/") >= 2 else None


def infer_root(cwds: Counter, paths: Iterable[str], hints: Counter | None = None) -> str | None:
    """Project root: the outermost working directory the transcript records (when it holds the
    edited files), else where most edited files live; `cd` targets (`hints`) only break ties."""
    paths = list(paths)
    abs_paths = [p for p in paths if p.startswith("/")]

    def covers(root: str) -> int:
        return sum(1 for p in abs_paths if p.startswith(root + "/"))

    if cwds:
        best = sorted(cwds.items(), key=lambda kv: (-kv[1], kv[0]))[0][0].rstrip("/")
        ancestors = [c.rstrip("/") for c in cwds if best.startswith(c.rstrip("/") + "/")]
        if ancestors:
            best = min(ancestors, key=len)
        if best and (not abs_paths or covers(best) * 2 >= len(abs_paths)):
            return best
    root = _root_from_paths(abs_paths)
    if root is None and hints:
        outer = sorted((h.rstrip("/") for h in hints), key=lambda h: (len(h), h))
        return outer[0] if outer and outer[0].count("/") >= 2 else None
    if root is not None and hints:
        # a `cd` into the project (not a subdirectory of it) confirms or refines the root
        inner = [h.rstrip("/") for h in hints if (root + "/").startswith(h.rstrip("/") + "/")
                 and covers(h.rstrip("/")) == covers(root)]
        if inner:
            return max(inner, key=len)
    return root


# ----------------------------------------------------------------------------- edits, errors, findings


_TOKEN_RE = re.compile(r"[A-Za-z_][\w.:/-]*[\w]")


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def error_tokens(text: str) -> set[str]:
    """Names a failure output mentions: file paths and basenames, modules (also in snake case),
    identifiers with `_` or `:`, so a fix can be linked only to an edit that touched one of them."""
    out: set[str] = set()
    for m in _TOKEN_RE.finditer(text[:8000]):
        tok = m.group(0).strip(".:/-")
        if len(tok) < 4:
            continue
        if "/" in tok or re.search(r"\.\w{1,5}$", tok):
            base = tok.rsplit("/", 1)[-1].split(":")[0]
            out.add(base)
            out.add(base.rsplit(".", 1)[0])
        elif "_" in tok or ":" in tok:
            out.add(tok.lstrip(":"))
        elif re.match(r"[A-Z][a-z]+[A-Z]", tok) or "." in tok:
            for part in tok.split("."):
                if len(part) >= 4 and part[0].isupper():
                    out.add(_snake(part))
    return {t for t in out if len(t) >= 4}


_NOT_FINDING = re.compile(
    r"(?i)^(?:let me|let's|now\b|i'll|i will|i need|i should|i'm going|next\b|first\b|then\b|ok\b|okay|good|great"
    r"|perfect|excellent|all (?:clean|green|good|tests)|done|alright|sure|looks good|hmm|still|waiting|that (?:line|file) is"
    r"|it's only|this is|here|add|change|create|update|use|remove|keep|make|run|fix|implement|move|replace|continue"
    r"|extract|write|check|also|then|[\"'])\b")
_FINDING_VERB = re.compile(r"(?i)\b(?:doesn'?t|does not|don'?t|isn'?t|is not|aren'?t|has no|have no|there (?:is|are) no|no \w+"
                           r" (?:module|file|function|config|test)|only|already|requires?|needs?|must|never|always)\b")
_HEDGE = re.compile(r"(?i)\b(?:should|i need|i'll|i will|let me|must have been|probably|might|maybe|perhaps|seems?|"
                    r"likely|i think|i guess|instead|wait|actually|hmm|not sure|assume|approach|my tests|my changes"
                    r"|or similar|if present|typically|usually|often)\b|\*\*")
_CODEISH = re.compile(r"`[^`]+`|\b[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]+)+\b|\b\w+\.\w{1,4}\b|\b\w+_\w+\b|\w+/\d\b")


def findings(text: str, limit: int = 3) -> list[str]:
    """Declarative sentences that name code, said right after reading or searching it: what the
    agent found out ("The root layout doesn't render flash messages"). Plans and chatter are not."""
    out: list[str] = []
    fenced = False
    for para in text.split("\n"):
        if para.lstrip().startswith(("```", "~~~")):  # code the agent wrote or quoted is not a finding
            fenced = not fenced
            continue
        p = para.strip().lstrip("-*•> ").strip()
        if fenced or not p or p.startswith("#"):
            continue
        for sent in re.split(r"(?<=[.!])\s+(?=[A-Z`])", p):
            s = sent.strip()
            if len(s) < 25 or "?" in s or _NOT_FINDING.match(s) or _HEDGE.search(s) or re.match(r"^\d+[.)]\s", s) \
                    or not (_CODEISH.search(s) or _FINDING_VERB.search(s)):
                continue
            out.append(clip(safe_inline(s), 220))
            if len(out) >= limit:
                return out
    return out


# ----------------------------------------------------------------------------- extraction


def merge_file_changes(facts: TranscriptFacts, file_changes: Iterable[FileChange]) -> None:
    """Fold posted/numstat file changes into the transcript's files (their line counts win).

    Paths are matched through two indexes built once (display form, and every "/"-suffix), so
    N changes against F files cost O(N + F), not a scan of the files per change (issue 20)."""
    by_display = {facts.display(p): p for p in facts.files}
    by_suffix: dict[str, str] = {}  # "b/c.py" -> the first file whose path ends with "/b/c.py"

    def index_suffixes(path: str) -> None:
        at = path.find("/")
        while at >= 0:
            by_suffix.setdefault(path[at + 1:], path)
            at = path.find("/", at + 1)

    for p in facts.files:
        index_suffixes(p)
    for fc in file_changes:
        disp = facts.display(fc.path)
        key = by_display.get(disp)
        if key is None:
            # a relative numstat path that matches an absolute transcript path under the root
            key = by_suffix.get(fc.path)
        if key is None:
            facts.files[fc.path] = FileFact(
                path=fc.path, kind=fc.kind, added=fc.lines_added, removed=fc.lines_removed, edits=0,
                first=-1, last=-1, summary=fc.summary, source=fc.source, old_path=fc.old_path)
            by_display[disp] = fc.path
            index_suffixes(fc.path)
            continue
        ff = facts.files[key]
        ff.added, ff.removed = fc.lines_added, fc.lines_removed
        if fc.kind != "modified" or ff.kind not in ("added",):
            ff.kind = fc.kind if fc.kind != "modified" else ff.kind
        if fc.summary:
            ff.summary = fc.summary
        if fc.old_path:
            ff.old_path = fc.old_path
        ff.source = fc.source


def extract_facts(messages: Iterable[Message], file_changes: Iterable[FileChange] = (),
                  root_hint: str | None = None, fmt: str = "") -> TranscriptFacts:
    """Everything the rule-based handoff needs from one session's transcript and file changes.

    `root_hint` is the session's working directory when the caller knows it (the importer reports
    it); otherwise the root is inferred from the transcript.
    """
    from .observers.pipeline import Pipeline  # the observers import this module's records: import here

    ex = Pipeline(fmt)
    ex.f.fmt = fmt
    if root_hint and root_hint.startswith("/"):
        ex.cwds[root_hint.rstrip("/")] += 1_000_000  # outweighs per-message cwds; ancestors still win
    facts = ex.run(messages)
    guard.run(facts.failures, "facts: posted file changes", lambda: merge_file_changes(facts, file_changes), None)
    return facts
