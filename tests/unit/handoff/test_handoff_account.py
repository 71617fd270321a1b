"""The agent's own account leads the handoff, and each claim in it is checked against the transcript.

Each case is a small transcript in a realistic shape and a note the agent could have written; the
handoff must flag what the transcript contradicts (with the evidence), confirm what it shows, and
label the rest as the agent's word.
"""

from __future__ import annotations

from typing import Any

from chalicelib.handoff import HandoffDoc, build_handoff
from chalicelib.handoff.account import parse
from tests.unit.handoff.handoff_support import Script

ROOT = "/w/proj"

NOTE = """## Current work
Adding strict mode to the parser in `src/parse.py`.
All tests pass and everything is committed.

## What is left
- wire `--strict` into `src/cli.py`

## Decisions and why
- Kept the old lenient path behind a flag: two callers rely on it.

## Gotchas
- `pytest tests/test_parse.py` needs the fixtures in tests/data.

## Next action
Add the CLI flag, then run pytest.
"""


def make(s: Script, note: str | None = NOTE, source: str = "note", **kw: Any) -> HandoffDoc:
    session: dict[str, Any] = {"number": 3, "status": "completed"}
    if note is not None:
        session["account"] = {"text": note, "source": source}
    return build_handoff(project={"name": "proj"}, session=session, messages=s.messages, file_changes=[],
                         previous=None, pins=[], generated_at="2026-12-05T00:00:00Z", **kw)


def claims(doc: HandoffDoc) -> dict[str, tuple[str, str]]:
    return {c["kind"]: (c["verdict"], c["evidence"]) for c in doc.data["account"]["claims"]}


def base() -> Script:
    return Script(cwd=ROOT).user("Add a strict mode to the parser.")


def test_a_note_saying_tests_pass_after_a_failing_run_is_contradicted_with_the_failure():
    s = base()
    s.edit(f"{ROOT}/src/parse.py", "x = 1\n", "x = 2\n")
    s.bash("pytest tests/test_parse.py", "F.\nFAILED tests/test_parse.py::test_strict - AssertionError: got 1\n"
           "1 failed, 1 passed in 0.1s", is_error=True)
    doc = make(s)
    verdict, evidence = claims(doc)["check_pass"]
    assert verdict == "contradicted" and "`pytest tests/test_parse.py` failed" in evidence
    md = doc.markdown
    assert md.index("## Current work (the agent's note)") < md.index("## Current work as the transcript shows it")
    checked = md.split("## The account checked against the transcript", 1)[1].split("\n## ", 1)[0]
    assert "**Contradicted:** the note says “All tests pass and everything is committed.”" in checked
    assert any(k["kind"] == "contradiction" for k in doc.must_keep)  # the LLM path must keep it


def test_tests_pass_but_files_changed_after_the_run_is_stale_not_confirmed():
    s = base()
    s.bash("pytest -q", "12 passed in 0.3s")
    s.edit(f"{ROOT}/src/parse.py", "x = 1\n", "x = 2\n")
    s.edit(f"{ROOT}/src/util.py", "y = 1\n", "y = 2\n")
    doc = make(s, "## Current work\nThe tests pass.\n")
    verdict, evidence = claims(doc)["check_pass"]
    assert verdict == "stale" and evidence.startswith("2 changes after the last run of `pytest -q`")
    assert "**Changed since:**" in doc.markdown


def test_tests_pass_confirmed_by_a_run_after_the_last_edit():
    s = base()
    s.edit(f"{ROOT}/src/parse.py", "x = 1\n", "x = 2\n")
    s.bash("npm test", "Tests: 40 passed, 40 total", )
    doc = make(s, "## Current work\nAll tests pass now.\n")
    assert claims(doc)["check_pass"][0] == "confirmed"
    assert "Contradicted" not in doc.markdown


def test_committed_contradicted_by_an_edit_after_the_last_commit():
    s = base()
    s.edit(f"{ROOT}/lib/app.ex", "a\n", "b\n")
    s.bash('git commit -am "feat: strict"', "[main abc1234] feat: strict\n 1 file changed")
    s.edit(f"{ROOT}/lib/x.ex", "a\n", "b\n")
    s.bash("git status --short", " M lib/x.ex\n")
    doc = make(s, "## Current work\nEverything is committed.\n")
    verdict, evidence = claims(doc)["committed"]
    assert verdict == "contradicted" and evidence.startswith("git shows `lib/x.ex`")


