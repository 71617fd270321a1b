"""Where things stand at the end of a session, derived from the extracted facts.

Each statement here must hold for any project and any agent, and must be one a next session can
trust: a check "passed" only with "and nothing was edited since", or with the files edited since;
"committed" and "pushed" only as git printed them; a task's status as the tracker last showed it;
the current task from what the session claimed, not from its last sentence. Where the transcript
cannot tell, the statement is left out rather than guessed.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field

from chalicelib.transcripts.actions import commits_itself, silent_passes

from . import checktargets, ecosystems, gitstate, tracker
from .facts import (
    CheckFact,
    CommitFact,
    EditEvent,
    ErrorFact,
    TaskFact,
    TranscriptFacts,
    checks_test_file,
    classify,
    display_command,
    is_inspection,
    split_segments,
)
from .textutil import clip, code, quoted, safe_inline

_OPEN = ("open", "in_progress", "blocked")


@dataclass
class CheckState:
    check: CheckFact
    edited_since: list[str]  # project files (display paths) changed after its last run
    edits_since: int
    covered_by: str = ""  # a later check of the same tool that passed after every one of those edits
    passed_later: str = ""  # for a failure: a later passing run that checks the same thing
    not_covered: list[str] = field(default_factory=list)  # changed since, not read by it (another language, another file)
    via_hook: str = ""  # passed_later is a commit whose pre-commit hook ran this check and passed
    elsewhere: bool = False  # passed_later is a wider run that failed, but only in other test files


@dataclass
class Uncommitted:
    path: str  # display path
    why: str  # "edited after `bb53fb4`", "changed by `npm install x`", "listed by `git status`"


@dataclass
class GitState:
    branch: str | None
    upstream: str = ""
    no_upstream: bool = False  # git said so (a failed push) or `git status` showed no tracking branch
    commits: list[CommitFact] = field(default_factory=list)
    pushed: bool = False  # a push this session succeeded
    unpushed: list[CommitFact] = field(default_factory=list)
    push_seen: bool = True  # a push, a failed push or a long `git status` after the last commit: else not known
    uncommitted: list[Uncommitted] = field(default_factory=list)
    changed: list[Uncommitted] = field(default_factory=list)  # changes when git said nothing (not known)
    foreign: list[Uncommitted] = field(default_factory=list)  # listed by git, never changed in this session
    known: bool = False  # the session committed, pushed or asked git for status


@dataclass
class State:
    checks: list[CheckState]
    git: GitState
    family_root: TaskFact | None
    family: list[TaskFact]  # the root's tasks in order, root first
    current: TaskFact | None
    next_task: TaskFact | None
    mid_task: list[str]  # why the session ended mid-task (empty: it did not)
    done_in_current: list[EditEvent]
    untouched_outputs: list[str]
    last_action: str
    next_actions: list[str]
    errors_open: list[ErrorFact]
    open_spec: list[str] = field(default_factory=list)  # the current task's spec items its changes do not show yet


def _natural(s: str) -> list[object]:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", s)]


def _parent_of(tid: str, tasks: dict[str, TaskFact]) -> str:
    t = tasks.get(tid)
    if t is not None and t.parent:
        return t.parent
    m = re.match(r"^(.+)\.\d+$", tid)
    return m.group(1) if m and m.group(1) in tasks else ""


def task_family(f: TranscriptFacts) -> tuple[TaskFact | None, list[TaskFact]]:
    """The task tree the session worked in: the root of the tasks it changed (or the user named),
    with every child the tracker listed, started or not."""
    tasks = f.tasks
    focus = [t for t in tasks.values() if t.touched]
    if not focus:
        typed = " ".join(u.text for u in f.user_messages)
        focus = [t for t in tasks.values() if re.search(r"(?<![\w-])" + re.escape(t.id) + r"(?![\w-])", typed)]
    if not focus:
        return None, []
    roots: dict[str, int] = {}
    for t in focus:
        rid = t.id
        seen = set()
        while _parent_of(rid, tasks) and rid not in seen:
            seen.add(rid)
            rid = _parent_of(rid, tasks)
        roots[rid] = max(roots.get(rid, -1), t.status_index)
    root_id = max(roots.items(), key=lambda kv: kv[1])[0]
    root = tasks[root_id]
    members = [t for t in tasks.values() if t.id != root_id and (
        t.parent == root_id or t.id.startswith(root_id + ".") or t.id in root.children)]
    members.sort(key=lambda t: _natural(t.id))
    return root, [root, *members]


def _current(f: TranscriptFacts, family: list[TaskFact]) -> TaskFact | None:
    leaves = [t for t in family if not t.children or t is not family[0]]
    active = [t for t in leaves if t.status == "in_progress" and (t.touched or t.started_index >= 0)]
    if not active and family and family[0].status == "in_progress" and len(family) == 1:
        active = [family[0]]
    return max(active, key=lambda t: t.status_index) if active else None


def _next(family: list[TaskFact], current: TaskFact | None) -> TaskFact | None:
    children = family[1:] if len(family) > 1 else []
    # a sibling already claimed (in progress) comes before one not started: skipping it leaves it
    # unfinished, and later tasks often depend on it
    for statuses in (("in_progress",), ("open", "", "blocked")):
        for t in children:
            # a task the session filed and never claimed was filed for later (a follow-up), not as the next step
            if t is not current and t.status in statuses and not (t.created_index >= 0 and t.started_index < 0):
                return t
    return None


def _git_state(f: TranscriptFacts) -> GitState:
    """Branch, commits and pushes as git printed them; each changed file's commit state from
    `facts.git_files` (gitstate.resolve): uncommitted only where git's output after its last change
    says so, "not known" where nothing git printed after the change can tell."""
    g = f.git
    gs = GitState(branch=f.branch, commits=list(f.commits))
    gs.known = bool(f.commits or g.events or g.status is not None or g.last_push_index >= 0)
    gs.upstream = g.upstream if g.upstream not in ("", "set") else ""
    gs.pushed = g.last_push_index >= 0
    if g.no_upstream_index >= 0 and g.upstream_index < g.no_upstream_index:
        gs.no_upstream = True
    if g.no_tracking_index >= 0 and g.upstream_index < g.no_tracking_index:
        gs.no_upstream = True
    last_commit = max((c.index for c in f.commits), default=-1)
    # Agents that commit by themselves (aider) and sessions that push from another terminal print no
    # push: "not pushed" is then a guess, so the commits' push state is "not seen" instead.
    # a push whose output the transcript does not hold (aider records no command output) tells nothing either
    unseen = set(f.unanswered)
    tried = any(i > last_commit and (i, cmd) not in unseen and re.search(r"\bgit\s+(?:-\S+\s+)*push\b", cmd)
                for i, cmd in f.shell_texts)
    gs.push_seen = bool(gs.pushed or gs.no_upstream or tried or (
        g.status is not None and g.status_index > last_commit and (g.status.on_branch or g.status.ahead)))
    gs.unpushed = [c for c in f.commits if not c.pushed] if gs.push_seen else []
    by_sha = {c.index: c for c in f.commits}
    last_edit = {e.path: e for e in f.edits}  # each file's latest edit: one pass, not a scan per file
    unc: dict[str, Uncommitted] = {}
    unknown: dict[str, Uncommitted] = {}
    session_paths: set[str] = set()
    for ff in f.files.values():
        if ff.edits == 0 or not f.in_project(ff.path) or ff.scratch:
            continue
        disp = f.display(ff.path)
        session_paths.add(disp)
        st = f.git_files.get(disp)
        if st is None or st.state in ("committed", "clean"):  # a moved file's old path: its own deletion
            continue
        ev = last_edit.get(ff.path)
        shell = ev is not None and ev.how and " " in ev.how and ev.how != "edit block"
        if st.state == "unknown":
            why = f"changed by {code(clip(ev.how, 60))}" if shell and ev is not None else "changed"
            if st.why.startswith("a commit"):
                why += "; a commit came after it whose staging the transcript does not show"
            elif st.why.startswith("brought back by "):
                why = st.why.replace("brought back by `git stash pop", "stashed, then brought back by `git stash pop")
            elif st.why.startswith("issued, result not seen: "):
                cmd = display_command(st.why.split(": ", 1)[1])
                why += f"; {code(clip(cmd, 60))} was issued after it and its result is not in the transcript"
            elif gs.known:
                why += " after the last git output"
            unknown.setdefault(disp, Uncommitted(disp, why))
            continue
        if ff.kind == "deleted" and not st.confirmed:
            # a deletion no later commit took: uncommitted when git is known to track the file (a commit
            # of this session held it); otherwise it may never have been tracked, so not known
            how = f"deleted by {code(clip(ev.how, 60))}" if shell and ev is not None else "deleted"
            if ff.commit_sha:
                unc.setdefault(disp, Uncommitted(disp, f"{how} after {code(ff.commit_sha)}; no commit since took it"))
            else:
                unknown.setdefault(disp, Uncommitted(disp, f"{how}; no commit since took it, and whether git "
                                                     "tracked it is not known"))
            continue
        if shell and ev is not None:
            why = f"changed by {code(clip(ev.how, 60))}"
        elif ff.commit_sha:
            why = f"edited after {code(ff.commit_sha)}"
        else:
            after = [c for c in f.commits if c.index > ff.last]
            last_before = next((c for c in reversed(f.commits) if c.index < ff.last), None)
            why = (f"not in {code(after[0].sha)}" if after and after[0].sha else
                   f"edited after {code(last_before.sha)}" if last_before is not None and last_before.sha else
                   "edited, not committed in this session")
        if st.confirmed:
            why = st.why.replace("listed by `git status --short`", "listed by `git status`") + (
                f"; {why}" if shell else "")
        unc.setdefault(disp, Uncommitted(disp, why))
    # what the latest full `git status` listed beyond the session's own files
    last_commit = max(by_sha) if by_sha else -1
    snaps = [e for e in g.events if e.kind == "snapshot" and e.scope != "staged" and e.index > last_commit]
    if snaps:
        ev = snaps[-1]
        for entry in ev.listed:
            p = gitstate.under(ev.cwd if ev.scope == "all" else "", entry, f.root)
            if any(gitstate.covers(p, sp) or p.endswith("/" + sp) for sp in session_paths) or any(
                    e.index > ev.index for e in f.edits if f.display(e.path) == p):
                continue
            gs.foreign.append(Uncommitted(p, "listed by `git status`" if ev.scope == "all"
                                          else f"listed by `{ev.command}`"))
    gs.uncommitted = sorted(unc.values(), key=lambda u: u.path)
    gs.changed = sorted(unknown.values(), key=lambda u: u.path)
    return gs


def _last_action(f: TranscriptFacts) -> str:
    """The last action that took effect, and the commands that ran after it when there were any
    (their effect is not known: saying only the action before them would be a guess)."""
    if not f.actions:
        return ""
    base = _action_text(f)
    if not base:
        return ""
    unanswered = set(f.unanswered)
    after = [(i, cmd) for i, cmd in f.shell_texts if i > f.actions[-1].index
             and not all(is_inspection(seg) for seg in split_segments(cmd))]
    if after:
        last = code(clip(display_command(after[-1][1]), 80))
        if after[-1] in unanswered:
            ran = f"{len(after) - 1} command{'s' if len(after) > 2 else ''} ran, then " if len(after) > 1 else ""
            base += f"; after it, {ran}{last} was issued and its result is not in the transcript"
        else:
            more = f" and {len(after) - 1} more" if len(after) > 1 else ""
            base += f"; after it, commands ran: {last}{more}"
    return base


def _action_text(f: TranscriptFacts) -> str:
    a = f.actions[-1]
    kind, _, rest = a.text.partition(":")
    if kind == "edit":
        ev = next((e for e in reversed(f.edits) if e.index == a.index and e.path == rest), None)
        what = f"; it put in {code(ev.sample[0])}" if ev is not None and ev.sample else ""
        return f"changed {code(f.display(rest))}{what}"
    if kind == "check":
        c = f.checks.get(rest)
        outcome = (c.outcome if c.outcome != "unknown" else "outcome unknown" if c.summary
                   else "its result is not in the transcript") if c else "outcome unknown"
        return f"ran {code(rest)} ({outcome})"
    if kind == "commit":
        return f"committed {code(rest)}"
    if kind == "push":
        return "pushed"
    if kind == "ran":
        return f"ran {code(rest)}"
    if kind == "task":
        tid, _, st = rest.rpartition(":")
        return f"set {code(tid)} to {st.replace('_', ' ')}"
    return ""


def _close_command(f: TranscriptFacts, tid: str) -> str:
    """How this session closed a task, with the id swapped (`bd close spotter-gqc.5` -> `… .6`)."""
    for _i, cmd in reversed(f.tracker_commands):
        if re.search(r"\bclose\b", cmd):
            ids = re.findall(r"(?<![\w-])[A-Za-z][\w]*-[\w]+(?:\.\d+)*|#\d+", cmd)
            if ids:
                out = cmd.split(" 2>", 1)[0].split(" --reason", 1)[0].split(" -m ", 1)[0]
                for x in dict.fromkeys(ids):
                    out = out.replace(x, "\0", 1)
                return re.sub(r"\0(?:\s+\0)*", tid, out).strip()
    return ""


def derive(f: TranscriptFacts) -> State:
    checks = []
    for c in f.checks.values():
        all_since = f.edited_since(c.last)
        since = [e for e in all_since if may_affect(e.path, c.command)]
        linted = lint_targets(c)
        if linted:  # a linter run on named files reads those files only: other changes leave it current
            since = [e for e in since if any(gitstate.covers(t, f.display(e.path)) for t in linted)]
        other = list(dict.fromkeys(f.display(e.path) for e in all_since if e not in since))
        later = [o for o in f.checks.values() if o is not c and o.outcome == "pass" and o.last > c.last
                 and _verifies(o, c)]
        newest = max(later, key=lambda o: o.last) if later else None
        # changes a later passing run of the same tool saw are verified by it; the rest are not
        open_ = [e for e in since if newest is None or e.index > newest.last]
        paths = list(dict.fromkeys(f.display(e.path) for e in open_))
        cover = newest.command if newest is not None and len(open_) < len(since) else ""
        fixed = hook = ""
        elsewhere = False
        if c.outcome == "fail":
            fixed, hook = _answered(f, c)
            if not fixed:
                fixed = _failed_elsewhere(f, c)
                elsewhere = bool(fixed)
        checks.append(CheckState(c, paths, len(open_), cover, fixed, other, hook, elsewhere))
    checks.sort(key=lambda cs: (0 if cs.check.outcome == "fail" and not cs.passed_later else 1, -cs.check.last,
                                cs.check.command))
    git = _git_state(f)
    root, family = task_family(f)
    current = _current(f, family)
    nxt = _next(family, current)
    done: list[EditEvent] = []
    untouched: list[str] = []
    open_spec: list[str] = []
    if current is None:  # no task claimed in the tracker: the one whose contract the session then worked on
        current = _contract_in_progress(f, family)
        if current is not None and nxt is current:
            nxt = _next(family, current)
    if current is not None:
        since = current.started_index if current.started_index >= 0 else current.spec_index
        done = [e for e in f.edits if e.index > since and f.in_project(e.path)]
        changed = {f.display(e.path) for e in done}
        untouched = [p for p in current.output_files if not _output_changed(p, changed)]
        open_spec = open_spec_items(current.spec, done, changed)
    elif git.uncommitted or git.changed:
        last = f.commits[-1].index if f.commits else -1
        scratch = {p for p, ff in f.files.items() if ff.scratch}
        done = [e for e in f.edits if e.index > last and f.in_project(e.path) and e.path not in scratch]
    mid = []
    if current is not None:
        mid.append(f"{code(current.id)} is still in progress")
    failing = [cs for cs in checks if cs.check.outcome == "fail" and not cs.passed_later]
    if failing:
        mid.append(f"{code(failing[0].check.command)} failed last")
    # a check re-run after the last edits whose answer the transcript ends before is not stale: it is running
    reissued = {display_command(cmd): i for i, cmd in f.unanswered}
    stale = [cs for cs in checks if cs.check.outcome == "pass" and cs.edits_since
             and not any(i > cs.check.last and _reruns(c, cs.check) for c, i in reissued.items())]
    if git.uncommitted:
        mid.append(f"{len(git.uncommitted)} file{'s' if len(git.uncommitted) > 1 else ''} uncommitted")
    last_typed = max((u.index for u in f.user_messages if not u.queued), default=-1)
    # a Ctrl-C is how it ended only when nothing came after it: no message (a queued "check again"
    # included), no reply, no command or edit of the agent's
    after = max([f.last_assistant_index, *(u.index for u in f.user_messages), *(i for i, _c in f.shell_texts),
                 *(e.index for e in f.edits)], default=-1)
    if f.interrupted_at > after:
        mid.append("it ended in the person's Ctrl-C")
    elif last_typed > f.last_assistant_index >= 0:
        mid.append("the person's last message has no reply in the transcript")
    todo_active = [t for t in f.todos.values() if t.status == "in_progress"]
    if todo_active and current is None:
        mid.append(f"todo “{clip(todo_active[-1].content, 80)}” in progress")
    errors_open = [e for e in f.errors if e.resolved is False or (e.resolved is None and not e.tool and e.is_check)]
    state = State(checks, git, root, family, current, nxt, mid, done, untouched, _last_action(f), [], errors_open,
                  open_spec)
    state.next_actions = _next_actions(f, state, failing, stale)
    return state


_SPEC_HEADS = re.compile(r"(?i)^(?:technical spec|spec|acceptance criteria|definition of done|requirements?|"
                         r"deliverables?|tasks?|todo|checklist|steps|scope|edge cases|tests?)")
_TERM = re.compile(r"`([^`\n]{3,80})`")


_PLAIN_WORDS = {"must", "should", "with", "from", "that", "this", "when", "each", "only", "into", "have", "will",
                "does", "then", "than", "also", "more", "less", "true", "false", "none", "null", "string", "value"}


def _term_in(term: str, text: str) -> bool:
    """A quoted name shows in the changes: itself, or any of its words of 4+ letters (code writes
    `data-hljs="done"` as `dataset.hljs = "done"`, `Closed 7 annotations` as `"Closed #{n} annotations"`).
    Lenient on purpose: calling done work "not done" would be a wrong statement; missing an open item
    only leaves it unsaid."""
    if term in text:
        return True
    words = {w.lower() for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]{3,}", term)} - _PLAIN_WORDS
    said = {w.lower() for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text)}
    if words & said:
        return True
    # a snake_case name said in words: "relativized using session cwd" for `session_cwd` (half its parts)
    plain = {w.lower() for w in re.findall(r"[A-Za-z][A-Za-z0-9]*", text)}
    for w in words:
        parts = [p for p in w.split("_") if len(p) >= 3]
        if len(parts) >= 2 and 2 * sum(p in plain for p in parts) >= len(parts):
            return True
    return False


_STAMP = re.compile(r"^\d{8,14}_")  # a generator's timestamp prefix (migrations): the name is the rest


def _stand_ins(outputs: list[str], changed: list[str]) -> list[str]:
    """Files the session changed in a contract output's folder with the same kind of name (`x.test.js`
    for `y.test.js`): where its work may have gone under another name."""
    out: list[str] = []
    for want in outputs:
        folder, _, name = want.rpartition("/")
        kind = name.split(".", 1)[1] if "." in name else ""
        for c in changed:
            cf, _, cn = c.rpartition("/")
            if kind and cn.split(".", 1)[-1] == kind and (cf == folder or cf.endswith("/" + folder)) and c not in out:
                out.append(c)
    return out


def _output_changed(path: str, changed: set[str]) -> bool:
    """A contract's output file is among the session's changes: the same path, or the same name in
    the same folder once a generated timestamp is dropped (`mix ash.codegen` names a migration by
    the time it ran, not the time the contract was written)."""
    if any(c == path or c.endswith("/" + path) for c in changed):
        return True
    folder, _, name = path.rpartition("/")
    stem = _STAMP.sub("", name)
    if stem == name:
        return False
    return any(_STAMP.sub("", c.rpartition("/")[2]) == stem and (c.rpartition("/")[0].endswith(folder) or not folder)
               for c in changed)


def open_spec_items(spec: str, done: list[EditEvent], changed: set[str]) -> list[str]:
    """The items of a task's contract that are still open: a checklist item the tracker prints
    unchecked (`- [ ] …`) whose quoted names (`close_review_session`, a file) the session's changes do
    not show. A plain spec bullet is not judged: whether code meets "id (uuid_v7 PK)" or "`mix compile`
    passes" cannot be read from the lines a session wrote, and on held-out sessions calling such items
    open was wrong more often than right (docs/benchmarks-handoff-qa.md, sets 6 and 7)."""
    if not spec:
        return []
    text = "\n".join(e.text for e in done)
    out: list[str] = []
    for head, block in tracker.spec_blocks(spec):
        if head and not _SPEC_HEADS.match(head):
            continue
        for ln in block.split("\n"):
            s = ln.strip()
            if not s.startswith(("- ", "* ")):
                continue
            item = s[2:].strip()
            if item.startswith("[x]") or item.startswith("[X]"):
                continue
            terms = [t for t in _TERM.findall(item) if not t.endswith("/")]
            checkbox = item.startswith("[ ]")
            if not checkbox:
                continue
            seen = any(_term_in(t, text) or any(c == t or c.endswith("/" + t) for c in changed) for t in terms)
            if not seen and (terms or checkbox):
                out.append(clip(safe_inline(item.removeprefix("[ ]").strip()), 120))
    return list(dict.fromkeys(out))


def _contract_in_progress(f: TranscriptFacts, family: list[TaskFact]) -> TaskFact | None:
    """A task whose contract the session read (`bd show`, `gh issue view`, `jira issue view`) and then
    changed files for, not closed since: in progress while its output files or spec items are open."""
    def since(t: TaskFact) -> int:
        # another task claimed or closed after this contract was read owns the edits up to then
        others = [x for o in f.tasks.values() if o is not t and not o.children
                  for x in (o.started_index, o.status_index if o.status in ("in_progress", "closed") else -1)]
        return max([t.spec_index, *others])

    cands = [t for t in f.tasks.values() if t.spec and t.status != "closed" and not t.children
             and any(e.index > since(t) and f.in_project(e.path) for e in f.edits)]
    if not cands:
        return None
    t = max(cands, key=lambda t: t.spec_index)
    # what is done of it counts every change since its contract was read (a file it wrote before the
    # other task is written all the same); only whether it is being worked on needs changes since then
    done = [e for e in f.edits if e.index > t.spec_index and f.in_project(e.path)]
    changed = {f.display(e.path) for e in done}
    untouched = [p for p in t.output_files if not _output_changed(p, changed)]
    recent = [e for e in done if e.index > since(t)]
    mine = {f.display(e.path) for e in recent}
    text = "\n".join(e.text for e in recent)
    worked_on = any(c == p or c.endswith("/" + p) for p in t.output_files for c in mine) or any(
        _term_in(x, text) for x in _TERM.findall(t.spec))
    if not worked_on:  # read for reference, then other work: not this task's progress
        return None
    return t if untouched or open_spec_items(t.spec, done, changed) else None


def _routine(f: TranscriptFacts, checks: list[CheckState]) -> list[str]:
    """The checks the session ran before its last commit (in order): those since the commit before it,
    else any before it. Checks that only ran after it (aider lints and tests after committing) are not
    a routine "before the commit": saying so would be wrong, so then there is none."""
    commits = f.commits
    if not commits or commits_itself(f.fmt):
        return []
    lo = commits[-2].index if len(commits) >= 2 else -1
    hi = commits[-1].index
    window = sorted((c for c in f.checks.values() if lo < c.last <= hi), key=lambda c: c.last)
    if not window:
        window = sorted((c for c in f.checks.values() if c.first <= hi), key=lambda c: c.first)
    return [c.command for c in window]


def _tool_of(command: str) -> str:
    toks = [t for t in command.split() if "=" not in t]
    return toks[0].rsplit("/", 1)[-1] if toks else ""


def _family2(command: str) -> str:
    toks = [t for t in command.split() if "=" not in t]
    return " ".join(toks[:2])


def _verifies(later: CheckFact, check: CheckFact) -> bool:
    """A later passing run checks what `check` checks: the same command family (`mix test`, `mix
    credo`), or a test run of the same tool after a build (running the tests builds the code)."""
    if _family2(later.command) == _family2(check.command) and (
            later.command == check.command or len(later.command.split()) <= 2
            or checktargets.covers(checktargets.target(later.command, later.cwd),
                                   checktargets.target(check.command, check.cwd))):  # a wider run of it
        return True
    return check.kind == "build" and later.kind == "test" and _tool_of(later.command) == _tool_of(check.command) \
        and "compile" in check.command


def _reruns(command: str, check: CheckFact) -> bool:
    """Whether a command runs `check` again: it contains it, or it is a run of the same tool whose target
    covers the check's (`mix credo` re-runs `mix credo lib/a.ex`)."""
    return check.command in command or (_family2(command) == _family2(check.command) and checktargets.covers(
        checktargets.target(command, check.cwd), checktargets.target(check.command, check.cwd)))


