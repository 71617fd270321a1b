"""How much of the agent's account leads the handoff, and what of the facts it may displace.

The rule: the account adds to the facts, it does not replace them. A long compaction summary
(Claude Code's, 12,000-15,000 characters) leads with its essentials (what is left, the next action,
where its current work stands) within a bounded share, and every section of the rules-only document
is still there; a short note written for the handoff leads whole; a contradicted or stale claim is
shown with its evidence whatever the condensing drops. The long accounts here are the real Claude
Code summaries of the shared sessions (tests/fixtures/real/claude-code, MIT, see its README).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from chalicelib.handoff import DEFAULT_BUDGET, HandoffDoc, build_handoff
from chalicelib.handoff.account import (
    CONDENSED_SHARE,
    Account,
    account_sections,
    lead_share,
    parse,
    render,
)
from chalicelib.handoff.render import Item, Section
from chalicelib.transcripts.model import Message
from tests.unit.handoff.handoff_support import Script

RENAMED = {"Current work as the transcript shows it": "Current work",
           "Next action from the transcript": "Next action"}
WHO = "(the agent's compaction summary)"


def build(msgs: list[Message], account: str | None, source: str = "compact_summary",
          budget: int = DEFAULT_BUDGET) -> HandoffDoc:
    session: dict[str, Any] = {"number": 1, "status": "completed"}
    if account is not None:
        session["account"] = {"text": account, "source": source}
    return build_handoff(project={"name": "spotter"}, session=session, messages=msgs, file_changes=[],
                         previous=None, pins=[], budget_chars=budget, generated_at="2026-12-05T00:00:00Z")


def sections(md: str) -> dict[str, str]:
    """Section title -> body; the facts' renamed titles under their rules-only names."""
    out = {}
    for part in re.split(r"(?m)^## ", md)[1:]:
        title, _, body = part.partition("\n")
        out[RENAMED.get(title.strip(), title.strip())] = body
    return out


def account_part(md: str) -> int:
    """Characters the account takes: its sections and the check's findings, with their headings."""
    return sum(len(t) + 4 + len(b) for t, b in sections(md).items()
               if "(the agent's" in t or t.startswith("The account checked"))


def summary_of(session: list[Message]) -> str:
    """Claude Code's own compaction summary in a real session (the message after the boundary)."""
    return next(m.text for m in session if m.role == "summary")


@pytest.fixture(scope="module")
def compacted(real_sessions: dict[str, list[Message]],
              real_before_cut: dict[str, list[Message]]) -> dict[str, tuple[HandoffDoc, HandoffDoc, str]]:
    """Per real session: the rules-only document, the one led by the summary, and the summary."""
    out = {}
    for sid, before in real_before_cut.items():
        summary = summary_of(real_sessions[sid])
        out[sid] = (build(before, None), build(before, summary), summary)
    return out


# ----------------------------------------------------------------------------- a long compaction summary


def test_the_real_summaries_are_long_and_condensed(compacted: dict) -> None:
    assert len(compacted) == 2
    for _rules, _led, summary in compacted.values():
        assert len(summary) > 10_000
        assert lead_share(len(summary), DEFAULT_BUDGET) == int(DEFAULT_BUDGET * CONDENSED_SHARE)


def test_with_a_long_summary_every_section_of_the_rules_document_survives(compacted: dict) -> None:
    for sid, (rules, led, _summary) in compacted.items():
        assert len(led.markdown) <= DEFAULT_BUDGET
        kept, lost = sections(led.markdown), set(sections(rules.markdown)) - set(sections(led.markdown))
        assert not lost, f"{sid}: the account pushed out {sorted(lost)}"
        for title in sections(rules.markdown):  # each keeps a line of its own, not only a "… and N more"
            assert re.search(r"(?m)^(?:- (?!… and)|> |\d+\. |  - |\*\*)", kept[title]), (sid, title)


def test_a_long_summary_takes_a_bounded_share_and_leads_with_its_essentials(compacted: dict) -> None:
    for sid, (_rules, led, summary) in compacted.items():
        md = led.markdown
        assert account_part(md) <= 0.25 * DEFAULT_BUDGET, sid
        shown = sections(md)
        left = shown[f"What is left {WHO}"]
        pending = parse(summary)["left"][0].strip(" -")
        assert pending[:60] in left  # what only the agent knows leads
        assert f"Next action {WHO}" in shown
        # what leads a long summary is never its retelling, its glossary or the harness's instructions
        assert "Please continue the conversation" not in md
        assert "Let me chronologically analyze" not in md
        assert f"Key concepts {WHO}" not in shown and f"Decisions and why {WHO}" not in shown