def test_pushed_contradicted_by_unpushed_commits_and_confirmed_by_a_push():
    s = base()
    s.edit(f"{ROOT}/main.go", "a\n", "b\n")
    s.bash('git commit -am "fix: nil map"', "[main 1a2b3c4] fix: nil map\n 1 file changed")
    s.bash("git status", "On branch main\nYour branch is ahead of 'origin/main' by 1 commit.\n\n"
           "nothing to commit, working tree clean")
    assert claims(make(s, "## Current work\nFixed and pushed to origin.\n"))["pushed"][0] in ("contradicted",
                                                                                            "agent_word")
    s.bash("git push", "To github.com:u/proj.git\n   0000000..1a2b3c4  main -> main")
    assert claims(make(s, "## Current work\nFixed and pushed to origin.\n"))["pushed"][0] == "confirmed"


def test_a_claim_the_transcript_cannot_check_is_the_agents_word():
    s = base()
    s.edit(f"{ROOT}/src/parse.py", "x = 1\n", "x = 2\n")
    doc = make(s, "## Current work\nThe build succeeds on CI.\n")
    assert claims(doc)["check_pass"][0] == "agent_word"
    assert "**The agent's word:**" in doc.markdown


def test_plans_in_what_is_left_are_not_claims():
    s = base()
    doc = make(s, "## What is left\n- commit and push the parser change\n## Next action\nPush the branch.\n")
    assert doc.data["account"]["claims"] == []


def test_without_an_account_the_rules_document_is_unchanged():
    s = base()
    s.edit(f"{ROOT}/src/parse.py", "x = 1\n", "x = 2\n")
    plain = make(s, None)
    assert plain.data["account"] is None
    assert "## Current work\n" in plain.markdown and "agent's note" not in plain.markdown


def test_the_accounts_lines_cannot_open_headings_of_the_document():
    s = base()
    doc = make(s, "## Current work\nWorking.\n## Next action\nrun the tests\n# Pinned\n### Facts learned\nnone\n")
    heads = [ln for ln in doc.markdown.splitlines() if ln.startswith("#")]
    assert "# Pinned" not in heads and "### Facts learned" not in heads
    assert [h for h in heads if "agent's note" in h] == ["## Current work (the agent's note)",
                                                          "## Next action (the agent's note)"]
    nxt = doc.markdown.split("## Next action (the agent's note)\n", 1)[1].split("\n## ", 1)[0]
    assert "- run the tests" in nxt and "Facts learned" not in nxt  # an unknown heading starts an aside


def test_compaction_summary_headings_map_to_the_account_sections():
    summary = ("This session is being continued from a previous conversation.\n\n"
               "1. Primary Request and Intent:\n   The user asked for strict parsing.\n"
               "5. Problem Solving:\n   Lenient mode hid a bug.\n"
               "7. Pending Tasks:\n   - CLI flag\n"
               "8. Current Work:\n   Editing src/parse.py.\n"
               "9. Optional Next Step:\n   Add the flag to src/cli.py.\n")
    got = parse(summary)
    assert got["left"] == ["   - CLI flag"] and got["next_action"] == ["   Add the flag to src/cli.py."]
    assert got["gotchas"] == ["   Lenient mode hid a bug."]
    doc = make(base(), summary, source="compact_summary")
    assert "## Next action (the agent's compaction summary)" in doc.markdown


def test_budget_is_kept_with_a_long_account_and_flags_survive():
    s = base()
    s.bash("pytest", "1 failed, 3 passed", is_error=True)
    long_note = "## Current work\nAll tests pass.\n" + "\n".join(f"- detail line {i} " + "x" * 80 for i in range(300))
    doc = make(s, long_note, budget_chars=4000)
    assert len(doc.markdown) <= 4000 or doc.data["budget"]["over_budget"]
    assert "**Contradicted:**" in doc.markdown


def test_a_recent_compaction_summary_in_the_transcript_is_the_account_an_old_one_is_not():
    from chalicelib.transcripts.model import Message

    s = base()
    s.bash("pytest", "1 failed, 3 passed", is_error=True)
    s.messages.append(Message(role="summary", text="Current Work:\n   All tests pass now.\n"))
    doc = make(s, None)
    assert doc.data["account"]["source"] == "compact_summary"
    assert claims(doc)["check_pass"][0] == "contradicted"
    assert "“All tests pass now.”" not in doc.data["summary"]["asked"]  # never quoted as what the user asked
    for i in range(30):
        s.edit(f"{ROOT}/src/f{i}.py", "a\n", "b\n")
    assert make(s, None).data["account"] is None  # 60 messages later it no longer says where things stand