def _gitignored(path: str, patterns: list[str]) -> bool:
    """Whether git said it ignores `path`: a pattern from its "The following paths are ignored" answer
    names the path, one of its folders, or matches its name."""
    parts = path.replace("\\", "/").split("/")
    for pat in patterns:
        p = pat.replace("\\", "/").strip("/")
        if p and (p == "/".join(parts) or p in parts[:-1] or fnmatch.fnmatch(parts[-1], p)
                  or "/".join(parts).startswith(p + "/")):
            return True
    return False


def lint_targets(c: CheckFact) -> list[str]:
    """The files or directories a lint run was limited to (`mix credo lib/a.ex`, `ruff check src/`), as
    project paths; [] for anything else (a test run of one file still runs the code it imports)."""
    rec = ecosystems.record_for(c.command)
    if rec is None or rec.kind != "lint":
        return []
    t = checktargets.target(c.command, "" if c.cwd.startswith("/") else c.cwd)
    return [x for x in t.targets if x and not x.startswith("/") and "::" not in x] if not t.filters else []


def may_affect(path: str, command: str) -> bool:
    """An edit makes a check stale unless both belong to known, different languages (an Elixir file
    cannot break a vitest run); files of no known language (config, CSS, data) affect every check."""
    file_lang = ecosystems.language_of_file(path)
    check_lang = ecosystems.language_of_tool(_tool_of(command))
    return file_lang is None or check_lang is None or file_lang == check_lang