def test_the_summarys_wrong_blocker_is_flagged_with_the_trackers_word(compacted: dict) -> None:
    _rules, led, _summary = compacted["258c7280-ae70-4798-800f-63464d01a85d"]
    blocked = [c for c in led.data["account"]["claims"] if c["kind"] == "blocked"]
    assert [(c["verdict"], c["evidence"]) for c in blocked] == [
        ("contradicted", "the tracker shows `spotter-gqc.5` closed")]
    left = sections(led.markdown)[f"What is left {WHO}"]
    assert "blocked by gqc.5" in left and "**[contradicted: the tracker shows `spotter-gqc.5` closed]**" in left
    assert any(k["kind"] == "contradiction" and "spotter-gqc.5" in k["text"] for k in led.must_keep)


def test_a_larger_budget_shows_more_of_the_summary_from_the_same_layout(compacted: dict) -> None:
    from chalicelib.handoff.render import render_layout

    _rules, led, summary = compacted["8463c716-a2ea-4c14-9efa-87158ebd9f20"]
    wide = render_layout(led.layout, 40_000).markdown
    assert f"Gotchas {WHO}" in wide and f"Gotchas {WHO}" not in led.markdown
    assert account_part(wide) > account_part(led.markdown)


# ----------------------------------------------------------------------------- a short note


SHORT_NOTE = """## Current work
Highlighting code rows in the transcript with highlight.js (`spotter-fum.3`); the hook re-runs on every
LiveView update, so it marks done blocks with `data-hljs="done"`.

## What is left
- compile, test and credo, then `bd close spotter-fum.3` and commit
- `spotter-fum.4`: regression tests for the renderer metadata and the hook

## Decisions and why
- highlight.js from npm, not a CDN: the task forbids a CDN dependency.

## Gotchas
- `priv/static/assets/` is gitignored: `git add -f priv/static/assets/spotter.css`.

## Next action
Run `mix compile --warnings-as-errors`, then `mix test`.
"""


def test_a_short_note_leads_whole_beside_every_section_of_the_facts(
        real_before_cut: dict[str, list[Message]]) -> None:
    before = real_before_cut["8463c716-a2ea-4c14-9efa-87158ebd9f20"]
    assert lead_share(len(SHORT_NOTE), DEFAULT_BUDGET) is None
    rules, led = build(before, None), build(before, SHORT_NOTE, source="note")
    for line in SHORT_NOTE.splitlines():
        if line.strip() and not line.startswith("## "):
            assert line.strip(" -") in led.markdown, line
    assert not set(sections(rules.markdown)) - set(sections(led.markdown))
    assert len(led.markdown) <= DEFAULT_BUDGET


def test_a_note_shorter_than_the_share_leads_whole_a_longer_one_leads_less_the_longer_it_is() -> None:
    assert lead_share(2_800, 9_500) is None
    shares = [lead_share(n, 9_500) for n in (3_500, 5_000, 8_000, 14_000, 60_000)]
    assert all(s is not None for s in shares)
    assert shares == sorted(shares, reverse=True) and shares[-1] == int(9_500 * CONDENSED_SHARE)
    assert lead_share(400, 2_000) is None and lead_share(5_000, 2_000) == 400


# ----------------------------------------------------------------------------- contradictions survive


def _long_account(*buried: str) -> str:
    """A 12,000-character account in a compaction summary's shape with claims buried where a
    condensed account does not lead: in the analysis and at the end of the gotchas."""
    filler = "\n".join(f"   - Concept {i}: " + "the renderer keeps a parallel path for old callers " * 2
                       for i in range(60))
    return ("This session is being continued from a previous conversation that ran out of context.\n\n"
            "Analysis:\nLet me chronologically analyze the conversation:\n"
            f"1. **Implemented** the parser. {buried[0]}\n\n"
            "Summary:\n1. Primary Request and Intent:\n   The user asked for strict parsing.\n\n"
            f"2. Key Technical Concepts:\n{filler}\n\n"
            f"4. Errors and fixes:\n{filler}\n   - {buried[1]}\n\n"
            "7. Pending Tasks:\n   - wire `--strict` into `src/cli.py`\n\n"
            "8. Current Work:\n   Editing `src/parse.py`.\n\n"
            "9. Optional Next Step:\n   Add the flag to `src/cli.py`, then run pytest.\n\n"
            "Please continue the conversation from where we left off without asking the user any further "
            "questions.\n")


