"""The agent's own account of its session, checked against what the transcript shows.

At the end of a session the agent knows what is left and why; the facts engine knows what is true.
An account is the agent's note (`mso note`, MCP `record_progress(kind="handoff")`) or a compaction
summary Claude Code or Codex wrote. It leads the handoff, and every claim in it about checks, git,
tasks and files is compared with the facts:

- contradicted: the transcript shows otherwise; the claim is shown with the evidence;
- stale: true once, but the code changed after (a test run before the last edits);
- confirmed: the transcript shows it;
- the agent's word: the transcript cannot tell.

The claim patterns are data (CLAIMS); a claim is never dropped, only labelled. Nothing here raises
on odd input: an account that cannot be read is shown as the agent's words, unchecked.

The account adds to the facts rather than replacing them (`account_sections`): a short note leads
whole, a long one (a compaction summary) with its essentials in a bounded share, and every section
of the facts keeps its best line (docs/handoff.md, "With the agent's account").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from . import gitstate
from .ranks import RANKS
from .state import CheckState, State, lint_targets
from .textutil import clip, code, safe_inline

# The fixed headings `/handoff` asks for, and the names compaction summaries use for the same things.
HEADINGS: dict[str, tuple[str, ...]] = {
    "current_work": ("current work", "current state", "summary", "where things stand"),
    "left": ("what is left", "what's left", "pending tasks", "remaining work", "todo", "open items", "remaining"),
    "decisions": ("decisions and why", "decisions", "approach"),
    "gotchas": ("gotchas", "errors and fixes", "problem solving", "pitfalls", "caveats", "known issues"),
    "next_action": ("next action", "next step", "optional next step", "next steps"),
    # the user's request as the agent restates it (the document quotes the user's own words too)
    "intent": ("primary request and intent", "primary request", "intent"),
    "concepts": ("key technical concepts", "key concepts", "technical concepts"),  # a glossary of the stack
    # Claude Code's scratchpad before its summary: a chronological retelling the summary repeats.
    # Its claims are checked; its lines never lead.
    "analysis": ("analysis",),
}
TITLES = {"current_work": "Current work", "left": "What is left", "decisions": "Decisions and why",
          "gotchas": "Gotchas", "next_action": "Next action", "intent": "What the user wants",
          "concepts": "Key concepts"}
# Lines the harness adds to every compaction summary: instructions to the model, not the account.
_BOILERPLATE = re.compile(
    r"^\s*(?:This session is being continued from a previous conversation|If you need specific details from "
    r"before compaction|Please continue the conversation from where we left off)", re.I)
_TAG = re.compile(r"^\s*<(/?)(analysis|summary)>\s*$", re.I)

_NEG = r"(?:not|n't|never|no longer|yet to|still)\b"
# kind -> pattern over one sentence. Kept as data: a new kind of claim is one row and one test.
CLAIMS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("check_fail", re.compile(
        r"\b(?:tests?|specs?|suite|checks?|build|lint\w*|type ?checks?|ci)\b[^.;\n]{0,50}?"
        r"\b(?:fail(?:s|ed|ing)?|red|broken|error(?:s|ing)?)\b", re.I)),
    ("check_pass", re.compile(
        r"\b(?:tests?|specs?|suite|checks?|build|lint\w*|type ?checks?|ci|compil\w+)\b[^.;\n]{0,50}?"
        r"\b(?:pass(?:es|ed|ing)?|green|succeed(?:s|ed)?|clean|ok)\b", re.I)),
    ("pushed", re.compile(r"\bpushed\b|\bpush(?:ed)? to (?:origin|remote|main|master)\b", re.I)),
    ("committed", re.compile(r"\b(?:committed|working tree (?:is )?clean|nothing (?:left )?to commit)\b", re.I)),
    ("task_done", re.compile(r"\b(?:closed|completed|finished|done|resolved)\b", re.I)),
    ("blocked", re.compile(r"(?<!un)\bblocked (?:by|on)\s+`?([A-Za-z0-9][\w.-]*\w)", re.I)),
    # a plan to finish a task: stale when the tracker closed it since ("Complete spotter-fum.3 by …")
    ("plan_task", re.compile(r"^\W*(?:\d+[.)]\s*)?(?:then\s+)?(?:complete|finish|close|implement|continue(?:\s+with)?"
                             r"|work\s+on|resume|wrap\s+up)\s+`?([A-Za-z][A-Za-z0-9]*-[A-Za-z0-9]+(?:\.\d+)*|[a-z]+\.\d+)`?",
                             re.I)),
    # "code changes made but NOT yet compiled, tested, or committed": stale once a check passed after the edits
    ("unchecked", re.compile(r"\b(?:not\s+(?:yet\s+)?(?:been\s+)?|never\s+)(?:compiled|tested|verified|built|run)\b"
                             r"|\buntested\b|\bunverified\b|\bneeds?:?\s+(?:more\s+)?(?:tests?|compil\w*)\b", re.I)),
    # "gqc.6 (in_progress)", "spotter-fum.4 is in progress", "in progress: app-7"
    ("task_open", re.compile(r"`?\b([A-Za-z][A-Za-z0-9]*-[A-Za-z0-9]+(?:\.\d+)*|[a-z]+\.\d+)[`*]*\s*(?:\(|:|-|—|is\s+"
                             r"(?:still\s+)?|remains\s+)?\s*in[ _-]progress\b|\bin[ _-]progress\s*(?::|—|-)\s*`?"
                             r"([A-Za-z][A-Za-z0-9]*-[A-Za-z0-9]+(?:\.\d+)*)", re.I)),
)
_CHECK_WORDS = {
    "test": ("test", "spec", "suite", "ci"),
    "build": ("build", "lint", "type", "compil", "check"),
}
_TASK_ID = re.compile(r"(?<![\w/.-])([A-Za-z][A-Za-z0-9]*-[A-Za-z0-9]+(?:\.\d+)*|#\d+)(?![\w/-])")
_PATH = re.compile(r"`([^`\s]+\.[A-Za-z0-9]{1,8})`|(?<![\w/])((?:[\w.-]+/)+[\w.-]+\.[A-Za-z0-9]{1,8})\b")


@dataclass
class Claim:
    text: str  # the sentence as the agent wrote it
    kind: str
    verdict: str  # contradicted | stale | confirmed | agent_word
    evidence: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"text": self.text, "kind": self.kind, "verdict": self.verdict, "evidence": self.evidence}


@dataclass
class Account:
    source: str  # note | compact_summary
    sections: dict[str, list[str]] = field(default_factory=dict)  # key -> lines, in the agent's words
    claims: list[Claim] = field(default_factory=list)
    chars: int = 0  # length of the text as the agent wrote it: how much of it leads depends on it
    after: str = ""  # for a summary found in the transcript: the work that came after it ("3 edits and …")

    @property
    def contradicted(self) -> list[Claim]:
        return [c for c in self.claims if c.verdict in ("contradicted", "stale")]


def parse(text: str) -> dict[str, list[str]]:
    """Split an account into the fixed sections; text under no known heading is current work."""
    out: dict[str, list[str]] = {}
    key = "current_work"
    for raw in (text or "").splitlines():
        line = raw.rstrip()
        tag = _TAG.match(line)
        if tag:  # <analysis>…</analysis><summary>…</summary>, as a summary may arrive unformatted
            key = "other" if tag.group(1) else ("analysis" if tag.group(2).lower() == "analysis" else "current_work")
            continue
        if _BOILERPLATE.match(line):
            continue
        head = re.match(r"^\s*(?:#{1,6}\s*|\d+\.\s+|\*\*)?([A-Za-z' ]{3,40}?)(?:\*\*)?\s*:?\s*(?:\*\*)?\s*$", line)
        if head:
            name = head.group(1).strip().lower()
            found = next((k for k, names in HEADINGS.items() if name in names), None)
            inside = key == "analysis" and name != "summary" and not line.lstrip().startswith("#")
            if inside:  # the scratchpad's own headings ("Current state:") stay in it until "Summary:"
                found = None
            if found:
                key = found
                continue
            if not inside and re.match(r"^\s*(?:#{1,6}\s|\d+\.\s)", line):  # a heading of its own ("3. Files and Code Sections")
                key = "other"  # kept for the LLM path's transcript view, not led with
                continue
        if line.strip():
            out.setdefault(key, []).append(line)
    return out


def _sentences(lines: Iterable[str]) -> list[str]:
    out = []
    for line in lines:
        for s in re.split(r"(?<=[.!?])\s+|;\s+", line.strip(" -*\t")):
            if len(s.strip()) > 3:
                out.append(s.strip())
    return out


# "still" negates a state ("still uncommitted") but not a result: "the test still fails" is a failure
_NEG_RESULT = r"(?:not|n't|never|no longer|yet to)\b"


def _negated(sentence: str, m: re.Match[str], neg: str = _NEG) -> bool:
    return bool(re.search(neg, sentence[max(0, m.start() - 25):m.end()], re.I))


def _relevant_checks(sentence: str, kind_hint: str, st: State) -> list[CheckState]:
    """The checks a sentence talks about: those whose command it names, else those of its kind."""
    low = sentence.lower()
    named = [cs for cs in st.checks if any(tok in low for tok in _command_tokens(cs.check.command))]
    if named:
        return named
    words = [k for k, ws in _CHECK_WORDS.items() if any(w in low for w in ws)]
    kinds = set(words) or {kind_hint}
    return [cs for cs in st.checks if cs.check.kind in kinds]


def _command_tokens(command: str) -> list[str]:
    toks = [t for t in re.split(r"[\s/]+", command.lower()) if len(t) > 3 and not t.startswith("-")]
    return [t for t in toks if t not in {"test", "tests", "run", "python", "make", "check", "build"}][:4]


def _verify_check(sentence: str, passed: bool, st: State) -> tuple[str, str]:
    checks = _relevant_checks(sentence, "test", st)
    if not checks:
        return "agent_word", "the transcript does not confirm it"  # a run the facts did not recognize is not "none"
    latest = max(checks, key=lambda cs: cs.check.last)
    failing = [cs for cs in checks if cs.check.outcome == "fail" and not cs.passed_later]
    if passed:
        if failing:
            cs = max(failing, key=lambda c: c.check.last)
            why = f": {clip(safe_inline(cs.check.summary), 140)}" if cs.check.summary else ""
            return "contradicted", f"the last run of {code(cs.check.command)} failed{why}"
        if latest.check.outcome == "pass" and latest.edits_since and not latest.covered_by:
            files = ", ".join(code(p) for p in latest.edited_since[:3])
            n = latest.edits_since
            return "stale", (f"{n} change{'s' if n != 1 else ''} after the last run of {code(latest.check.command)}"
                             + (f" ({files})" if files else ""))
        if latest.check.outcome == "pass":
            return "confirmed", f"{code(latest.check.command)} passed after the last edit"
        return "agent_word", f"the outcome of {code(latest.check.command)} is not in the transcript"
    if latest.check.outcome == "pass" and not failing:
        return "contradicted", f"the last run of {code(latest.check.command)} passed"
    if failing:
        return "confirmed", f"{code(failing[-1].check.command)} failed last"
    return "agent_word", "the transcript does not confirm it"


# steps beyond compiling and testing that a "not yet …" or "needs: …" list may name
_MORE_STEPS = re.compile(r"\b(?:commit\w*|push\w*|credo|lint\w*|clos\w+|merg\w+|deploy\w*|review\w*)\b", re.I)


def _verify_unchecked(sentence: str, st: State, last_edit: int, last_path: str) -> tuple[str, str] | None:
    """"Not yet compiled/tested": wrong once a check of that kind passed after the session's last edit (a
    run that merely saw none of its own files change, a lint of one old file, says nothing of the new code)."""
    low = sentence.lower()
    kinds = {k for k, words in (("test", ("test",)), ("build", ("compil", "buil", "verif", "run"))) if any(
        w in low for w in words)} or {"test", "build"}
    runs = [cs for cs in st.checks if (cs.check.kind in kinds or (cs.check.kind == "lint" and "verif" in low)) and (
        not (only := lint_targets(cs.check)) or any(gitstate.covers(t, last_path) for t in only))]
    current = [cs for cs in runs if cs.check.outcome == "pass" and cs.check.last > last_edit]
    if current:
        names = ", ".join(code(cs.check.command) for cs in current[:3])
        if _MORE_STEPS.search(sentence):  # "needs: tests, credo, commit, push": only its checks are done
            return "stale", f"{names} passed after the last edit; the rest it lists is not checked here"
        return "contradicted", f"{names} passed after the last edit"
    if not runs:
        return None  # the facts saw no such check of the new code: nothing to hold the claim against
    latest = max(runs, key=lambda cs: cs.check.last)
    if latest.check.last < last_edit:
        return "confirmed", f"the last edit came after the last run of {code(latest.check.command)}"
    return None


_GLOBAL_COMMIT = re.compile(r"\b(?:every(?:thing)?|all(?: (?:the |my |of the )?(?:changes?|work|files?|edits?))?)\b"
                            r"[^.;\n]{0,30}\bcommitted\b|\bworking tree (?:is )?clean\b|\bnothing (?:left )?to commit\b",
                            re.I)
_GLOBAL_PUSH = re.compile(r"\b(?:every(?:thing)?|all(?: (?:the |my )?(?:commits?|changes?|work))?)\b[^.;\n]{0,30}"
                          r"\bpushed\b|\bup to date with\b", re.I)
_SHA = re.compile(r"(?<![0-9a-f])([0-9a-f]{7,40})(?![0-9a-f])")
# A sentence about what someone wants or plans is not a claim about the state.
_INTENT = re.compile(r"\b(?:wants?|wanted|should|needs? to|must|will|going to|to be|asked|plan(?:s|ned)? to|"
                     r"remember to|before|once|after you|then)\b", re.I)


def _verify_git(kind: str, sentence: str, st: State) -> tuple[str, str] | None:
    """A git claim checked against git's output; None when the sentence states no checkable state.

    Only claims about the state now are checked: "everything is committed", a file named as
    committed, a commit sha. "Tasks 1-3 were committed" is history the transcript bears out or not
    commit by commit, and is left as the agent's words."""
    g = st.git
    shas = {c.sha for c in g.commits if c.sha}
    named = [m.group(1) for m in _SHA.finditer(sentence)]
    if kind == "committed":
        known = [x for x in named if any(c.startswith(x) or x.startswith(c) for c in shas)]
        if known:
            return "confirmed", f"commit {code(known[0])} is in the transcript"
        files = [u for u in g.uncommitted if u.path in sentence or u.path.rsplit("/", 1)[-1] in sentence]
        if files:
            return "contradicted", f"git shows {code(files[0].path)} {files[0].why}".replace("  ", " ")
        if not _GLOBAL_COMMIT.search(sentence):
            return None
        if g.uncommitted:
            first = g.uncommitted[0]
            more = f" and {len(g.uncommitted) - 1} more" if len(g.uncommitted) > 1 else ""
            return "contradicted", f"git shows {code(first.path)} {first.why}{more}".replace("  ", " ")
        if g.changed and g.commits:  # edited after the last commit, and git printed nothing since
            first = g.changed[0]
            more = f" and {len(g.changed) - 1} more" if len(g.changed) > 1 else ""
            return "stale", (f"{code(first.path)}{more} changed after the last commit "
                             f"{code(g.commits[-1].sha)}, and no git output came after")
        if g.known and g.commits:
            return "confirmed", f"last commit {code(g.commits[-1].sha)} after the last edit"
        return "agent_word", "git state not seen after the last edit"
    if g.unpushed and (_GLOBAL_PUSH.search(sentence) or not g.pushed):  # nothing of the session was pushed
        n = len(g.unpushed)
        return "contradicted", f"{n} commit{'s' if n != 1 else ''} not pushed ({', '.join(code(c.sha) for c in g.unpushed[:3])})"
    if g.pushed:
        return "confirmed", "a push succeeded in the session"
    if not _GLOBAL_PUSH.search(sentence):
        return None
    return "agent_word", "no push result in the transcript"


