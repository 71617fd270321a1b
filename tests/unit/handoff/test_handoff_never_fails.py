"""The rule-based handoff always writes a document: a part that raises costs that part only.

Each test injects a bug (monkeypatch) into one extractor step or one section and checks that the
rest of the document is written, and that `data["generation_errors"]` names the part and the error.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest

from chalicelib.handoff import rules
from chalicelib.handoff.observers.errors import ErrorsObserver
from chalicelib.handoff.observers.pipeline import Pipeline
from tests.unit.handoff.handoff_support import login_fix_script

SESSION = {"number": 5, "status": "completed", "accomplishments": ["Fixed the token expiry"],
           "next_steps": ["Deploy to staging"]}
PREVIOUS = {"open_items": [{"text": "Rotate the signing key", "kind": "next_step", "since_session": 3}]}


def _doc(**kw: Any) -> rules.HandoffDoc:
    args: dict[str, Any] = {"project": {"name": "auth"}, "session": SESSION,
                            "messages": login_fix_script().messages, "file_changes": [], "previous": PREVIOUS,
                            "pins": ["Never log tokens."], "budget_chars": 9_500}
    args.update(kw)
    return rules.build_handoff(**args)


def _boom(*_a: Any, **_k: Any) -> Any:
    raise RuntimeError("injected bug")


def _headings(md: str) -> list[str]:
    return re.findall(r"(?m)^## (.+)$", md)


def test_a_healthy_handoff_has_no_generation_errors() -> None:
    doc = _doc()
    assert doc.data["generation_errors"] == []
    assert "Left out by an internal error" not in doc.markdown


def test_a_raising_section_is_left_out_and_the_rest_is_written(monkeypatch: pytest.MonkeyPatch,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    healthy = _doc()
    assert "Errors and their fixes" in _headings(healthy.markdown)
    monkeypatch.setitem(rules.RENDERERS, "errors", _boom)
    caplog.set_level(logging.ERROR)
    doc = _doc()
    (failure,) = doc.data["generation_errors"]
    assert failure["section"] == "errors"
    assert re.fullmatch(r"RuntimeError at test_handoff_never_fails\.py:\d+", failure["error"])
    assert "injected bug" not in repr(doc.data)  # the message may quote the transcript: never shown
    heads = _headings(doc.markdown)
    assert "Errors and their fixes" not in heads
    assert heads[0] == "Left out by an internal error"
    # every other section is written as before
    assert [h for h in _headings(healthy.markdown) if h != "Errors and their fixes"] == heads[1:]
    assert "`pytest tests/test_login.py -q`" in doc.markdown and "Never log tokens." in doc.markdown
    assert any(r.getMessage() == "handoff.part_failed" and r.fields["section"] == "errors" for r in caplog.records)


def test_a_raising_extractor_step_keeps_the_other_facts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ErrorsObserver, "resolve", _boom)
    doc = _doc()
    assert [f["section"] for f in doc.data["generation_errors"]] == ["facts: errors"]
    assert "abc1234" in doc.markdown  # the commit, from the same pass
    assert "`pytest tests/test_login.py -q`" in doc.markdown


def test_a_message_the_extractor_cannot_read_costs_that_message_only(monkeypatch: pytest.MonkeyPatch) -> None:
    real = Pipeline._call

    def call(self: Any, i: int, a: Any) -> None:  # a: the call's typed action
        if a.tool == "TodoWrite":
            raise KeyError("todos")
        real(self, i, a)

    monkeypatch.setattr(Pipeline, "_call", call)
    doc = _doc()
    (failure,) = doc.data["generation_errors"]
    assert failure["section"].startswith("facts: message ") and failure["count"] == 2  # two TodoWrite calls
    assert doc.data["todos"] == []
    assert "abc1234" in doc.markdown and "`pytest tests/test_login.py -q`" in doc.markdown


def test_a_raising_state_derivation_still_writes_the_document(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rules, "derive", _boom)
    doc = _doc()
    assert "state" in [f["section"] for f in doc.data["generation_errors"]]
    assert "What the user asked (verbatim)" in _headings(doc.markdown)
    assert "Deploy to staging" in doc.markdown


def test_when_the_document_cannot_be_assembled_the_record_is_still_handed_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rules, "carry_open_items", _boom)
    doc = _doc(budget_chars=2_000)
    assert [f["section"] for f in doc.data["generation_errors"]] == ["document"]
    md = doc.markdown
    assert md.startswith("# Handoff: auth — session 5 → 6")
    for text in ("Fixed the token expiry", "Deploy to staging", "Rotate the signing key", "Never log tokens."):
        assert text in md
    assert len(md) <= 2_000 and doc.data["budget"]["output_chars"] == len(md)
    assert doc.layout["sections"]  # other budgets still render from it