def _answered(f: TranscriptFacts, c: CheckFact) -> tuple[str, str]:
    """(the later passing run that covers a failed check's target, the hook that ran it): a run of the
    same target, a wider one of the same tool, or a commit whose pre-commit hook ran the check and
    passed; ("", "") while the failure stands. A covering run that failed again later keeps it."""
    mine = checktargets.target(c.command, c.cwd)
    best: tuple[int, str, str] | None = None
    for o in f.checks.values():
        if o is c or o.last <= c.last or o.outcome != "pass":
            continue
        covered = checktargets.covers(checktargets.target(o.command, o.cwd), mine) or _supersedes(o, c)
        if covered and (best is None or o.last > best[0]):
            best = (o.last, o.command, "")
    for ev in f.git.events:
        hooked = ev.kind == "commit" and ev.index > c.last and checktargets.hook_covers(ev.hooks, mine)
        if hooked and (best is None or ev.index > best[0]):
            hook = next(h for h in ev.hooks if checktargets.hook_covers([h], mine))
            best = (ev.index, f"git commit ({ev.sha})" if ev.sha else "git commit", hook)
    return (best[1], best[2]) if best is not None else ("", "")


def _target_files(t: checktargets.Target) -> set[str]:
    """The file names a check's targets name, as runners print them (`a_test.exs:12`, `test_b.py::test_x`)."""
    return {x.rsplit("/", 1)[-1].split("::", 1)[0].split(":", 1)[0] for x in t.targets}