_DONE_WORDS = r"(?:closed|done|completed?|finished|resolved)"


def _verify_task(sentence: str, st: State, tasks: dict[str, Any]) -> tuple[str, str] | None:
    """A claim that a named task is done: the id bound to a done word ("closed X", "X: CLOSED",
    "X is done"), compared with the tracker's last word on it."""
    for m in _TASK_ID.finditer(sentence):
        tid = m.group(1)
        if tid not in tasks:
            continue
        before = sentence[max(0, m.start() - 30):m.start()]
        after = sentence[m.end():m.end() + 30]
        if not (re.search(_DONE_WORDS + r"\s+(?:task\s+|bead\s+|issue\s+)?['\"`]?$", before, re.I)
                or re.match(r"['\"`]?\s*(?:[:=(-]\s*|\s+(?:is|was|now|has been|got)\s+)*" + _DONE_WORDS + r"\b",
                            after, re.I)):
            continue
        t = tasks[tid]
        status = (t.status or "").replace("_", " ")
        if status in ("closed", "done", "completed", "resolved"):
            return "confirmed", f"the tracker shows {code(t.id)} {status}"
        if status:
            left = f"; output files not changed yet: {', '.join(code(p) for p in st.untouched_outputs[:3])}" if (
                st.current is t and st.untouched_outputs) else ""
            return "contradicted", f"the tracker last showed {code(t.id)} {status}{left}"
        return "agent_word", f"the tracker's status of {code(t.id)} is not in the transcript"
    return None