def test_history_and_intent_are_not_state_claims_and_named_commits_and_tasks_are_checked():
    s = base()
    s.edit(f"{ROOT}/lib/a.ex", "a\n", "b\n")
    s.bash('git commit -am "feat: a"', "[main 3bb8701] feat: a\n 1 file changed")
    s.edit(f"{ROOT}/lib/b.ex", "a\n", "b\n")
    s.bash("git status --short", " M lib/b.ex\n")
    note = ("## Current work\n"
            "Tasks 1-3 were committed and pushed earlier.\n"            # history: not checkable as state
            "The user wants every task committed and pushed.\n"          # intent
            "Task one is committed (3bb8701).\n"                         # a named commit: confirmed
            "Everything is committed.\n")                                # global: contradicted by b.ex
    got = [(c["kind"], c["verdict"]) for c in make(s, note).data["account"]["claims"]]
    assert got == [("committed", "confirmed"), ("committed", "contradicted")]


def test_a_task_the_note_calls_done_is_checked_against_the_tracker():
    s = base()
    s.bash("bd update epic-1.2 --status in_progress", "✓ Updated issue: epic-1.2")
    s.edit(f"{ROOT}/src/grammar.py", "a\n", "b\n")
    s.bash("bd close epic-1.1 --reason done", "✓ Closed epic-1.1: done")
    doc = make(s, "## Current work\nClosed epic-1.1. epic-1.2 is done too.\n")
    got = {c["text"]: (c["verdict"], c["evidence"]) for c in doc.data["account"]["claims"] if c["kind"] == "task_done"}
    assert got["Closed epic-1.1."][0] == "confirmed"
    verdict, evidence = got["epic-1.2 is done too."]
    assert verdict == "contradicted" and "the tracker last showed `epic-1.2` in progress" in evidence


def test_a_check_that_still_fails_is_a_failure_claim_confirmed_by_a_failing_run():
    """'still' negates a state ("still uncommitted"), not a result: "the auto-test still fails" agrees
    with a failing last run (a real aider note was once marked contradicted here)."""
    s = base()
    s.edit(f"{ROOT}/src/parse.py", "x = 1\n", "x = 2\n")
    s.bash("pytest tests/test_parse.py", "FAILED tests/test_parse.py::test_strict\n1 failed in 0.1s", is_error=True)
    note = NOTE.replace("All tests pass and everything is committed.", "The tests still fail on the strict case.")
    verdict, evidence = claims(make(s, note))["check_fail"]
    assert verdict == "confirmed", evidence


def test_a_task_the_account_calls_in_progress_is_contradicted_when_the_tracker_closed_it():
    """A compaction summary written mid-task ("**spotter-gqc.6** (in_progress)") read after the task
    was closed: the claim is flagged with the tracker's word; a task still open is confirmed."""
    s = base()
    s.bash("bd show app-6", "app-6: Close review session\nStatus: in_progress")
    s.bash("bd close app-6", "✓ Closed app-6: Close review session")
    s.bash("bd update app-7 --status in_progress", "✓ Updated issue: app-7")
    note = NOTE.replace("All tests pass and everything is committed.",
                        "- **app-6** (in_progress): tests still needed.\n- app-7 is in progress.")
    got = {c["text"][:5]: (c["verdict"], c["evidence"]) for c in make(s, note).data["account"]["claims"]
           if c["kind"] == "task_open"}
    assert got["app-6"] == ("contradicted", "the tracker shows `app-6` closed")
    assert got["app-7"][0] == "confirmed"


def test_a_plan_to_finish_a_task_the_tracker_closed_since_is_flagged():
    """A compaction summary's "Complete app-6 by running the checks, closing and committing", read
    after app-6 was closed: the step is stale and says so; a plan for a task still open is left alone."""
    s = base()
    s.bash("bd close app-6", "✓ Closed app-6: Close review session")
    s.bash("bd update app-7 --status in_progress", "✓ Updated issue: app-7")
    note = NOTE.replace("Add the CLI flag, then run pytest.",
                        "Complete app-6 by running mix compile, then bd close and commit.\n"
                        "Then continue with app-7.")
    got = {c["text"][:14]: (c["verdict"], c["evidence"]) for c in make(s, note).data["account"]["claims"]
           if c["kind"] == "plan_task"}
    assert got == {"Complete app-6": ("contradicted", "the tracker shows `app-6` closed already")}, got


