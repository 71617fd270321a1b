"""The handoff's sections are plain functions of one `HandoffData`, written from one table (issue 16).

What the split promises: a section added to `sections.RENDERERS` is written with no other change,
the table's order is the document's order, and a renderer cannot change the data the others read.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest

from chalicelib.handoff import rules, sections
from chalicelib.handoff.data import HandoffData, as_int, record_list, record_text
from chalicelib.handoff.facts import TranscriptFacts
from chalicelib.handoff.render import Item, Section
from tests.unit.handoff.handoff_support import login_fix_script

SESSION = {"number": 5, "status": "completed", "accomplishments": ["Fixed the token expiry"],
           "next_steps": ["Deploy to staging"]}


def _doc() -> rules.HandoffDoc:
    return rules.build_handoff(project={"name": "auth"}, session=SESSION, messages=login_fix_script().messages,
                               file_changes=[], previous=None, pins=["Never log tokens."], budget_chars=9_500)


def _headings(md: str) -> list[str]:
    return re.findall(r"(?m)^## (.+)$", md)


def test_a_new_section_is_one_entry_in_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[HandoffData] = []

    def render_extra(hd: HandoffData) -> Section:
        seen.append(hd)
        s = Section("extra", "Extra section")
        s.items.append(Item(f"- session {hd.n}, {len(hd.pins)} pin", required=True))
        return s

    monkeypatch.setitem(sections.RENDERERS, "extra", render_extra)
    doc = _doc()
    assert "## Extra section\n- session 5, 1 pin\n" in doc.markdown
    assert doc.data["generation_errors"] == []
    (hd,) = seen
    assert hd.project["name"] == "auth" and hd.pins == ("Never log tokens.",)


def test_the_document_follows_the_table_order(monkeypatch: pytest.MonkeyPatch) -> None:
    healthy = _headings(_doc().markdown)
    assert "Pinned context" in healthy and "What session 5 recorded" in healthy
    table = dict(sections.RENDERERS)
    pins = table.pop("pins")
    monkeypatch.setattr(rules, "RENDERERS", {"pins": pins, **table})  # the name rules writes from
    moved = _headings(_doc().markdown)
    assert moved[0] == "Pinned context"
    assert sorted(moved) == sorted(healthy)


def test_handoff_data_cannot_be_changed_by_a_renderer() -> None:
    hd = HandoffData(project={}, session={}, n=1, facts=TranscriptFacts(), state=rules._empty_state(), previous={},
                     pins=("p",), open_items=(), knowledge=(), generated_at=None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        hd.n = 2  # type: ignore[misc]
    with pytest.raises(AttributeError):
        hd.pins.append("q")  # type: ignore[attr-defined]


def test_every_renderer_writes_from_the_data_alone() -> None:
    """Each table entry gives its sections from a `HandoffData` built with nothing known, without raising."""
    hd = HandoffData(project={}, session={}, n=0, facts=TranscriptFacts(), state=rules._empty_state(), previous={},
                     pins=(), open_items=(), knowledge=(), generated_at=None)
    for key, render in sections.RENDERERS.items():
        out: Any = render(hd)
        for sec in out if isinstance(out, list) else [out]:
            assert isinstance(sec, Section), key
    assert sections.render_header(hd).startswith("# Handoff: Untitled project — session 0 → 1\n")


@pytest.mark.parametrize(("record", "key", "want"), [
    ({"x": ["a", " ", None, 3]}, "x", ["a", "3"]),
    ({"x": "one"}, "x", ["one"]),
    (None, "x", []),
    ({"x": {"k": 1}}, "x", ['{"k": 1}']),
])
def test_record_list_reads_what_a_record_may_hold(record: Any, key: str, want: list[str]) -> None:
    assert record_list(record, key) == want


def test_record_text_and_as_int() -> None:
    assert record_text({"t": "a\n b"}, "t") == "a b"
    assert record_text(None, "t") == ""
    assert as_int("7") == 7 and as_int(True) is None and as_int("x") is None