def _verify_still_open(name: str, tasks: dict[str, Any]) -> tuple[str, str] | None:
    """"X blocked by Y" (about Y) or "Y in progress": the claim holds while the tracker last showed Y
    open. Y may be written short ("gqc.5" for `spotter-gqc.5`); a name that matches no task, or
    several, is not checked. A compaction summary written mid-task and read after Y was closed is the
    usual contradiction."""
    found = [t for tid, t in tasks.items() if tid == name or tid.endswith(("-" + name, "." + name))]
    if len(found) != 1:
        return None
    t = found[0]
    status = (t.status or "").replace("_", " ")
    if status in ("closed", "done", "completed", "resolved"):
        return "contradicted", f"the tracker shows {code(t.id)} {status}"
    if status:
        return "confirmed", f"the tracker last showed {code(t.id)} {status}"
    return None


def verify(text: str, st: State, facts: Any, source: str = "note") -> Account:
    """Parse the account and label each claim it makes against the derived state."""
    acct = Account(source=source, sections=parse(text), chars=len(text or ""))
    tasks = getattr(facts, "tasks", {}) or {}
    edits = getattr(facts, "edits", []) or []
    mine = [e for e in edits if facts.in_project(e.path)]
    last_edit, last_path = (mine[-1].index, facts.display(mine[-1].path)) if mine else (-1, "")
    seen: set[tuple[str, str]] = set()
    for key in ("current_work", "left", "next_action", "gotchas", "decisions", "intent", "concepts", "analysis"):
        for s in _sentences(acct.sections.get(key, [])):
            for kind, rx in CLAIMS:
                m = rx.search(s)
                if not m or (kind, s) in seen:
                    continue
                if kind in ("check_pass", "check_fail"):
                    if key in ("left", "next_action") or _INTENT.search(s):
                        continue  # "make the tests pass" is the plan
                    neg = _negated(s, m, _NEG_RESULT)
                    verdict, ev = _verify_check(s, (kind == "check_pass") != neg, st)
                elif kind in ("committed", "pushed"):
                    if _negated(s, m) or key in ("left", "next_action") or _INTENT.search(s):
                        continue  # "not pushed yet" or "push it" is a plan, not a claim
                    got = _verify_git(kind, s, st)
                    if got is None:
                        continue
                    verdict, ev = got
                elif kind == "unchecked":  # a state claim wherever it stands, "what is left" included
                    got = _verify_unchecked(s, st, last_edit, last_path)
                    if got is None:
                        continue
                    verdict, ev = got
                elif kind == "plan_task":  # flagged only when already done: a plan for an open task is a plan
                    got = _verify_still_open(m.group(1), tasks)
                    if got is None or got[0] != "contradicted":
                        continue
                    verdict, ev = got[0], got[1] + " already"
                elif kind == "task_open":  # a state claim wherever it stands, like "blocked"
                    if re.search(r"\b(?:was|were|had been)\s+(?:still\s+)?in[ _-]progress", s, re.I):
                        continue  # history
                    got = _verify_still_open(m.group(1) or m.group(2), tasks)
                    if got is None:
                        continue
                    verdict, ev = got
                elif kind == "blocked":  # a state claim wherever it stands, "what is left" included
                    if re.search(r"\b(?:was|were|no longer|not)\s+$", s[max(0, m.start() - 12):m.start()], re.I) \
                            or re.search(r"\bunblocked\b", s, re.I):
                        continue  # history: "was blocked by X", "(now unblocked)"
                    got = _verify_still_open(m.group(1), tasks)
                    if got is None:
                        continue
                    verdict, ev = got
                else:
                    if _negated(s, m) or key in ("left", "next_action") or _INTENT.search(s):
                        continue
                    got = _verify_task(s, st, tasks)
                    if got is None:
                        continue
                    verdict, ev = got
                seen.add((kind, s))
                acct.claims.append(Claim(clip(s, 240), kind, verdict, ev))
    # one sentence, two claims ("fum.3 in progress — NOT yet tested"): the wrong part wins, or "Confirmed"
    # would vouch for the whole sentence
    wrong = {c.text for c in acct.claims if c.verdict in ("contradicted", "stale")}
    acct.claims = [c for c in acct.claims if not (c.verdict == "confirmed" and c.text in wrong)]
    return acct


