"""The answer's level-2 Markdown sections: clean, check, trim, and repair against the rules document."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from chalicelib.text import clip_middle

FACTS_SECTION = "Facts carried by rules"
# The SPEC's sections after the header; used when the rules document offers no headings.
DEFAULT_SECTIONS: tuple[str, ...] = (
    "Mission and goal",
    "Pinned context",
    "Summary of the session",
    "Accomplishments",
    "Current state",
    "Files changed",
    "Decisions",
    "Errors and blockers",
    "Learnings",
    "Next steps",
    "Metrics",
    "Checklist for the next session",
)
# An answer missing any rules heading that contains one of these words fails the check.
KEY_SECTION_WORDS: tuple[str, ...] = ("summary", "files changed", "next step")
# Sections copied verbatim from the rules document whatever the model wrote (SPEC: pinned
# context is never shortened; metrics are computed numbers the model has no business retyping).
VERBATIM_SECTION_WORDS: tuple[str, ...] = ("pinned", "metrics")
MAX_ANSWER_RATIO = 1.5  # answers longer than this x budget_chars fail the check


@dataclass
class _Section:
    heading: str  # the full "## ..." line
    body: list[str]

    @property
    def key(self) -> str:
        return heading_key(self.heading)

    def text(self) -> str:
        return "\n".join([self.heading, *self.body])


def split_sections(markdown: str) -> tuple[list[str], list[_Section]]:
    """(preamble lines, level-2 sections); headings inside code fences do not count."""
    preamble: list[str] = []
    sections: list[_Section] = []
    in_fence = False
    for line in markdown.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        if not in_fence and re.match(r"^##\s+\S", line):
            sections.append(_Section(line.rstrip(), []))
        elif sections:
            sections[-1].body.append(line)
        else:
            preamble.append(line)
    return preamble, sections


def heading_key(heading: str) -> str:
    """Comparable form of a heading: no #, numbering, emoji or punctuation; lower case."""
    text = heading.lstrip("#").strip().lower()
    text = re.sub(r"^[\d.)\s]+", "", text)
    text = re.sub(r"[^\w\s+/-]", " ", text)
    return " ".join(text.split())


def _same_section(a: str, b: str) -> bool:
    return bool(a and b) and (a == b or a in b or b in a)


def section_titles(markdown: str) -> list[str]:
    """The level-2 heading texts of a document, in order."""
    return [s.heading.lstrip("#").strip() for s in split_sections(markdown)[1]]


def clean_answer(answer: str) -> str:
    """The model's answer from its first level-2 section on, without a wrapping code fence."""
    text = (answer or "").strip()
    fence = re.match(r"^```[\w-]*\n(.*?)\n?```\s*$", text, re.S)
    if fence:
        text = fence.group(1).strip()
    _, sections = split_sections(text)
    if not sections:
        return text
    return "\n".join(s.text() for s in sections).strip()


def sanity_problem(body: str, *, rules_md: str, budget_chars: int) -> str | None:
    """Why the answer is unusable, or None: empty, oversized, or missing key sections."""
    if not body.strip():
        return "the answer is empty"
    if len(body) > MAX_ANSWER_RATIO * budget_chars:
        return f"the answer is too long ({len(body)} chars, budget {budget_chars})"
    answer_keys = [s.key for s in split_sections(body)[1]]
    if not answer_keys:
        return "the answer has no section headings"
    rules_keys = [s.key for s in split_sections(rules_md)[1]]
    required = [k for k in rules_keys if any(w in k for w in KEY_SECTION_WORDS)]
    if not required:
        return None if len(answer_keys) >= 2 or len(rules_keys) < 2 else "the answer has too few sections"
    missing = [k for k in required if not any(_same_section(k, a) for a in answer_keys)]
    if missing:
        return "missing section(s): " + ", ".join(missing)
    return None


