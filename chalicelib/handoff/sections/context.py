"""The context the next session works in: task contracts, the user's requests, the repository's
conventions, facts learned from the code, and the project's knowledge base.
"""

from __future__ import annotations

import re
from typing import Any

from .. import tracker
from ..data import HandoffData, record_list
from ..ranks import RANKS
from ..render import Item, Section
from ..state import _routine
from ..textutil import clip, code, norm_key, one_line, prefix_words, quote_line, quoted, safe_inline

MAX_REQUESTS = 4  # the first request plus the last three
MAX_LEARNED = 10
MAX_KNOWLEDGE = 12
# what an agent says when it explains rather than reads: a cause, a verdict on a warning, a guess
_HYPOTHESIS = re.compile(
    r"(?i)\b(?:root cause|the (?:issue|problem|bug|culprit|cause|reason) (?:is|was|here)|because|caused by|due to"
    r"|false positive|flak(?:y|iness)|must be|is likely|appears to|seems?|probably|i think|i suspect|suspect"
    r"|presumably|should be|would be|might|may be|could be|my guess|turns out|so the fix)\b")


_SPEC_PRIORITY = {"definition of done": 0.0, "acceptance criteria": 0.0, "description": 0.1, "": 0.1,
                  "technical specs": 0.5, "edge cases": 0.6, "requirements": 0.5, "output files": 4.0,
                  "architecture constraints": 5.0, "scope": 3.0, "out of scope": 3.0, "no-gos": 3.0,
                  "component usage": 5.5, "source references": 9.0, "goal": 0.3}


def _spec_key(head: str) -> str:
    return head.strip().rstrip(":").lower()


def render_contracts(hd: HandoffData) -> list[Section]:
    """What the current and the next task require, verbatim from the tracker (one section each)."""
    out = []
    st = hd.state
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


def render_requests(hd: HandoffData) -> Section:
    """The user's first request and the last few, verbatim."""
    s = Section("requests", "What the user asked (verbatim)")
    msgs = hd.facts.user_messages
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