_LABEL = {"contradicted": "Contradicted", "stale": "Changed since", "confirmed": "Confirmed",
          "agent_word": "The agent's word"}


def _agent_line(line: str) -> str:
    """The agent's line as Markdown that cannot open a heading of the document's own."""
    s = line.rstrip()
    s = re.sub(r"^\s*#{1,6}\s+", "", s)
    return s if re.match(r"^\s*(?:[-*]|\d+[.)])\s", s) else f"- {s.strip()}"


_BULLET = re.compile(r"^\s*(?:[-*]|\d+[.)])\s")


def _blocks(lines: list[str]) -> list[list[str]]:
    """A section's lines as Markdown, grouped into blocks that lead or drop together.

    A block is a line and what belongs to it: deeper-indented lines, the list under a line that
    ends with a colon ("Still needed for gqc.6:" and its bullets), and the rest of a sentence
    wrapped onto the next line, so a condensed account never shows a list without the line that
    says what it is, nor half a sentence. The common indentation of the section goes (compaction
    summaries indent every line by three spaces)."""
    rows = [ln.expandtabs(2).rstrip() for ln in lines if ln.strip()]
    base = min((len(r) - len(r.lstrip()) for r in rows), default=0)
    out: list[list[str]] = []
    opener = False  # the current block's first line announces a list
    prev = ""
    for r in rows:
        r = r[base:]
        deeper = len(r) - len(r.lstrip()) > 0
        bullet = bool(_BULLET.match(r))
        if out and not bullet and not deeper and prev and not _BULLET.match(prev) \
                and not re.search(r"[.!?:)\]*`]\s*$", prev):
            out[-1][-1] += " " + r.strip()  # a sentence wrapped onto this line
        elif out and (deeper or (opener and bullet)):
            out[-1].append(("  " + _agent_line(r)) if opener and not deeper else _agent_line(r))
        else:
            out.append([_agent_line(r)])
            opener = r.endswith(":")
        prev = r
    return out