def ran_clean(c: CheckFact, path: str) -> bool:
    """A failing run that named its failing test files, none of them `path` (a test file): it ran that
    file's tests and they passed."""
    name = path.rsplit("/", 1)[-1]
    t = checktargets.target(c.command, c.cwd)
    ran = t.whole or name in _target_files(t)
    return (ran and c.outcome == "fail" and bool(c.summary) and bool(c.fail_files) and name not in c.fail_files
            and checks_test_file(name))


def _failed_elsewhere(f: TranscriptFacts, c: CheckFact) -> str:
    """A later run of a wider target that failed, but whose failures name only other test files, ran the
    failed one's tests and they passed (`mix test` failing in session_live_test.exs after a fix to
    renderer_test.exs): the failure is answered. Only when the runner names its failing files and the
    failed check named its own."""
    mine = checktargets.target(c.command, c.cwd)
    own = _target_files(mine)
    if not own or not c.fail_files or not own & set(c.fail_files):
        return ""
    for o in sorted(f.checks.values(), key=lambda x: -x.last):
        if o is c or o.last <= c.last or o.outcome != "fail" or not o.summary or not o.fail_files:
            continue
        if checktargets.covers(checktargets.target(o.command, o.cwd), mine) and not own & set(o.fail_files):
            return o.command
    return ""


