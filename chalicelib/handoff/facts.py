"""Fact extraction: one pass over a normalized transcript, keeping what a next session needs.

A long agent session is hundreds of tool calls; most of them (reads, greps, status checks) do not
matter to whoever continues the work. This module keeps the facts that do: files edited (with
line counts and why), test and build commands with their latest outcome, errors and what fixed
them, task ids the user typed, the user's own words, todo state, decisions, commits, URLs.

It is a pure function of its inputs and runs in one linear pass (the regexes only look at user
text, assistant text, shell commands and the outputs of shell commands), so a 10 MB transcript
costs about as much as parsing it.
"""

from __future__ import annotations

import posixpath
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from chalicelib.transcripts.actions import (
    Action,
    ActionReader,
    Edit,
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
    silent_passes,
    task_notifications,
    tool_key,
)
from chalicelib.transcripts.model import FileChange, Message

from . import checktargets, gitstate, guard, shellfx, tracker
from .ecosystems import command_pattern
from .textutil import clip, code, first_sentence, norm_key, one_line, safe_inline

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

# Commands that change the work tree by themselves (not checks, not reads): an action that took effect.
_CHANGES_FILES = re.compile(
    r"^(?:sudo\s+)?(?:chmod|chown|rm|mv|cp|mkdir|rmdir|touch|ln|patch|truncate|unzip|tar\s+-?x\w*|sed\s+-i\S*"
    r"|git\s+(?:reset|revert|checkout|switch|restore|rebase|merge|cherry-pick|stash|rm|mv)|/undo)(?![\w-])")
_HEAD_NOW = re.compile(r"HEAD is now at ([0-9a-f]{7,40})\b")
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
_JIRA_STOP = {"UTF", "SHA", "ISO", "GPT", "MD", "AES", "RSA", "HTTP", "TLS", "SSL", "IPV", "X", "V", "ES", "H", "P",
              "CVE", "RFC", "PEP", "GPL", "LGPL", "AGPL", "COVID", "WCAG", "ECMA", "TS", "CWE", "GHSA", "ARM", "X86"}

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
_REJECTED_RE = re.compile(r"^(?:The user doesn't want to proceed|User rejected)")
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


def _look_or_act(command: str) -> str:
    """"inspect" for a command that only looks (what the agent says next may be a finding), else "act"."""
    segs = [s for s in split_segments(command) if not s.startswith("cd ")]
    return "inspect" if segs and all(_is_inspection(s) for s in segs) else "act"


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


_TITLE_DECOR = re.compile(r"(?:\s+[^\w\s(\"'`]+\s*\w{1,3})+$")  # trailing "● P2"-style tags
_SENT_END = re.compile(r"(?<!\.)(?<!\be\.g)(?<!\bi\.e)[.!?]\s+(?=[A-Z`\"'(*])")


def _sentence_around(text: str, start: int, end: int, limit: int = 200) -> str:
    ls = text.rfind("\n", 0, start) + 1
    le = text.find("\n", end)
    le = len(text) if le < 0 else le
    line = text[ls:le]
    rel_s, rel_e = start - ls, end - ls
    s = 0
    for m in _SENT_END.finditer(line[:rel_s]):
        s = m.end()
    m = _SENT_END.search(line[rel_e:]) or re.search(r"(?<!\.)[.!?]$", line[rel_e:])
    e = rel_e + m.end() if m else len(line)
    sent = line[s:e].strip().lstrip("-*#>• ").strip()
    return clip(safe_inline(sent), limit)


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

_BUILD_DIR = re.compile(r"/(?:_build|node_modules|deps|\.git|dist|build|target|__pycache__|\.venv|vendor)/")


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


# the person's Ctrl-C as agents log it: aider's own lines, Claude Code's marker
_INTERRUPT = re.compile(r"(?m)^\^C(?: KeyboardInterrupt| again to exit)?\s*$|\[Request interrupted by user")


def _shows(output: str, line: str) -> bool:
    """Whether a run's output (whitespace-normalized: `fail_text`) still holds an error line, whatever its
    indentation and trailing spaces."""
    want = " ".join(line.split())
    return bool(want) and want in output


def _touches(ev: EditEvent, tokens: set[str]) -> bool:
    if not tokens:
        return False
    base = ev.path.rsplit("/", 1)[-1]
    stem = base.rsplit(".", 1)[0]
    if base in tokens or stem in tokens or any(t in stem and len(t) >= 6 for t in tokens):
        return True
    low = ev.text.lower()
    return any(t.lower() in low for t in tokens if len(t) >= 5)


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