def render(acct: Account) -> dict[str, Any]:
    """What the handoff shows: the account's sections in the agent's words, and the checked claims.

    Returns {"sections": [(key, title, blocks)], "checked": [(claim, line)]}; a line holding a
    contradicted or stale claim carries the evidence after it.
    """
    who = "the agent's note" if acct.source == "note" else "the agent's compaction summary"
    if acct.after:  # the session went on after it: its plan may be done already
        who += f", written before {acct.after}"
    flagged = {c.text: c for c in acct.claims if c.verdict in ("contradicted", "stale")}
    sections = []
    for key in SHOWN:
        blocks = _blocks(acct.sections.get(key, []))
        if not blocks:
            continue
        for block in blocks:
            for i, ln in enumerate(block):
                hit = next((c for t, c in flagged.items() if t[:60] in ln), None)
                if hit is not None:
                    block[i] = f"{ln} **[{_LABEL[hit.verdict].lower()}: {hit.evidence}]**"
        sections.append((key, f"{TITLES[key]} ({who})", blocks))
    checked = []
    says = "the note says" if acct.source == "note" else "the summary says"
    for c in sorted(acct.claims, key=lambda c: ("contradicted", "stale", "agent_word", "confirmed").index(c.verdict)):
        checked.append((c, f"- **{_LABEL[c.verdict]}:** {says} “{clip(safe_inline(c.text), 160)}”"
                        + (f"; {c.evidence}" if c.evidence else "") + "."))
    return {"sections": sections, "checked": checked}


