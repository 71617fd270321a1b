"""The state at the end of the session: checks (and what changed since each), git, tracker tasks.

Only what the transcript showed: a check's outcome is said with its staleness first, git's state as git
printed it, the tracker's last word on each task.
"""

from __future__ import annotations

from typing import Any

from ..data import HandoffData
from ..ranks import RANKS
from ..render import Item, Section
from ..textutil import clip, code, prefix_words, quoted


def _by_reason(entries: list[Any]) -> list[str]:
    """Files that share one reason in one part (`a`, `b` (why)): the reason is said once, not per file."""
    groups: dict[str, list[str]] = {}
    for u in entries:
        groups.setdefault(u.why, []).append(code(u.path))
    return [", ".join(paths) + (f" ({'each: ' if len(paths) > 1 else ''}{why})" if why and why != "changed" else "")
            for why, paths in groups.items()]


def render_state(hd: HandoffData) -> Section:
    """Checks, git and tracker tasks as the transcript last showed them."""
    s = Section("state", f"State at the end of session {hd.n}")
    st, f = hd.state, hd.facts
    sub = "Checks (latest outcome, and what changed since)"
    groups: dict[tuple[str, ...], list[Any]] = {}
    for cs in st.checks[:12]:
        # one line per shared state: a group's "changed since" lists are its members' own, never a neighbour's
        groups.setdefault((cs.covered_by, cs.passed_later, tuple(cs.not_covered), *cs.edited_since), []).append(cs)
    glist = list(groups.items())
    for k, (key, members) in enumerate(glist[:2]):
        s.items.append(_check_item(hd, members, list(key[3:]), k, sub, covered_by=key[0], passed_later=key[1]))
    older = [cs for _since, members in glist[2:] for cs in members]
    for cs in older:  # in the JSON form all the same
        s.items.append(Item("", rank=RANKS["hidden"], hidden=True, data_key="checks", payload=[{
            "command": cs.check.command, "kind": cs.check.kind, "outcome": cs.check.outcome,
            "summary": cs.check.summary, "runs": cs.check.runs, "changed_since": cs.edited_since,
            "verified": not cs.edited_since, "covered_by": cs.covered_by or None,
            "passed_later": cs.passed_later or None}]))
    if older:  # each with its staleness first: a reader takes the outcome word, not a trailing caveat
        words = {"pass": "passed", "fail": "**FAILED**", "running": "still running", "unknown": "outcome unknown"}
        parts = []
        named: list[str] = []  # the files the previous part named: each list is said once
        for cs in older:
            n = len(cs.edited_since)
            when = ""
            if n and not cs.passed_later:  # which files: a bare count reads as the files named above it
                same = cs.edited_since == named
                files = "" if same else " (" + ", ".join(code(p) for p in cs.edited_since[:2]) + (
                    f" and {n - 2} more" if n > 2 else "") + ")"
                when = f"{_stale_since(n, cs.covered_by, cs.check.command, same)}{files}, not re-verified: "
                named = cs.edited_since
            parts.append(f"{code(cs.check.command)} {when}{words[cs.check.outcome]}" + (
                f" ({quoted(cs.check.summary, 100)})" if cs.check.summary else "") + (
                (f", then {code(cs.passed_later)} ran it again and failed only in other files" if cs.elsewhere else
                 f", then {code(cs.passed_later)} passed") if cs.passed_later else "") + (
                "" if n or cs.passed_later else
                f"; the changes since were checked by {code(cs.covered_by)}, which passed" if cs.covered_by
                else ", nothing it checks changed since" if cs.not_covered else ", nothing changed since"))
        s.items.append(Item("- Earlier checks: " + "; ".join(parts),
                            rank=RANKS["checks.earlier"], sub=sub, group="checks",
                            keep=tuple(("test_command" if cs.check.kind == "test" else "build_command",
                                        cs.check.command) for cs in older)))
    # with no git output at all, the branch and folder come from the session's records, not from git
    sub = "Git (as git printed it)" if st.git.known else "Git"
    g = st.git
    if g.branch or g.upstream:
        line = f"- Branch {code(g.branch)}" if g.branch else "- Branch unknown"
        if g.upstream:
            line += f", tracking {code(g.upstream)}"
        elif g.no_upstream:
            line += ", **no upstream branch** (a first push needs `--set-upstream`)"
        if f.root:
            line += f"; work tree {code(f.root)}"
        keep = (("branch", g.branch),) if g.branch else ()
        s.items.append(Item(line + ".", rank=RANKS["git.branch"], sub=sub, group="git lines", keep=keep))
    elif f.root:
        s.items.append(Item(f"- Work tree {code(f.root)}.",
                            rank=RANKS["git.work_tree"], sub=sub, group="git lines",
                            keep=(("location", f.root),)))
    for c in g.commits:
        pushed = "pushed" if c.pushed else "not pushed" if g.push_seen else "push not seen"
        if c.undone:
            pushed = f"then undone by {code(c.undone)} (no longer on the branch)"
        sha = f"{code(c.sha)} " if c.sha else ""
        keep = (("commit", c.sha),) if c.sha else (("commit", prefix_words(c.subject, 80)),)
        s.items.append(Item(f"- Committed {sha}{quoted(c.subject, 120)} — {pushed}",
                            rank=RANKS["git.commit"] + 2 * hd.recency(c.index),
                            sub=sub, group="commits", keep=keep, data_key="commits",
                            payload={"sha": c.sha, "subject": c.subject, "pushed": c.pushed, "branch": c.branch}))
    if g.commits and not g.pushed:
        s.items.append(Item("- Nothing was pushed in this session." if g.push_seen else
                            "- No push in the transcript: whether these commits reached the remote is not known.",
                            rank=RANKS["git.no_push"], sub=sub, group="git lines"))
    if g.uncommitted:
        parts = _by_reason(g.uncommitted)
        s.items.append(Item("- **Uncommitted:** " + ", ".join(parts), rank=RANKS["git.uncommitted"],
                            sub=sub, group="git lines",
                            keep=tuple(("file", u.path) for u in g.uncommitted)))
    elif g.known and f.commits and not g.changed:
        ran = [a.text[4:] for a in f.actions if a.text.startswith("ran:") and a.index > f.commits[-1].index]
        # what the session did, not what the tree holds: files can change outside it (aider's "file not
        # found", an editor), and only git's own status after the commit could say the tree is clean
        s.items.append(Item("- No file edit in this session after the last commit." if not ran else
                            f"- No file edit after the last commit; {code(clip(ran[-1], 80))} ran after it, and "
                            "what it changed on disk is not in the transcript.",
                            rank=RANKS["git.no_edit_after_commit"], sub=sub, group="git lines"))
    if g.changed:
        parts = _by_reason(g.changed)
        head = ("- Changed in this session (the agent said this directory has no git repository): "
                if f.git.no_repo and not g.known else
                "- Changed in this session (the transcript shows no git output, so committed or not is unknown): "
                if not g.known else "- Whether these files are committed or not is **not known**: ")
        s.items.append(Item(head + ", ".join(parts),
                            rank=RANKS["git.changed_unknown"], sub=sub, group="git lines",
                            keep=tuple(("file", u.path) for u in g.changed)))
    if g.foreign:  # not this session's work: never counted as its uncommitted changes, nor to commit
        shown = ", ".join(code(u.path) for u in g.foreign[:6]) + (
            f" and {len(g.foreign) - 6} more" if len(g.foreign) > 6 else "")
        s.items.append(Item(f"- Also listed by git, with no change to them in this transcript (check before committing them): {shown}",
                            rank=RANKS["git.foreign"], sub=sub, group="git lines"))
    if f.outside:
        shown = ", ".join(code(p) for p in f.outside[:4])
        s.items.append(Item(f"- Not project files (outside the work tree, never commit them): {shown}",
                            rank=RANKS["git.outside"], sub=sub, group="git lines"))
    s.items.extend(_task_items(hd))
    return s