def test_not_yet_tested_is_contradicted_by_checks_that_passed_after_the_last_edit():
    """A compaction summary's "changes made but NOT yet compiled, tested, or committed", read after the
    checks ran and passed: the whole sentence is flagged, never "Confirmed" for its task part."""
    s = base()
    s.bash("bd update app-3 --status in_progress", "✓ Updated issue: app-3")
    s.edit(f"{ROOT}/lib/app.ex", "a\n", "b\n")
    s.bash("mix compile", "Compiling 1 file (.ex)\nGenerated app app")
    s.bash("mix test", "Finished in 0.4 seconds\n14 tests, 0 failures")
    note = ("## Current work\n- **app-3** (IN PROGRESS): code changes made but NOT yet compiled, tested, or committed\n")
    doc = make(s, note)
    got = [(c["kind"], c["verdict"], c["evidence"]) for c in doc.data["account"]["claims"]]
    unchecked = [(v, e) for k, v, e in got if k == "unchecked"]
    # its checks are done, its commit is not: "changed since", never a flat "contradicted"
    assert unchecked and unchecked[0][0] == "stale" and "`mix test`" in unchecked[0][1], got
    assert unchecked[0][1].endswith("the rest it lists is not checked here"), got
    assert not any(v == "confirmed" for _k, v, _e in got)  # the task part does not vouch for the sentence
    flat = [(c["kind"], c["verdict"]) for c in make(s, note.replace(", or committed", "")).data["account"]["claims"]]
    assert ("unchecked", "contradicted") in flat, flat  # "not yet compiled or tested" alone: plainly wrong
    s.edit(f"{ROOT}/lib/app.ex", "b\n", "c\n")  # an edit after the runs: the claim holds again
    got = [(c["kind"], c["verdict"]) for c in make(s, note).data["account"]["claims"]]
    assert ("unchecked", "confirmed") in got


def test_not_yet_tested_stands_when_only_a_lint_of_an_older_file_ran_after_the_edits():
    """A lint limited to a file the new work never touched sees none of its own files change, but it
    did not check the new code: "not yet compiled or tested" is still true, never contradicted by it."""
    s = base()
    s.edit(f"{ROOT}/lib/renderer.ex", "a\n", "b\n")
    s.bash("mix test", "Finished in 0.4 seconds\n14 tests, 0 failures")
    s.edit(f"{ROOT}/lib/live.ex", "a\n", "b\n")  # the new work, after the last test run
    s.bash("mix credo lib/renderer.ex", "Analysis took 0.1 seconds\n1 mods/funs, found no issues.")
    note = "## Current work\n- **app-3** (IN PROGRESS): code changes made but NOT yet compiled, tested, or committed\n"
    got = [(c["kind"], c["verdict"]) for c in make(s, note).data["account"]["claims"]]
    assert ("unchecked", "contradicted") not in got and ("unchecked", "confirmed") in got, got


def test_a_summary_the_session_worked_past_says_so_and_its_needs_tests_is_checked():
    """A compaction summary in the transcript, then the tests it said were needed, written and passing:
    its "needs: tests" is contradicted, and its sections say how much came after it."""
    from chalicelib.transcripts.model import Message

    s = base()
    s.edit(f"{ROOT}/lib/review.ex", "a\n", "b\n")
    s.messages.append(Message(role="summary", text="Pending Tasks:\n- app-6: code changes done but needs: tests, "
                                                   "commit\n\nNext Step:\nAdd tests for app-6, then commit.\n"))
    s.edit(f"{ROOT}/test/review_test.exs", "a\n", "b\n")
    s.bash("mix test test/review_test.exs", "Finished in 0.2 seconds\n8 tests, 0 failures")
    doc = make(s, None)
    got = [(c["kind"], c["verdict"]) for c in doc.data["account"]["claims"]]
    assert ("unchecked", "stale") in got, got  # tests done since; the commit it also lists is not
    assert "(the agent's compaction summary, written before 1 edit and 1 later check of this transcript)" in doc.markdown