RECENT_SUMMARY = 40  # a compaction summary this close to the end still describes where the session stands


def transcript_account(messages: list[Any]) -> dict[str, str] | None:
    """The harness's own compaction summary when it is among the session's last messages.

    An older summary describes a state the session has moved on from: it stays input for the LLM
    path but does not lead the document."""
    for i in range(len(messages) - 1, max(-1, len(messages) - 1 - RECENT_SUMMARY), -1):
        m = messages[i]
        if getattr(m, "role", "") == "summary" and (getattr(m, "text", "") or "").strip():
            return {"text": m.text, "source": "compact_summary", "index": i}
    return None


def _work_after(index: int, st: State, facts: Any) -> str:
    """The edits and check runs after message `index`, in words ("4 edits and 2 later checks of this
    transcript"); "" when nothing was done after it."""
    edits = sum(1 for e in getattr(facts, "edits", []) if e.index > index and facts.in_project(e.path))
    runs = sum(1 for cs in st.checks if cs.check.last > index)
    parts = [f"{edits} edit{'s' if edits != 1 else ''}"] if edits else []
    parts += [f"{runs} later check{'s' if runs != 1 else ''}"] if runs else []
    return " and ".join(parts) + " of this transcript" if parts else ""


def session_account(session: Any, facts: Any, st: State, messages: list[Any] | None = None) -> Account | None:
    """The account the session carries (`session["account"]`: {"text", "source"}), else a recent
    compaction summary in the transcript, verified; None without either."""
    acc = session.get("account") if hasattr(session, "get") else None
    if not isinstance(acc, dict) and messages:
        acc = transcript_account(messages)
    if not isinstance(acc, dict) or not isinstance(acc.get("text"), str) or not acc["text"].strip():
        return None
    source = acc.get("source") if acc.get("source") in ("note", "compact_summary") else "note"
    try:
        out = verify(acc["text"][:60_000], st, facts, source)
        if isinstance(acc.get("index"), int):
            out.after = _work_after(acc["index"], st, facts)
        return out
    except Exception:  # noqa: BLE001 - an unreadable account is still the agent's words, unchecked
        return Account(source=source, sections=parse(acc["text"][:60_000]), chars=len(acc["text"][:60_000]))


