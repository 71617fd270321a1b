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
import posixpath
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from chalicelib import metrics as growth
from chalicelib.transcripts.model import FileChange, Message

from .facts import CheckFact, ErrorFact, FileFact, TranscriptFacts, extract_facts
from .render import Item, Section, fit
from .textutil import clip, code, norm_key, one_line, safe_inline

FORMAT = "mso.handoff/1"
DEFAULT_BUDGET = 12000
MAX_REQUESTS = 4  # the first request plus the last three
MAX_COMMANDS = 60
MAX_URLS = 12
MAX_INFERRED_DECISIONS = 8
MAX_INFERRED_LEARNINGS = 5
MAX_ERRORS = 12
MAX_EARLIER_DECISIONS = 10
MAX_STEPS = 8
_SMALL_TALK = re.compile(r"(?i)^(?:I apologi[sz]e|sorry|thanks?\b|thank you|great|perfect|excellent|okay|ok\b|sure"
                         r"|got it|you'?re right|I'?m glad)")


@dataclass
class HandoffDoc:
    """A generated handoff: Markdown for people and agents plus its structured JSON form.

    `data` keys (all JSON types): format, generated_by ("rules"), generated_at, project, session,
    mission, pins, summary {asked, requests, done, stopped_at, plan}, accomplishments,
    current_state {root, branch, uncommitted, last_commit}, checks, commands, urls, links,
    task_ids, files, decisions, blockers, errors, learnings, next_steps, suggestions, todos,
    open_items (carried to the next handoff: {text, kind, since_session, source}), closed_items,
    metrics {measured, predicted, reported?}, checklist, stats, budget {budget_chars,
    output_chars, over_budget, reason, dropped}. List sections hold what the Markdown shows.

    `must_keep`: [{kind, text}] where `text` appears verbatim in `markdown`; kinds: file,
    test_command, build_command, error, task_id, user_request, todo, decision, command, url,
    pin, next_step, blocker, accomplishment, learning, commit, branch, location.
    """

    markdown: str
    data: dict[str, Any]
    must_keep: list[dict[str, str]] = field(default_factory=list)
    input_chars: int = 0
    output_chars: int = 0


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
        out.append("> " + ln if ln else ">")
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

    def add(text: str, kind: str, since: int, source: str) -> None:
        key = norm_key(text)
        if not key:
            return
        if key in index:  # already open: keep the oldest "since"
            index[key]["since_session"] = min(index[key]["since_session"], since)
            return
        item = {"text": one_line(text), "kind": kind, "since_session": since, "source": source}
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
        add(it["text"], str(it.get("kind") or "next_step"), since if since is not None else max(n - 1, 0),
            "carried")
    for text in _strs(session, "next_steps"):
        add(text, "next_step", n, "session")
    for text in _strs(session, "blockers"):
        add(text, "blocker", n, "session")
    for t in facts.todos.values():
        if t.status != "completed":
            add(t.content, "todo", n, "transcript")
    return open_items, closed


# ----------------------------------------------------------------------------- section builders


