"""The handoff's line order comes from one table (`chalicelib/handoff/ranks.py`, issue 16).

The writers name an entry of `RANKS` and may add small offsets; a number written at an `Item`
would put part of the order back in the code, where a reader of the table cannot see it.
"""

from __future__ import annotations

import re
from pathlib import Path

from chalicelib.handoff import account, render, rules, sections
from chalicelib.handoff.ranks import RANKS

WRITERS = [Path(rules.__file__), Path(account.__file__), *sorted(Path(sections.__file__).parent.glob("*.py"))]
# a number where a rank is set: `rank=96.5`, `rank = 88`, `rank=-1`, `rank = (87.2 if …`, `r = 100.96 if …`
LITERAL = re.compile(r"\br(?:ank)?\s*=\s*\(?\s*-?\d")
NAMED = re.compile(r"RANKS\[\"([^\"]+)\"\]")


def _sources() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in WRITERS}


def test_no_rank_literal_in_the_writers() -> None:
    found = [(name, ln.strip()) for name, src in _sources().items() for ln in src.splitlines()
             if LITERAL.search(ln)]
    assert found == []


def test_the_pattern_catches_a_literal() -> None:  # the test above would pass vacuously otherwise
    assert LITERAL.search('s.items.append(Item(x, rank=96.5, sub=sub))')
    assert LITERAL.search("        rank = 88")
    assert LITERAL.search('rank = 95 if k == 0 else RANKS["a"]')
    assert LITERAL.search("            r = 100.96 if bad else 59.0")
    assert not LITERAL.search('rank=RANKS["next_action"] - k * 0.05')
    assert not LITERAL.search('rank = RANKS["checks.latest"] - k * 0.3 if k < 2 else RANKS["x"] - k * 0.1')
    assert not LITERAL.search("rank=r + (1.0 if flag else 0.0)")  # an offset on a named rank


def test_table_is_sorted_from_kept_longest_to_dropped_first() -> None:
    values = list(RANKS.values())
    assert values == sorted(values, reverse=True)


def test_every_name_used_is_in_the_table_and_every_entry_is_used() -> None:
    used = {n for src in _sources().values() for n in NAMED.findall(src)}
    assert used - RANKS.keys() == set()  # a typo would raise only on the path that uses it
    assert RANKS.keys() - used == set()  # an entry nothing uses would mislead the reader of the order


def test_over_budget_the_lowest_ranked_kind_drops_first() -> None:
    """The table's order is the order a short document loses lines in."""
    sec = render.Section("s", "S")
    sec.items.append(render.Item("- a completed todo " + "x" * 80, rank=RANKS["todos.completed"]))
    sec.items.append(render.Item("- the next action " + "y" * 80, rank=RANKS["next_action"]))
    full = render.fit([sec], "# H\n", 100_000).markdown
    short = render.fit([sec], "# H\n", len(full) - 20).markdown
    assert "the next action" in short and "a completed todo" not in short