def _stale_since(n: int, covered_by: str = "", command: str | None = "", same: bool = False) -> str:
    """How stale a result is, counted from what last checked its code: the check itself, or a later
    passing run that saw the earlier changes (so "before 1 file changed" is true of every file since)."""
    files = f"{'the same ' if same else ''}{n} file{'s' if n > 1 else ''} changed"
    if covered_by and covered_by != command:
        return f"last checked by {'' if command is None else 'the later '}{code(covered_by)} (passed) before {files}"
    return f"last run before {files}"


def _check_item(hd: HandoffData, members: list[Any], since: list[str], k: int, sub: str, covered_by: str = "",
                passed_later: str = "") -> Item:
    """Checks whose code changed the same way since their last run, in one line."""
    parts = []
    keep = []
    stale = bool(since) and not passed_later  # the result is older than the code: say that first
    for cs in members:
        c = cs.check
        word = {"pass": "passed", "fail": "FAILED", "running": "still running (no result seen)",
                "unknown": "outcome unknown"}[c.outcome]
        summ = f" ({quoted(c.summary, 100)})" if c.summary else ""
        shown = word if stale and c.outcome == "pass" else f"**{word}**"
        parts.append(f"{code(c.command)}{':' if stale else ''} {shown}{summ}")
        keep.append(("test_command" if c.kind == "test" else "build_command", c.command))
    hook = next((cs.via_hook for cs in members if cs.via_hook), "")
    if passed_later and hook:
        after = f" — then {code(passed_later)} ran it in its pre-commit hook ({code(hook)}), which passed"
    elif passed_later and any(cs.elsewhere for cs in members):
        after = f" — then {code(passed_later)} ran it again and failed only in other files"
    elif passed_later:
        after = f" — then {code(passed_later)} passed after it"
        if since:
            after += f"; later changes ({', '.join(code(p) for p in since[:3])}) are **not re-verified**"
    elif not since and covered_by:
        after = f" — not run again since, but {code(covered_by)} passed after the later changes"
    elif since:
        keep.append(("state", "not re-verified"))
        after = ""
    else:
        after = "" if any(cs.not_covered for cs in members) else " — nothing changed since"
    others = list(dict.fromkeys(p for cs in members for p in cs.not_covered))
    if others and not passed_later and k == 0:  # the latest runs: so their list of changes is complete
        # which files a check reads is a guess (a full run reads them all): say what changed, not that
        # the check did not read it
        shown = ", ".join(code(p) for p in others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
        after += f" — changed since, in files of another kind or folder: {shown}"
    elif others and not passed_later and not since and not covered_by:
        after = " — nothing it checks changed since"
    failing = any(cs.check.outcome == "fail" and not cs.passed_later for cs in members)
    rank = RANKS["checks.latest"] - k * 0.3 if k < 2 or failing else RANKS["checks.older"] - k * 0.1
    lead = "- "
    if stale:
        files = ", ".join(code(p) for p in since[:3]) + (f" and {len(since) - 3} more" if len(since) > 3 else "")
        # a group that holds the run which saw the earlier changes is counted from that run: say so when
        # the group holds others too (command None: that run is one of them)
        among = covered_by in [cs.check.command for cs in members]
        cover = "" if among and len(members) == 1 else covered_by
        lead = f"- {_stale_since(len(since), cover, None if among else '')} ({files}), **not re-verified**: "
        lead = lead[:2] + lead[2].upper() + lead[3:]
    return Item(lead + "; ".join(parts) + after, rank=rank, sub=sub, group="checks", keep=tuple(keep),
                data_key="checks", payload=[{"command": cs.check.command, "kind": cs.check.kind,
                                             "outcome": cs.check.outcome, "summary": cs.check.summary,
                                             "runs": cs.check.runs, "changed_since": since,
                                             "verified": not since,
                                             "covered_by": covered_by or None,
                                             "passed_later": passed_later or None} for cs in members])


def _task_items(hd: HandoffData) -> list[Item]:
    st = hd.state
    items: list[Item] = []
    if not st.family:
        for t in hd.facts.task_ids[:6]:  # ids the user typed that no tracker output described
            title = f": {quoted(t.titles[t.id], 110)}" if t.id in t.titles else ""
            items.append(Item(f"- {code(t.id)}{title} (named by the user)",
                              rank=RANKS["tasks.named_by_user"], sub="Tasks", group="task ids",
                              keep=(("task_id", t.id),)))
        return items
    sub = "Tasks (the tracker's last word)"
    closed = [t for t in st.family[1:] if t.status == "closed" and t not in (st.current, st.next_task)]
    closed_line = None
    if len(closed) >= 3:
        ids = ", ".join(code(t.id) for t in closed)
        closed_line = Item(f"  - {ids} — closed", rank=RANKS["tasks.closed"], sub=sub, group="tasks",
                           keep=tuple(("task_id", t.id) for t in closed))
    for t in closed if len(closed) >= 3 else []:
        items.append(Item("", rank=RANKS["hidden"], data_key="tasks", hidden=True, payload={
            "id": t.id, "title": t.title, "status": t.status, "kind": t.kind, "parent": t.parent,
            "started": t.started_index >= 0}))
    skip = {t.id for t in closed} if len(closed) >= 3 else set()
    for k, t in enumerate(st.family):
        if t.id in skip:
            continue
        title = f" {quoted(t.title, 110)}" if t.title else ""
        kind = f" ({t.kind})" if t.kind and t.kind != "task" else ""
        status = (t.status or "status not shown").replace("_", " ")
        notes = []
        if t is st.current:
            notes.append("current")
        elif t is st.next_task:
            notes.append("next")
        if t.status in ("open", "") and t.started_index < 0 and t.created_index >= 0:
            notes.append("filed in this session, not started in it: a follow-up, not the next step")
        elif t.status in ("open", "") and t.started_index < 0 and k > 0:
            notes.append("no claim of it in the transcript")  # not "not started": work may be under another id
        note = f" — {status}" + (f" ({', '.join(notes)})" if notes else "")
        indent = "  " if k > 0 else ""
        rank = (RANKS["tasks.current"] if t in (st.current, st.next_task, st.family_root)
                else RANKS["tasks.other"] - k * 0.01)
        items.append(Item(f"{indent}- {code(t.id)}{kind}{title}{note}", rank=rank, sub=sub, group="tasks",
                          keep=(("task_id", t.id),), data_key="tasks",
                          payload={"id": t.id, "title": t.title, "status": t.status, "kind": t.kind,
                                   "parent": t.parent, "started": t.started_index >= 0}))
        if k == 0 and closed_line is not None:
            items.append(closed_line)
    return items