def render_conventions(hd: HandoffData) -> Section:
    """How this repository is worked in (commit messages, staging, routines, tracker use), as seen."""
    s = Section("conventions", "Conventions seen in this repository")
    f, g = hd.facts, hd.facts.git
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
        if f.commands and any("<<" in c and "commit" in c for _i2, c in hd.facts.shell_texts):
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
        routine = [c for c in _routine_cmds(hd)]
        if routine:
            s.items.append(Item("- Before its last commit the session ran " + " → ".join(code(c) for c in routine)
                                + _commit_tail(hd) + ".", rank=RANKS["conventions.routine"],
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
    for _i, cmd in hd.facts.shell_texts:
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


def _commit_tail(hd: HandoffData) -> str:
    """What followed the checks around the last commit: closing the task, committing, pushing."""
    f = hd.facts
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


def _routine_cmds(hd: HandoffData) -> list[str]:
    return list(dict.fromkeys(_routine(hd.facts, hd.state.checks)))[-6:]


def _words(text: str) -> set[str]:
    """Lower-case words of 6 letters or more, plural or not (`migrations` is `migration`)."""
    return {w[:-1] if w.endswith("s") else w for w in re.findall(r"[a-z]{6,}", text.lower())}


_PATHLIKE = re.compile(r"[\w.~-]*/[\w./~-]*|[\w-]+\.[a-z]{1,5}\b")


def _changed_after(hd: HandoffData, index: int, text: str) -> str:
    """The first file changed after a finding was said that the finding names (its path), or whose folder
    or file name its prose speaks of ("the auto-generated migration" and `priv/repo/migrations/…`): what
    it says may no longer hold. Words inside a path or an identifier it quotes are not prose
    (`priv/static/assets/`, `load_session_messages`)."""
    paths = [m.strip("/") for m in _PATHLIKE.findall(text) if len(m.strip("/")) >= 4]
    prose = _words(re.sub(r"\w*_\w*", " ", _PATHLIKE.sub(" ", text)))  # identifiers are not prose either
    for ev in hd.facts.edits:  # the first such change after it: the one it most likely led to
        if ev.index <= index:
            continue
        shown = hd.facts.display(ev.path).replace("\\", "/")
        named = any(shown == p or shown.endswith("/" + p) or p.endswith("/" + shown) for p in paths)
        if hd.facts.in_project(ev.path) and (named or prose & _words(" ".join(re.split(r"[/._-]", "/".join(
                shown.split("/")[-2:]))))):
            return ev.path
    return ""


def render_learned(hd: HandoffData) -> Section:
    """Facts about the code the session recorded or read, apart from the agent's own guesses."""
    s = Section("learned", "Facts learned by reading the code")
    for x in record_list(hd.session, "learnings"):
        t = one_line(x)
        s.items.append(Item(f"- {t}", required=True, keep=(("learning", prefix_words(t, 120)),),
                            data_key="learnings", payload={"text": t, "source": "session"}))
    seen: set[str] = set()
    notes = []
    # a diagnosis of an error that a later run no longer showed is history, not a fact about the code
    fixed = [e for e in hd.facts.errors if e.resolved is True and e.fix_index > e.index and e.fix_edits]

    def stale(d: Any) -> bool:  # "X is missing", said between the error and the edit that added X
        terms = {t.lower() for t in re.findall(r"['`]([^'`\s]{4,})['`]|\b(\w+_\w+)\b", d.text) for t in t if t}
        return any(e.index < d.index <= e.fix_index and any(
            t in ev.text.lower() for ev in e.fix_edits for t in terms) for e in fixed)

    for d in reversed([d for d in hd.facts.learned + hd.facts.learnings if not stale(d)]):
        k = norm_key(d.text)
        if k and k not in seen and len(d.text) >= 25:
            seen.add(k)
            notes.append(d)
    notes.sort(key=lambda d: d.index)
    guesses = [d for d in notes[-MAX_LEARNED:] if d.who == "thinking" or _HYPOTHESIS.search(d.text)]
    for d in notes[-MAX_LEARNED:]:
        if d not in guesses:
            later = _changed_after(hd, d.index, d.text)
            after = f" (the session changed {hd.path(later)} after this)" if later else ""
            s.items.append(Item(f"- {quoted(d.text, 220)}{after}",
                                rank=RANKS["findings"] + 3 * hd.recency(d.index),
                                group="findings",
                                data_key="learnings", payload={"text": d.text, "source": "assistant"}))
    for d in guesses:  # the agent's reasoning or its explanation of a cause: labelled as its own
        s.items.append(Item(f"- The agent thought: “{d.text}”",
                            rank=RANKS["hypotheses"] + 3 * hd.recency(d.index),
                            sub="The agent's hypotheses (its own words, not verified)", group="hypotheses",
                            data_key="learnings", payload={"text": d.text, "source": "agent_hypothesis"}))
    return s


def render_knowledge(hd: HandoffData) -> Section:
    """The project knowledge base: items people wrote rank above lessons extracted from sessions."""
    s = Section("knowledge", "Project knowledge")
    ordered = sorted(hd.knowledge, key=lambda it: it.get("source_session") is not None)  # people first
    for k, item in enumerate(ordered[:MAX_KNOWLEDGE]):
        title = one_line(str(item.get("title") or ""))
        body = one_line(str(item.get("body") or ""))
        text = f"- **{safe_inline(title)}**" + (f": {clip(safe_inline(body), 280)}" if body and body != title else "")
        by_hand = item.get("source_session") is None  # written by a person: ranked first
        rank = (RANKS["knowledge.by_person"] if by_hand else RANKS["knowledge.lesson"]) - k * 0.05
        s.items.append(Item(text, rank=rank, group="knowledge items", data_key="knowledge",
                            payload={"id": item.get("id"), "title": title}))
    return s