@pytest.mark.parametrize("budget", [DEFAULT_BUDGET, 4_000, 2_000])
def test_condensing_never_cuts_a_contradicted_or_stale_claim(budget: int) -> None:
    root = "/w/proj"
    s = Script(cwd=root).user("Add a strict mode to the parser.")
    s.bash("pytest -q", "12 passed in 0.3s")
    s.edit(f"{root}/src/parse.py", "x = 1\n", "x = 2\n")
    s.bash('git commit -am "feat: strict"', "[main abc1234] feat: strict\n 1 file changed")
    s.edit(f"{root}/src/util.py", "y = 1\n", "y = 2\n")
    s.bash("git status --short", " M src/util.py\n")
    text = _long_account("All tests pass.", "Everything is committed.")
    assert len(text) > 10_000
    doc = build(s.messages, text, budget=budget)
    bad = {c["kind"]: c for c in doc.data["account"]["claims"] if c["verdict"] in ("contradicted", "stale")}
    assert bad["check_pass"]["verdict"] == "stale" and bad["committed"]["verdict"] == "contradicted"
    checked = sections(doc.markdown)["The account checked against the transcript"]
    assert "**Changed since:** the summary says “All tests pass.”; 2 changes after the last run" in checked
    assert "**Contradicted:** the summary says “Everything is committed.”; git shows `src/util.py`" in checked
    kept = {k["text"] for k in doc.must_keep if k["kind"] == "contradiction"}
    assert any("All tests pass." in t for t in kept) and any("Everything is committed." in t for t in kept)
    assert len(doc.markdown) <= budget or doc.data["budget"]["over_budget"]


# ----------------------------------------------------------------------------- the rule, piece by piece


def test_a_summarys_scratchpad_and_the_harness_lines_never_lead() -> None:
    text = ("This session is being continued from a previous conversation that ran out of context.\n"
            "<analysis>\nLet me chronologically analyze.\nCurrent state:\n- fum.1 CLOSED\n</analysis>\n"
            "<summary>\n1. Primary Request and Intent:\n   Fix the parser.\n"
            "2. Key Technical Concepts:\n   - Ash resources\n"
            "7. Pending Tasks:\n   - the CLI flag\n"
            "8. Current Work:\n   Editing `src/parse.py`.\n</summary>\n"
            "If you need specific details from before compaction, read the full transcript at: /x.jsonl\n")
    got = parse(text)
    # "Current state:" inside the scratchpad is a line of it, not the account's current work
    assert got["analysis"] == ["Let me chronologically analyze.", "Current state:", "- fum.1 CLOSED"]
    assert got["intent"] == ["   Fix the parser."] and got["concepts"] == ["   - Ash resources"]
    assert got["left"] == ["   - the CLI flag"] and got["current_work"] == ["   Editing `src/parse.py`."]
    assert not any("continued from a previous" in ln or "full transcript" in ln for v in got.values() for ln in v)


def test_a_list_stays_with_the_line_that_announces_it_and_the_common_indent_goes() -> None:
    acct = Account("compact_summary", parse("8. Current Work:\n   Working on the parser.\n"
                                            "   Still needed:\n   - tests for N=0\n   - commit\n"
                                            "   **NOT YET DONE**: credo.\n"))
    (_key, _title, blocks), = render(acct)["sections"]
    assert blocks == [["- Working on the parser."], ["- Still needed:", "  - tests for N=0", "  - commit"],
                      ["- **NOT YET DONE**: credo."]]


def _facts() -> list[Section]:
    sec = Section("current_work", "Current work as the transcript shows it")
    sec.items.append(Item("- **Task in progress:** `spotter-gqc.6` — `Close project review session`", rank=99.5))
    sec.items.append(Item("  - `lib/spotter_web/live/project_review_live.ex`: `handle_event(\"close_review_session\"`"
                          " / `Close review session` / `Phoenix.Flash.get(@flash, :info)`", rank=99.3))
    sec.items.append(Item("1. Write `test/spotter_web/live/project_review_live_test.exs`; re-run `mix test`, "
                          "`mix credo --strict`; commit", rank=98.5))
    return [sec]


def test_current_work_the_facts_already_show_is_left_to_them_and_the_plan_is_kept() -> None:
    text = ("8. Current Work:\n"
            "   Working on spotter-gqc.6, close review session: `handle_event(\"close_review_session\"` in "
            "`lib/spotter_web/live/project_review_live.ex`, `Phoenix.Flash.get(@flash, :info)`.\n"
            "9. Optional Next Step:\n"
            "   Write `test/spotter_web/live/project_review_live_test.exs`, then `mix test`, `mix credo --strict`, "
            "commit.\n")
    # these two sections of a 14,000-character summary (its other sections do not matter here)
    acct = Account("compact_summary", parse(text), chars=14_000)
    out = {s.key: s for s in account_sections(acct, DEFAULT_BUDGET, _facts())}
    assert all(it.rank < 60 for it in out["account_current_work"].items)  # said by the facts: drops first
    assert all(it.rank > 99 for it in out["account_next_action"].items)  # the agent's plan leads
    # a short note is not compared with the facts: it leads whole
    short = {s.key: s for s in account_sections(Account("note", parse(text), chars=len(text)), DEFAULT_BUDGET,
                                                 _facts())}
    assert all(it.rank > 99 for it in short["account_current_work"].items)