def _supersedes(later: CheckFact, failed: CheckFact) -> bool:
    """A later passing run answers an earlier failure when it checks the same thing: the whole suite
    of the same tool (`mix test` after `mix test a_test.exs`), or the same target run another way
    (`node build.js` from `assets/` after `node assets/build.js` from the root)."""
    a, b = [t for t in later.command.split() if "=" not in t], [t for t in failed.command.split() if "=" not in t]
    if not a or not b or a[0] != b[0] or later.kind != failed.kind:
        return False
    if _family2(later.command) == _family2(failed.command) and len(a) <= 2:
        return True
    return a[-1].rsplit("/", 1)[-1] == b[-1].rsplit("/", 1)[-1] and len(a) <= len(b)


def _uncovered(f: TranscriptFacts, st: State) -> list[str]:
    """Changed files whose language no check of this session belongs to (JS edited in a project
    whose only checks were `mix test`): the listed checks would not verify them."""
    if not st.checks:
        return []
    tools = {_tool_of(cs.check.command) for cs in st.checks}
    if tools & {"make", "just", "task", "tox", "nox"}:  # a runner that may cover everything
        return []
    out = []
    for u in st.git.uncommitted:
        lang = ecosystems.language_of_file(u.path)
        if lang is not None and not tools & set(lang.tools):
            out.append(u.path)
    return out