# The sections that lead, in the order the document shows them.
SHOWN = ("current_work", "left", "next_action", "decisions", "gotchas", "intent", "concepts")
WHOLE_SHARE = 0.32  # an account up to this share of the budget leads whole: a note written for the handoff
CONDENSED_SHARE = 0.2  # what the longest account condenses to (a 14,000-character compaction summary)
DUPLICATE = 0.85  # a block whose words the facts already show to this share is left to them
ALLOWANCE = 400  # the document's header and the "… and N more" notes, beside the account's share

_WORD = re.compile(r"[A-Za-z0-9_][\w./:@-]*\w")
_COMMON = frozenset((
    "this", "that", "with", "from", "then", "have", "been", "were", "will", "into", "also", "when", "what", "which",
    "their", "there", "these", "those", "they", "them", "only", "just", "more", "most", "some", "such", "than",
    "very", "each", "both", "after", "before", "about", "over", "under", "again", "once", "here", "while", "where",
    "being", "does", "doing", "done", "made", "make", "added", "updated", "still", "needs", "need", "should",
    "would", "could"))
# A line that tells a step already taken ("Added the button", "Updated `app.js`"): the facts show
# the edits and commands themselves, checked, so a condensed account leaves this narrative to them.
_DONE_STEP = re.compile(
    r"^\s*(?:[-*]|\d+[.)])?\s*(?:\*\*)?(?:added|updated|modified|created|installed|removed|fixed|wrote|implemented|"
    r"changed|replaced|renamed|moved|deleted|refactored|extracted|registered|imported|ran|built|switched|set up|"
    r"claimed|closed|committed|pushed|read|explored)\b", re.I)


def lead_share(chars: int, budget: int) -> int | None:
    """How many characters of an account `chars` long lead a `budget`-character handoff; None: all of it.

    A short note was written for the handoff: each line counts, and it leads whole. A long account
    (a compaction summary re-tells the whole session for the model that continues it) leads with
    less the longer it is, down to CONDENSED_SHARE of the budget, so the facts keep their sections."""
    whole = int(budget * WHOLE_SHARE)
    if chars <= whole:
        return None
    return max(int(budget * CONDENSED_SHARE), whole - (chars - whole) // 4)


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text) if len(w) >= 4 and w.lower() not in _COMMON}


def _said_by_facts(block: list[str], known: set[str]) -> bool:
    """The block repeats what the facts already show (its distinctive words are nearly all there).

    Only a long account's current work is compared: what is left and the next step are the agent's
    plan in its own order and words, kept even where the facts name the same steps, and a short
    note was written for the handoff and leads whole."""
    words = _words(" ".join(block))
    return len(words) >= 4 and len(words & known) >= DUPLICATE * len(words)


def _essential(key: str, block: list[str], source: str) -> int | None:
    """The order a condensed account keeps a block in, None when it leaves it to the budget's room.

    What is left and the next step are what only the agent knows (0); then where its current work
    stands (1), but not its retelling of finished steps, which the facts show checked. A note was
    written for the handoff, so its decisions and gotchas come next (2); a compaction summary's
    were written for the model that continues the same session (its "Errors and fixes" retells
    what the facts list) and, with its restatement of the request and its glossary, lead only
    where the budget has room."""
    if key in ("left", "next_action"):
        return 0
    if key == "current_work" and 2 * sum(1 for ln in block if _DONE_STEP.match(ln)) <= len(block):
        return 1
    if key in ("decisions", "gotchas") and source == "note":
        return 2
    return None


def _keep_heads(rest: list[Any], budget: int, room: int) -> None:
    """Every block of the facts that a `budget` document would show without the account keeps its
    best line when the account leaves the facts `room` characters: the account shortens the facts'
    sections from their ends and never removes one.

    A line is lifted only as far as it must be: just above the details that must give way for all
    of them to stay, so the facts' own order stays as it was everywhere else (a stored layout
    rendered at another budget ranks as before but for these lines). Blocks the budget would drop
    without the account stay dropped."""
    from .render import fit

    shown_alone = fit(rest, "", budget).dropped
    heads = []
    for sec in rest:
        blocks: dict[str, list[Any]] = {}
        for it in sec.items:
            if not it.hidden:
                blocks.setdefault(it.sub, []).append(it)
        for items in blocks.values():
            shown = [it for it in items if it.uid not in shown_alone]
            if shown and not any(it.required for it in shown):
                heads.append(max(shown, key=lambda it: (it.rank, -it.uid)))
    if not heads or not fit(rest, "", max(room, 0)).dropped & {h.uid for h in heads}:
        return  # the account squeezes out no best line
    for h in heads:  # which details must give way for every best line to stay
        h.required = True
    try:
        give_way = fit(rest, "", max(room, 0)).dropped
    finally:
        for h in heads:
            h.required = False
    line = max((it.rank for sec in rest for it in sec.items if it.uid in give_way), default=None)
    if line is not None:
        for h in heads:
            h.rank = max(h.rank, line + 0.01 + h.rank * 1e-4)