class _Builder:
    def __init__(self, project: Mapping[str, Any], session: Mapping[str, Any], facts: TranscriptFacts,
                 previous: Mapping[str, Any] | None, pins: list[str], open_items: list[dict[str, Any]],
                 generated_at: str | None) -> None:
        self.project = project or {}
        self.session = session or {}
        self.f = facts
        self.previous = previous or {}
        self.pins = pins
        self.open_items = open_items
        self.generated_at = generated_at
        self.n = _int(self.session.get("number")) or 0
        self.uncommitted = self._uncommitted()

    # -- shared facts

    def _uncommitted(self) -> list[FileFact]:
        """Files of the project edited after the commit that last included them (only said when the
        session committed at all: without commits the transcript cannot tell)."""
        if not self.f.commits:
            return []
        root = self.f.root
        return [ff for ff in self.f.files.values() if ff.edits > 0 and ff.committed_at < ff.last
                and (not ff.path.startswith("/") or (root is not None and ff.path.startswith(root + "/")))]

    def _checks_sorted(self) -> list[CheckFact]:
        def key(c: CheckFact) -> tuple[int, int, int, str]:
            return (0 if c.outcome == "fail" else 1, 0 if c.kind == "test" else 1, -c.last, c.command)
        return sorted(self.f.checks.values(), key=key)

    def _files_sorted(self) -> list[FileFact]:
        unc = {ff.path for ff in self.uncommitted}

        def key(ff: FileFact) -> tuple[int, int, str]:
            size = (ff.added or 0) + (ff.removed or 0)
            return (0 if ff.path in unc else 1, -size, self.f.display(ff.path))
        return sorted(self.f.files.values(), key=key)

    def _recency(self, index: int) -> float:
        total = max(self.f.stats.get("messages", 1), 1)
        return max(0.0, min(1.0, index / total))

    # -- header

    def header(self) -> str:
        name = _str(self.project, "name") or "Untitled project"
        status = _str(self.session, "status") or "unknown"
        title = _str(self.session, "title")
        lines = [f"# Handoff: {name} — session {self.n} → {self.n + 1}", ""]
        meta = ["Generated by: rules", f"Date: {self.generated_at or 'not recorded'}",
                f"Session {self.n} status: {status}"]
        lines.append(" · ".join(meta))
        who = []
        if title:
            who.append(f"Session {self.n}: {title}")
        if _str(self.session, "model"):
            who.append(f"Model: {_str(self.session, 'model')}")
        if _str(self.session, "ai_account"):
            who.append(f"Account: {_str(self.session, 'ai_account')}")
        if who:
            lines.append(" · ".join(who))
        return "\n".join(lines) + "\n"

    # -- 2 mission

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

    # -- 3 pins

    def pinned(self) -> Section:
        s = Section("pins", "Pinned context", intro="_Carried verbatim into every handoff._\n", spaced=True)
        for p in self.pins:
            s.items.append(Item(p, required=True, keep=(("pin", p),), data_key="pins", payload=p))
        return s

    # -- 4 summary

    def summary(self) -> Section:
        s = Section("summary", f"Summary of session {self.n}")
        f = self.f
        msgs = f.user_messages
        if msgs:
            first = msgs[0]
            s.items.append(self._request_item(first.text, 94, "What was asked"))
            later = msgs[1:][-(MAX_REQUESTS - 1):]
            for k, um in enumerate(later):
                rank = 95 if k == len(later) - 1 else 88 + k * 0.1
                label = "Later requests (most recent last)"
                s.items.append(self._request_item(um.text, rank, label))
        done = self._done_line()
        if done:
            s.items.append(Item(f"- {done}", rank=93, sub="What was done", group="summary lines"))
        if f.plan:
            heads = [one_line(ln.lstrip("# ")) for ln in f.plan.split("\n") if ln.startswith("#")]
            title = heads[0] if heads else prefix_words(one_line(f.plan), 100)
            rest = "; ".join(h for h in heads[1:8])
            text = f"- Approved plan: {safe_inline(title)}" + (f" (sections: {safe_inline(rest)})" if rest else "")
            s.items.append(Item(clip(text, 400), rank=80, sub="What was done", group="summary lines"))
        steps = []
        seen: set[str] = set()
        for st in reversed(f.steps):
            if st.index == f.last_assistant_index:
                continue
            k = norm_key(st.text)
            if k and k not in seen and len(st.text) >= 15 and not _SMALL_TALK.match(st.text):
                seen.add(k)
                steps.append(st)
            if len(steps) >= MAX_STEPS:
                break
        for k, st in enumerate(reversed(steps)):
            s.items.append(Item(f"- {st.text}", rank=72 + k * 0.8, sub="Last steps before the end (oldest first)",
                                group="steps", data_key="steps", payload=st.text))
        if f.last_assistant:
            s.items.append(Item("- Where it stopped (last assistant message): "
                                + clip(safe_inline(f.last_assistant), 400), rank=86, sub="What was done",
                                group="summary lines"))
        return s

    def _request_item(self, text: str, rank: float, sub: str) -> Item:
        key = prefix_words(_first_line(text), 100)
        return Item(_quote(text), rank=rank, sub=sub, group="requests",
                    keep=(("user_request", key),) if key else (), data_key="requests", payload=text.strip())

    def _done_line(self) -> str:
        f = self.f
        st = f.stats
        parts = []
        if st.get("messages"):
            parts.append(f"{st['messages']} messages, {st.get('tool_calls', 0)} tool calls")
        edited = [ff for ff in f.files.values() if ff.edits > 0]
        if edited:
            add = sum(ff.added or 0 for ff in edited)
            rem = sum(ff.removed or 0 for ff in edited)
            parts.append(f"edited {len(edited)} files (+{add}/−{rem} lines)")
        if f.commands:
            tests = sum(c.runs for c in f.checks.values() if c.kind == "test")
            parts.append(f"ran {st.get('shell_commands', 0)} shell commands ({tests} test runs)")
        if f.commits:
            parts.append(f"made {len(f.commits)} commit{'s' if len(f.commits) > 1 else ''}")
        if f.errors:
            parts.append(f"met {len(f.errors)} distinct error{'s' if len(f.errors) > 1 else ''}")
        return ("; ".join(parts) + ".") if parts else ""

    # -- 5 accomplishments

    def accomplishments(self) -> Section:
        s = Section("accomplishments", "Accomplishments")
        for a in _strs(self.session, "accomplishments"):
            t = one_line(a)
            s.items.append(Item(f"- {t}", required=True, keep=(("accomplishment", prefix_words(t, 120)),),
                                data_key="accomplishments", payload={"text": t, "source": "session"}))
        for c in self.f.commits:
            sha = f"{code(c.sha)} " if c.sha else ""
            pushed = " (pushed)" if c.pushed else ""
            keep = (("commit", c.sha),) if c.sha else (("commit", prefix_words(c.subject, 80)),)
            s.items.append(Item(f"- Committed {sha}{c.subject}{pushed}", rank=78 + 2 * self._recency(c.index),
                                group="commits", keep=keep, data_key="accomplishments",
                                payload={"text": c.subject, "source": "commit", "sha": c.sha, "pushed": c.pushed}))
        return s

    # -- 6 current state

    def current_state(self) -> Section:
        s = Section("current_state", "Current state")
        f = self.f
        if f.root:
            s.items.append(Item(f"- Project root: {code(f.root)}", rank=92, keep=(("location", f.root),), group="state lines"))
        if f.branch:
            last = f.commits[-1] if f.commits else None
            extra = ""
            if last is not None:
                extra = f"; last commit {code(last.sha) + ' ' if last.sha else ''}{'pushed' if last.pushed else 'not pushed'}"
            s.items.append(Item(f"- Git branch: {code(f.branch)}{extra}", rank=91, keep=(("branch", f.branch),),
                                group="state lines"))
        env = []
        if _str(self.session, "model"):
            env.append(f"model {_str(self.session, 'model')}")
        if _str(self.session, "ai_account"):
            env.append(f"AI account {_str(self.session, 'ai_account')}")
        if env:
            s.items.append(Item("- Environment: " + ", ".join(env), required=True))
        # tests and builds
        for c in self._checks_sorted():
            s.items.append(self._check_item(c))
        if self.uncommitted:
            paths = ", ".join(code(f.display(ff.path)) for ff in self.uncommitted)
            s.items.append(Item(f"- Edited after the last commit (not committed yet): {paths}", rank=90,
                                sub="Uncommitted work", group="state lines"))
        for t in f.task_ids:
            s.items.extend(self._task_items(t))
        for link in _strs(self.session, "links"):
            t = one_line(link)
            s.items.append(Item(f"- {t}", required=True, sub="Links (session record)",
                                keep=(("url", prefix_words(t, 120)),), data_key="links", payload=t))
        urls = sorted(f.urls.values(), key=lambda u: ({"user": 0, "assistant": 1}.get(u.who, 2), u.index))
        for k, u in enumerate(urls[:MAX_URLS]):
            rank = {"user": 82, "assistant": 62}.get(u.who, 48) - k * 0.01
            s.items.append(Item(f"- {u.text}", rank=rank, sub="URLs", group="URLs", keep=(("url", u.text),),
                                data_key="urls", payload={"url": u.text, "from": u.who}))
        dirs = Counter(posixpath.dirname(f.display(p)) or "." for p, ff in f.files.items() if ff.edits > 0)
        if dirs:
            top = sorted(dirs.items(), key=lambda kv: (-kv[1], kv[0]))[:6]
            text = ", ".join(f"{code(d)} ({n})" for d, n in top)
            s.items.append(Item(f"- Edited files live in: {text}", rank=58, sub="Where things are", group="location notes"))
        reads = [(p, n) for p, n in f.reads.items() if p not in f.files]
        if reads:
            top = sorted(reads, key=lambda kv: (-kv[1], f.display(kv[0])))[:6]
            text = ", ".join(code(f.display(p)) for p, _ in top)
            s.items.append(Item(f"- Read most (not edited): {text}", rank=42, sub="Where things are", group="location notes"))
        s.items.extend(self._command_items())
        return s

    def _check_item(self, c: CheckFact) -> Item:
        word = {"pass": "passed", "fail": "FAILED", "running": "still running (no result seen)",
                "unknown": "outcome unknown"}[c.outcome]
        summ = f" ({c.summary})" if c.summary else ""
        runs = f", {c.runs} runs" if c.runs > 1 else ""
        if c.outcome == "fail" and c.passes:
            runs += f" ({c.passes} passed earlier)"
        kind = "test_command" if c.kind == "test" else "build_command"
        rank = {("test", True): 93, ("test", False): 87, ("build", True): 89}.get((c.kind, c.outcome == "fail"), 74)
        rank += 2 * self._recency(c.last)
        return Item(f"- {code(c.command)} — **{word}**{summ}{runs}", rank=rank, sub="Tests and builds (latest outcome)",
                    group="checks", keep=((kind, c.command),), data_key="checks",
                    payload={"command": c.command, "kind": c.kind, "outcome": c.outcome, "summary": c.summary,
                             "runs": c.runs})

    def _task_items(self, t: Any) -> list[Item]:
        status = f", last status: {t.status}" if t.status else ""
        title = f": {t.titles[t.id]}" if t.id in t.titles else ""
        items = [Item(f"- {code(t.id)}{title} (typed by the user{status})", rank=92, sub="Task ids", group="task ids",
                      keep=(("task_id", t.id),), data_key="task_ids",
                      payload={"id": t.id, "status": t.status, "title": t.titles.get(t.id, ""),
                               "related": [{"id": r, "status": t.related_status.get(r, ""),
                                            "title": t.titles.get(r, "")} for r in t.related]})]
        for k, r in enumerate(t.related):
            st = t.related_status.get(r, "")
            rt = f": {t.titles[r]}" if r in t.titles else ""
            open_ = st not in ("closed", "done", "completed")
            items.append(Item(f"  - {code(r)}{rt}" + (f" — {st}" if st else ""), sub="Task ids",
                              rank=(89.5 if open_ else 80) - k * 0.001, group="related ids",
                              keep=(("task_id", r),)))
        return items

    def _command_items(self) -> list[Item]:
        f = self.f
        checks = set(f.checks)
        cmds = [c for c in f.commands.values() if c.command not in checks]
        cmds.sort(key=lambda c: (-c.last, c.command))
        out = []
        for c in cmds[:MAX_COMMANDS]:
            base = {"setup": 70, "test": 66, "build": 64, "git": 44}.get(c.kind, 40)
            times = f" (×{c.count})" if c.count > 1 else ""
            failed = " — failed last time" if c.failed else ""
            out.append(Item(f"- {code(c.command)}{times}{failed}", rank=base + 5 * self._recency(c.last),
                            sub="Commands run (latest first)", group="commands", keep=(("command", c.command),),
                            data_key="commands",
                            payload={"command": c.command, "kind": c.kind, "count": c.count, "failed": c.failed}))
        rest = len(cmds) - len(out)
        if rest > 0:
            out.append(Item(f"- … and {rest} older commands not listed", rank=39, sub="Commands run (latest first)",
                            group="commands", weight=rest))
        return out

    # -- 7 files

    def files(self) -> Section:
        s = Section("files", "Files changed", intro="_Most important first: uncommitted work, then by size of change._\n")
        unc = {ff.path for ff in self.uncommitted}
        for k, ff in enumerate(self._files_sorted()):
            disp = self.f.display(ff.path)
            bits = []
            if ff.kind != "modified":
                bits.append(ff.kind)
            if ff.added is None or ff.removed is None:
                bits.append("binary")
            else:
                bits.append(f"+{ff.added}/−{ff.removed}")
            if ff.edits > 1:
                bits.append(f"{ff.edits} edits")
            if ff.old_path:
                bits.append(f"from {code(self.f.display(ff.old_path))}")
            why = ff.summary or ""
            if not why and ff.commit:
                why = ff.commit + (f" ({code(ff.commit_sha)})" if ff.commit_sha else "")
            if not why and ff.intent:
                why = ff.intent
            mark = ""
            if ff.path in unc:
                mark = " — **edited after its last commit**" if ff.commit else " — **not committed**"
            size = (ff.added or 0) + (ff.removed or 0)
            rank = 88 + min(3.0, size / 100.0) + (2 if ff.path in unc else 0) - k * 0.001
            s.items.append(Item(f"- {code(disp)} ({', '.join(bits)}){mark}", rank=rank, group="files",
                                keep=(("file", disp),), data_key="files",
                                payload={"path": disp, "abs_path": ff.path, "kind": ff.kind, "lines_added": ff.added,
                                         "lines_removed": ff.removed, "edits": ff.edits, "why": ff.summary or ff.commit
                                         or ff.intent, "commit": ff.commit_sha, "uncommitted": ff.path in unc,
                                         "source": ff.source}))
            if why:  # the reason is a detail line: dropped before any file is
                s.items.append(Item(f"  - {why}", rank=rank - 24, group="file notes"))
        return s

    # -- 8 decisions

    def decisions(self) -> Section:
        s = Section("decisions", "Decisions and reasons")
        for d in _strs(self.session, "decisions"):
            t = one_line(d)
            s.items.append(Item(f"- {t}", required=True, keep=(("decision", prefix_words(t, 120)),),
                                data_key="decisions", payload={"text": t, "source": "session", "session": self.n}))
        user_notes = [d for d in self.f.decisions if d.who == "user"]
        for d in user_notes[-MAX_INFERRED_DECISIONS:]:
            t = d.text if d.text.startswith("User rejected") else f"User said: “{d.text}”"
            s.items.append(Item(f"- {t}", rank=84 + self._recency(d.index), sub="User corrections and choices",
                                group="user decisions", keep=(("decision", prefix_words(d.text, 80)),),
                                data_key="decisions", payload={"text": d.text, "source": "user", "session": self.n}))
        seen: set[str] = set()
        asst = []
        for d in reversed([d for d in self.f.decisions if d.who == "assistant"]):
            k = norm_key(d.text)
            if k and k not in seen and len(d.text) >= 25:
                seen.add(k)
                asst.append(d)
            if len(asst) >= MAX_INFERRED_DECISIONS:
                break
        for d in reversed(asst):
            s.items.append(Item(f"- {d.text}", rank=50 + 4 * self._recency(d.index), sub="From the assistant's notes",
                                group="decision notes", data_key="decisions",
                                payload={"text": d.text, "source": "assistant", "session": self.n}))
        earlier = self.previous.get("decisions")
        if isinstance(earlier, list):
            prev = [d for d in earlier if isinstance(d, Mapping) and d.get("source") in ("session", "earlier")
                    and isinstance(d.get("text"), str)]
            for k, d in enumerate(prev[-MAX_EARLIER_DECISIONS:]):
                sess = _int(d.get("session"))
                tag = f" _(session {sess})_" if sess is not None else ""
                s.items.append(Item(f"- {one_line(d['text'])}{tag}", rank=55 + k * 0.01, sub="Earlier decisions",
                                    group="earlier decisions", data_key="decisions",
                                    payload={"text": one_line(d["text"]), "source": "earlier", "session": sess}))
        return s

    # -- 9 errors and blockers

    def errors(self) -> Section:
        s = Section("errors", "Errors and blockers")
        for b in self.open_items:
            if b["kind"] == "blocker":
                since = f" _(open since session {b['since_session']})_" if b["since_session"] < self.n else ""
                s.items.append(Item(f"- {b['text']}{since}", required=True, sub="Open blockers",
                                    keep=(("blocker", prefix_words(b["text"], 120)),), data_key="blockers",
                                    payload=b))
        for e in _strs(self.session, "errors"):
            t = one_line(e)
            s.items.append(Item(f"- {t}", required=True, sub="Errors recorded by the session",
                                keep=(("error", prefix_words(t, 120)),), data_key="errors",
                                payload={"error": t, "source": "session"}))
        errs = sorted(self.f.errors, key=lambda e: (e.resolved is True, -e.index))[:MAX_ERRORS]
        errs.sort(key=lambda e: e.index)
        for e in errs:
            s.items.extend(self._error_items(e))
        return s

    def _error_items(self, e: ErrorFact) -> list[Item]:
        times = f" (×{e.count})" if e.count > 1 else ""
        state = {True: "Resolved: the next run no longer showed it.", False: "**Still failing** on the next run.",
                 None: "**Not re-run** after this error."}[e.resolved]
        text = f"- {code(e.line)} — from {code(e.command)}{times}. {state}"
        if e.resolved is True:
            rank = 70 + 6 * self._recency(e.index) + (2 if e.is_check else 0)
        else:
            rank = 86 + 2 * self._recency(e.index)
        sub = "Errors met in the transcript (and how they were fixed)"
        items = [Item(text, rank=rank, sub=sub, group="errors", keep=(("error", e.line),), data_key="errors",
                      payload={"error": e.line, "command": e.command, "count": e.count, "diagnosis": e.diagnosis,
                               "fixed_by": [self.f.display(p) for p in e.fixed_files], "resolved": e.resolved,
                               "source": "transcript"})]
        detail = []
        if e.diagnosis:
            detail.append(f"Diagnosis: {e.diagnosis}")
        if e.fixed_files:
            shown = [code(self.f.display(p)) for p in e.fixed_files[:4]]
            more = f" and {len(e.fixed_files) - 4} more" if len(e.fixed_files) > 4 else ""
            detail.append(f"Fix: edited {', '.join(shown)}{more}.")
        if detail:
            items.append(Item("  - " + " ".join(detail), rank=rank - 12, sub=sub, group="error details"))
        return items

    # -- 10 learnings

    def learnings(self) -> Section:
        s = Section("learnings", "Learnings and patterns")
        for x in _strs(self.session, "learnings"):
            t = one_line(x)
            s.items.append(Item(f"- {t}", required=True, keep=(("learning", prefix_words(t, 120)),),
                                data_key="learnings", payload={"text": t, "source": "session"}))
        seen: set[str] = set()
        notes = []
        for d in reversed(self.f.learnings):
            k = norm_key(d.text)
            if k and k not in seen and len(d.text) >= 30:
                seen.add(k)
                notes.append(d)
            if len(notes) >= MAX_INFERRED_LEARNINGS:
                break
        for d in reversed(notes):
            s.items.append(Item(f"- {d.text}", rank=45 + 3 * self._recency(d.index), sub="Noted during the session",
                                group="notes", data_key="learnings", payload={"text": d.text, "source": "assistant"}))
        return s

    # -- 11 next steps

    def next_steps(self) -> Section:
        s = Section("next_steps", "Next steps", intro="_In priority order. Open items stay here until a session marks them done._\n")
        f = self.f
        own = {norm_key(x) for x in _strs(self.session, "next_steps")}
        for it in self.open_items:
            if it["kind"] == "blocker":
                continue
            since = f" _(open since session {it['since_session']})_" if it["since_session"] < self.n else ""
            label = {"todo": "Todo: ", "next_step": ""}.get(it["kind"], "")
            if norm_key(it["text"]) in own:
                sub = ""
            elif it["source"] == "carried":
                sub = "Still open from earlier sessions"
            else:
                sub = "Unfinished todos" if it["kind"] == "todo" else ""
            s.items.append(Item(f"- [ ] {label}{it['text']}{since}", required=True, sub=sub,
                                keep=(("next_step" if it["kind"] != "todo" else "todo",
                                       prefix_words(it["text"], 120)),), data_key="next_steps", payload=it))
        inferred = "Suggested from the transcript"
        for c in self._checks_sorted():
            if c.outcome == "fail":
                s.items.append(Item(f"- Make {code(c.command)} pass again (it failed last).", rank=91, sub=inferred,
                                    group="suggestions", data_key="suggestions",
                                    payload={"text": f"fix failing {c.command}", "kind": "failing_check"}))
        for t in f.task_ids:
            pend = [r for r in t.related if t.related_status.get(r) in ("in_progress", "in-progress", "open",
                                                                           "reopened")]
            if t.status in ("in_progress", "open", "reopened"):
                pend.insert(0, t.id)
            if pend:
                ids = ", ".join(code(x) for x in pend)
                s.items.append(Item(f"- Finish {ids} (still marked in progress).", rank=90, sub=inferred,
                                    group="suggestions", data_key="suggestions",
                                    payload={"text": f"finish {', '.join(pend)}", "kind": "task"}))
        if self.uncommitted:
            paths = ", ".join(code(f.display(ff.path)) for ff in self.uncommitted[:6])
            more = f" and {len(self.uncommitted) - 6} more" if len(self.uncommitted) > 6 else ""
            s.items.append(Item(f"- Check, test and commit the uncommitted edits to {paths}{more}.", rank=88,
                                sub=inferred, group="suggestions", data_key="suggestions",
                                payload={"text": "commit uncommitted edits", "kind": "uncommitted"}))
        for e in f.errors:
            if e.resolved is not True and not any(c.outcome == "fail" and _same_family(c.command, e.family)
                                                 for c in f.checks.values()):
                s.items.append(Item(f"- Look into {code(e.line)} (from {code(e.command)}); it was not seen resolved.",
                                    rank=83, sub=inferred, group="suggestions", data_key="suggestions",
                                    payload={"text": e.line, "kind": "error"}))
        if not own and len(f.user_messages) == 1:
            s.items.append(Item("- Continue the user's request (quoted under “What was asked”).", rank=87,
                                sub=inferred, group="suggestions", data_key="suggestions",
                                payload={"text": f.user_messages[0].text.strip(), "kind": "last_request"}))
        elif not own and f.user_messages:
            last = f.user_messages[-1]
            s.items.append(Item(f"- Continue the last user request: “{clip(safe_inline(last.text), 200)}”", rank=87,
                                sub=inferred, group="suggestions", data_key="suggestions",
                                payload={"text": last.text.strip(), "kind": "last_request"}))
        done = [t for t in f.todos.values() if t.status == "completed"]
        for t in done:
            s.items.append(Item(f"- [x] {t.content}", rank=60 + 3 * self._recency(t.index), sub="Completed todos",
                                group="completed todos", keep=(("todo", prefix_words(t.content, 120)),),
                                data_key="todos", payload={"content": t.content, "status": t.status}))
        return s

    # -- 12 metrics

    def metrics_section(self) -> tuple[Section, dict[str, Any]]:
        s = Section("metrics", "Metrics")
        meas = growth.measured_metrics(self.session)
        data: dict[str, Any] = {"measured": meas}
        if meas["credits_used"] is not None or meas["credit_budget"] is not None:
            used = _fmt_num(meas["credits_used"]) if meas["credits_used"] is not None else "?"
            budget = _fmt_num(meas["credit_budget"]) if meas["credit_budget"] is not None else "no budget"
            s.items.append(Item(f"- Credits: {used} used of {budget}{_pct(meas['credits_used'], meas['credit_budget'])}",
                                required=True))
        if meas["tasks_planned"] is not None or meas["tasks_completed"] is not None:
            done = _fmt_num(meas["tasks_completed"]) if meas["tasks_completed"] is not None else "?"
            planned = _fmt_num(meas["tasks_planned"]) if meas["tasks_planned"] is not None else "?"
            s.items.append(Item(f"- Tasks: {done} completed of {planned} planned"
                                f"{_pct(meas['tasks_completed'], meas['tasks_planned'])}", required=True))
        if meas["duration_s"] is not None:
            s.items.append(Item(f"- Duration: {_duration(meas['duration_s'])}", required=True))
        if self.session.get("errors") is not None:
            s.items.append(Item(f"- Errors recorded: {meas['errors']}", required=True))
        pred = growth.predicted_metrics(self.n, meas["credits_used"])
        data["predicted"] = pred
        line = (f"- Growth model for session {self.n}: efficiency {pred['efficiency']:.3f}, "
                f"knowledge {pred['knowledge']:.3f}")
        if pred["effective_output"] is not None:
            line += f", effective output {_fmt_num(round(pred['effective_output'], 2))}"
        s.items.append(Item(line + f" (efficiency limit {growth.EFFICIENCY_LIMIT}, never reached)", required=True))
        extra = self.session.get("metrics")
        if isinstance(extra, Mapping) and extra:
            data["reported"] = json.loads(json.dumps(extra, sort_keys=True, default=str))
            for k in sorted(extra, key=str):
                v = extra[k]
                shown = _fmt_num(v) if isinstance(v, int | float) else (
                    json.dumps(v, sort_keys=True, default=str, ensure_ascii=False) if isinstance(v, Mapping | list)
                    else str(v))
                s.items.append(Item(f"- {str(k).replace('_', ' ')}: {clip(shown, 300)}", required=True,
                                    sub="More figures (computed for this session)"))
        st = self.f.stats
        if st.get("messages"):
            tok = ""
            if st.get("tokens_in") or st.get("tokens_out"):
                tok = f", tokens in/out {_fmt_num(st['tokens_in'])}/{_fmt_num(st['tokens_out'])}"
            s.items.append(Item(f"- Transcript: {st['messages']} messages, {st['tool_calls']} tool calls, "
                                f"{len(self.f.files)} files edited, {st['shell_commands']} shell commands{tok}",
                                rank=70, group="statistics"))
        return s, data

    # -- 13 checklist

    def checklist(self, next_section: Section) -> Section:
        s = Section("checklist", "Checklist for the next session")
        lines = ["Read the pinned context, the latest user requests and the open items above."]
        f = self.f
        where = []
        if f.root:
            where.append(f"work in {code(f.root)}")
        if f.branch:
            where.append(f"on branch {code(f.branch)}")
        if where:
            k = len(self.uncommitted)
            unc = f" ({k} file{'s' if k > 1 else ''} edited after the last commit)" if k else ""
            text = " ".join(where)
            lines.append(text[:1].upper() + text[1:] + f"; run `git status` first{unc}.")
        checks = self._checks_sorted()
        failing = [c for c in checks if c.outcome == "fail"]
        tests = [c for c in checks if c.kind == "test"]
        if failing:
            lines.append(f"Re-run {code(failing[0].command)}: it was failing when session {self.n} ended.")
        elif tests:
            lines.append(f"Run {code(tests[0].command)} to confirm the last known state ({tests[0].outcome}).")
        if any(b["kind"] == "blocker" for b in self.open_items):
            lines.append("Resolve or escalate the open blockers before new work.")
        first = next((it for it in next_section.items if it.required), None)
        if first is not None:
            lines.append("Start with the first next step: " + first.text.split("] ", 1)[-1].lstrip("- "))
        lines.append("Before ending, record accomplishments, decisions, blockers and next steps (and mark done items).")
        for ln in lines:
            s.items.append(Item(f"- [ ] {ln}", required=True, data_key="checklist", payload=ln))
        return s


