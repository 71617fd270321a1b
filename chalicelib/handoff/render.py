"""Markdown rendering with a size budget met by ranking, never by cutting a fact in half.

Every line of the document is an `Item` with a rank. Required items (pins, what the session record
states, open items) are always rendered. When the document is over budget the lowest-ranked
optional items are dropped whole, and each block says how many it left out ("… and 14 more
commands"), so the reader knows something was omitted and what kind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalicelib.config import HANDOFF_BUDGET_CHARS


@dataclass
class Item:
    """One renderable fact: a Markdown line (or block) plus what it must keep and its JSON form."""

    text: str
    rank: float = 0.0
    required: bool = False
    keep: tuple[tuple[str, str], ...] = ()  # (kind, verbatim text) pairs, each a substring of `text`
    group: str = ""  # plural noun used in "… and N more <group>" when dropped
    sub: str = ""  # sub-heading inside the section
    data_key: str = ""  # where the payload goes in HandoffDoc.data
    payload: Any = None
    weight: int = 1  # how many facts the item stands for ("… and 40 older commands" counts 40)
    uid: int = -1
    hidden: bool = False  # data only: goes to the JSON form, never to the Markdown


@dataclass
class Section:
    key: str
    title: str
    items: list[Item] = field(default_factory=list)
    intro: str = ""  # shown under the title when the section is shown
    spaced: bool = False  # blank line between items (pins: multi-line blocks kept apart)


@dataclass
class Fit:
    markdown: str
    dropped: set[int]
    over_budget: bool
    floor_chars: int  # size with every optional item dropped


def number_items(sections: list[Section]) -> list[Item]:
    """Give every item a stable id (document order) and return them all."""
    out: list[Item] = []
    for s in sections:
        for it in s.items:
            it.uid = len(out)
            out.append(it)
    return out


def _noun(group: str, n: int) -> str:
    """'1 commands' -> '1 command' (groups are named in the plural)."""
    if n == 1 and group.endswith("s") and not group.endswith("ss") and group != "statistics":
        return group[:-1]
    return group


def render(sections: list[Section], dropped: set[int], header: str) -> str:
    """The Markdown document without the dropped items.

    A block that keeps some items says how many of each kind it left out ("… and 14 more
    commands"); a block or section left empty disappears, and what it held is counted in one
    closing line, so notes about omissions never crowd out facts.
    """
    parts = [header.rstrip("\n") + "\n"]
    hidden: dict[str, int] = {}
    for s in sections:
        blocks: dict[str, list[Item]] = {}
        for it in s.items:
            if not it.hidden:
                blocks.setdefault(it.sub, []).append(it)
        body: list[str] = []
        for sub, items in blocks.items():
            kept = [it for it in items if it.uid not in dropped]
            omitted: dict[str, int] = {}
            for it in items:
                if it.uid in dropped:
                    g = it.group or "other facts"
                    omitted[g] = omitted.get(g, 0) + it.weight
            if not kept:
                for g, n in omitted.items():
                    hidden[g] = hidden.get(g, 0) + n
                continue
            lines: list[str] = []
            if sub:
                lines.append(f"**{sub}**")
            if s.spaced:
                lines.append("\n\n".join(it.text for it in kept))
            else:
                prev = ""
                for it in kept:
                    if it.text.startswith(">") and prev.startswith(">") and not it.text.startswith("> - ") \
                            and not it.text.startswith("> * "):
                        lines.append("")  # two quotes in a row would merge into one (a list goes on)
                    lines.append(it.text)
                    prev = it.text
            for group, n in omitted.items():
                lines.append(f"- … and {n} more {_noun(group, n)} (left out for size)")
            body.append("\n".join(lines))
        if not body:
            continue
        head = f"## {s.title}"
        if s.intro:
            head += "\n" + s.intro
        parts.append(head + "\n" + "\n\n".join(body) + "\n")
    if hidden:
        listed = ", ".join(f"{n} {_noun(g, n)}" for g, n in hidden.items())
        parts.append(f"_Also left out for size: {listed}._\n")
    return "\n".join(parts)


def fit(sections: list[Section], header: str, budget: int) -> Fit:
    """Drop the lowest-ranked optional items until the document fits `budget` characters.

    Binary search over "how many of the lowest-ranked items to drop" (the size is monotone up to
    the few characters of the "… and N more" lines, which the final linear step absorbs).
    """
    items = number_items(sections)
    optional = sorted((it for it in items if not it.required and not it.hidden), key=lambda it: (it.rank, -it.uid))
    full = render(sections, set(), header)
    if len(full) <= budget:
        return Fit(full, set(), False, -1)
    all_dropped = {it.uid for it in optional}
    floor = render(sections, all_dropped, header)
    if len(floor) > budget:
        return Fit(floor, all_dropped, True, len(floor))
    lo, hi = 0, len(optional)  # invariant: dropping `hi` fits
    while lo < hi:
        mid = (lo + hi) // 2
        if len(render(sections, {it.uid for it in optional[:mid]}, header)) <= budget:
            hi = mid
        else:
            lo = mid + 1
    k = hi
    while k > 0:  # the search may overshoot by a few items when summary lines change length
        trial = {it.uid for it in optional[: k - 1]}
        if len(render(sections, trial, header)) > budget:
            break
        k -= 1
    dropped = {it.uid for it in optional[:k]}
    md = render(sections, dropped, header)
    return Fit(md, dropped, False, len(floor))


DEFAULT_BUDGET = HANDOFF_BUDGET_CHARS  # Claude Code replaces SessionStart context past 10,000 chars with a preview
LAYOUT_FORMAT = "mso.layout/1"
LAYOUT_MAX = 50_000  # the largest budget a stored layout serves


def to_layout(sections: list[Section], header: str) -> dict[str, Any]:
    """The document before fitting, as plain JSON: stored with a handoff so that any budget up to
    LAYOUT_MAX renders later, the same way, without the transcript (items a LAYOUT_MAX budget would
    drop are not kept)."""
    kept = fit(sections, header, LAYOUT_MAX).dropped
    out = []
    for s in sections:
        items = [[it.text, it.rank, it.required, it.sub, it.group, it.weight] for it in s.items
                 if not it.hidden and it.uid not in kept]
        out.append({"key": s.key, "title": s.title, "intro": s.intro, "spaced": s.spaced, "items": items})
    return {"format": LAYOUT_FORMAT, "header": header, "sections": out}


def render_layout(layout: dict[str, Any], budget: int) -> Fit:
    """Fit a stored layout to `budget` characters: the same ranking as when it was made."""
    sections = []
    for s in layout.get("sections") or []:
        sec = Section(s["key"], s["title"], intro=s.get("intro", ""), spaced=bool(s.get("spaced")))
        for text, rank, required, sub, group, weight in s.get("items") or []:
            sec.items.append(Item(text, rank=float(rank), required=bool(required), sub=sub, group=group,
                                  weight=int(weight)))
        sections.append(sec)
    return fit(sections, str(layout.get("header") or ""), max(int(budget), 0))