def trim_markdown(markdown: str, limit: int) -> str:
    """`markdown` in at most `limit` chars: every heading kept, each section's body cut evenly.

    Used for the rules draft inside a tight prompt; its facts travel separately and are restored
    after the answer, so a shortened draft loses nothing for good.
    """
    if len(markdown) <= limit:
        return markdown
    preamble, sections = split_sections(markdown)
    pre = clip_middle("\n".join(preamble).strip(), min(400, limit // 5))
    fixed = len(pre) + sum(len(s.heading) + 2 for s in sections)
    body_room = max(0, limit - fixed)
    bodies = ["\n".join(s.body).strip() for s in sections]
    total = sum(len(b) for b in bodies) or 1
    out = [pre] if pre else []
    for sec, body in zip(sections, bodies, strict=True):
        share = int(body_room * len(body) / total)
        kept: list[str] = []
        used = 0
        for line in body.splitlines():
            if used + len(line) + 1 > share:
                if share - used > 40:
                    kept.append(clip_middle(line, share - used - 1))
                kept.append("…")
                break
            kept.append(line)
            used += len(line) + 1
        out.append("\n".join([sec.heading, *kept]).rstrip())
    return clip_middle("\n".join(out), limit)


def _norm(text: str) -> str:
    return " ".join(text.split())


def contains_fact(haystack: str, fact: str) -> bool:
    """`fact` occurs in `haystack` (whitespace-normalized) as a whole token run.

    Plain substring search would count `app.py` as present in `chalicelib/app.py` and `TASK-12`
    in `TASK-123`; a fact that starts or ends with a word character must not touch another word,
    path or id character there.
    """
    nf = _norm(fact)
    if not nf:
        return True
    hay = _norm(haystack)
    if nf not in hay:
        return False
    left = r"(?<![\w/.\-])" if re.match(r"\w", nf) else ""
    right = r"(?![\w/\-]|\.\w)" if re.search(r"\w$", nf) else ""
    return re.search(left + re.escape(nf) + right, hay) is not None


def repair(body: str, *, rules_md: str, facts: Sequence[dict[str, str]]) -> tuple[str, list[dict[str, str]]]:
    """Put the rules header, verbatim sections and dropped must-keep facts into the answer.

    Returns (markdown, facts that were missing from the model's answer).
    """
    dropped = [f for f in facts if not contains_fact(body, f["text"])]

    rules_pre, rules_secs = split_sections(rules_md)
    _, secs = split_sections(body)

    def insert_in_rules_order(new: _Section, ri: int) -> None:
        later = [r.key for r in rules_secs[ri + 1:]]
        pos = next((i for i, s in enumerate(secs) if any(_same_section(s.key, k) for k in later)), len(secs))
        secs.insert(pos, new)

    # Verbatim sections from the rules document, replacing or inserting in the rules order.
    for ri, rsec in enumerate(rules_secs):
        if not any(w in rsec.key for w in VERBATIM_SECTION_WORDS):
            continue
        idx = next((i for i, s in enumerate(secs) if _same_section(s.key, rsec.key)), None)
        copy = _Section(rsec.heading, list(rsec.body))
        if idx is not None:
            secs[idx] = copy
        else:
            insert_in_rules_order(copy, ri)

    def current_text() -> str:
        return "\n".join(s.text() for s in secs) + "\n" + "\n".join(appendix)

    # Dropped facts go back under their rules section, with the rules line they stood on; a
    # section the model left out comes back holding just those lines.
    appendix: list[str] = []
    for fact in dropped:
        if contains_fact(current_text(), fact["text"]):
            continue  # came back with a verbatim section, or with an earlier fact's line
        ri, line = _rules_line_for(fact["text"], rules_secs)
        bullet = _as_bullet(line, fact["text"])
        if ri is None:
            appendix.append(bullet)
            continue
        rsec = rules_secs[ri]
        target = next((s for s in secs if _same_section(s.key, rsec.key)), None)
        if target is None:
            target = _Section(rsec.heading, [])
            insert_in_rules_order(target, ri)
        while target.body and not target.body[-1].strip():
            target.body.pop()
        target.body.append(bullet)

    parts = ["\n".join(rules_pre).strip()] if "\n".join(rules_pre).strip() else []
    parts.extend("\n".join([s.heading, *s.body]).strip() for s in secs)
    if appendix:
        parts.append("\n".join([f"## {FACTS_SECTION}", *dict.fromkeys(appendix)]))
    markdown = "\n\n".join(parts).strip() + "\n"

    # Belt and braces: whatever still is not there goes in verbatim.
    leftovers = [f["text"] for f in facts if not contains_fact(markdown, f["text"])]
    if leftovers:
        extra = "\n".join(f"- {t}" for t in leftovers)
        if appendix:
            markdown = markdown.rstrip("\n") + "\n" + extra + "\n"
        else:
            markdown = markdown.rstrip("\n") + f"\n\n## {FACTS_SECTION}\n{extra}\n"
    return markdown, dropped


def _rules_line_for(fact: str, rules_secs: Sequence[_Section]) -> tuple[int | None, str]:
    """Index of the rules section holding `fact` and the line it is on (the fact if multi-line)."""
    for ri, sec in enumerate(rules_secs):
        if not contains_fact(sec.text(), fact):
            continue
        if "\n" not in fact.strip():
            for line in sec.body:
                if contains_fact(line, fact):
                    return ri, line
        return ri, fact
    return None, fact


def _as_bullet(line: str, fact: str) -> str:
    """A list item carrying `fact` in its rules-document context."""
    stripped = line.strip()
    if "\n" in fact.strip() or stripped.startswith(("```", "~~~", "#")) or not contains_fact(stripped, fact):
        return f"- {fact.strip()}" if "\n" not in fact.strip() else "- " + fact.strip().replace("\n", "\n  ")
    if stripped.startswith("|"):
        cells = [c.strip() for c in stripped.strip("|").split("|")]
        return "- " + " | ".join(c for c in cells if c)
    if re.match(r"^([-*+]|\d+[.)])\s", stripped):
        return re.sub(r"^([-*+]|\d+[.)])\s+", "- ", stripped)
    return "- " + stripped.lstrip("> ").strip()  # a quoted line becomes a plain item


def relabel(markdown: str, method: str) -> str:
    """Say in the header (copied from the rules document) that the text is not rules-only.

    Only header lines that talk about generation/method are touched, and only the word "rules".
    """
    lines = markdown.split("\n")
    for i, line in enumerate(lines):
        if re.match(r"^##\s", line):
            break
        if re.search(r"(?i)generat|method|made by|source", line):
            lines[i] = re.sub(r"(?<![\w+])rules(?![\w+-])", method, line, count=1)
    return "\n".join(lines)