def _same_family(command: str, family: str) -> bool:
    return bool(family) and command.startswith(family)


# ----------------------------------------------------------------------------- entry point


def build_handoff(*, project: Mapping[str, Any], session: Mapping[str, Any], messages: Iterable[Message],
                  file_changes: list[FileChange] | None, previous: Mapping[str, Any] | None,
                  pins: list[str] | None, budget_chars: int = DEFAULT_BUDGET,
                  generated_at: str | None = None) -> HandoffDoc:
    """Write the handoff for session N+1 from session N, without an LLM.

    Deterministic: the same arguments give the same bytes. `budget_chars` bounds the Markdown;
    it is met by dropping the lowest-ranked inferred facts whole. Pins, session-record items and
    open items are never dropped; when they alone exceed the budget the document does too, and
    `data["budget"]["over_budget"]` says so.
    """
    msgs = messages if isinstance(messages, list) else list(messages)
    pins = [p for p in (pins or []) if isinstance(p, str) and p.strip()]
    hint = (session or {}).get("cwd") or (project or {}).get("root")
    facts = extract_facts(msgs, file_changes or [], root_hint=hint if isinstance(hint, str) else None)
    open_items, closed = carry_open_items(session or {}, previous, facts)
    b = _Builder(project or {}, session or {}, facts, previous, pins, open_items, generated_at)

    next_sec = b.next_steps()
    metrics_sec, metrics_data = b.metrics_section()
    sections = [b.mission(), b.pinned(), b.summary(), b.accomplishments(), b.current_state(), b.files(),
                b.decisions(), b.errors(), b.learnings(), next_sec, metrics_sec, b.checklist(next_sec)]
    header = b.header()
    fitted = fit(sections, header, max(int(budget_chars), 0))
    markdown = fitted.markdown

    must_keep: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()
    data_lists: dict[str, list[Any]] = {}
    dropped_groups: Counter = Counter()
    for sec in sections:
        for it in sec.items:
            if it.uid in fitted.dropped:
                dropped_groups[it.group or "items"] += it.weight
                continue
            if it.data_key and it.payload is not None:
                data_lists.setdefault(it.data_key, []).append(it.payload)
            for kind, text in it.keep:
                if text and (kind, text) not in seen and text in markdown:
                    seen.add((kind, text))
                    must_keep.append({"kind": kind, "text": text})

    input_chars = facts.stats.get("chars", 0) + sum(len(p) for p in pins)
    for key in ("accomplishments", "blockers", "decisions", "learnings", "next_steps", "errors", "links"):
        input_chars += sum(len(x) for x in _strs(session, key))
    input_chars += sum(len(it.get("text", "")) for it in (previous or {}).get("open_items") or []
                       if isinstance(it, Mapping))

    data: dict[str, Any] = {
        "format": FORMAT,
        "generated_by": "rules",
        "generated_at": generated_at,
        "project": {"name": _str(project, "name"), "description": _str(project, "description"),
                    "goal": _str(project, "goal")},
        "session": {"number": b.n, "next_number": b.n + 1, "title": _str(session, "title"),
                    "goal": _str(session, "goal"), "status": _str(session, "status"),
                    "model": _str(session, "model"), "ai_account": _str(session, "ai_account")},
        "mission": {"goal": _str(project, "goal") or _str((previous or {}).get("mission") or {}, "goal"),
                    "description": _str(project, "description"), "session_goal": _str(session, "goal")},
        "pins": list(pins),
        "summary": {
            "asked": facts.user_messages[0].text.strip() if facts.user_messages else "",
            "requests": data_lists.get("requests", []),
            "done": b._done_line(),
            "stopped_at": clip(safe_inline(facts.last_assistant), 400) if facts.last_assistant else "",
            "plan": facts.plan[:2000],
        },
        "accomplishments": data_lists.get("accomplishments", []),
        "current_state": {
            "root": facts.root, "branch": facts.branch,
            "uncommitted": [facts.display(ff.path) for ff in b.uncommitted],
            "last_commit": ({"sha": facts.commits[-1].sha, "subject": facts.commits[-1].subject,
                             "pushed": facts.commits[-1].pushed} if facts.commits else None),
        },
        "checks": data_lists.get("checks", []),
        "commands": data_lists.get("commands", []),
        "urls": data_lists.get("urls", []),
        "links": data_lists.get("links", []),
        "task_ids": data_lists.get("task_ids", []),
        "files": data_lists.get("files", []),
        "decisions": data_lists.get("decisions", []),
        "blockers": data_lists.get("blockers", []),
        "errors": data_lists.get("errors", []),
        "learnings": data_lists.get("learnings", []),
        "next_steps": data_lists.get("next_steps", []),
        "suggestions": data_lists.get("suggestions", []),
        "todos": [{"content": t.content, "status": t.status} for t in facts.todos.values()],
        "open_items": open_items,
        "closed_items": closed,
        "metrics": metrics_data,
        "checklist": data_lists.get("checklist", []),
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
    data = json.loads(json.dumps(data, default=str))  # plain JSON types only (and a defensive copy)
    return HandoffDoc(markdown=markdown, data=data, must_keep=must_keep, input_chars=input_chars,
                      output_chars=len(markdown))
