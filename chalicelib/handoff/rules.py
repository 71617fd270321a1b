"""The rule-based handoff: session N's record + transcript -> the master prompt for session N+1.

`build_handoff` is pure and deterministic (same input, same bytes): no clock, no network, no
randomness, and no dependence on dict key order in its inputs. It is the path that always works;
the LLM path starts from its `must_keep` facts and falls back to its document.

What the session record states (accomplishments, blockers, decisions, next steps, ...) and the pinned
context always outrank what is inferred from the transcript: they are never dropped for size. Open
items (unfinished next steps, blockers, pending todos) carry forward from handoff to handoff until
a session marks them done.

This module gathers the inputs into one `HandoffData` (`data.py`), carries the open items, and
assembles the document: the budget, the must-keep strings and the JSON form. Each section is a plain
function of that `HandoffData` in `sections/`, written from the one table `sections.RENDERERS`, so a
section is read and tested on its own and a new one is one entry there.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from chalicelib import metrics as growth
from chalicelib.transcripts.model import FileChange, Message

from . import guard
from .account import account_sections, session_account
from .data import HandoffData, as_int, record_list, record_text
from .facts import TranscriptFacts, extract_facts
from .ranks import RANKS
from .render import DEFAULT_BUDGET, Item, Section, fit, to_layout
from .sections import RENDERERS, code_names, render_header
from .state import GitState, State, derive
from .textutil import clip, code, norm_key, one_line, prefix_words, safe_inline

__all__ = ["FORMAT", "HandoffDoc", "build_handoff", "carry_derived", "carry_open_items", "code_names",
           "derived_done", "derived_key", "prefix_words"]

FORMAT = "mso.handoff/1"
MAX_COMMANDS = 60


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
    n = as_int(session.get("number")) or 0
    done = {norm_key(x) for x in record_list(session, "done_items")}
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
        since = as_int(it.get("since_session"))
        origin = "handoff" if "handoff" in (it.get("origin"), it.get("source")) else None
        add(it["text"], str(it.get("kind") or "next_step"), since if since is not None else max(n - 1, 0),
            "carried", origin)
    for text in record_list(session, "next_steps"):
        add(text, "next_step", n, "session")
    for text in record_list(session, "blockers"):
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


# ----------------------------------------------------------------------------- state fallback


def _empty_state() -> State:
    """The state when deriving it failed: nothing known, so no section claims anything about it."""
    return State(checks=[], git=GitState(branch=None), family_root=None, family=[], current=None, next_task=None,
                 mid_task=[], done_in_current=[], untouched_outputs=[], last_action="", next_actions=[],
                 errors_open=[])


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
    n = as_int((session or {}).get("number")) or 0
    state_failures: list[dict[str, Any]] = []  # recorded apart: an error the extractor hit too is not merged
    st = guard.run(state_failures, "state", lambda: derive(facts), None) or _empty_state()
    failures += state_failures
    open_items, closed = guard.run(failures, "open items", lambda: carry_derived(
        open_items, closed, st.next_actions, facts, st, n), (open_items, closed))
    hd = HandoffData(project=project or {}, session=session or {}, n=n, facts=facts, state=st,
                     previous=previous or {}, pins=tuple(pins), open_items=tuple(open_items),
                     knowledge=tuple(k for k in (knowledge or [])
                                     if isinstance(k, Mapping) and isinstance(k.get("title"), str)),
                     generated_at=generated_at)

    def part(key: str, build: Callable[[], Section | list[Section]]) -> list[Section]:
        out = guard.run(failures, key, build, [])
        return out if isinstance(out, list) else [out]

    sections = [sec for key, render in RENDERERS.items() for sec in part(key, partial(render, hd))]
    account = guard.run(failures, "account", lambda: session_account(session or {}, facts, st, msgs), None)
    if account is not None:  # the agent's verified account leads; the facts follow under their own names
        for sec in sections:
            sec.title = {"current_work": "Current work as the transcript shows it",
                         "next_action": "Next action from the transcript"}.get(sec.key, sec.title)
        sections = [*part("account", lambda: account_sections(account, budget_chars, sections)), *sections]
    if failures:
        sections.insert(0, _failure_note(failures))
    header = guard.run(failures, "header", lambda: render_header(hd), "") or _plain_header(project, n, generated_at)
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
        input_chars += sum(len(x) for x in record_list(session, key))
    input_chars += sum(len(it.get("text", "")) for it in (previous or {}).get("open_items") or []
                       if isinstance(it, Mapping))
    metrics_data = _metrics(n, session or {}, facts)

    data: dict[str, Any] = {
        "format": FORMAT,
        "generated_by": "rules",
        "generated_at": generated_at,
        "project": {"name": record_text(project, "name"), "description": record_text(project, "description"),
                    "goal": record_text(project, "goal")},
        "session": {"number": n, "next_number": n + 1, "title": record_text(session, "title"),
                    "goal": record_text(session, "goal"), "status": record_text(session, "status"),
                    "ended_mid_task": bool(st.mid_task), "mid_task_reasons": st.mid_task,
                    "model": record_text(session, "model"), "ai_account": record_text(session, "ai_account")},
        "mission": {"goal": record_text(project, "goal") or record_text((previous or {}).get("mission") or {}, "goal"),
                    "description": record_text(project, "description"), "session_goal": record_text(session, "goal")},
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
    name = record_text(project, "name") or "Untitled project"
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
    n = as_int(session.get("number")) or 0
    pins = [p for p in (pins or []) if isinstance(p, str) and p.strip()]
    note = _failure_note(failures)
    note.items[0].text = (f"- The facts of this session's transcript could not be written "
                          f"({code(str(failures[0]['error']))}); below is what the session record holds.")
    sections = [note]
    rec = Section("record", f"What session {n} recorded")
    for key, label in (("accomplishments", "Accomplishments"), ("decisions", "Decisions"), ("blockers", "Blockers"),
                       ("next_steps", "Next steps"), ("errors", "Errors"), ("learnings", "Learnings")):
        for t in record_list(session, key):
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
