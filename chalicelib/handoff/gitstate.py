"""Which files are committed, uncommitted or not known, from what git printed and the session's commits.

A handoff that says "9 files uncommitted" when git's own `git status` listed one, or that lists a
file committed two commits ago, is worse than one that says nothing. So each file's commit state is
the result of the git events that came after its last change, in transcript order:

- `git add` (paths, directories, globs, or everything) stages it, and so do `git rm` and `git mv` of
  its path; a plain `rm`/`mv` does not: its deletion is committed only by a later `git add` that
  covers it, `commit -a`, or a commit whose output prints `delete mode … path`;
- a commit that git printed includes it when it was staged, named as a pathspec, or tracked under
  `commit -a`, or when git printed `create mode … path`; a commit whose staging the transcript never
  showed (no `git add`, no `-a`) leaves the file's state *not known*;
- a work-tree snapshot (`git status`, `git diff --stat` with no revision, `git diff --stat HEAD`,
  `git diff --cached --stat`) that lists it confirms it uncommitted (with git's line counts when it
  printed them); one whose scope covers it and does not list it says it has no diff (a `git diff`
  covers only tracked files: one `git status` listed as untracked stays uncommitted);
- `git stash`, `git reset --hard` and `git restore`/`git checkout --` of its path discard it, and
  `git stash pop`/`apply` brings a stashed one back (with the status git prints after it);
- a git command that could commit, stage or discard, issued but never answered (the transcript ends
  first), leaves every file it could touch *not known*.

A file changed after the last git output of the session is not known either: nothing git printed
says whether something else committed it. Pure functions; no agent's tool names appear here.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
import shlex
from dataclasses import dataclass, field

from . import checktargets, shellfx

# -- what the extractor records while it reads git commands -----------------------------------------


@dataclass
class GitEvent:
    """One thing a git command did to the work tree or the index, as git printed it."""

    index: int
    seq: int  # order within one command line
    kind: str  # add | commit | snapshot | discard | unstash | seen (any other git command that answered) | unseen
    cwd: str = ""  # the directory it ran in, relative to the project root ("" for the root) or absolute
    specs: list[str] = field(default_factory=list)  # pathspecs (add, commit, discard), relative to cwd
    everything: bool = False  # add -A / . / -u; commit -a; stash, reset --hard (all tracked files)
    sha: str = ""  # commit
    created: list[str] = field(default_factory=list)  # commit: `create`/`delete mode` paths (repository-relative)
    staging_seen: bool = True  # commit: the transcript showed how its content was staged
    scope: str = ""  # snapshot: all | tracked | unstaged | staged
    listed: list[str] = field(default_factory=list)  # snapshot: paths it printed (relative to its cwd)
    untracked: list[str] = field(default_factory=list)  # snapshot: the listed paths git called untracked
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)  # snapshot: git's own line counts
    command: str = ""  # as typed, for "why"
    hooks: list[str] = field(default_factory=list)  # commit: what its pre-commit hooks ran and passed
    partial: bool = False  # snapshot: cut by a pipe (`| head`) or by git (`.../long/path`): absence says nothing


_STASH_RE = re.compile(r"^git\s+(?:-C\s+\S+\s+)?stash(?:\s+(?:push|save)\b|\s+-\S+|\s*$)")
_RESET_HARD_RE = re.compile(r"^git\s+(?:-C\s+\S+\s+)?reset\s+(?:\S+\s+)*--hard\b")
_RESTORE_RE = re.compile(r"^git\s+(?:-C\s+\S+\s+)?(?:restore(?!.*--staged)|checkout\s+(?:\S+\s+)?--)\s")
_DELETE_MODE = re.compile(r"(?m)^\s*delete mode \d+ (.+?)\s*$")  # a commit's summary names the deletions it holds
_COMMIT_VALUE_OPTS = {"-m", "--message", "-F", "--file", "--author", "--date", "-c", "-C", "--reuse-message",
                      "--reedit-message", "--fixup", "--squash", "--cleanup", "-t", "--template", "--trailer"}


def _args(seg: str) -> list[str]:
    try:
        return shlex.split(seg)
    except ValueError:
        return seg.split()


def _dash_c(args: list[str], cwd: str) -> tuple[list[str], str]:
    """`git -C dir …`: the arguments after the -C options, and the directory they run in."""
    k = 1
    while k + 1 < len(args) and args[k] == "-C":
        cwd = posixpath.join(cwd, args[k + 1]) if cwd else args[k + 1]
        k += 2
    return args[k:], cwd


def _commit_specs(args: list[str]) -> tuple[list[str], bool]:
    """(pathspecs, -a) of `git commit` arguments (after the word `commit`)."""
    specs: list[str] = []
    every = False
    skip = False
    after_dd = False
    for a in args:
        if skip:
            skip = False
            continue
        if after_dd:
            specs.append(a)
            continue
        if a == "--":
            after_dd = True
        elif a in _COMMIT_VALUE_OPTS:
            skip = True
        elif a.startswith("--"):
            every = every or a == "--all"
        elif a.startswith("-") and len(a) > 1:
            letters = a[1:]
            every = every or "a" in letters.split("m", 1)[0].split("F", 1)[0]
            if letters[-1] in "mFcCt":  # `-am "msg"`: the value follows
                skip = True
        elif not a.startswith("$("):
            specs.append(a)
    return specs, every


def observe(index: int, command: str, output: str, failed: bool, cwd: str = "") -> list[GitEvent]:
    """The git events of one shell command line (its segments in order), from the command and git's output.

    `cwd`: where the line started, relative to the project (an earlier `cd` the shell kept). A failed
    command line still yields the events of a snapshot it printed; nothing it staged or committed is assumed.
    """
    from .facts import split_segments  # one way to split a command line

    events: list[GitEvent] = []
    for seq, seg in enumerate(split_segments(command)):
        if seg.startswith("cd "):
            target = seg[3:].strip().strip("'\"")
            cwd = target if target.startswith("/") or not cwd else posixpath.join(cwd, target)
            continue
        if not seg.startswith("git "):
            continue
        args, where = _dash_c(_args(seg), cwd)
        if not args:
            continue
        verb, rest = args[0], args[1:]
        if verb == "add" and not failed:
            paths, everything, _forced = shellfx.staged_paths("git add " + " ".join(shlex.quote(a) for a in rest))
            events.append(GitEvent(index, seq, "add", where, paths, everything, command=seg))
        elif verb in ("rm", "mv") and not failed:  # git stages what it removes or moves itself
            paths = [a for a in rest if not a.startswith("-") and a != "--"]
            events.append(GitEvent(index, seq, "add", where, paths, command=seg))
        elif verb == "commit" and not failed:
            cm = shellfx.parse_commit(output)
            if cm is None and ("nothing to commit" in output or "no changes added" in output):
                continue
            specs, every = _commit_specs(rest)
            events.append(GitEvent(index, seq, "commit", where, specs, every, sha=cm.sha if cm else "",
                                   created=[*cm.created, *_DELETE_MODE.findall(output)] if cm else [], command=seg,
                                   hooks=checktargets.hook_checks(output)))
        elif verb == "status" and not failed:
            st = shellfx.parse_status(output)
            listed = [*st.changed, *st.untracked]
            specs = [a for a in rest if not a.startswith("-") and a != "--"]  # `git status src/`: only there
            events.append(GitEvent(index, seq, "snapshot", where, specs, scope="all", listed=listed, command=seg,
                                   untracked=list(st.untracked), partial=_piped(command, "status", output)))
        elif verb == "diff" and not failed:
            scope, specs = _diff_scope(rest)
            if scope:
                listed, counts = _diff_listing(output, rest)
                events.append(GitEvent(index, seq, "snapshot", where if specs else "", specs, scope=scope,
                                       listed=listed, counts=counts, command=seg,
                                       partial=_piped(command, "diff", output) or "/.../" in output or "\n ..." in output))
        elif not failed and verb == "stash" and rest[:1] in (["pop"], ["apply"]):
            events.append(GitEvent(index, seq, "unstash", where, command=seg))  # the stashed changes are back
            if "Changes " in output or "Untracked files" in output:  # git printed the status after it
                st = shellfx.parse_status(output)
                events.append(GitEvent(index, seq, "snapshot", where, scope="all", listed=[*st.changed, *st.untracked],
                                       untracked=list(st.untracked), command=seg))
        elif not failed and (verb == "stash" and _STASH_RE.match(seg) or _RESET_HARD_RE.match(seg)):
            events.append(GitEvent(index, seq, "discard", where, [], True, command=seg))
        elif not failed and verb not in ("stash", "reset", "restore", "checkout", "pull", "merge", "rebase",
                                         "switch", "cherry-pick", "revert", "am", "apply") \
                and not _RESTORE_RE.match(seg):
            events.append(GitEvent(index, seq, "seen", where, command=seg))  # git answered: push, log, show …
        elif not failed and _RESTORE_RE.match(seg):
            specs = [a for a in rest if not a.startswith("-") and a not in ("--",)]
            if verb == "checkout" and "--" in rest:
                specs = [a for a in rest[rest.index("--") + 1:] if not a.startswith("-")]
            if specs:
                events.append(GitEvent(index, seq, "discard", where, specs, False, command=seg))
    return events


_CHANGES_GIT = re.compile(r"\bgit\s+(?:-C\s+\S+\s+)*(?:add|commit|rm|mv|stash|reset|restore|checkout|merge|rebase"
                          r"|cherry-pick|revert|am|apply|pull|switch)\b")


def changes_git(command: str) -> bool:
    """The command runs git in a way that can commit, stage or discard work-tree changes."""
    return bool(_CHANGES_GIT.search(command))


def _piped(command: str, verb: str, output: str) -> bool:
    """The git command's output went through a filter (`git diff | grep x`), or through `head`/`tail`
    that cut it (fewer lines came out than it lets through means nothing was cut): a part only."""
    m = re.search(r"\bgit\s+(?:-C\s+\S+\s+)?" + verb + r"\b[^;&|\n]*\|(?!\|)\s*(\S+)(?:\s+-n)?(?:\s+-?(\d+))?",
                  command)
    if m is None:
        return False
    if m.group(1) in ("head", "tail", "cat", "less") and (m.group(2) or m.group(1) in ("cat", "less")):
        limit = int(m.group(2)) if m.group(2) else 1 << 30
        return output.rstrip("\n").count("\n") + 1 >= limit
    return True


def _diff_scope(rest: list[str]) -> tuple[str, list[str]]:
    """What a `git diff` compares: unstaged (no revision), tracked (HEAD), staged (--cached), or ""
    when it names another revision (then it is about commits, not the work tree); and the
    pathspecs after `--` that limit it."""
    specs: list[str] = []
    head = rest
    if "--" in rest:
        head, specs = rest[:rest.index("--")], [a for a in rest[rest.index("--") + 1:] if a]
    revs = [a for a in head if not a.startswith("-")]
    cached = any(a in ("--cached", "--staged") for a in head)
    if any(not re.fullmatch(r"HEAD", r) for r in revs):
        return "", specs  # a revision or a path without `--`: not read as the work tree
    if cached:
        return "staged", specs
    return ("tracked" if revs else "unstaged"), specs


def _diff_listing(output: str, rest: list[str]) -> tuple[list[str], dict[str, tuple[int, int]]]:
    """Paths a `git diff` printed (stat, numstat, name-only/status, or a full patch) and git's line
    counts where it gave them (numstat, or a full patch's +/- lines)."""
    counts: dict[str, tuple[int, int]] = {}
    listed: list[str] = []
    if "--numstat" in rest:
        for ln in output.split("\n"):
            m = re.match(r"^(\d+|-)\t(\d+|-)\t(.+)$", ln)
            if m:
                listed.append(m.group(3))
                if m.group(1) != "-":
                    counts[m.group(3)] = (int(m.group(1)), int(m.group(2)))
        return listed, counts
    if "--name-only" in rest or "--name-status" in rest:
        for ln in output.split("\n"):
            t = ln.strip().split("\t")[-1]
            if t and not t.startswith(("warning:", "fatal:")) and " " not in t:
                listed.append(t)
        return listed, counts
    if any(o in rest for o in ("--stat", "--shortstat")):
        for ln in output.split("\n"):
            m = re.match(r"^\s*(\S.*?)\s+\|\s+(\d+|Bin)(?:\s+(\+*)(-*))?\s*$", ln)
            if m and "=>" not in m.group(1) and not m.group(1).startswith("..."):
                listed.append(m.group(1))
                plus, minus = len(m.group(3) or ""), len(m.group(4) or "")
                if m.group(2).isdigit() and plus + minus == int(m.group(2)):  # not scaled down: exact
                    counts[m.group(1)] = (plus, minus)
        return listed, counts
    cur = ""
    for ln in output.split("\n"):
        m = re.match(r"^diff --git a/(\S+) b/(\S+)", ln)
        if m:
            cur = m.group(2)
            listed.append(cur)
            counts[cur] = (0, 0)
        elif cur and ln.startswith("+") and not ln.startswith("+++"):
            a, r = counts[cur]
            counts[cur] = (a + 1, r)
        elif cur and ln.startswith("-") and not ln.startswith("---"):
            a, r = counts[cur]
            counts[cur] = (a, r + 1)
    return listed, counts


# -- resolution ---------------------------------------------------------------------------------------


@dataclass
class FileGit:
    """One project file's commit state at the end of the session."""

    state: str  # committed | uncommitted | unknown | clean
    sha: str = ""  # the last commit that included it
    commit_index: int = -1
    why: str = ""  # for uncommitted and unknown: what the statement rests on
    counts: tuple[int, int] | None = None  # git's own line counts, when it printed them
    confirmed: bool = False  # a work-tree snapshot after its last change listed it


def _rel(path: str, root: str | None) -> str:
    if root and path.startswith(root + "/"):
        return path[len(root) + 1:]
    if root and path.rstrip("/") == root:
        return ""  # the root itself (`cd /abs/root && git add src/x`)
    return path


def under(cwd: str, spec: str, root: str | None) -> str:
    """A pathspec as a project-relative path ("" for the whole project)."""
    if spec.startswith("/"):
        return _rel(spec, root).rstrip("/") if not (root and spec.rstrip("/") == root) else ""
    base = _rel(cwd, root) if cwd.startswith("/") else cwd
    if cwd.startswith("/") and root and not (cwd == root or cwd.startswith(root + "/")):
        base = cwd
    p = posixpath.normpath(posixpath.join(base, spec)) if base else posixpath.normpath(spec)
    return "" if p in (".", "") else p.rstrip("/")


def covers(spec: str, path: str) -> bool:
    """A project-relative pathspec (file, directory, glob or "" for everything) covers `path`."""
    if spec == "":
        return True
    if path == spec or path.startswith(spec + "/"):
        return True
    if any(ch in spec for ch in "*?["):
        return fnmatch.fnmatch(path, spec) or fnmatch.fnmatch(path, spec + "/*")
    return False


def resolve(changes: dict[str, list[int]], created: set[str], events: list[GitEvent], root: str | None
            ) -> dict[str, FileGit]:
    """Each changed file's state from the git events after its last change.

    `changes`: project-relative path -> the indices of its changes; `created`: paths the session
    created. A change at the same index as a git event came first (`npm i x && git add -A`).
    One sweep over changes and events in order; an event only visits the files it can still change
    (changed since they were last committed or found clean), so the cost stays near linear.
    """
    events = sorted(events, key=lambda e: (e.index, e.seq))
    adds_since = False
    for ev in events:  # a commit after no `git add` (and without -a or paths) committed what we never saw staged
        if ev.kind == "add":
            adds_since = True
        elif ev.kind == "commit":
            ev.staging_seen = adds_since or bool(ev.specs) or ev.everything
            adds_since = False
    marks = sorted((i, p) for p, idx in changes.items() for i in set(idx))
    out: dict[str, FileGit] = {}
    staged: set[str] = set()
    tracked = {p for p in changes if p not in created}
    last: dict[str, tuple[str, int]] = {}  # the last commit that included each file
    active: set[str] = set()  # changed since last committed or found clean
    no_git = "no git output after its last change"
    stashed: set[str] = set()  # discarded by `git stash`: back on `git stash pop`
    k = 0
    for ev in events:
        while k < len(marks) and marks[k][0] <= ev.index:  # a change: dirty again, nothing said about it yet
            out[marks[k][1]] = FileGit("unknown", why=no_git)
            active.add(marks[k][1])
            k += 1
        if ev.kind == "unstash":
            for p in stashed:
                out[p] = FileGit("unknown", why=f"brought back by `{ev.command}`")
                active.add(p)
            stashed.clear()
            continue
        if not active:
            continue
        specs = [under(ev.cwd, sp, root) for sp in ev.specs]
        fresh = [p for p in active if out[p].state == "unknown" and out[p].why == no_git]
        if ev.kind == "add":
            for p in active:
                if (ev.everything and not specs) or any(covers(sp, p) for sp in specs):
                    staged.add(p)
                    tracked.add(p)
        elif ev.kind == "commit":
            created_here = [under("", c, root) for c in ev.created]
            for p in list(active):
                inc = _in_commit(ev, p, specs, created_here, p in staged, p in tracked)
                if inc is True:
                    out[p] = FileGit("committed", sha=ev.sha, commit_index=ev.index)
                    last[p] = (ev.sha, ev.index)
                    staged.discard(p)
                    tracked.add(p)
                    active.discard(p)
                elif inc is None:
                    out[p] = FileGit("unknown", why="a commit whose staging the transcript does not show")
                elif out[p].state == "unknown" and out[p].why == no_git:
                    out[p] = FileGit("uncommitted", why="not in the commits after its last change")
        elif ev.kind == "snapshot":
            exact, dirs = _listing(ev, root)
            for p in list(active):
                entry = exact.get(p) or next((e for d, e in dirs if covers(d, p)), None)
                if entry is not None:
                    out[p] = FileGit("uncommitted", why=f"listed by `{ev.command}`", counts=ev.counts.get(entry),
                                     confirmed=True)
                    if entry in ev.untracked:  # a later `git diff` cannot see it: its absence there says nothing
                        tracked.discard(p)
                elif not ev.partial and (not specs or any(covers(sp, p) for sp in specs)) and (
                        ev.scope == "all" or (ev.scope == "tracked" and p in tracked)
                        or (ev.scope == "unstaged" and p in tracked and p not in staged)):
                    out[p] = FileGit("clean", why=f"not listed by `{ev.command}`")
                    active.discard(p)
                # a staged-only listing, or an untracked file in a diff, says nothing either way
        elif ev.kind == "unseen":  # issued, never answered (the transcript ends first): its effect is not known
            for p in list(active):
                out[p] = FileGit("unknown", why=f"issued, result not seen: {ev.command}")
        elif ev.kind == "discard":
            for p in list(active):
                if (ev.everything and p in tracked and not specs) or any(covers(sp, p) for sp in specs):
                    out[p] = FileGit("clean", why=f"discarded by `{ev.command}`")
                    staged.discard(p)
                    active.discard(p)
                    if " stash" in " " + ev.command:
                        stashed.add(p)
        for p in fresh:  # git answered after the change and did not commit it
            if out[p].state == "unknown" and out[p].why == no_git:
                out[p] = FileGit("uncommitted", why="not in the commits after its last change")
    while k < len(marks):  # changed after the last git event
        out[marks[k][1]] = FileGit("unknown", why=no_git)
        k += 1
    for p, (sha, at) in last.items():
        if out[p].state != "committed":
            out[p].sha, out[p].commit_index = sha, at
    return out


def _listing(ev: GitEvent, root: str | None) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """A snapshot's entries as project paths: {path: entry} and the untracked directories it listed."""
    base = "" if ev.scope != "all" else ev.cwd  # diff prints repository-relative paths
    exact: dict[str, str] = {}
    dirs: list[tuple[str, str]] = []
    for entry in ev.listed:
        p = under(base, entry, root)
        if entry.endswith("/"):
            dirs.append((p, entry))
            continue
        exact.setdefault(p, entry)
        at = p.find("/")
        while at >= 0:  # a repository-relative path when the project is a subdirectory of the repository
            exact.setdefault(p[at + 1:], entry)
            at = p.find("/", at + 1)
    return exact, dirs


def _in_commit(ev: GitEvent, path: str, specs: list[str], created: list[str], staged: bool, tracked: bool
               ) -> bool | None:
    """Whether a commit included `path`: True, False, or None when the transcript cannot tell."""
    if staged or any(covers(c, path) for c in created):
        return True
    if specs:
        return any(covers(sp, path) for sp in specs)
    if ev.everything:
        return tracked
    if not ev.staging_seen:
        return None
    return False