def _squeezed() -> list[Section]:
    """Facts that fill a 1,300-character document: two sections, each a best line and a detail."""
    facts = [Section("errors", "Errors and their fixes"), Section("contract_next", "Contract")]
    facts[0].items = [Item("- error one " + "e" * 290, rank=86.5), Item("- error two " + "e" * 290, rank=86.0)]
    facts[1].items = [Item("> DESCRIPTION " + "d" * 290, rank=88.0), Item("> more " + "m" * 290, rank=87.0)]
    return facts


def test_the_facts_keep_each_sections_best_line_and_are_lifted_only_as_far_as_they_must() -> None:
    from chalicelib.handoff.render import fit

    note = "## Next action\n" + "Run the export once and read its log before anything else. " * 5 + "\n"
    acct = Account("note", parse(note), chars=len(note))
    roomy = _squeezed()
    account_sections(acct, 20_000, roomy)  # room for all: nothing moves
    assert [[it.rank for it in s.items] for s in roomy] == [[86.5, 86.0], [88.0, 87.0]]
    facts = _squeezed()
    assert not fit(facts, "", 1_300).dropped  # alone, the facts fit
    out = account_sections(acct, 1_300, facts)
    md = fit([*out, *facts], "", 1_300).markdown
    assert "Run the export once" in md  # the note leads whole
    assert "- error one" in md and "> DESCRIPTION" in md  # each section keeps its best line
    assert "- error two" not in md and "> more" not in md  # and shortens from its end
    # lifted just above the detail that gives way in its place, and no further
    assert 87.0 < facts[0].items[0].rank < 87.1 and facts[1].items[0].rank == 88.0
    # a block the budget would not show without the account is not lifted over facts it would show
    tight = [Section("errors", "Errors"), Section("files", "Files")]
    tight[0].items = [Item("- " + "e" * 300, rank=99.0)]
    tight[1].items = [Item("- " + "f" * 300, rank=50.0)]
    account_sections(acct, 400, tight)
    assert tight[1].items[0].rank == 50.0


def test_blocked_by_a_closed_task_is_contradicted_history_and_unblocked_are_not_claims() -> None:
    s = Script(cwd="/w/p").user("Tackle the epic.")
    s.bash("bd close ep-1.2 --reason done", "✓ Closed ep-1.2: done")
    s.bash("bd update ep-1.3 --status in_progress", "✓ Updated issue: ep-1.3")
    note = ("## What is left\n- ep-1.4 (open, blocked by 1.2): the export\n"
            "- ep-1.5 (open, blocked by ep-1.3): the import\n"
            "- ep-1.6 (open, was blocked by ep-1.2): docs\n"
            "- ep-1.7: blocked by ep-1.2 (now unblocked since it is done)\n")
    got = [(c["text"][:7], c["verdict"], c["evidence"]) for c in build(s.messages, note, "note")
           .data["account"]["claims"] if c["kind"] == "blocked"]
    assert got == [("ep-1.4 ", "contradicted", "the tracker shows `ep-1.2` closed"),
                   ("ep-1.5 ", "confirmed", "the tracker last showed `ep-1.3` in progress")]


def test_a_long_note_keeps_its_gotchas_within_its_share_a_compaction_summary_leaves_them() -> None:
    text = ("## What is left\n- wire `--strict` into `src/cli.py`\n"
            "## Gotchas\n- `tests/data` must exist before `pytest tests/test_parse.py`, or every case errors.\n"
            "## Decisions and why\n" + "".join(f"- decision {i}: kept the lenient path for caller {i}.\n"
                                               for i in range(120)))
    assert lead_share(len(text), DEFAULT_BUDGET) is not None  # long: condensed
    ranks = {}
    for source in ("note", "compact_summary"):
        out = {s.key: s for s in account_sections(Account(source, parse(text), chars=len(text)), DEFAULT_BUDGET)}
        ranks[source] = [it.rank for it in out["account_gotchas"].items]
        assert all(it.rank > 99 for it in out["account_left"].items)
        led = sum(len(it.text) + 1 for s in out.values() for it in s.items if it.rank > 99)
        assert led <= lead_share(len(text), DEFAULT_BUDGET)  # the share holds
    assert ranks["note"][0] > 99  # written for the handoff: its gotcha leads
    assert ranks["compact_summary"][0] < 60  # a summary's gotchas only where the budget has room
