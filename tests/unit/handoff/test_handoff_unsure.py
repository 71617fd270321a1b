"""Statements the transcript cannot back are left out or said to be unsure (issue 16, the adversarial pass).

Each test is a transcript shape where a rule used to state more than the transcript shows.
"""

from __future__ import annotations

from chalicelib.handoff.facts import findings
from tests.unit.handoff.agent_scripts import ClaudeScript, aider_handoff, handoff, section


def test_code_in_an_answer_is_not_a_finding() -> None:
    text = ("The install script has no fallback URL.\n\n```bash\nif ! wget --show-progress -O \"$DIR/app\" \"$URL\"; then\n"
            "  api_key: \"${OPENAI_API_KEY}\"\n```\n\n- `'.opencode/config.yaml'` (or similar) holds the provider.")
    assert findings(text) == ["The install script has no fallback URL."]


def test_an_answer_to_the_person_after_reading_is_not_a_finding() -> None:
    s = ClaudeScript()
    s.user("look at the config")
    s.read("src/config.py", "TIMEOUT = 5\n")
    s.say("The `TIMEOUT` constant is never read by the client module.")
    s.user("where do I find the API keys?")
    s.say("The `OPENAI_API_KEY` variable is never set in this repository, you have to export it.")
    facts = section(handoff(s).markdown, "Facts learned")
    assert "TIMEOUT" in facts and "OPENAI_API_KEY" not in facts


def test_without_a_repository_no_file_is_said_to_come_after_git_output() -> None:
    log = ("# aider chat started at 2025-07-16 20:11:00\n\n> Aider v0.84.0\n> Git repo: none\n\n"
           "#### write the script\n\nrun.sh\n```\n<<<<<<< SEARCH\n=======\necho run\n>>>>>>> REPLACE\n```\n\n"
           "> Applied edit to run.sh\n")
    doc = aider_handoff(log)
    assert "git output" not in doc.markdown.replace("shows no git output", "")


def test_a_failure_with_changes_after_it_is_not_called_still_failing() -> None:
    s = ClaudeScript()
    s.user("add the edge-case tests")
    s.change("test/renderer_test.exs", "a = 1\n", "a = 2\n")
    s.run("mix test test/renderer_test.exs", "  1) test subagent fixture (RendererTest)\n"
          "     Assertion with != failed, both sides are exactly equal\n\n58 tests, 1 failure", code=2)
    s.change("test/renderer_test.exs", "assert ref != nil\n", "assert ref == nil\n")  # the fix, never re-run
    acts = handoff(s).data["next_actions"]
    make = next(a for a in acts if a.startswith("Make `mix test test/renderer_test.exs` pass"))
    assert "`test/renderer_test.exs` changed after that run, so whether it passes now is not known" in make
    s.run("mix test test/renderer_test.exs", "58 tests, 0 failures")
    assert not any(a.startswith("Make ") for a in handoff(s).data["next_actions"])


def test_a_lint_run_on_named_files_is_stale_only_when_those_files_change() -> None:
    s = ClaudeScript()
    s.user("tidy the renderer")
    s.change("lib/app/renderer.ex", "a = 1\n", "a = 2\n")
    s.run("mix credo lib/app/renderer.ex", "found no issues.")
    s.change("lib/app/session_live.ex", "b = 1\n", "b = 2\n")  # another file: the lint of renderer.ex still holds
    s.change("priv/static/app.css", ".a {}\n", ".a { color: red }\n")
    doc = handoff(s)
    md = doc.markdown
    assert "**not re-verified**: `mix credo lib/app/renderer.ex`" not in md and "not re-verified" not in md
    assert "nothing changed since" not in md  # other files did change: say only what the check reads
    s.change("lib/app/renderer.ex", "a = 2\n", "a = 3\n")
    assert "**not re-verified**: `mix credo lib/app/renderer.ex`" in handoff(s).markdown


def _renamed(how: str, commit: str) -> dict:
    s = ClaudeScript()
    s.user("rename ops")
    s.change("src/ops.py", "a = 1\n", "a = 2\n")
    s.run('git add src/ops.py && git commit -m "fix: ops"', "[main 1111111] fix: ops\n 1 file changed")
    s.run(f"{how} src/ops.py src/arith.py", "")
    s.run(commit, "[main 2222222] refactor: rename\n 1 file changed\n create mode 100644 src/arith.py")
    return handoff(s).data["current_state"]


def test_a_plain_mv_leaves_the_old_paths_deletion_to_stage() -> None:
    """`mv a b` then `git add b`: the commit has b, and a's deletion is still in the work tree only."""
    cs = _renamed("mv", 'git add src/arith.py && git commit -m "refactor: rename"')
    assert cs["uncommitted"] == ["src/ops.py"]
    for how, commit in (("git mv", 'git commit -m "refactor: rename"'),
                        ("mv", 'git add -A && git commit -m "refactor: rename"'),
                        ("mv", 'git add src/arith.py && git commit -am "refactor: rename"')):
        cs = _renamed(how, commit)
        assert cs["uncommitted"] == [] and cs["changed_not_known"] == [], (how, commit)


def test_a_heredoc_written_to_a_file_is_a_change() -> None:
    s = ClaudeScript()
    s.user("configure it")
    s.run('git add -A && git commit -m "start"', "[main 1111111] start\n 1 file changed")
    s.run("cat <<EOF > config/app.yml\nport: 4000\nEOF", "")
    cs = handoff(s).data["current_state"]
    assert cs["changed_not_known"] == ["config/app.yml"] or cs["uncommitted"] == ["config/app.yml"]


def test_a_finding_about_code_the_session_changed_after_says_so() -> None:
    s = ClaudeScript()
    s.user("fix the migration")
    s.read("priv/repo/migrations/20260101_add_state.exs", "alter table(:notes) do\n  modify :state, :text\nend\n")
    s.say("The auto-generated migration uses `ALTER TABLE ... modify`, which SQLite does not support.")
    s.read("lib/app/assets.ex", "defmodule App.Assets do\nend\n")
    s.say("The asset pipeline copies `priv/static/assets/app.css` unchanged.")
    s.change("priv/repo/migrations/20260101_add_state.exs", "  modify :state, :text\n", "  add :state_new, :text\n")
    facts = section(handoff(s).markdown, "Facts learned")
    line = next(ln for ln in facts.splitlines() if "SQLite" in ln)
    assert line.endswith("(the session changed `priv/repo/migrations/20260101_add_state.exs` after this)"), line
    # a folder named only inside a quoted path is not what the finding speaks of
    assert not next(ln for ln in facts.splitlines() if "asset pipeline" in ln).endswith("after this)")


def test_work_no_test_ran_after_in_aider_says_its_auto_test_prints_nothing_on_a_pass() -> None:
    log = ("# aider chat started at 2025-07-16 20:11:00\n\n> Aider v0.84.0\n> Git repo: .git with 3 files\n\n"
           "#### fix the parser\n\nsrc/parse.py\n```\n<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n>>>>>>> REPLACE\n```\n\n"
           "> Applied edit to src/parse.py\n")
    doc = aider_handoff(log)
    step = next(x for x in doc.data["next_actions"] if x.startswith("Run the project's tests"))
    assert "`src/parse.py`" in step and "print nothing when they pass" in step, step
