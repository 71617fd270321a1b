"""The rule-based handoff: session N's record + transcript -> the master prompt for session N+1.

`build_handoff` is pure and deterministic (same input, same bytes): no clock, no network, no
randomness, and no dependence on dict key order in its inputs. It is the path that always works;
the LLM path starts from its `must_keep` facts and falls back to its document.

What the session record states (accomplishments, blockers, decisions, next steps, ...) and the pinned
context always outrank what is inferred from the transcript: they are never dropped for size. Open
items (unfinished next steps, blockers, pending todos) carry forward from handoff to handoff until
a session marks them done.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from chalicelib import metrics as growth
from chalicelib.transcripts.model import FileChange, Message

from . import guard, tracker
from .account import account_sections, session_account
from .facts import ErrorFact, TranscriptFacts, extract_facts
from .ranks import RANKS
from .render import DEFAULT_BUDGET, Item, Section, fit, to_layout
from .state import GitState, State, derive
from .textutil import clip, code, norm_key, one_line, quote_line, quoted, safe_inline

FORMAT = "mso.handoff/1"
MAX_REQUESTS = 4  # the first request plus the last three
MAX_COMMANDS = 60
MAX_URLS = 12
MAX_INFERRED_DECISIONS = 8
MAX_INFERRED_LEARNINGS = 5
MAX_ERRORS = 12
MAX_EARLIER_DECISIONS = 10
MAX_STEPS = 8
MAX_LEARNED = 10
MAX_KNOWLEDGE = 12
# what an agent says when it explains rather than reads: a cause, a verdict on a warning, a guess
_HYPOTHESIS = re.compile(
    r"(?i)\b(?:root cause|the (?:issue|problem|bug|culprit|cause|reason) (?:is|was|here)|because|caused by|due to"
    r"|false positive|flak(?:y|iness)|must be|is likely|appears to|seems?|probably|i think|i suspect|suspect"
    r"|presumably|should be|would be|might|may be|could be|my guess|turns out|so the fix)\b")
_SMALL_TALK = re.compile(r"(?i)^(?:I apologi[sz]e|sorry|thanks?\b|thank you|great|perfect|excellent|okay|ok\b|sure"
                         r"|got it|you'?re right|I'?m glad)")


def _by_reason(entries: list[Any]) -> list[str]:
    """Files that share one reason in one part (`a`, `b` (why)): the reason is said once, not per file."""
    groups: dict[str, list[str]] = {}
    for u in entries:
        groups.setdefault(u.why, []).append(code(u.path))
    return [", ".join(paths) + (f" ({'each: ' if len(paths) > 1 else ''}{why})" if why and why != "changed" else "")
            for why, paths in groups.items()]


@dataclass
class HandoffDoc:
    """A generated handoff: Markdown for people and agents plus its structured JSON form.

    `data` keys (all JSON types): format, generated_by ("rules"), generated_at, project, session
    (with ended_mid_task and its reasons), mission, pins, current_work {task, done, untouched_outputs, open_spec_items,
    last_action, next_task}, next_actions, summary {asked, requests, stopped_at, plan},
    accomplishments, current_state {root, branch, upstream, no_upstream, pushed, uncommitted,
    changed_not_known (committed or not is not known), listed_not_changed (by git, not this
    session's changes), last_commit, outside_project}, checks (each with changed_since and verified), commits, tasks,
    contracts, commands, urls, links, task_ids, files, decisions, blockers, errors, learnings,
    next_steps, todos, open_items (carried: {text, kind, since_session, source, origin?}; the next
    actions worked out here join them with source and origin "handoff"), closed_items,
    metrics {measured, predicted, reported?, transcript}, stats, budget {budget_chars, output_chars,
    over_budget, reason, dropped}, generation_errors [{section, error, count?}] (parts that raised and
    were left out; empty when none did). List sections hold what the Markdown shows.

    `must_keep`: [{kind, text}] where `text` appears verbatim in `markdown`; kinds: file,
    test_command, build_command, error, task_id, user_request, todo, decision, url, pin, next_step,
    next_action, blocker, accomplishment, learning, commit, branch, location, contract, convention,
    state. The LLM writer is checked against them and repaired with them.
    """

    markdown: str
    data: dict[str, Any]
    must_keep: list[dict[str, str]] = field(default_factory=list)
    input_chars: int = 0
    output_chars: int = 0
    layout: dict[str, Any] = field(default_factory=dict)  # every item with its rank: any budget, later


# ----------------------------------------------------------------------------- small helpers


def _strs(record: Mapping[str, Any] | None, key: str) -> list[str]:
    """Non-empty strings of a list field of a record (tolerates None, a single string, other types)."""
    if not record:
        return []
    v = record.get(key)
    if v is None:
        return []
    if isinstance(v, str):
        v = [v]
    out = []
    for x in v if isinstance(v, list | tuple) else [v]:
        if x is None:
            continue
        s = x if isinstance(x, str) else json.dumps(x, sort_keys=True, default=str)
        if s.strip():
            out.append(s)
    return out


def _str(record: Mapping[str, Any] | None, key: str) -> str:
    v = (record or {}).get(key)
    return "" if v is None else one_line(str(v))


def _int(v: Any) -> int | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    try:
        return int(str(v))
    except (TypeError, ValueError):
        return None


def prefix_words(text: str, limit: int) -> str:
    """The start of `text` up to `limit` chars, ending at a word boundary, with no ellipsis.

    Used for must-keep strings of long facts: a short, stable string that appears verbatim.
    """
    t = text.strip()
    if len(t) <= limit:
        return t
    cut = t[:limit]
    space = cut.rfind(" ")
    if space >= limit // 3:
        cut = cut[:space]
    return cut.rstrip(" ,;:-")


def _fmt_num(x: Any) -> str:
    if isinstance(x, bool) or x is None:
        return str(x)
    if isinstance(x, int):
        return f"{x:,}"
    if isinstance(x, float):
        if x.is_integer() and abs(x) < 1e15:
            return f"{int(x):,}"
        return f"{x:,.3f}".rstrip("0").rstrip(".")
    return str(x)


def _pct(part: float | None, whole: float | None) -> str:
    if part is None or not whole:
        return ""
    return f" ({100.0 * part / whole:.0f}%)"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    if h:
        return f"{h}h {m:02d}m"
    if m:
        return f"{m}m {sec:02d}s"
    return f"{sec}s"


def _quote(text: str, limit: int = 600) -> str:
    """A user message as a Markdown blockquote, shortened at a word boundary (its start is kept)."""
    t = text.strip()
    if len(t) > limit:
        cut = t[:limit]
        m = list(re.finditer(r"\s", cut))
        if m and m[-1].start() >= limit // 3:
            cut = cut[: m[-1].start()]
        t = cut.rstrip(" ,;:-\n") + " …"
    lines = [ln.rstrip() for ln in t.split("\n")]
    out: list[str] = []
    for ln in lines:
        if not ln and out and out[-1] == ">":
            continue
        out.append(quote_line(ln))
    return "\n".join(out)


def _first_line(text: str) -> str:
    for ln in text.strip().split("\n"):
        if ln.strip():
            return ln.rstrip()
    return ""


# ----------------------------------------------------------------------------- open items


def _matches_done(key: str, done: set[str]) -> bool:
    return bool(key) and key in done


def carry_open_items(session: Mapping[str, Any], previous: Mapping[str, Any] | None,
                     facts: TranscriptFacts) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(open items after this session, items closed by it).

    Open items of the previous handoff stay open until this session marks them done: its
    `done_items` name them (same text, ignoring case/punctuation/spacing) or a todo with the same
    content is completed. This session's own next steps, blockers and unfinished todos join them.
    """
    n = _int(session.get("number")) or 0
    done = {norm_key(x) for x in _strs(session, "done_items")}
    done |= {k for k, t in facts.todos.items() if t.status == "completed"}
    open_items: list[dict[str, Any]] = []
    closed: list[dict[str, Any]] = []
    index: dict[str, dict[str, Any]] = {}

    def add(text: str, kind: str, since: int, source: str, origin: str | None = None) -> None:
        key = norm_key(text)
        if not key:
            return
        if key in index:  # already open: keep the oldest "since"
            index[key]["since_session"] = min(index[key]["since_session"], since)
            return
        item = {"text": one_line(text), "kind": kind, "since_session": since, "source": source}
        if origin:
            item["origin"] = origin  # a next action an earlier handoff worked out (closed by evidence)
        if _matches_done(key, done):
            closed.append(item)
            return
        index[key] = item
        open_items.append(item)

    prev_items = (previous or {}).get("open_items") or []
    for it in prev_items if isinstance(prev_items, list) else []:
        if isinstance(it, str):
            it = {"text": it}
        if not isinstance(it, Mapping) or not isinstance(it.get("text"), str):
            continue
        since = _int(it.get("since_session"))
        origin = "handoff" if "handoff" in (it.get("origin"), it.get("source")) else None
        add(it["text"], str(it.get("kind") or "next_step"), since if since is not None else max(n - 1, 0),
            "carried", origin)
    for text in _strs(session, "next_steps"):
        add(text, "next_step", n, "session")
    for text in _strs(session, "blockers"):
        add(text, "blocker", n, "session")
    for t in facts.todos.values():
        if t.status != "completed":
            add(t.content, "todo", n, "transcript")
    return open_items, closed


def derived_key(text: str) -> str | None:
    """What a next action this writer worked out is about (`push`, `close:t-1.2`, `pass:<command>`),
    read back from its own wording, so a later session's evidence can close it; None for others."""
    t = text.strip()
    first = re.search(r"`([^`]+)`", t)
    arg = first.group(1) if first else ""
    for prefix, key in (("Push", "push"), ("Commit ", "commit"), ("Run `git status`", "git-status"),
                        ("Re-run the checks", "rerun"), ("Build or test ", "cover")):
        if t.startswith(prefix):
            return key
    for prefix, key in (("Make `", "pass:"), ("Close `", "close:"), ("Finish `", "close:"), ("Then start `", "start:"),
                        ("Start `", "start:")):
        if t.startswith(prefix) and arg:
            return key + arg
    m = re.match(r"When every task under `([^`]+)` is closed", t)
    return "close:" + m.group(1) if m else None


def derived_done(key: str, text: str, facts: TranscriptFacts, st: Any) -> bool:
    """This session's evidence that a carried next action is done: a push that succeeded, a commit
    (or a clean `git status`) that has the files, the check passing, the task closed or started."""
    from . import checktargets, gitstate

    named = re.findall(r"`([^`]+)`", text)
    if key == "push":
        return st.git.pushed and not st.git.unpushed
    if key == "commit":
        paths = [p for p in named if "/" in p or "." in p]
        res = gitstate.resolve({p: [-1] for p in paths}, set(), facts.git.events, facts.root)
        return bool(paths) and all(res[p].state in ("committed", "clean") for p in paths)
    if key == "git-status":
        return any(e.kind == "snapshot" for e in facts.git.events)
    if key.startswith("pass:"):
        want = checktargets.target(key[5:])
        return any(c.outcome == "pass" and checktargets.covers(checktargets.target(c.command, c.cwd), want)
                   for c in facts.checks.values())
    if key == "rerun":  # the commands it names (its first sentence; a note on the whole suite follows)
        cmds = re.findall(r"`([^`]+)`", text.split(". ", 1)[0])
        ran = {c.command for c in facts.checks.values()}
        return bool(cmds) and all(c in ran for c in cmds)
    if key == "cover":
        return bool(facts.checks)
    tid = key.split(":", 1)[1]
    task = facts.tasks.get(tid)
    if key.startswith("close:"):
        return task is not None and task.status == "closed"
    return task is not None and task.status in ("in_progress", "closed")  # start:


def carry_derived(open_items: list[dict[str, Any]], closed: list[dict[str, Any]], next_actions: list[str],
                  facts: TranscriptFacts, st: Any, n: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Next actions a handoff worked out stay open like open items until a later session's evidence
    shows them done (a push that succeeded, the task closed, the check passing) or its own handoff
    works out the same step again in new words (then the new wording replaces the old)."""
    new_keys = {derived_key(a): norm_key(a) for a in next_actions if derived_key(a)}
    kept: list[dict[str, Any]] = []
    for it in open_items:
        key = derived_key(it["text"]) if it.get("origin") == "handoff" else None
        if key is not None and (derived_done(key, it["text"], facts, st) or (
                key in new_keys and new_keys[key] != norm_key(it["text"]))):
            closed.append(it)
            continue
        kept.append(it)
    have = {norm_key(it["text"]) for it in kept}
    for a in next_actions:
        if derived_key(a) and norm_key(a) not in have:
            kept.append({"text": one_line(a), "kind": "next_step", "since_session": n, "source": "handoff",
                         "origin": "handoff"})
            have.add(norm_key(a))
    return kept, closed


# ----------------------------------------------------------------------------- section builders


def _empty_state() -> State:
    """The state when deriving it failed: nothing known, so no section claims anything about it."""
    return State(checks=[], git=GitState(branch=None), family_root=None, family=[], current=None, next_task=None,
                 mid_task=[], done_in_current=[], untouched_outputs=[], last_action="", next_actions=[],
                 errors_open=[])


class _Builder:
    def __init__(self, project: Mapping[str, Any], session: Mapping[str, Any], facts: TranscriptFacts,
                 previous: Mapping[str, Any] | None, pins: list[str], open_items: list[dict[str, Any]],
                 generated_at: str | None, knowledge: list[Mapping[str, Any]] | None = None) -> None:
        self.knowledge = [k for k in (knowledge or []) if isinstance(k, Mapping) and isinstance(k.get("title"), str)]
        self.project = project or {}
        self.session = session or {}
        self.f = facts
        self.previous = previous or {}
        self.pins = pins
        self.open_items = open_items
        self.generated_at = generated_at
        self.n = _int(self.session.get("number")) or 0
        self.failures: list[dict[str, Any]] = []  # parts that raised: data["generation_errors"]
        self.st = guard.run(self.failures, "state", lambda: derive(facts), None) or _empty_state()

    def _recency(self, index: int) -> float:
        total = max(self.f.stats.get("messages", 1), 1)
        return max(0.0, min(1.0, index / total))

    def _p(self, path: str) -> str:
        return code(self.f.display(path))

    # -- header

    def header(self) -> str:
        name = _str(self.project, "name") or "Untitled project"
        recorded = _str(self.session, "status") or "unknown"
        lines = [f"# Handoff: {name} — session {self.n} → {self.n + 1}", ""]
        if self.st.mid_task:  # the facts it ended on, not "mid-task" (a guess)
            ended = f"as it ended: {'; '.join(self.st.mid_task)}"
            if recorded not in ("in_progress", "unknown"):
                ended += f" (the session's own status: {recorded})"
        else:  # the record's word, never a verdict on the work ("completed" reads as "the work is done")
            ended = "ended" if recorded == "completed" else f"recorded status: {recorded.replace('_', ' ')}"
        lines.append(" · ".join(["Generated by: rules", f"Date: {self.generated_at or 'not recorded'}",
                                 f"Session {self.n} {ended}"]))
        who = []
        if _str(self.session, "title"):
            who.append(f"Session {self.n}: {_str(self.session, 'title')}")
        if _str(self.session, "model"):
            who.append(f"Model: {_str(self.session, 'model')}")
        if _str(self.session, "ai_account"):
            who.append(f"Account: {_str(self.session, 'ai_account')}")
        if who:
            lines.append(" · ".join(who))
        return "\n".join(lines) + "\n"

    # -- current work and next action (first: what the next session must know to act)

    def current_work(self) -> Section:
        s = Section("current_work", "Current work")
        st, f = self.st, self.f
        cur = st.current
        if cur is not None:
            title = f" — {quoted(cur.title, 110)}" if cur.title else ""
            parent = ""
            if st.family_root is not None and st.family_root is not cur:
                parent = f" (part of {code(st.family_root.id)}, {st.family_root.status.replace('_', ' ') or 'status unknown'})"
            s.items.append(Item(f"- **Task in progress:** {code(cur.id)}{title}{parent}.",
                                rank=RANKS["current.task"],
                                keep=(("task_id", cur.id),), group="current work"))
        if st.done_in_current:
            label = ("Done in it so far" if cur is not None else "Changed since the last commit" if self.f.commits
                     else "Changed in this session")
            states = {f.git_files[d].state if d in f.git_files else "unknown"
                      for d in (f.display(e.path) for e in st.done_in_current)}
            committed = ("git state not seen" if not st.git.known else "not committed" if states == {"uncommitted"}
                         else "committed since" if states <= {"committed", "clean"}
                         else "committed or not is not known" if states <= {"uncommitted", "unknown"}
                         else "some committed since (see Git below)")
            verified = f" ({committed}; not re-verified since)" if any(cs.edits_since for cs in st.checks) else (
                f" ({committed}; no check run in the transcript)" if not st.checks else f" ({committed})")
            if st.git.uncommitted or st.git.changed or not st.git.known:
                s.items.append(Item(f"- **{label}**{verified}:",
                                    rank=RANKS["current.done_so_far"], group="current work"))
                terms = {t for t in re.findall(r"`([^`\n]{4,60})`", cur.spec if cur is not None else "")
                         if not t.endswith((".ex", ".exs", ".js", ".py", ".ts", ".css", ".json", ".md", "/"))}
                shown_lines: set[str] = set()
                for k, ev in enumerate(st.done_in_current[-8:]):
                    scored = [(sum(len(t) for t in terms if t in ln), k2, ln) for k2, ln in
                              enumerate(ev.text.split("\n"))]
                    best = sorted((x for x in scored if x[0]), key=lambda x: (-x[0], x[1]))[:2]
                    hits = [clip(safe_inline(ln.strip()), 90) for _sc, _k, ln in sorted(best, key=lambda x: x[1])]
                    lines = hits or ev.sample[:1]
                    what = (": " + " / ".join(code(x) for x in lines)) if lines else (
                        f" by {code(clip(ev.how, 70))}" if " " in ev.how and ev.how != "edit block" else "")
                    line = f"  - {self._p(ev.path)}{what}"
                    if line in shown_lines:  # the same file again with nothing new to say
                        continue
                    shown_lines.add(line)
                    s.items.append(Item(line, rank=RANKS["current.edit"] - k * 0.01, group="edits"))
        if cur is not None and st.untouched_outputs:
            files = ", ".join(code(p) for p in st.untouched_outputs)
            s.items.append(Item(f"- **Not changed yet** of the files the task lists as output: {files}.",
                                rank=RANKS["current.untouched_outputs"],
                                group="current work"))
        if cur is not None and st.open_spec:
            items = "; ".join(f"“{x}”" for x in st.open_spec[:4]) + (
                f" and {len(st.open_spec) - 4} more" if len(st.open_spec) > 4 else "")
            s.items.append(Item(f"- **Spec items the changes do not show yet:** {items}.",
                                rank=RANKS["current.open_spec"],
                                group="current work"))
        if st.last_action:
            last = st.last_action.split("; it put in")[0] if st.done_in_current else st.last_action
            s.items.append(Item(f"- **Last action that took effect:** {last}.",
                                rank=RANKS["current.last_action"], group="current work"))
        la = f.last_assistant
        if la and f.last_assistant_index > (f.actions[-1].index if f.actions else -1):
            words = re.sub(r"```.*?(?:```|$)", " […] ", la, flags=re.S)  # a quoted block is not a sentence
            s.items.append(Item("- Its last words (after that action): " + quoted(words, 300),
                                rank=RANKS["current.last_words"],
                                group="current work"))
        return s

    def next_action(self) -> Section:
        s = Section("next_action", "Next action")
        for k, a in enumerate(self.st.next_actions):
            s.items.append(Item(f"{k + 1}. {a}",
                                rank=RANKS["next_action"] - k * 0.05,
                                group="next actions", data_key="next_actions",
                                payload=a, keep=(("next_action", prefix_words(a, 70)),)))
        return s

    # -- state: checks, git, tasks

    def state(self) -> Section:
        s = Section("state", f"State at the end of session {self.n}")
        st, f = self.st, self.f
        sub = "Checks (latest outcome, and what changed since)"
        groups: dict[tuple[str, ...], list[Any]] = {}
        for cs in st.checks[:12]:
            # one line per shared state: a group's "changed since" lists are its members' own, never a neighbour's
            groups.setdefault((cs.covered_by, cs.passed_later, tuple(cs.not_covered), *cs.edited_since), []).append(cs)
        glist = list(groups.items())
        for k, (key, members) in enumerate(glist[:2]):
            s.items.append(self._check_item(members, list(key[3:]), k, sub, covered_by=key[0], passed_later=key[1]))
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
            for cs in older:
                n = len(cs.edited_since)
                when = (f"last run before {n} file{'s' if n > 1 else ''} changed, not re-verified: " if n and not
                        cs.passed_later else "")
                parts.append(f"{code(cs.check.command)} {when}{words[cs.check.outcome]}" + (
                    f" ({quoted(cs.check.summary, 100)})" if cs.check.summary else "") + (
                    f", then {code(cs.passed_later)} passed" if cs.passed_later else "") + (
                    "" if n or cs.passed_later else
                    f"; the changes since were checked by {code(cs.covered_by)}, which passed" if cs.covered_by
                    else ", nothing it checks changed since" if cs.not_covered else ", nothing changed since"))
            s.items.append(Item("- Earlier checks: " + "; ".join(parts),
                                rank=RANKS["checks.earlier"], sub=sub, group="checks",
                                keep=tuple(("test_command" if cs.check.kind == "test" else "build_command",
                                            cs.check.command) for cs in older)))
        sub = "Git (as git printed it)"
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
                                rank=RANKS["git.commit"] + 2 * self._recency(c.index),
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
        s.items.extend(self._task_items())
        return s

    def _check_item(self, members: list[Any], since: list[str], k: int, sub: str, covered_by: str = "",
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
        elif passed_later:
            after = f" — then {code(passed_later)} passed after it"
            if since:
                after += f"; later changes ({', '.join(code(p) for p in since[:3])}) are **not re-verified**"
        elif not since and covered_by:
            after = f" — not run again since, but {code(covered_by)} passed after the later changes"
        elif since:
            keep.append(("state", "not re-verified"))
            after = ""
            if covered_by and covered_by not in [cs.check.command for cs in members]:
                after += f" (earlier changes were seen by {code(covered_by)}, which passed)"
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
            n = len(since)
            lead = f"- Last run before {n} file{'s' if n > 1 else ''} changed ({files}), **not re-verified**: "
        return Item(lead + "; ".join(parts) + after, rank=rank, sub=sub, group="checks", keep=tuple(keep),
                    data_key="checks", payload=[{"command": cs.check.command, "kind": cs.check.kind,
                                                 "outcome": cs.check.outcome, "summary": cs.check.summary,
                                                 "runs": cs.check.runs, "changed_since": since,
                                                 "verified": not since,
                                                 "covered_by": covered_by or None,
                                                 "passed_later": passed_later or None} for cs in members])

    def _task_items(self) -> list[Item]:
        st = self.st
        items: list[Item] = []
        if not st.family:
            for t in self.f.task_ids[:6]:  # ids the user typed that no tracker output described
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
            if t.status in ("open", "") and t.started_index < 0 and k > 0:
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

    # -- contracts: what the current and the next task require, verbatim

    def contracts(self) -> list[Section]:
        out = []
        st = self.st
        for t, label, base in ((st.current, "in progress", RANKS["contract.current"]),
                                (st.next_task, "next", RANKS["contract.next"])):
            if t is None or not t.spec:
                continue
            s = Section(f"contract_{label.split()[0]}", f"Contract of {code(t.id)} ({label}), verbatim from the tracker")
            for k, (head, block) in enumerate(tracker.spec_blocks(t.spec)):
                rank = base - _SPEC_PRIORITY.get(_spec_key(head), 3.0) - k * 0.01
                s.items.append(Item("", rank=RANKS["hidden"], hidden=True, data_key="contracts",
                                    payload={"task": t.id, "section": head, "text": block}))
                for j, part in enumerate(_bullet_groups(_compact(block))):
                    text = "\n".join(quote_line(ln.rstrip()) for ln in part.split("\n"))
                    s.items.append(Item(text, rank=rank - j * 0.05, group=f"{t.id} spec items",
                                        keep=(("contract", prefix_words(_content_line(part, head), 60)),) if j == 0
                                        else ()))
            out.append(s)
        return out

    # -- what the user asked

    def requests(self) -> Section:
        s = Section("requests", "What the user asked (verbatim)")
        msgs = self.f.user_messages
        if not msgs:
            return s
        chosen = [msgs[0], *msgs[1:][-(MAX_REQUESTS - 1):]]
        for k, um in enumerate(chosen):
            rank = (RANKS["requests.last"] if k == len(chosen) - 1 else RANKS["requests.first"] if k == 0
                    else RANKS["requests.middle"] + k * 0.1)
            key = prefix_words(_first_line(um.text), 100)
            tag = "\n> _(typed while the agent was working)_" if um.queued else ""
            s.items.append(Item(_quote(um.text) + tag, rank=rank, group="requests",
                                keep=(("user_request", key),) if key else (), data_key="requests",
                                payload=um.text.strip()))
        return s

    # -- conventions and facts learned

    def conventions(self) -> Section:
        s = Section("conventions", "Conventions seen in this repository")
        f, g = self.f, self.f.git
        if g.messages:
            _i, msg = g.messages[-1]
            lines = [ln for ln in msg.split("\n") if ln.strip()]
            subject = lines[0] if lines else ""
            trailers = [ln.strip() for ln in lines[1:] if re.match(r"^[A-Z][\w-]+(?:-[A-Za-z]+)*: .+", ln.strip())
                        and not ln.startswith(("-", "*"))]
            text = f"- Commit messages: subject like {code(clip(subject, 120))}"
            body = len(lines) - 1 - len(trailers)
            if body > 0:
                text += ", then a body"
            if trailers:
                text += ", trailer " + ", ".join(code(clip(t, 90)) for t in trailers[-2:])
            if f.commands and any("<<" in c and "commit" in c for _i2, c in self.f_shell_texts()):
                text += "; the message goes through a heredoc (`git commit -m \"$(cat <<'EOF' … EOF)\"`)"
            s.items.append(Item(text + ".", rank=RANKS["conventions.commit_messages"], group="conventions",
                                keep=(("convention", prefix_words(safe_inline(subject), 50)),)))
            if len(f.commits) > 1:
                subs = ", ".join(code(clip(c.subject, 70)) for c in f.commits[:-1][-3:])
                s.items.append(Item(f"- Earlier subjects: {subs}.",
                                    rank=RANKS["conventions.earlier_subjects"], group="conventions"))
        if g.explicit_adds or g.wildcard_adds:
            how = ("files are staged by explicit path (`git add <paths>`), never `git add -A`" if not g.wildcard_adds
                   else "files are staged with `git add -A`/`.`" if not g.explicit_adds
                   else "files are staged both by path and with `git add -A`")
            s.items.append(Item(f"- {how[0].upper()}{how[1:]}.",
                                rank=RANKS["conventions.staging"], group="conventions"))
        if f.commits:
            routine = [c for c in self._routine_cmds()]
            if routine:
                s.items.append(Item("- Before its last commit the session ran " + " → ".join(code(c) for c in routine)
                                    + self._commit_tail() + ".", rank=RANKS["conventions.routine"],
                                    group="conventions"))
        for p in dict.fromkeys(g.forced):
            ign = f" (ignored by `.gitignore`: {code(g.ignored[0])})" if g.ignored else ""
            s.items.append(Item(f"- {code(p)} must be force-added: `git add -f {p}`{ign}.",
                                rank=RANKS["conventions.force_add"],
                                group="conventions", keep=(("convention", f"git add -f {p}"),)))
        if g.hooks:
            s.items.append(Item(f"- Commit hooks run: {code(g.hooks[0])}.",
                                rank=RANKS["conventions.hooks"], group="conventions"))
        subdirs: dict[str, str] = {}
        for _i, cmd in self.f_shell_texts():
            m = re.match(r"^\s*cd\s+(\S+)\s*&&\s*(.+)$", cmd.split("\n", 1)[0])
            if m and not m.group(1).startswith("/") and m.group(1) not in subdirs:
                subdirs[m.group(1)] = clip(safe_inline(m.group(2).split("&&")[0].strip()), 80)
        for d, c in list(subdirs.items())[:3]:
            s.items.append(Item(f"- {code(c)} runs from {code(d + '/')} (`cd {d} && …`).",
                                rank=RANKS["conventions.subdir"], group="conventions"))
        if f.tracker_commands:
            forms: dict[str, str] = {}  # verb -> the command as used, its ids replaced by <id>
            for _i, cmd in f.tracker_commands:
                verb = " ".join(cmd.split()[:2])
                if verb in forms or verb.split()[-1] not in ("update", "close", "show", "ready", "sync", "list",
                                                             "view", "create", "reopen"):
                    continue
                form = cmd.split(" 2>", 1)[0].split(" --reason", 1)[0].split(" |", 1)[0]
                form = re.sub(r"(?<![\w-])(?:[A-Za-z][\w]*-[\w]+(?:\.\d+)*|#\d+)(?:\s+(?:[A-Za-z][\w]*-[\w]+"
                              r"(?:\.\d+)*|#\d+))*", "<id>", form)
                forms[verb] = clip(form, 60)
            if forms:
                s.items.append(Item("- Tracker workflow seen: " + ", ".join(code(v) for v in list(forms.values())[:7])
                                    + ".", rank=RANKS["conventions.tracker"], group="conventions"))
        return s

    def f_shell_texts(self) -> list[tuple[int, str]]:
        return self.f.shell_texts

    def _commit_tail(self) -> str:
        """What followed the checks around the last commit: closing the task, committing, pushing."""
        f = self.f
        last = f.commits[-1]
        prev = f.commits[-2].index if len(f.commits) > 1 else -1
        checks = [c.last for c in f.checks.values() if prev < c.last <= last.index]
        start = max(checks) if checks else prev
        steps = []
        if any(a.text.startswith("task:") and a.text.endswith(":closed") and start < a.index <= last.index
               for a in f.actions):
            steps.append("the task closed in the tracker")
        steps.append("`git commit`")
        nxt = next((a for a in f.actions if a.index >= last.index and not a.text.startswith(("task:", "commit:"))),
                   None)
        if nxt is not None and nxt.text == "push":
            steps.append("`git push`")
        return ", then " + " → ".join(steps)

    def _routine_cmds(self) -> list[str]:
        from .state import _routine
        return list(dict.fromkeys(_routine(self.f, self.st.checks)))[-6:]

    def learned(self) -> Section:
        s = Section("learned", "Facts learned by reading the code")
        for x in _strs(self.session, "learnings"):
            t = one_line(x)
            s.items.append(Item(f"- {t}", required=True, keep=(("learning", prefix_words(t, 120)),),
                                data_key="learnings", payload={"text": t, "source": "session"}))
        seen: set[str] = set()
        notes = []
        # a diagnosis of an error that a later run no longer showed is history, not a fact about the code
        fixed = [e for e in self.f.errors if e.resolved is True and e.fix_index > e.index and e.fix_edits]

        def stale(d: Any) -> bool:  # "X is missing", said between the error and the edit that added X
            terms = {t.lower() for t in re.findall(r"['`]([^'`\s]{4,})['`]|\b(\w+_\w+)\b", d.text) for t in t if t}
            return any(e.index < d.index <= e.fix_index and any(
                t in ev.text.lower() for ev in e.fix_edits for t in terms) for e in fixed)

        for d in reversed([d for d in self.f.learned + self.f.learnings if not stale(d)]):
            k = norm_key(d.text)
            if k and k not in seen and len(d.text) >= 25:
                seen.add(k)
                notes.append(d)
        notes.sort(key=lambda d: d.index)
        guesses = [d for d in notes[-MAX_LEARNED:] if d.who == "thinking" or _HYPOTHESIS.search(d.text)]
        for d in notes[-MAX_LEARNED:]:
            if d not in guesses:
                s.items.append(Item(f"- {quoted(d.text, 220)}",
                                    rank=RANKS["findings"] + 3 * self._recency(d.index),
                                    group="findings",
                                    data_key="learnings", payload={"text": d.text, "source": "assistant"}))
        for d in guesses:  # the agent's reasoning or its explanation of a cause: labelled as its own
            s.items.append(Item(f"- The agent thought: “{d.text}”",
                                rank=RANKS["hypotheses"] + 3 * self._recency(d.index),
                                sub="The agent's hypotheses (its own words, not verified)", group="hypotheses",
                                data_key="learnings", payload={"text": d.text, "source": "agent_hypothesis"}))
        return s

    # -- the project's knowledge base: lessons and notes that earlier sessions or people wrote down

    def knowledge_section(self) -> Section:
        s = Section("knowledge", "Project knowledge")
        ordered = sorted(self.knowledge, key=lambda it: it.get("source_session") is not None)  # people first
        for k, item in enumerate(ordered[:MAX_KNOWLEDGE]):
            title = one_line(str(item.get("title") or ""))
            body = one_line(str(item.get("body") or ""))
            text = f"- **{safe_inline(title)}**" + (f": {clip(safe_inline(body), 280)}" if body and body != title else "")
            by_hand = item.get("source_session") is None  # written by a person: ranked first
            rank = (RANKS["knowledge.by_person"] if by_hand else RANKS["knowledge.lesson"]) - k * 0.05
            s.items.append(Item(text, rank=rank, group="knowledge items", data_key="knowledge",
                                payload={"id": item.get("id"), "title": title}))
        return s

    # -- errors with their fix

    def errors(self) -> Section:
        s = Section("errors", "Errors and their fixes")
        for b in self.open_items:
            if b["kind"] == "blocker":
                since = f" _(open since session {b['since_session']})_" if b["since_session"] < self.n else ""
                s.items.append(Item(f"- {b['text']}{since}", required=True, sub="Open blockers",
                                    keep=(("blocker", prefix_words(b["text"], 120)),), data_key="blockers", payload=b))
        for e in _strs(self.session, "errors"):
            t = one_line(e)
            s.items.append(Item(f"- {t}", required=True, sub="Errors recorded by the session",
                                keep=(("error", prefix_words(t, 120)),), data_key="errors",
                                payload={"error": t, "source": "session"}))
        errs = sorted(self.f.errors, key=lambda e: (e.resolved is True, -e.index))[:MAX_ERRORS]
        errs.sort(key=lambda e: e.index)
        # under their own heading when blockers or recorded errors come first (else they would read
        # as more open blockers); alone in the section they need none
        sub = "Errors in the transcript" if s.items else None
        for e in errs:
            item = self._error_item(e)
            item.sub = sub
            s.items.append(item)
        return s

    def _error_item(self, e: ErrorFact) -> Item:
        times = f" (×{e.count})" if e.count > 1 else ""
        head = (f"- {code(e.command)} failed" if e.tool
                else f"- {code(clip(e.line, 110))} — from {code(clip(e.command, 70))}{times}")
        if e.tool:
            head += f": {code(e.line)}"
        fix = ""
        if e.tool:
            fix = " Not retried" + (f"; the session did it directly instead ({code(clip(e.later, 90))})." if e.later
                                    else ".")
        elif e.resolved is True:
            back = f", which failed again on the earlier {code(clip(e.gave_way, 80))}." if e.gave_way else ""
            if e.fix_edits:
                by_path: dict[str, list[str]] = {}
                for ev in e.fix_edits[-3:]:
                    by_path.setdefault(ev.path, []).extend(ev.lines_naming(e.tokens))
                parts = [self._p(p) + (": " + " / ".join(code(x) for x in dict.fromkeys(lines[:2])) if lines else "")
                         for p, lines in by_path.items()]
                fix = (" Fixed by editing " + "; ".join(parts) + "." if not e.gave_way else
                       # the next run failed again on an earlier error: the edit moved the failure back
                       " Gone on the next run after editing " + "; ".join(parts) + back)
            elif e.fix_command:
                fix = f" Fixed by running {code(e.fix_command)}."
            else:
                fix = " Gone on the next run" + (back or ".")
        elif e.resolved is False:
            fix = " **Still failing** on the next run."
        elif e.rerun_issued:
            fix = " Re-run issued after it; its result is not in the transcript."
        else:
            fix = " **Not re-run** after this error."
        rank = (RANKS["errors.open"] + 3 * self._recency(e.index)) if e.resolved is not True else (
            RANKS["errors.resolved"] + 3 * self._recency(e.index))
        if e.tool:
            rank = RANKS["errors.tool"]
        elif e.fix_command:
            rank += 1.5
        head = head if head.endswith((".", ".`")) else head + "."
        return Item(head + fix, rank=rank, group="errors", keep=(("error", clip(e.line, 110)),),
                    data_key="errors",
                    payload={"error": e.line, "command": e.command, "count": e.count, "diagnosis": e.diagnosis,
                             "fixed_by": [self.f.display(p) for p in e.fixed_files], "fix_command": e.fix_command,
                             "resolved": e.resolved, "source": "transcript", "tool": e.tool})

    # -- names the session's code introduced (what later tests and callers will refer to)

    def names(self) -> Section:
        s = Section("names", f"Names the code of session {self.n} introduced")
        f = self.f
        per_file: dict[str, list[str]] = {}
        unc = {u.path for u in self.st.git.uncommitted + self.st.git.changed}
        for ev in f.edits:  # files still being worked on: what the next session's tests will call
            if not f.in_project(ev.path) or not ev.text or f.display(ev.path) not in unc:
                continue
            ff = f.files.get(ev.path)
            if ev.rewrite and not (ff is not None and ff.created):  # the names it had before are not new
                continue
            found = per_file.setdefault(f.display(ev.path), [])
            for n in code_names(ev.text, ev.path):
                if n not in found:
                    found.append(n)
        for k, (path, found) in enumerate(sorted(per_file.items(), key=lambda kv: -len(kv[1]))):
            if not found:
                continue
            shown = ", ".join(code(x) for x in found[:10]) + (f" and {len(found) - 10} more" if len(found) > 10 else "")
            s.items.append(Item(f"- {code(path)}: {shown}", rank=RANKS["names"] - k * 0.05,
                                group="name lists"))
        return s

    # -- files

    def files(self) -> Section:
        s = Section("files", f"Files changed in session {self.n}")
        f = self.f
        groups: dict[str, list[str]] = {}
        labels: dict[str, str] = {}
        unc = {u.path for u in self.st.git.uncommitted}
        unknown = {u.path for u in self.st.git.changed}
        for ff in sorted(f.files.values(), key=lambda x: f.display(x.path)):
            if not f.in_project(ff.path) or ff.scratch:
                continue
            disp = f.display(ff.path)
            gst = f.git_files.get(disp)
            added, removed = ff.added, ff.removed
            if gst is not None and gst.counts is not None:  # git's own count of the diff
                added, removed = gst.counts
            elif disp in unc and ff.committed_at >= 0 and ff.source == "transcript":  # since its last commit
                since = [e for e in f.edits if e.path == ff.path and e.index > ff.committed_at]
                added = None if any(e.added is None for e in since) else sum(e.added or 0 for e in since)
                removed = None if any(e.removed is None for e in since) else sum(e.removed or 0 for e in since)
            counted = disp in unc or (disp in unknown and ff.source != "transcript")  # a diff is known to exist
            if ff.kind == "deleted" and (gst is None or gst.counts is None):
                added = removed = None  # a shell deletion's size is not in the transcript: no count
            size = "" if added is None or removed is None or not counted else f" +{added}/−{removed}"
            kind = "" if ff.kind == "modified" or (ff.kind == "added" and ff.commit_sha) else f" {ff.kind}"
            note = f" (“{clip(safe_inline(ff.summary), 80)}”)" if ff.summary and ff.source != "transcript" else ""
            entry = f"{code(disp)}{kind}{size}".rstrip() + note
            if disp in unc or disp in unknown:
                key = "unc" if disp in unc else "unknown"
                labels[key] = "Uncommitted" if key == "unc" else (
                    "Commit state not known" if self.st.git.known
                    else "Changed (git state not seen)")
                if ff.commit_sha:  # committed earlier in the session, then edited again
                    c = next((c for c in f.commits if c.sha == ff.commit_sha), None)
                    labels.setdefault(ff.commit_sha, f"In {code(ff.commit_sha)}" + (
                        " (pushed)" if c is not None and c.pushed else ""))
                    groups.setdefault(ff.commit_sha, []).append(
                        f"{code(disp)} ({'deleted' if ff.kind == 'deleted' else 'edited'} since)")
            elif gst is not None and gst.state == "clean" and not ff.commit_sha:
                key = "clean"
                labels[key] = "Changed, but git listed no change left at the end"
            elif ff.commit_sha or ff.commit:
                key = ff.commit_sha or ff.commit
                c = next((c for c in f.commits if (c.sha or c.subject) == key), None)
                labels[key] = f"In {code(key) if ff.commit_sha else '“' + clip(key, 60) + '”'}" + (
                    " (pushed)" if c is not None and c.pushed else
                    f" (undone by {code(c.undone)})" if c is not None and c.undone else "")
            else:
                key = "other"
                labels[key] = ("Changed (commit not seen in the transcript)" if f.commits
                               else "Changed (git state not seen)")
            if key not in ("unc", "unknown"):  # no diff known: the path is what matters (counts are in the JSON)
                entry = f"{code(disp)}{kind}" + note
            groups.setdefault(key, []).append(entry)
        order = sorted(groups, key=lambda k: (k != "unc", k != "unknown", k in ("other", "clean"), -next(
            (c.index for c in f.commits if (c.sha or c.subject) == k), -1)))
        for r, key in enumerate(order):
            rank = (RANKS["files.uncommitted"] if key in ("unc", "unknown")
                    else RANKS["files.committed"] - r * 0.1)
            entries = groups[key]
            s.items.append(Item(f"- {labels[key]}: " + ", ".join(entries), rank=rank, group="file groups",
                                keep=tuple(("file", e.split("`")[1]) for e in entries)))
        for ff in f.files.values():
            if f.in_project(ff.path):
                s.items.append(Item("", rank=RANKS["hidden"], data_key="files", payload={
                    "path": f.display(ff.path), "abs_path": ff.path, "kind": ff.kind, "lines_added": ff.added,
                    "lines_removed": ff.removed, "edits": ff.edits, "commit": ff.commit_sha, "summary": ff.summary,
                    "uncommitted": f.display(ff.path) in unc, "source": ff.source}, hidden=True))
        return s

    # -- what the session record says (never dropped)

    def mission(self) -> Section:
        s = Section("mission", "Mission and goal")
        prev_m = self.previous.get("mission") if isinstance(self.previous.get("mission"), Mapping) else {}
        goal = _str(self.project, "goal") or _str(prev_m, "goal")
        desc = _str(self.project, "description") or _str(prev_m, "description")
        sgoal = _str(self.session, "goal")
        if goal:
            s.items.append(Item(f"- **Project goal:** {goal}", required=True))
        if desc:
            s.items.append(Item(f"- **Project:** {desc}", required=True))
        if sgoal:
            s.items.append(Item(f"- **Session {self.n} goal:** {sgoal}", required=True))
        return s

    def pinned(self) -> Section:
        s = Section("pins", "Pinned context", intro="_Carried verbatim into every handoff._\n", spaced=True)
        for p in self.pins:
            s.items.append(Item(p, required=True, keep=(("pin", p),), data_key="pins", payload=p))
        return s

    def record(self) -> Section:
        s = Section("record", f"What session {self.n} recorded")
        for a in _strs(self.session, "accomplishments"):
            t = one_line(a)
            s.items.append(Item(f"- {t}", required=True, sub="Accomplishments", keep=(("accomplishment", prefix_words(t, 120)),),
                                data_key="accomplishments", payload={"text": t, "source": "session"}))
        for d in _strs(self.session, "decisions"):
            t = one_line(d)
            s.items.append(Item(f"- {t}", required=True, sub="Decisions", keep=(("decision", prefix_words(t, 120)),),
                                data_key="decisions", payload={"text": t, "source": "session", "session": self.n}))
        for link in _strs(self.session, "links"):
            t = one_line(link)
            s.items.append(Item(f"- {t}", required=True, sub="Links", keep=(("url", prefix_words(t, 120)),),
                                data_key="links", payload=t))
        user_notes = [d for d in self.f.decisions if d.who == "user"]
        for d in user_notes[-MAX_INFERRED_DECISIONS:]:
            t = d.text if d.text.startswith(("User rejected", "User declined", "User interrupted")) else (
                f"User said: “{d.text}”")
            s.items.append(Item(f"- {t}",
                                rank=RANKS["decisions.user"] + self._recency(d.index),
                                sub="User corrections and choices",
                                group="user decisions", keep=(("decision", prefix_words(d.text, 80)),),
                                data_key="decisions", payload={"text": d.text, "source": "user", "session": self.n}))
        earlier = self.previous.get("decisions")
        if isinstance(earlier, list):
            prev = [d for d in earlier if isinstance(d, Mapping) and d.get("source") in ("session", "earlier")
                    and isinstance(d.get("text"), str)]
            for k, d in enumerate(prev[-MAX_EARLIER_DECISIONS:]):
                sess = _int(d.get("session"))
                tag = f" _(session {sess})_" if sess is not None else ""
                s.items.append(Item(f"- {one_line(d['text'])}{tag}",
                                    rank=RANKS["decisions.earlier"] + k * 0.01, sub="Earlier decisions",
                                    group="earlier decisions", data_key="decisions",
                                    payload={"text": one_line(d["text"]), "source": "earlier", "session": sess}))
        urls = sorted((u for u in self.f.urls.values() if u.who == "user"), key=lambda u: u.index)
        for u in urls[:MAX_URLS]:
            s.items.append(Item(f"- {u.text}",
                                rank=RANKS["urls.user"],
                                sub="URLs the user gave", group="URLs", keep=(("url", u.text),),
                                data_key="urls", payload={"url": u.text, "from": u.who}))
        return s

    def open_items_section(self) -> Section:
        s = Section("open_items", "Open items", intro="_Open until a session marks them done._\n")
        own = {norm_key(x) for x in _strs(self.session, "next_steps")}
        steps = {norm_key(a) for a in self.st.next_actions}
        for it in self.open_items:
            if it["kind"] == "blocker" or it["source"] == "handoff" or (
                    it.get("origin") == "handoff" and norm_key(it["text"]) in steps):  # already the Next action
                continue
            since = f" _(open since session {it['since_session']})_" if it["since_session"] < self.n else ""
            label = {"todo": "Todo: ", "next_step": ""}.get(it["kind"], "")
            sub = "" if norm_key(it["text"]) in own else (
                "Still open from earlier sessions" if it["source"] == "carried" else
                "Unfinished todos" if it["kind"] == "todo" else "")
            s.items.append(Item(f"- [ ] {label}{it['text']}{since}", required=True, sub=sub,
                                keep=(("next_step" if it["kind"] != "todo" else "todo", prefix_words(it["text"], 120)),),
                                data_key="next_steps", payload=it))
        for t in [t for t in self.f.todos.values() if t.status == "completed"][-6:]:
            s.items.append(Item(f"- [x] {t.content}",
                                rank=RANKS["todos.completed"] + 3 * self._recency(t.index),
                                sub="Completed todos",
                                group="completed todos", keep=(("todo", prefix_words(t.content, 120)),),
                                data_key="todos", payload={"content": t.content, "status": t.status}))
        return s


_SPEC_PRIORITY = {"definition of done": 0.0, "acceptance criteria": 0.0, "description": 0.1, "": 0.1,
                  "technical specs": 0.5, "edge cases": 0.6, "requirements": 0.5, "output files": 4.0,
                  "architecture constraints": 5.0, "scope": 3.0, "out of scope": 3.0, "no-gos": 3.0,
                  "component usage": 5.5, "source references": 9.0, "goal": 0.3}


def _spec_key(head: str) -> str:
    return head.strip().rstrip(":").lower()


_NAME_PATTERNS = [
    (re.compile(r"^\s*(?:def|defp|defmacro|defmacrop)\s+([a-z_][\w?!]*)\s*(\(([^)]*)\))?", re.M), "fn"),
    (re.compile(r"^\s*defmodule\s+([\w.]+)", re.M), "plain"),
    (re.compile(r"^\s*(?:async\s+)?def\s+([A-Za-z_]\w*)\s*\([^)]*\)\s*(?:->[^:]+)?:\s*$", re.M), "plain"),
    (re.compile(r"^\s*(?:export\s+)?(?:async\s+)?function\s+(\w+)\s*\(", re.M), "plain"),
    (re.compile(r"^\s*(?:export\s+)?class\s+(\w+)", re.M), "plain"),
    (re.compile(r"^\s*(?:pub\s+)?fn\s+(\w+)", re.M), "plain"),
    (re.compile(r"^\s*func\s+(?:\([^)]*\)\s*)?(\w+)", re.M), "plain"),
    (re.compile(r"\bHooks\.(\w+)\s*="), "plain"),
    (re.compile(r"handle_event\(\s*\"([^\"]+)\""), "event"),
    (re.compile(r"\bid=\"([A-Za-z][\w-]*)\""), "id"),
    (re.compile(r"(?<![\w:@-])(?:" + "|".join(re.escape(a) for a in (
        "phx-click", "phx-hook", "phx-submit", "phx-change",  # Phoenix LiveView
        "wire:click", "wire:submit", "wire:model",  # Livewire
        "v-on:click", "v-on:submit", "@click", "@submit",  # Vue, Alpine
        "on:click", "on:submit",  # Svelte
        "data-action", "hx-trigger",  # Stimulus, htmx
    )) + r")=\"([\w:#>.-]+)\""), "plain"),  # event bindings in templates, whatever the framework
]


# the languages a definition pattern belongs to (by file extension); a pattern not listed reads any file
_NAME_LANGS = {0: (".ex", ".exs"), 1: (".ex", ".exs"), 2: (".py",), 3: (".js", ".jsx", ".ts", ".tsx", ".mjs", ".cjs",
               ".vue", ".svelte"), 5: (".rs",), 6: (".go",), 8: (".ex", ".exs")}


def code_names(text: str, path: str = "") -> list[str]:
    """Functions, modules, events and element ids a piece of new code defines (`render/2`,
    event `close_review_session`, `#transcript-messages`), in the order they appear; given the
    file's `path`, only its language's definitions (a Python `def` has no Elixir arity)."""
    out: list[str] = []
    for n, (rx, kind) in enumerate(_NAME_PATTERNS):
        langs = _NAME_LANGS.get(n)
        if path and langs and not path.endswith(langs):
            continue
        for m in rx.finditer(text):
            name = m.group(1)
            if kind == "fn":
                args = m.group(3)
                arity = 0 if m.group(2) is None or not (args or "").strip() else len(args.split(","))
                name = f"{name}/{arity}"
            elif kind == "event":
                name = f"event {name}"
            elif kind == "id":
                name = f"#{name}"
            if name not in out:
                out.append(name)
    return out


def _bullet_groups(block: str) -> list[str]:
    """A spec block cut before each top-level bullet, so a budget can keep its first parts."""
    parts: list[list[str]] = [[]]
    for ln in block.split("\n"):
        if ln.startswith(("- ", "* ")) and parts[-1] and any(x.startswith(("- ", "* ")) for x in parts[-1]):
            parts.append([])
        parts[-1].append(ln)
    return ["\n".join(p) for p in parts if any(x.strip() for x in p)]


def _content_line(block: str, head: str) -> str:
    """The first line of a spec block after its heading, as the Markdown quotes it."""
    for ln in _compact(block).split("\n"):
        t = ln.strip()
        if t and t.rstrip(":").lstrip("# ").strip() != head:
            return t
    return head


def _compact(block: str) -> str:
    """A spec block with runs of blank lines and deep indentation squeezed (still verbatim words)."""
    lines = []
    for ln in block.split("\n"):
        m = re.match(r"^(\s*)(.*)$", ln)
        ind, rest = (m.group(1), m.group(2)) if m else ("", ln)
        lines.append(" " * min(len(ind.expandtabs(2)), 4) + rest.rstrip())
    return re.sub(r"\n{2,}", "\n", "\n".join(lines)).strip("\n")


# ----------------------------------------------------------------------------- entry point


def build_handoff(*, project: Mapping[str, Any], session: Mapping[str, Any], messages: Iterable[Message],
                  file_changes: list[FileChange] | None, previous: Mapping[str, Any] | None,
                  pins: list[str] | None, budget_chars: int = DEFAULT_BUDGET,
                  generated_at: str | None = None, fmt: str = "",
                  knowledge: list[Mapping[str, Any]] | None = None) -> HandoffDoc:
    """Write the handoff for session N+1 from session N, without an LLM. It never raises.

    A part that raises (a fact extractor, a section) is left out, logged, and named in
    `data["generation_errors"]` ([{section, error}]); the rest is written as usual. If the document
    itself cannot be assembled, the session record, pins and open items are still handed on.
    """
    try:
        return _build_handoff(project=project, session=session, messages=messages, file_changes=file_changes,
                              previous=previous, pins=pins, budget_chars=budget_chars, generated_at=generated_at,
                              fmt=fmt, knowledge=knowledge)
    except Exception as exc:  # noqa: BLE001 - the rules path is the one that must always write a document
        failures: list[dict[str, Any]] = []
        guard.record(failures, "document", exc)
        return _fallback_handoff(project, session, previous, pins, budget_chars, generated_at, failures)


def _build_handoff(*, project: Mapping[str, Any], session: Mapping[str, Any], messages: Iterable[Message],
                   file_changes: list[FileChange] | None, previous: Mapping[str, Any] | None,
                   pins: list[str] | None, budget_chars: int = DEFAULT_BUDGET,
                   generated_at: str | None = None, fmt: str = "",
                   knowledge: list[Mapping[str, Any]] | None = None) -> HandoffDoc:
    """The handoff, each part isolated (`build_handoff` is the entry point).

    Deterministic: the same arguments give the same bytes. `budget_chars` bounds the Markdown;
    it is met by dropping the lowest-ranked inferred facts whole. Pins, session-record items and
    open items are never dropped; when they alone exceed the budget the document does too, and
    `data["budget"]["over_budget"]` says so. `doc.layout` renders any other budget (`render_layout`).
    `knowledge` is the project's knowledge base, newest first ({id, title, body, source_session}):
    items written by people rank above extracted lessons; the ids kept are `data["knowledge_used"]`.
    """
    msgs = messages if isinstance(messages, list) else list(messages)
    pins = [p for p in (pins or []) if isinstance(p, str) and p.strip()]
    hint = (session or {}).get("cwd") or (project or {}).get("root")
    failures: list[dict[str, Any]] = []
    facts = guard.run(failures, "facts", lambda: extract_facts(
        msgs, file_changes or [], root_hint=hint if isinstance(hint, str) else None, fmt=fmt), None)
    facts = facts if facts is not None else TranscriptFacts()
    failures += facts.failures  # a message or step the extractor could not read
    open_items, closed = carry_open_items(session or {}, previous, facts)
    b = _Builder(project or {}, session or {}, facts, previous, pins, open_items, generated_at, knowledge)
    b.failures = failures + b.failures
    b.open_items, closed = guard.run(b.failures, "open items", lambda: carry_derived(
        open_items, closed, b.st.next_actions, facts, b.st, b.n), (open_items, closed))
    open_items = b.open_items

    def part(key: str, build: Any) -> list[Section]:
        out = guard.run(b.failures, key, build, [])
        return out if isinstance(out, list) else [out]

    sections = [*part("current_work", b.current_work), *part("next_action", b.next_action), *part("state", b.state),
                *part("contracts", b.contracts), *part("requests", b.requests),
                *part("open_items", b.open_items_section), *part("mission", b.mission), *part("pins", b.pinned),
                *part("record", b.record), *part("conventions", b.conventions), *part("learned", b.learned),
                *part("knowledge", b.knowledge_section), *part("errors", b.errors), *part("names", b.names),
                *part("files", b.files)]
    account = guard.run(b.failures, "account", lambda: session_account(session or {}, facts, b.st, msgs), None)
    if account is not None:  # the agent's verified account leads; the facts follow under their own names
        for sec in sections:
            sec.title = {"current_work": "Current work as the transcript shows it",
                         "next_action": "Next action from the transcript"}.get(sec.key, sec.title)
        sections = [*part("account", lambda: account_sections(account, budget_chars, sections)), *sections]
    failures = b.failures
    if failures:
        sections.insert(0, _failure_note(failures))
    header = guard.run(failures, "header", b.header, "") or _plain_header(project, b.n, generated_at)
    layout = to_layout(sections, header)
    fitted = fit(sections, header, max(int(budget_chars), 0))
    markdown = fitted.markdown

    must_keep: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()
    data_lists: dict[str, list[Any]] = {}
    dropped_groups: Counter = Counter()
    for sec in sections:
        for it in sec.items:
            if it.data_key and it.payload is not None and (it.hidden or it.uid not in fitted.dropped):
                data_lists.setdefault(it.data_key, []).append(it.payload)
            if it.uid in fitted.dropped:
                dropped_groups[it.group or "items"] += it.weight
                continue
            for kind, text in it.keep:
                if text and (kind, text) not in seen and text in markdown:
                    seen.add((kind, text))
                    must_keep.append({"kind": kind, "text": text})

    input_chars = facts.stats.get("chars", 0) + sum(len(p) for p in pins)
    for key in ("accomplishments", "blockers", "decisions", "learnings", "next_steps", "errors", "links"):
        input_chars += sum(len(x) for x in _strs(session, key))
    input_chars += sum(len(it.get("text", "")) for it in (previous or {}).get("open_items") or []
                       if isinstance(it, Mapping))
    st = b.st
    metrics_data = _metrics(b.n, session or {}, facts)

    data: dict[str, Any] = {
        "format": FORMAT,
        "generated_by": "rules",
        "generated_at": generated_at,
        "project": {"name": _str(project, "name"), "description": _str(project, "description"),
                    "goal": _str(project, "goal")},
        "session": {"number": b.n, "next_number": b.n + 1, "title": _str(session, "title"),
                    "goal": _str(session, "goal"), "status": _str(session, "status"),
                    "ended_mid_task": bool(st.mid_task), "mid_task_reasons": st.mid_task,
                    "model": _str(session, "model"), "ai_account": _str(session, "ai_account")},
        "mission": {"goal": _str(project, "goal") or _str((previous or {}).get("mission") or {}, "goal"),
                    "description": _str(project, "description"), "session_goal": _str(session, "goal")},
        "pins": list(pins),
        "current_work": {
            "task": st.current.id if st.current else None,
            "task_title": st.current.title if st.current else "",
            "done": [{"path": facts.display(e.path), "added": e.sample} for e in st.done_in_current],
            "untouched_outputs": st.untouched_outputs,
            "open_spec_items": st.open_spec,
            "last_action": st.last_action,
            "next_task": st.next_task.id if st.next_task else None,
        },
        "next_actions": data_lists.get("next_actions", []),
        "account": None if account is None else {"source": account.source,
                                                 "claims": [c.to_dict() for c in account.claims]},
        "summary": {
            "asked": facts.user_messages[0].text.strip() if facts.user_messages else "",
            "requests": data_lists.get("requests", []),
            "stopped_at": st.last_action,
            "last_words": clip(safe_inline(facts.last_assistant), 400) if facts.last_assistant else "",
            "plan": facts.plan[:2000],
        },
        "accomplishments": data_lists.get("accomplishments", []),
        "current_state": {
            "root": facts.root, "branch": facts.branch, "upstream": st.git.upstream,
            "no_upstream": st.git.no_upstream, "pushed": st.git.pushed,
            "uncommitted": [u.path for u in st.git.uncommitted],
            "changed_not_known": [u.path for u in st.git.changed],
            "listed_not_changed": [u.path for u in st.git.foreign],
            "last_commit": ({"sha": facts.commits[-1].sha, "subject": facts.commits[-1].subject,
                             "pushed": facts.commits[-1].pushed} if facts.commits else None),
            "outside_project": facts.outside,
        },
        "checks": data_lists.get("checks", []),
        "commits": data_lists.get("commits", []),
        "tasks": data_lists.get("tasks", []),
        "contracts": data_lists.get("contracts", []),
        "commands": [{"command": c.command, "kind": c.kind, "count": c.count, "failed": c.failed}
                     for c in sorted(facts.commands.values(), key=lambda c: (-c.last, c.command))[:MAX_COMMANDS]],
        "urls": data_lists.get("urls", []),
        "links": data_lists.get("links", []),
        "task_ids": [t.id for t in facts.task_ids],
        "files": data_lists.get("files", []),
        "decisions": data_lists.get("decisions", []),
        "blockers": data_lists.get("blockers", []),
        "errors": data_lists.get("errors", []),
        "learnings": data_lists.get("learnings", []),
        "knowledge_used": [k["id"] for k in data_lists.get("knowledge", []) if k.get("id")],
        "next_steps": data_lists.get("next_steps", []),
        "todos": [{"content": t.content, "status": t.status} for t in facts.todos.values()],
        "open_items": open_items,
        "closed_items": closed,
        "metrics": metrics_data,
        "stats": dict(facts.stats),
        "budget": {
            "budget_chars": int(budget_chars),
            "output_chars": len(markdown),
            "over_budget": fitted.over_budget,
            "reason": (f"pinned context, session-record items and open items alone need {fitted.floor_chars} "
                       f"characters (budget {int(budget_chars)})") if fitted.over_budget else "",
            "dropped": dict(sorted(dropped_groups.items())),
        },
    }
    data["generation_errors"] = failures
    data = json.loads(json.dumps(data, default=str))  # plain JSON types only (and a defensive copy)
    return HandoffDoc(markdown=markdown, data=data, must_keep=must_keep, input_chars=input_chars,
                      output_chars=len(markdown), layout=layout)


def _plain_header(project: Mapping[str, Any] | None, n: int, generated_at: str | None) -> str:
    name = _str(project, "name") or "Untitled project"
    return (f"# Handoff: {name} — session {n} → {n + 1}\n\n"
            f"Generated by: rules · Date: {generated_at or 'not recorded'}\n")


def _failure_note(failures: list[dict[str, Any]]) -> Section:
    """Says which parts are missing, so the reader does not take their absence as "nothing to report"."""
    s = Section("generation_errors", "Left out by an internal error")
    parts = ", ".join(f"{f['section']} ({code(str(f['error']))})" for f in failures[:6])
    s.items.append(Item(f"- These parts could not be written and are missing here: {parts}. The rest of this "
                        "document is complete; check the missing parts in the transcript.",
                        rank=RANKS["generation_errors"],
                        group="notes"))
    return s


def _fallback_handoff(project: Mapping[str, Any] | None, session: Mapping[str, Any] | None,
                      previous: Mapping[str, Any] | None, pins: list[str] | None, budget_chars: int,
                      generated_at: str | None, failures: list[dict[str, Any]]) -> HandoffDoc:
    """The handoff when the document could not be assembled: what people wrote (the session record,
    pins, open items) is handed on without the transcript's facts, and the document says so."""
    session = session if isinstance(session, Mapping) else {}
    n = _int(session.get("number")) or 0
    pins = [p for p in (pins or []) if isinstance(p, str) and p.strip()]
    note = _failure_note(failures)
    note.items[0].text = (f"- The facts of this session's transcript could not be written "
                          f"({code(str(failures[0]['error']))}); below is what the session record holds.")
    sections = [note]
    rec = Section("record", f"What session {n} recorded")
    for key, label in (("accomplishments", "Accomplishments"), ("decisions", "Decisions"), ("blockers", "Blockers"),
                       ("next_steps", "Next steps"), ("errors", "Errors"), ("learnings", "Learnings")):
        for t in _strs(session, key):
            rec.items.append(Item(f"- {one_line(t)}", required=True, sub=label))
    prev_items = (previous or {}).get("open_items") if isinstance(previous, Mapping) else None
    carried = Section("open_items", "Open items", intro="_Open until a session marks them done._\n")
    for it in prev_items if isinstance(prev_items, list) else []:
        text = it.get("text") if isinstance(it, Mapping) else it
        if isinstance(text, str) and text.strip():
            carried.items.append(Item(f"- [ ] {one_line(text)}", required=True))
    pinned = Section("pins", "Pinned context", intro="_Carried verbatim into every handoff._\n", spaced=True)
    pinned.items = [Item(p, required=True) for p in pins]
    sections += [rec, carried, pinned]
    fitted = fit(sections, _plain_header(project, n, generated_at), max(int(budget_chars), 0))
    data = {"format": FORMAT, "generated_by": "rules", "generated_at": generated_at,
            "session": {"number": n, "next_number": n + 1}, "pins": pins,
            "open_items": [it for it in prev_items or [] if isinstance(it, Mapping | str)],
            "generation_errors": failures,
            "budget": {"budget_chars": int(budget_chars), "output_chars": len(fitted.markdown),
                       "over_budget": fitted.over_budget, "reason": "", "dropped": {}}}
    data = json.loads(json.dumps(data, default=str))
    return HandoffDoc(markdown=fitted.markdown, data=data, must_keep=[], output_chars=len(fitted.markdown),
                      layout=to_layout(sections, _plain_header(project, n, generated_at)))


def _metrics(n: int, session: Mapping[str, Any], facts: TranscriptFacts) -> dict[str, Any]:
    """Growth and usage figures: for the JSON form and the dashboard, not for the agent's Markdown."""
    meas = growth.measured_metrics(session)
    data: dict[str, Any] = {"measured": meas, "predicted": growth.predicted_metrics(n, meas["credits_used"])}
    extra = session.get("metrics")
    if isinstance(extra, Mapping) and extra:
        data["reported"] = json.loads(json.dumps(extra, sort_keys=True, default=str))
    st = facts.stats
    data["transcript"] = {k: st.get(k) for k in ("messages", "tool_calls", "shell_commands", "tokens_in", "tokens_out")}
    return data