class _Extractor:
    def __init__(self, fmt: str = "") -> None:
        self.f = TranscriptFacts()
        # the one normalizer of tool calls (and, through it, the one file-change extractor, shared with import)
        self.reader = ActionReader(fmt)
        self.bg: dict[str, list[str]] = {}
        self.bg_cmd: dict[str, str] = {}  # background id -> the command as displayed (what runs[3] compares)
        self.cwds: Counter = Counter()
        self.cd_targets: Counter = Counter()
        self.runs: list[tuple[int, str, str | None, str]] = []  # (index, family, error key or None, command)
        # failed runs that printed a test summary: their output, to tell which failures they still showed
        self.failed_tests: dict[int, str] = {}
        self.fail_text: dict[int, str] = {}
        self.interrupts: list[int] = []  # messages that end in the person's Ctrl-C (aider's `^C KeyboardInterrupt`)  # each failed run's output tail: is an earlier error still in it?
        self.auto_checks: set[str] = set()  # checks the agent ran by itself after edits (importer's check_kind)
        self.awaiting_diag: list[ErrorFact] = []
        self.error_by_line: dict[str, ErrorFact] = {}
        self.shell_texts: list[tuple[int, str]] = []
        self.unshown: list[tuple[int, str]] = []  # commands that ran but whose output the format never records
        self.shell_outputs: list[str] = []
        self.assistant_texts: list[tuple[int, str]] = []
        self.staged: str = ""
        self.last_commit_index = -1
        self.last_intent = ""
        self.branch_from_meta: str | None = None
        self.tool_calls = 0
        self.tokens_in = 0
        self.tokens_out = 0
        self.chars = 0
        self.first_ts: str | None = None
        self.last_ts: str | None = None
        self.summaries = 0
        self.last_tool_kind = ""  # "inspect" after reads and searches: what follows may be a finding
        self.shell_changes: list[tuple[int, shellfx.ShellChange]] = []
        self.shell_cwd = ""  # the agent's shell directory as its records last gave it (a `cd` persists)
        self.first_cwd = ""
        self.call_cwd: dict[str, str] = {}  # tool call id -> the shell directory when it was called
        self.check_runs: list[tuple[int, dict[str, tuple[str, str]]]] = []  # (index, {check: (outcome, cwd)})

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
                if meta.get("git_repo") == "none":  # the agent said so (aider's "Git repo: none")
                    self.f.git.no_repo = True
                br = meta.get("gitBranch") or meta.get("git_branch")
                if isinstance(br, str) and br and br != "HEAD":
                    self.branch_from_meta = br
                role = m.role
                if role == "user":
                    self._user(i, m)
                elif role == "assistant":
                    self._assistant(i, m)
                elif role == "summary":
                    self.summaries += 1
                for step, act in self.reader.observe(i, m):  # calls, then results, then edits that took effect
                    if step == "call":
                        self._call(i, act)
                    elif step == "result":
                        self._result(i, act)
                    else:
                        self._record_edits(act)
            except Exception as exc:  # noqa: BLE001 - one message it cannot read costs that message only
                guard.record(self.f.failures, f"facts: message {i}", exc)
        guard.run(self.f.failures, "facts: file changes", lambda: self._flush_edits(n), None)
        return self._finish(n)

    def _flush_edits(self, n: int) -> None:
        for _step, edits in self.reader.finish(n - 1):
            self._record_edits(edits)

    def _user(self, i: int, m: Message) -> None:
        text = m.text or ""
        if not text.strip():
            return
        stripped = text.lstrip()
        if m.injected or stripped.startswith("<") or stripped.startswith("[Request interrupted"):
            if "<task-id>" in text:
                for bg_id, status, code in task_notifications(text):
                    self._bg_outcome(i, bg_id, status, code, "")
            return
        if not (m.meta or {}).get("queued"):
            self.last_tool_kind = ""  # what the agent says next answers the person, not what it had read
        self.f.user_messages.append(UserMsg(i, text.strip(), bool((m.meta or {}).get("queued"))))
        if len(self.f.user_messages) > 1 and CORRECTION_RE.search(text):  # the first one is the request itself
            self.f.decisions.append(NoteFact(clip(safe_inline(text), 220), i, "user"))
        self._scan_checklist(i, text, "user")
        self._scan_urls(i, text, "user")

    def _assistant(self, i: int, m: Message) -> None:
        text = m.text or ""
        thinking = getattr(m, "thinking", "") or ""
        if thinking and self.last_tool_kind == "inspect":  # what the model concluded from what it read
            for sent in findings(thinking, limit=2):
                self.f.learned.append(NoteFact(sent, i, "thinking"))  # its reasoning: a hypothesis, never a fact
        if not text.strip():
            return
        self.f.last_assistant = text.strip()
        self.f.last_assistant_index = i
        self.assistant_texts.append((i, text))
        self.last_intent = first_sentence(text, 140)
        if self.last_intent:
            self.f.steps.append(NoteFact(self.last_intent, i, "assistant"))
        if self.awaiting_diag:
            diag = first_sentence(text, 160)
            for e in self.awaiting_diag:
                e.diagnosis = diag
            self.awaiting_diag = []
        self._scan_checklist(i, text, "assistant")
        self._scan_urls(i, text, "assistant")
        dm = DECISION_RE.search(text)
        if dm:
            self.f.decisions.append(NoteFact(_sentence_around(text, dm.start(), dm.end()), i, "assistant"))
        lm = LEARN_RE.search(text)
        if lm:
            sent = _sentence_around(text, lm.start(), lm.end())
            if findings(sent, limit=1):
                self.f.learnings.append(NoteFact(sent, i, "assistant"))
        if self.last_tool_kind == "inspect":
            for sent in findings(text):
                self.f.learned.append(NoteFact(sent, i, "assistant"))

    def _scan_checklist(self, i: int, text: str, who: str) -> None:
        if "[ ]" not in text and "[x]" not in text and "[X]" not in text:
            return
        for cm in CHECKLIST_RE.finditer(text):
            content = clip(safe_inline(cm.group(2)), 200)
            status = "pending" if cm.group(1) == " " else "completed"
            self._set_todo(content, status, i, "checklist")

    def _scan_urls(self, i: int, text: str, who: str, cap: int = 20) -> None:
        if "://" not in text:
            return
        for k, um in enumerate(URL_RE.finditer(text)):
            if k >= cap:
                break
            url = um.group(0).rstrip(".,;:!?*_'")
            if len(url) < 12 or len(url) > 300:
                continue
            if url not in self.f.urls:
                self.f.urls[url] = NoteFact(url, i, who)

    def _set_todo(self, content: str, status: str, i: int, source: str) -> None:
        key = norm_key(content)
        if not key:
            return
        old = self.f.todos.pop(key, None)
        self.f.todos[key] = TodoFact(content, status, i if old is None else old.index, source)

    # -- tool calls (typed actions from the reader: no raw tool name or input shape here)

    def _call(self, i: int, a: Action) -> None:
        self.tool_calls += 1
        self.awaiting_diag = []  # the assistant moved on without explaining the error
        if isinstance(a, Shell):
            self.last_tool_kind = _look_or_act(a.command)
            self.shell_texts.append((i, a.command))
            if a.call_id:
                self.call_cwd[a.call_id] = self.shell_cwd
        elif isinstance(a, EditCall):  # a patch sent through the shell is judged by its command like any other
            self.last_tool_kind = _look_or_act(a.command) if a.command else "act"
        elif isinstance(a, (Read, Search)):
            if isinstance(a, Read) and a.path:
                self.f.reads[a.path] += 1
            self.last_tool_kind = "inspect"
        elif isinstance(a, Todo):
            if a.items is not None:
                self._todo_call(i, a.items)
        elif isinstance(a, Plan):
            if a.text:
                self.f.plan, self.f.plan_index = a.text.strip(), i
        elif isinstance(a, Web):
            self._scan_urls(i, a.url, "assistant")
            self.last_tool_kind = "inspect"
        elif not isinstance(a, Wait):  # any other tool (a subagent, an MCP tool): only its failure is of interest
            self.last_tool_kind = "act"

    def _todo_call(self, i: int, items: list[tuple[str, str]]) -> None:
        seen = set()
        for content, status in items:
            content = clip(safe_inline(content), 200)
            seen.add(norm_key(content))
            self._set_todo(content, status, i, "todo")
        # TodoWrite sends the whole list: items it no longer lists are gone from the plan.
        for k in [k for k, t in self.f.todos.items() if t.source == "todo" and k not in seen]:
            del self.f.todos[k]

    # -- tool results

    def _result(self, i: int, a: Action) -> None:
        if never_ran(a.output, a.is_error):  # cancelled by the harness: neither a run nor a failure
            return
        if a.is_error and isinstance(a, (EditCall, Shell)) and _REJECTED_RE.match(a.output):
            what = (f"the command {code(display_command(a.command))}" if isinstance(a, Shell)
                    else f"an edit to {code(a.path or '?')}")
            self.f.decisions.append(NoteFact(f"User rejected {what}", i, "user"))
            return
        if isinstance(a, Other):
            self._other_result(i, a)
        elif isinstance(a, Shell):
            self._shell(a)
        elif isinstance(a, Wait) and a.report is not None:  # None: e.g. the user rejected the wait
            self._bg_outcome(i, *a.report)
        # an edit call's changes come as Edit actions; a subagent's failure is not an error of the work

    def _record_edits(self, edits: list[Edit]) -> None:
        """Changes the shared file-change extractor saw take effect (one call's worth)."""
        if not edits:
            return
        i = edits[0].effect_index
        if any(tracker.checklist_tracker(e.path) for e in edits):  # TODO.md items checked off or added
            self._scan_checklist(i, "\n".join(edits[0].call_lines), "checklist file")
        for e in edits:
            sample = [clip(safe_inline(t), 110) for t in e.lines[:2]]
            self._file_event(i, e.path, e.change, e.added, e.removed, sample,
                             tool_key(e.tool) if e.by_call else "edit block", e.old_path, "\n".join(e.lines),
                             rewrite=e.mode == "write" and e.change == "modified")

    def _file_event(self, i: int, path: str, kind: str, add: int | None, rem: int | None, sample: list[str],
                    how: str, old_path: str | None = None, text: str = "", rewrite: bool = False) -> None:
        ff = self.f.files.get(path)
        if ff is None:
            ff = FileFact(path=path, kind=kind, first=i, intent=self.last_intent, added=0, removed=0,
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
        ev = EditEvent(i, path, add, rem, sample, how, text, rewrite)
        self.f.edits.append(ev)
        self.f.actions.append(NoteFact(f"edit:{path}", i, "tool"))

    def _other_result(self, i: int, a: Other) -> None:
        """A failed call of any other tool (a skill, an MCP tool) is an error too."""
        if not a.is_error or a.quiet:
            return
        what = f"{a.tool} {one_line(a.arg)}".strip() if a.arg else a.tool
        what = clip(safe_inline(what), 80)
        self._error(i, a.output or "(no output)", what, what, False)
        self.f.errors[-1].tool = a.tool if self.f.errors[-1].command == what else self.f.errors[-1].tool

    def _shell(self, sh: Shell) -> None:
        """One shell run with its result: the command, its checks, the error it showed, what it changed."""
        raw, text, ri = sh.command, sh.output, sh.result_index if sh.result_index is not None else sh.index
        if not raw.strip():
            return
        if text and not sh.is_error:
            self.shell_outputs.append(text[:4000])
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
        self._count_command(sh.index, disp, classes, failed)
        check_keys, outcome = self._checks(sh, segs, disp, forced, unshown)
        if check_keys:
            failed = outcome == "fail"
        bg_id = sh.background_id
        fam_seg = next((s for s, c in zip(work, classes, strict=True) if c in ("test", "build")), work[0] if work else "")
        family = _family(fam_seg)
        err_key = None
        if failed and work and not all(_is_inspection(s) for s in work):
            err_key = self._error(ri, text, disp, family, bool(check_keys))
        if not bg_id:
            self.runs.append((ri, family, err_key if failed else None, disp))
            if failed:  # whitespace-normalized once, as `_shows` compares
                self.fail_text[ri] = " ".join(text[-20_000:].split())
            if failed and check_keys and _SUMMARY_LINE_RE.search(text[-4000:]):
                self.failed_tests[ri] = text[-20_000:]
        if check_keys and not bg_id:
            self.f.actions.append(NoteFact(f"check:{check_keys[0]}", ri, "tool"))
        elif not failed and not bg_id and any(c == "setup" or _CHANGES_FILES.match(s)
                                              for s, c in zip(work, classes, strict=True)):
            # a command that changed something (chmod, rm, an install, `git reset`) is an action that
            # took effect too: the last action is not the commit it came after
            self.f.actions.append(NoteFact(f"ran:{clip(disp, 120)}", ri, "tool"))
        if ("git" in classes or "git " in raw) and not unshown:  # unshown: an "unseen" git event (_finish)
            self._git(ri, raw, text, failed, segs, sh.call_id)
        if not failed and "HEAD is now at" in text:
            self._undone(raw, text)
        if tracker.TRACKER_CMD_RE.search(" " + raw + " "):
            self._tracker(ri, work, text, failed)
        if not failed:
            self._shell_changes(ri, segs, text, raw)
        if "://" in text:
            self._scan_urls(ri, text[:4000], "tool", cap=3)
        self._scan_urls(sh.index, raw, "assistant", cap=5)

    def _cd_targets(self, segs: list[str]) -> None:
        """Absolute directories the session `cd`s into: they hint at the project root."""
        for seg in segs:
            if seg.startswith("cd "):
                target = seg[3:].strip().strip("'\"")
                if target.startswith("/"):
                    self.cd_targets[target] += 1

    def _count_command(self, ci: int, disp: str, classes: list[str], failed: bool) -> None:
        top = next((c for c in ("test", "build", "setup", "git") if c in classes), "other")
        cf = self.f.commands.get(disp)
        if cf is None:
            cf = self.f.commands[disp] = CommandFact(disp, top, first=ci)
        cf.count += 1
        cf.last = ci
        cf.failed = failed

    def _checks(self, sh: Shell, segs: list[str], disp: str, forced: str | None,
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
            self._set_outcome(key, ran[key], summary if ran[key] == outcome else "")
            if ran[key] == "fail":
                ch.fail_line, ch.fail_index = error_line(text), ri
            if forced:
                self.auto_checks.add(key)
            ch.fix_declined = ran[key] == "fail" and bool(sh.fix_declined)
        said = (f"User declined the offer to fix {code(disp)} when it failed" if sh.fix_declined == "no" else
                f"User interrupted the attempt to fix {code(disp)} (Ctrl-C) when it failed")
        if sh.fix_declined and check_keys and not any(d.text == said for d in self.f.decisions):
            self.f.decisions.append(NoteFact(said, ri, "user"))
        self.check_runs.append((ri, {k: (o, check_dirs[k][1]) for k, o in ran.items()}))
        return check_keys, outcome

    def _undone(self, raw: str, text: str) -> None:
        """A reset (`HEAD is now at …`): the session's commits after that one are no longer on the branch."""
        at = _HEAD_NOW.search(text)
        if at is None:
            return
        base = next((c for c in reversed(self.f.commits) if c.sha and at.group(1).startswith(c.sha[:7])), None)
        for c in self.f.commits:
            if base is not None and c.index > base.index and not c.undone:
                c.undone = clip(display_command(raw), 60)

    def _set_outcome(self, key: str, outcome: str, summary: str) -> None:
        ch = self.f.checks[key]
        ch.outcome = outcome
        if outcome != "running":
            ch.summary = summary
        if outcome == "pass":
            ch.passes += 1
        elif outcome == "fail":
            ch.fails += 1

    def _bg_outcome(self, i: int, bg_id: str, status: str, code: int | None, output: str) -> None:
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
            self._set_outcome(key, outcome, summary)
        err_key = None
        command = self.bg_cmd.pop(bg_id, keys[0])
        if outcome == "fail":
            err_key = self._error(i, output or f"{keys[0]}: exit code {code}", command, _family(keys[0]), True)
        self.runs.append((i, _family(keys[0]), err_key, command))  # the same 4 fields as a foreground run
        del self.bg[bg_id]

    def _error(self, i: int, text: str, command: str, family: str, is_check: bool) -> str:
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

    def _start_dir(self, call_id: str) -> str:
        """Where a command started: a subdirectory of the session's first directory that an earlier `cd`
        left the shell in (its records say so), absolute; "" for the first directory or when not known."""
        here, first = self.call_cwd.get(call_id, ""), self.first_cwd
        return here if first and here.startswith(first + "/") else ""

    def _git(self, i: int, raw: str, text: str, failed: bool, segs: list[str], call_id: str = "") -> None:
        """Commits, pushes, staging and status as git printed them."""
        g = self.f.git
        if "The following paths are ignored" in text:
            after = text.split("The following paths are ignored", 1)[1].split("\n")[1:6]
            for ln in after:
                p = ln.strip()
                if not p or p.startswith(("hint:", "Use ", "fatal")):
                    break
                g.ignored.append(p)
        if "has no upstream branch" in text:
            g.no_upstream_index = i
        g.events += gitstate.observe(i, raw, text, failed, self._start_dir(call_id))
        for seg in segs:
            paths, everything, forced = shellfx.staged_paths(seg)
            if forced and not failed:
                g.forced += paths
            if paths or everything:
                if everything:
                    g.wildcard_adds += 1
                else:
                    g.explicit_adds += 1
        if re.search(r"\bgit\s+(?:-C\s+\S+\s+)?status\b", raw) and not failed:
            st = shellfx.parse_status(text)
            g.status, g.status_index = st, i
            if st.upstream:
                g.upstream, g.upstream_index = st.upstream, i
            elif st.on_branch:
                g.no_tracking_index = i
        elif re.search(r"\bgit\s+diff\b[^|;&]*--stat", raw) and not failed:
            changed = shellfx.parse_diff_stat(text)
            g.status, g.status_index = shellfx.GitStatus(changed=changed, clean=not changed), i
        if failed:
            return
        if re.search(r"\bgit\s+(?:-C\s+\S+\s+)?add\b", raw):
            self.staged += "\n" + raw
        if re.search(r"\bgit\s+(?:-C\s+\S+\s+)?commit\b", raw):
            cm = shellfx.parse_commit(text)
            if cm:
                branch, sha, subject = cm.branch, cm.sha, clip(safe_inline(cm.subject), 120)
            else:
                mm = re.search(r"-m\s+[\"']([^\"'\n]+)", raw) or re.search(r"<<'?EOF'?\s*\n\s*(\S[^\n]*)", raw)
                if not mm or "nothing to commit" in text:
                    return
                branch, sha, subject = "", "", clip(safe_inline(mm.group(1)), 120)
            msg = shellfx.commit_message(raw)
            if msg:
                g.messages.append((i, msg))
            for hl in re.findall(r"(?im)^.*(?:pre-commit|husky|lint-staged|\.{3,}\s*(?:Passed|Failed)).*$", text)[:3]:
                g.hooks.append(clip(safe_inline(hl), 120))
            self.f.commits.append(CommitFact(sha, subject, branch, i))
            self.f.actions.append(NoteFact(f"commit:{sha or subject}", i, "tool"))
            self.last_commit_index = i
            self.staged = ""
            if branch and branch != "HEAD" and not self.branch_from_meta:  # HEAD: detached, or not logged
                self.branch_from_meta = branch
        if re.search(r"\bgit\s+push\b", raw):
            push = shellfx.parse_push(text, failed)
            if push.ok:
                for c in self.f.commits:
                    c.pushed = True
                g.last_push_index = i
                self.f.actions.append(NoteFact("push", i, "tool"))
                if push.upstream or re.search(r"\bpush\s+(?:\S+\s+)*(?:-u|--set-upstream)\b", raw):
                    g.upstream = push.upstream if push.upstream not in ("", "set") else (
                        "/".join(push.refs[0]) if push.refs else "set")
                    g.upstream_index = i

    def _tracker(self, i: int, work: list[str], text: str, failed: bool) -> None:
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
                    t = self._task(tid)
                    self._task_status(t, status, i)
                    t.touched = True
                    self.f.actions.append(NoteFact(f"task:{t.id}:{status}", i, "tool"))
        lines, specs = tracker.parse_output(text, ran[0].outputs)
        for tl in lines:
            t = self._task(tl.id)
            if tl.title and (not t.title or len(tl.title) >= len(t.title) // 2):
                t.title = tl.title if not t.title or tl.relation == "" else t.title
            if tl.kind:
                t.kind = tl.kind
            if tl.status:
                self._task_status(t, tl.status, i)
            if tl.relation == "parent" and tl.parent:
                self._task(tl.parent).parent = tl.id
                self._add_child(tl.id, tl.parent)
            elif tl.relation == "child" and tl.parent:
                t.parent = tl.parent
                self._add_child(tl.parent, tl.id)
        for sp in specs:
            t = self._task(sp.id)
            t.spec, t.spec_index, t.output_files = sp.text, i, sp.output_files

    def _task(self, tid: str) -> TaskFact:
        t = self.f.tasks.get(tid)
        if t is None:
            t = self.f.tasks[tid] = TaskFact(tid)
        return t

    def _add_child(self, parent: str, child: str) -> None:
        p = self._task(parent)
        if child not in p.children:
            p.children.append(child)

    def _task_status(self, t: TaskFact, status: str, i: int) -> None:
        if i >= t.status_index:
            t.status, t.status_index = status, i
        if status == "in_progress" and t.started_index < 0:
            t.started_index = i

    def _shell_changes(self, i: int, segs: list[str], text: str, raw: str = "") -> None:
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

    # -- end of transcript

    def _finish(self, n: int) -> TranscriptFacts:
        f = self.f
        f.root = infer_root(self.cwds, f.files.keys(), self.cd_targets)
        f.branch = self.branch_from_meta
        for i, ch in self.shell_changes:  # shell-made changes, placed under the directory they ran in
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
            self._file_event(i, path, ch.kind, None if ch.kind == "modified" else 0, None if ch.kind == "modified"
                             else 0, [], ch.why, old)
            if old and ch.kind == "renamed":  # a plain `mv` leaves the old path's deletion to stage too
                self._file_event(i, old, "deleted", 0, 0, [], ch.why)
        f.edits.sort(key=lambda e: e.index)
        f.actions.sort(key=lambda a: a.index)
        f.unanswered = sorted([(sh.index, sh.command) for sh in self.reader.unanswered()] + self.unshown)
        f.git.events += [gitstate.GitEvent(ci, 99, "unseen", command=cmd) for ci, cmd in f.unanswered
                         if gitstate.changes_git(cmd)]
        guard.run(f.failures, "facts: git state", self._commit_states, None)
        f.outside = sorted({e.path for e in f.edits if not f.in_project(e.path)})
        f.shell_texts = self.shell_texts
        guard.run(f.failures, "facts: errors", self._resolve_errors, None)
        guard.run(f.failures, "facts: silent passes", self._silent_passes, None)
        guard.run(f.failures, "facts: covered failures", self._covered_failures, None)
        guard.run(f.failures, "facts: task ids", self._task_ids, None)
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

    def _commit_states(self) -> None:
        """Each changed project file's commit state, from git's own output (gitstate.resolve)."""
        f = self.f
        changes: dict[str, list[int]] = {}
        for e in f.edits:
            if f.in_project(e.path):
                changes.setdefault(f.display(e.path), []).append(e.index)
        created = {f.display(p) for p, ff in f.files.items() if ff.created}
        f.git_files = gitstate.resolve(changes, created, f.git.events, f.root)
        by_index = {c.index: c for c in f.commits}
        for p, ff in f.files.items():
            st = f.git_files.get(f.display(p))
            if st is not None and st.commit_index >= 0:
                c = by_index.get(st.commit_index)
                ff.commit_sha, ff.committed_at = st.sha, st.commit_index
                ff.commit = c.subject if c is not None else st.sha

    def _resolve_errors(self) -> None:
        """An error counts as fixed when the next run of the same command family no longer shows it.

        The files edited between the error and that next run are what was tried as the fix.
        """
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
                # a run whose first error changed may still print this one further down
                return r[2] == key or (r[2] is not None and _shows(self.fail_text.get(r[0], ""), line))
            same = [r for r in self.runs if r[0] > e.index and (
                r[3] == e.command if e.is_check else r[1] == e.family)]
            nxt = next((r for r in same if not still(r)), same[-1] if same else None)
            if e.is_check and (nxt is None or still(nxt)):
                # the same target checked another way and passing answers it (`mix test` after
                # `mix test a_test.exs`, `node build.js` from assets/ after `node assets/build.js`)
                # a wider run that failed for other tests answers it too, when its summary shows the
                # tests ran and this failure's line is no longer in its output
                other = next((r for r in self.runs if r[0] > e.index and r[3] != e.command
                              and _same_target(r[3], e.command) and (r[2] is None or (
                                  r[2] != key and r[0] in self.failed_tests and e.line not in self.failed_tests[r[0]]))),
                             None)
                if other is not None:
                    nxt = other
            end = nxt[0] if nxt is not None else 1 << 60
            e.resolved = None if nxt is None else not still(nxt)
            if nxt is None and e.is_check:  # the re-run was issued at the cut: its answer never came
                e.rerun_issued = any(ci > e.index and (display_command(cmd) == e.command
                                                      or _same_target(display_command(cmd), e.command))
                                     for ci, cmd in self.f.unanswered)
            if e.resolved and nxt is not None:
                e.fix_index = nxt[0]
                # an edit that brings back an earlier failure moved the error, it did not fix it
                back = nxt[2] is not None and any(r[0] < e.index and r[2] == nxt[2] for r in self.runs)
                e.gave_way = next((o.line for o in self.f.errors if (norm_key(o.line) or "?") == nxt[2]), "") \
                    if back else ""
            if e.resolved and nxt is not None and nxt[3] != e.command and nxt[2] is None:  # it passed
                e.fix_command = nxt[3]
            start = e.index
            if e.resolved:
                start, end = self._fix_window(e, key, end)
            seen: dict[str, None] = {}
            for ev in self.f.edits:
                if start < ev.index < end and self.f.in_project(ev.path) and _touches(ev, e.tokens):
                    seen[ev.path] = None
                    e.fix_edits.append(ev)
            e.fixed_files = list(seen)

    def _fix_window(self, e: ErrorFact, key: str, end: int) -> tuple[int, int]:
        """The edits that fixed an error lie between the last run of its tool that still showed it and
        the first that no longer did: a run whose first error changed can still print the old one further
        down (10 of 12 tests pass, the old failure among the 2), and a narrower run that no longer shows
        it bounds the fix sooner than the next full run."""
        start = e.index
        for r in self.runs:
            if not e.index < r[0] < end or r[1] != e.family:
                continue
            if r[2] == key or _shows(self.fail_text.get(r[0], ""), e.line):
                start = r[0]  # still there: the fix came after this run
            elif start == e.index or r[0] > start:
                return start, r[0]
        return start, end

    def _silent_passes(self) -> None:
        """An agent whose own after-edit checks print only failures (aider's auto-lint and auto-test):
        an edit of the checked file after a failure of such a check, with no failure after it, is that
        check passing (the log never prints a pass; the summary says why it counts as one), and its
        error is gone, fixed by that edit."""
        if not silent_passes(self.f.fmt):
            return
        for key in self.auto_checks:
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
            if not later or any(later[-1].index <= k < nxt_prompt for k in self.interrupts):
                continue
            ch.outcome = "pass"  # what the agent's silence after the edit means; the summary says so
            ch.summary = f"no failure after the edit of {code(later[0].path)}; aider prints only failures"
            ch.last = later[-1].index  # it ran after each of those edits, silently
            for e in self.f.errors:
                if e.is_check and e.index == ch.fail_index and e.resolved is not True:
                    e.resolved, e.fix_index = True, later[0].index
                    e.fix_edits, e.fixed_files = later[:1], [later[0].path]

    def _covered_failures(self) -> None:
        """A check failure is answered by a later run that covers its target and passed (the same target
        again, a wider run of the same tool, the check chained after another command), or by a commit
        whose pre-commit hook ran that check and passed; a covering run that failed again keeps it."""
        f = self.f
        hooks = [(e.index, e.sha, e.hooks) for e in f.git.events if e.kind == "commit" and e.hooks]
        for e in f.errors:
            if not e.is_check or e.resolved is True or e.tool:
                continue
            mine = [checktargets.target(k, cwd) for i, ran in self.check_runs if i == e.index
                    for k, (o, cwd) in ran.items() if o == "fail"]
            if not mine:
                continue
            events = [(i, "run", ran) for i, ran in self.check_runs if i > e.index]
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

    def _task_ids(self) -> None:
        f = self.f
        program_names: set[str] = set()
        for _, cmd in self.shell_texts:
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
            title = self._title_of(t.id)
            if title:
                t.titles[t.id] = title
        f.task_ids = sorted(found.values(), key=lambda t: t.first)

    def _title_of(self, tid: str) -> str:
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
    ex = _Extractor(fmt)
    ex.f.fmt = fmt
    if root_hint and root_hint.startswith("/"):
        ex.cwds[root_hint.rstrip("/")] += 1_000_000  # outweighs per-message cwds; ancestors still win
    facts = ex.run(messages)
    guard.run(facts.failures, "facts: posted file changes", lambda: merge_file_changes(facts, file_changes), None)
    return facts