def account_sections(acct: Account, budget: int | None = None, rest: list[Any] | None = None) -> list[Any]:
    """Sections that lead the handoff: the account in the agent's words, then what the check found.

    The account adds to the facts (`rest`, the rules document's sections) rather than replacing
    them: each block of the facts the budget would show keeps its first line (`_keep_heads`). A
    short note leads whole. A long account leads with its essentials up to `lead_share`, in the
    order of `_essential`, leaving to the facts the blocks of its current work they already say
    (`_said_by_facts`). Its other lines rank below every fact, so they show only where the budget
    has room (a stored layout rendered larger shows more of them). Contradicted or stale claims
    are must-keep and rank above everything: condensing never cuts them (the budget still holds:
    a 2,000-character handoff with ten contradicted claims says how many it left out).
    """
    from .render import DEFAULT_BUDGET, Item, Section, fit

    budget = DEFAULT_BUDGET if budget is None else max(int(budget), 0)
    shown = render(acct)
    share = lead_share(acct.chars, budget)
    known: set[str] = set()
    if rest:
        whole = (sum(len(ln) + 1 for b in _all_blocks(shown) for ln in b) + 60 * len(shown["sections"])
                 + sum(len(ln) + 1 for _c, ln in shown["checked"]))
        _keep_heads(rest, budget, budget - (whole if share is None else share) - ALLOWANCE)
        if share is not None:  # the facts' words that survive beside the account's share
            known = _words(fit(rest, "", max(budget - share, 0)).markdown)
    flagged = [ln for c, ln in shown["checked"] if c.verdict in ("contradicted", "stale")]
    claims_of = {id(b): [ln for c, ln in shown["checked"] if c.verdict not in ("contradicted", "stale")
                         and any(c.text[:60] in x for x in b)] for b in _all_blocks(shown)}
    lead: set[int] = set()
    dup: set[int] = set()
    spent = sum(len(ln) + 1 for ln in flagged) + (60 if flagged else 0)
    candidates = []
    for order, (key, title, blocks) in enumerate(shown["sections"]):
        for i, b in enumerate(blocks):
            tier = 0 if share is None else _essential(key, b, acct.source)
            if share is not None and key not in ("left", "next_action") and _said_by_facts(b, known):
                dup.add(id(b))
            elif tier is not None:
                candidates.append((tier, order, i, key, title, b))
    opened: set[str] = set()
    stopped: set[str] = set()
    # breadth first: every section of a tier gets its first block before any gets its second
    for _tier_n, _order, _i, key, title, b in sorted(candidates, key=lambda c: (c[0], c[2], c[1])):
        if key in stopped:
            continue
        cost = sum(len(ln) + 1 for ln in [*b, *claims_of[id(b)]]) + (0 if key in opened else len(title) + 5)
        if share is not None and spent + cost > share:
            stopped.add(key)  # the section stops here: the lines after would read out of their context
            continue
        lead.add(id(b))
        opened.add(key)
        spent += cost

    out = []
    start = RANKS["account.lead"]
    rank = start
    for key, title, blocks in shown["sections"]:
        sec = Section(f"account_{key}", title)
        for b in blocks:
            for ln in b:
                flag = "**[" in ln
                # past its share the account ranks below every fact; what the facts already say drops first
                r = rank if id(b) in lead else (
                    RANKS["account.duplicate"] if id(b) in dup else RANKS["account.rest"]) - (start - rank)
                sec.items.append(Item(ln, rank=r + (1.0 if flag else 0.0), group="lines of the agent's account",
                                      keep=(("account_check", ln),) if flag else ()))
                rank -= 0.0001
        out.append(sec)
    if shown["checked"]:
        sec = Section("account_checked", "The account checked against the transcript")
        led_claims = {ln for b in _all_blocks(shown) if id(b) in lead for ln in claims_of[id(b)]}
        for k, (c, ln) in enumerate(shown["checked"]):
            bad = c.verdict in ("contradicted", "stale")
            r = (RANKS["account.contradicted_claim"] if bad else RANKS["account.led_claim"] if ln in led_claims
                 else RANKS["account.other_claim"])
            sec.items.append(Item(ln, rank=r - k * 0.0001, group="checked claims",
                                  keep=(("contradiction", ln),) if bad else ()))
        out.insert(min(1, len(out)), sec)
    return out


def _all_blocks(shown: dict[str, Any]) -> list[list[str]]:
    """Every block of a rendered account, in document order."""
    return [b for _k, _t, blocks in shown["sections"] for b in blocks]