def _full_suite_note(f: TranscriptFacts) -> str:
    """"The whole suite was not run" only when every test run of the session named its targets or a
    filter (`uv run pytest`, `npx vitest run`, `make test`, `go test ./...` are whole runs)."""
    tests = [c for c in f.checks.values() if c.kind == "test"]
    if not tests:
        return ""
    targets = [checktargets.target(c.command, c.cwd) for c in tests]
    if any(t.whole or "..." in t.targets for t in targets):
        return ""
    for _i, cmd in f.shell_texts:  # a whole run whose result never came (the cut, a background run) still ran
        for seg in split_segments(cmd):
            if classify(seg) == "test" and checktargets.target(seg).whole:
                return ""
    return f"The whole suite (`{targets[0].tool}`) was not run in this session, only single files."


def _next_actions(f: TranscriptFacts, st: State, failing: list[CheckState], stale: list[CheckState]) -> list[str]:
    out: list[str] = []
    cur = st.current
    unfinished = cur is not None and bool(st.untouched_outputs or st.open_spec)
    if unfinished and cur is not None:  # its own open items first: the task is not ready to close
        parts = []
        if st.untouched_outputs:
            # what the transcript shows, not an order: the work may belong in another file
            parts.append("its contract lists " + ", ".join(code(p) for p in st.untouched_outputs[:4])
                         + " as output, not changed since "
                         # the moment `done` counts from: the claim when the tracker shows one, else the read
                         + ("the task was claimed" if cur.started_index >= 0 else "the contract was read"))
            others = _stand_ins(st.untouched_outputs, [f.display(e.path) for e in st.done_in_current])
            if others:  # the work may have gone into another file of that kind and folder
                parts[-1] += (f"; the session wrote {', '.join(code(p) for p in others[:3])} there instead, which "
                              "may be it (check before writing more)")
        if st.open_spec:
            parts.append("spec items not seen in the changes: " + "; ".join(
                f"“{x}”" for x in st.open_spec[:3]) + (f" and {len(st.open_spec) - 3} more" if len(st.open_spec) > 3
                                                       else ""))
        out.append(f"Finish {code(cur.id)} (still in progress): " + "; ".join(parts) + " (contract below).")
    # a failure the person chose not to have fixed is in the state, not an order to fix it
    for cs in [c for c in failing if not c.check.fix_declined][:2]:  # quoted from the failing run's own output
        line = cs.check.fail_line
        why = f": it failed last with {code(line)}" if line and line != "(no output)" else ": it failed last"
        gone = next((e.gone_in for e in f.errors if e.gone_in and e.line == line), "")
        if gone:  # that error is gone from the narrower re-run: the wider run's result is what is unknown
            why += f", which the later {code(gone)} (the tests that failed with it) no longer showed"
        if cs.edited_since:  # a fix may be in: say so rather than call it still failing
            files = ", ".join(code(p) for p in cs.edited_since[:3]) + (
                f" and {len(cs.edited_since) - 3} more" if len(cs.edited_since) > 3 else "")
            why += f"; {files} changed after that run, so whether it passes now is not known (re-run it)"
        out.append(f"Make {code(cs.check.command)} pass{why}.")
    if stale and not failing:
        stale_cmds = {cs.check.command for cs in stale}
        routine = [c for c in _routine(f, st.checks) if c in stale_cmds] or [cs.check.command for cs in stale]
        cmds = ", ".join(code(c) for c in dict.fromkeys(routine[-5:]))
        text = f"Re-run the checks this session used, which have not run since the last edits: {cmds}."
        full = _full_suite_note(f)
        if full:
            text += " " + full
        out.append(text)
    uncovered = _uncovered(f, st)
    if uncovered:
        files = ", ".join(code(p) for p in uncovered[:4])
        out.append(f"Build or test {files} too: no command this session ran builds or tests them.")
    if cur is not None and not unfinished:
        close = _close_command(f, cur.id)
        # with no check run at all, closing comes after running the project's checks, not instead of it
        first = "Run the project's checks (none ran in the transcript), then close" if not st.checks else "Close"
        how = f" ({code(close)})" if close else ""
        running = [(cs.check.command, "still running at the end") for cs in st.checks if cs.check.outcome == "running"]
        last_edit = max((e.index for e in f.edits if f.in_project(e.path)), default=-1)
        running += [(display_command(c), "started after the last edits") for i, c in f.unanswered
                    if i > last_edit and any(_reruns(display_command(c), cs.check) for cs in st.checks)]
        if running and not failing:  # a result still to come decides whether the task is done
            out.append(f"Once {code(running[0][0])} ({running[0][1]}, no result in the transcript) has "
                       f"passed, close {code(cur.id)} in the tracker{how}.")
        elif stale and not failing:  # the session ended editing: those edits may not be the end of the task
            out.append(f"Once those checks pass and the work the last edits began is complete, close {code(cur.id)} "
                       f"in the tracker{how}.")
        else:
            out.append(f"{first} {code(cur.id)} in the tracker{how}.")
    # code a test run would exercise (a known language's files), still there: not docs, styles or a deleted file
    last_change = {f.display(e.path): e.index for e in f.edits if f.in_project(e.path)
                   and ecosystems.language_of_file(e.path) is not None
                   and ((ff := f.files.get(e.path)) is None or ff.kind not in ("deleted", "renamed"))}
    # a file a later command ran by name (`python reproduce_bug.py`) was exercised after its change
    unrun = [p for p, i in last_change.items() if not any(
        c.last > i and c.kind not in ("git", "setup") and p.rsplit("/", 1)[-1] in c.command for c in f.commands.values())]
    if not st.checks and unrun and not (cur is not None and not unfinished):
        # nothing verified the work: before committing, pushing or building on it (the close step says it too)
        files = ", ".join(code(p) for p in unrun[-3:]) + (f" and {len(unrun) - 3} more" if len(unrun) > 3 else "")
        # an agent whose own after-edit checks print only failures (aider's --auto-test) may have run one unseen
        quiet = " (this agent's own after-edit checks print nothing when they pass)" if silent_passes(f.fmt) else ""
        out.append(f"Run the project's tests: no test or build ran in the transcript after the last change of "
                   f"{files}{quiet}.")
    if st.git.uncommitted:
        paths = list(dict.fromkeys(u.path for u in st.git.uncommitted))
        # a file git refused to add (a .gitignore entry) is not one to commit as it is
        ignored = [p for p in paths if _gitignored(p, f.git.ignored)]
        paths = [p for p in paths if p not in ignored]
        if paths:
            files = ", ".join(code(p) for p in paths[:6])
            more = f" and {len(paths) - 6} more" if len(paths) > 6 else ""
            out.append(f"Commit {files}{more} (the commit conventions are below).")
        if ignored:
            out.append(", ".join(code(p) for p in ignored[:4]) + f" {'is' if len(ignored) == 1 else 'are'} not "
                       f"committed: `.gitignore` ignores {'it' if len(ignored) == 1 else 'them'} ("
                       + ", ".join(code(x) for x in f.git.ignored[:2]) + "); `git add -f` only if it belongs in "
                       "the repository.")
    changed = st.git.changed
    if changed and not f.git.no_repo and st.git.known:
        # in a folder the project's generator ignores: `git status` will likely not list it at all
        # a file a commit of this session took (`git add -f`) is tracked: git status lists it like any other
        tracked = {p for p, g in f.git_files.items() if g.commit_index >= 0}
        likely = {u.path: r for u in changed if u.path not in tracked
                  and (r := ecosystems.default_ignore(u.path)) is not None}
        for path, r in list(likely.items())[:2]:
            out.append(f"{code(path)} is under `{r.folder}`, which {r.generator} puts in `.gitignore`: `git status` "
                       f"may not list it and a plain `git add` may refuse it. Check `git check-ignore -v {path}`; "
                       "`git add -f` it only if it belongs in the repository.")
        changed = [u for u in changed if u.path not in likely]
    if changed and not f.git.no_repo:  # without a repository there is nothing to commit
        # every file, never a silent subset: a commit of the first six would leave the rest behind
        files = ", ".join(code(u.path) for u in changed[:6]) + (
            f" and {len(changed) - 6} more (all listed under Git below)" if len(changed) > 6 else "")
        be = "is" if len(changed) == 1 else "are"
        if st.git.known:
            out.append(f"Run `git status`; commit {files} if it lists {'it' if be == 'is' else 'them'} "
                       "(whether committed is not known).")
        else:
            out.append(f"Run `git status` first: the transcript shows no git output, so whether {files} {be} "
                       "committed is not known.")
    push_at = len(out)  # a close the tracker is ready for comes before the push (trackers sync through git)
    if st.git.unpushed or (st.git.uncommitted and (st.git.pushed or st.git.no_upstream)):
        if st.git.no_upstream and st.git.branch:
            out.append(f"Push: the branch has no upstream yet, so `git push --set-upstream origin {st.git.branch}`.")
        elif st.git.pushed:
            out.append("Push (this session pushed after each commit).")
        elif st.git.unpushed:
            out.append(f"Push when ready: {len(st.git.unpushed)} commit(s) of this session are not pushed.")
    elif st.git.commits and not st.git.push_seen and any(not c.undone for c in st.git.commits):
        n = sum(1 for c in st.git.commits if not c.undone)  # a commit a reset took back is not to push
        out.append(f"Run `git status` to see whether the {n} commit{'s' if n != 1 else ''} of this session "
                   "reached the remote (the transcript shows no push).")
    if st.next_task is not None:
        t = st.next_task
        title = f": {quoted(t.title, 110)}" if t.title else ""  # the tracker's words, never a step of ours
        where = "its contract is below" if t.spec else "read its spec in the tracker first"
        if t.status == "in_progress":  # claimed and not closed: not to be skipped, nor assumed untouched
            # which task an edit served is not in the transcript: the session's changes may already do it
            out.append(f"{'Then continue' if out else 'Continue'} {code(t.id)}{title} (in progress"
                       + (", claimed in this session" if t.started_index >= 0 else "")
                       + f"; this session's changes may already cover part or all of it: compare them with its "
                       f"contract before writing more; {where}).")
        else:
            out.append(f"{'Then start' if out else 'Start'} {code(t.id)}{title} ({t.status or 'open'}, no claim of it "
                       f"in the transcript; {where}).")
    root = st.family_root
    if root is not None and len(st.family) > 1 and root.status in _OPEN:
        if all(t.status == "closed" for t in st.family[1:]):
            out.insert(push_at, f"Close {code(root.id)}: every task under it is closed (the tracker shows "
                                f"{code(root.id)} {root.status.replace('_', ' ')}).")
        else:
            out.append(f"When every task under {code(root.id)} is closed, close {code(root.id)} too "
                       f"(the tracker shows it {root.status.replace('_', ' ')}).")
    if not out:
        active = [t for t in f.todos.values() if t.status in ("in_progress", "pending")]
        if active:
            out.append(f"Continue the todo “{clip(safe_inline(active[0].content), 160)}”.")
    return out
