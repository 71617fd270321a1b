"""A transcript cut right after the agent acted (issue 16, class 2): what was issued but not answered.

A live session is handed off at any record, often between a command and its result: the commit the
agent just issued, whose output the transcript does not have yet. Its files are neither committed
nor uncommitted as far as the transcript can tell, and the document must say so, not "commit them".
"""

from __future__ import annotations

from chalicelib.transcripts.model import Message, ToolCall
from tests.unit.handoff.agent_scripts import ClaudeScript, handoff, section

COMMIT = "git add .beads/ && git commit -m \"$(cat <<'EOF'\nfeat: annotations (app-7)\n\nCo-Authored-By: x\nEOF\n)\""


def _issue(s: ClaudeScript, command: str) -> None:
    """The agent's last tool call, with no result: the transcript ends before it came."""
    s.messages.append(Message(role="assistant", tool_calls=[ToolCall("Bash", {"command": command}, "toolu_last")],
                              meta={"cwd": s.cwd, "gitBranch": "main"}))


def _session() -> ClaudeScript:
    s = ClaudeScript()
    s.user("Implement app-7")
    s.change("lib/app/annotation.ex", "a = 1\n", "a = 2\n")
    s.change("priv/repo/migrations/20260211_add_refs.exs", "x = 1\n", "x = 2\n")  # written over a generated file
    s.run("git status", "On branch main\nChanges not staged for commit:\n\tmodified:   lib/app/annotation.ex\n\n"
          "Untracked files:\n\tpriv/repo/migrations/20260211_add_refs.exs\n\n"
          "no changes added to commit (use \"git add\" and/or \"git commit -a\")\n")
    s.run("git diff --stat", " lib/app/annotation.ex | 2 +-\n 1 file changed, 1 insertion(+), 1 deletion(-)\n")
    return s


def test_an_untracked_file_is_not_clean_because_git_diff_omits_it() -> None:
    doc = handoff(_session())
    cs = doc.data["current_state"]
    assert cs["uncommitted"] == ["lib/app/annotation.ex", "priv/repo/migrations/20260211_add_refs.exs"]
    assert "git listed no change left" not in doc.markdown


def test_a_commit_issued_at_the_cut_leaves_its_files_not_known() -> None:
    s = _session()
    s.run("git add lib/app/annotation.ex priv/repo/migrations/20260211_add_refs.exs", "")
    s.run("bd sync --from-main", "✓ Sync from main complete")
    _issue(s, COMMIT)
    doc = handoff(s)
    cs = doc.data["current_state"]
    assert cs["uncommitted"] == []
    assert cs["changed_not_known"] == ["lib/app/annotation.ex", "priv/repo/migrations/20260211_add_refs.exs"]
    assert "**Uncommitted:**" not in doc.markdown
    assert not any(a.startswith("Commit ") for a in doc.data["next_actions"])
    git = section(doc.markdown, "State at the end")
    assert "was issued after it and its result is not in the transcript" in git
    assert git.count("its result is not in the transcript") == 1  # one reason for both files, said once
    last = doc.data["current_work"]["last_action"]
    assert "was issued and its result is not in the transcript" in last and "commands ran:" not in last


def test_an_answered_commit_still_commits() -> None:
    s = _session()
    s.run("git add lib/app/annotation.ex priv/repo/migrations/20260211_add_refs.exs", "")
    s.run('git commit -m "feat: annotations"', "[main 1234567] feat: annotations\n 2 files changed\n")
    cs = handoff(s).data["current_state"]
    assert cs["uncommitted"] == [] and cs["changed_not_known"] == []


SPEC = """○ {tid} · {title}   [● P2 · OPEN]
Owner: dev
Type: task

DESCRIPTION
{title}.

Output files:
- `{out}` (create)

Technical specs:
- add route for review context (`GET` endpoint under `/api`).
"""


def test_a_contract_read_before_other_tasks_were_done_is_next_not_in_progress() -> None:
    """`bd ready`/`bd show` of every new task, then one task claimed, built and closed: the edits are
    that task's, so the other contract is the next task, not started, and nothing is "in progress"."""
    s = ClaudeScript()
    s.user("new tasks for the epic were added. tackle them")
    s.run("bd show app-6", SPEC.format(tid="app-6", title="Close review session", out="lib/app/review_live.ex"))
    s.run("bd show app-7", SPEC.format(tid="app-7", title="Open review conversation", out="lib/app/context.ex"))
    s.run("bd update app-6 --status in_progress", "✓ Updated issue: app-6")
    s.create("lib/app/review_live.ex", 'get "/api/review", ReviewController, :show  # GET under /api\n')
    s.run("mix test", "14 doctests, 76 tests, 0 failures")
    s.run("bd close app-6", "✓ Closed app-6: Closed")
    s.run('git add lib/app/review_live.ex && git commit -m "feat: close review session (app-6)"',
          "[main 05fd186] feat: close review session (app-6)\n 1 file changed\n")
    doc = handoff(s)
    cw = doc.data["current_work"]
    assert cw.get("task") != "app-7" and "in progress" not in doc.markdown.split("\n")[2]
    assert not any("app-7" in a for a in doc.data["next_actions"])  # no family here: nothing said of it


def _cd_assets_session() -> ClaudeScript:
    """Claude Code's shell keeps a `cd`: the records after it carry the new directory."""
    s = ClaudeScript()
    s.user("integrate the highlighter")
    s.change("lib/app/session_live.ex", "a = 1\n", "a = 2\n")
    s.change("assets/js/app.js", "x = 1\n", "x = 2\n")
    s.run("node assets/build.js 2>&1", '✘ [ERROR] Could not resolve "js/app.js"\n\n1 error', code=1)
    s.run(f"cd {s.cwd}/assets && node build.js 2>&1", "")
    s.cwd = f"{s.cwd}/assets"  # the result record and every later one: the shell stayed in assets/
    s.messages[-1].meta["cwd"] = s.cwd
    return s


def test_a_cd_the_shell_kept_places_git_output_in_that_directory() -> None:
    s = _cd_assets_session()
    s.run("git status 2>&1", "On branch main\nChanges not staged for commit:\n\tmodified:   js/app.js\n"
          "\tmodified:   ../lib/app/session_live.ex\n\nno changes added to commit\n")
    root = s.cwd.rsplit("/", 1)[0]
    s.run(f"cd {root} && git add assets/js/app.js lib/app/session_live.ex", "")
    s.run('git commit -m "feat: highlight"', "[main 331f337] feat: highlight\n 2 files changed\n")
    doc = handoff(s)
    files = {f["path"]: f for f in doc.data["files"]}
    assert files["assets/js/app.js"]["commit"] == "331f337" and files["lib/app/session_live.ex"]["commit"] == "331f337"
    assert doc.data["current_state"]["uncommitted"] == [] and doc.data["current_state"]["changed_not_known"] == []
    assert "git listed no change left" not in doc.markdown


def test_a_build_rerun_from_its_own_directory_answers_the_failure() -> None:
    doc = handoff(_cd_assets_session())
    md = doc.markdown
    assert "Not re-run" not in md and "not re-run" not in md.split("## Errors", 1)[-1].split("\n## ", 1)[0]
    assert "Fixed by running `cd /home/dev/proj/assets && node build.js`" in md


def test_a_wider_lint_run_that_passed_verifies_the_narrower_one() -> None:
    s = ClaudeScript()
    s.user("polish")
    s.change("lib/app/renderer.ex", "a = 1\n", "a = 2\n")
    s.run("mix credo lib/app/renderer.ex", "found no issues.")
    s.change("lib/app/session_live.ex", "b = 1\n", "b = 2\n")
    s.run("mix credo lib/app/session_live.ex lib/app/renderer.ex", "found no issues.")
    doc = handoff(s)
    assert not any(a.startswith("Re-run") for a in doc.data["next_actions"])
    assert "**not re-verified**" not in doc.markdown


def test_a_test_the_session_wrote_before_another_task_is_not_called_missing() -> None:
    """Its test written first, another task claimed and closed in between, then more of its work:
    in progress, and the test it wrote is not among the outputs 'not changed yet'."""
    s = ClaudeScript()
    s.user("tackle the new tasks")
    s.run("bd show app-7", SPEC.format(tid="app-7", title="Open review conversation", out="test/context_test.exs")
          + "- [ ] return compact context produced by `ReviewContextBuilder`.\n")
    s.create("test/context_test.exs", "test \"GET /api/review\" do\n  assert true\nend\n")
    s.run("bd show app-6", SPEC.format(tid="app-6", title="Close review session", out="lib/app/review_live.ex"))
    s.run("bd update app-6 --status in_progress", "✓ Updated issue: app-6")
    s.create("lib/app/review_live.ex", "def close, do: :ok\n")
    s.run("bd close app-6", "✓ Closed app-6: Closed")
    s.create("lib/app/router.ex", 'get "/api/review/:token", ContextController, :show  # GET\n')
    cw = handoff(s).data["current_work"]
    assert cw["task"] == "app-7"  # its spec item on ReviewContextBuilder is still open
    assert "test/context_test.exs" not in cw["untouched_outputs"]


def test_a_whole_suite_run_issued_at_the_cut_is_not_called_never_run() -> None:
    s = ClaudeScript()
    s.user("add the tests")
    s.change("test/renderer_test.exs", "a = 1\n", "a = 2\n")
    s.run("mix test test/renderer_test.exs", "58 tests, 0 failures")
    _issue(s, "mix test 2>&1 | tail -20")
    doc = handoff(s)
    assert "was not run in this session" not in doc.markdown
    assert "`mix test` was issued and its result is not in the transcript" in \
        doc.data["current_work"]["last_action"]


def test_a_spec_case_near_the_end_of_a_long_test_file_the_session_wrote_is_not_open() -> None:
    """The agent writes a 150-line test file; the case the spec asks for is its last test. The file's
    first lines alone do not show it: reading only those, the document called the item still to do."""
    s = ClaudeScript()
    s.user("tackle app-4")
    s.run("bd show app-4", SPEC.format(tid="app-4", title="Renderer tests", out="test/render_test.exs")
          + "- assert subagent click triggers `subagent_reference_clicked` event.\n")
    s.run("bd update app-4 --status in_progress", "✓ Updated issue: app-4")
    filler = "".join(f'  test "row {k} has its class" do\n    assert render({k}) =~ "row-{k}"\n  end\n'
                     for k in range(50))
    s.create("test/render_test.exs", "defmodule RenderTest do\n" + filler
             + '  test "subagent click updates clicked_subagent state" do\n    assert click()\n  end\nend\n')
    cw = handoff(s).data["current_work"]
    assert not any("subagent_reference_clicked" in x for x in cw["open_spec_items"]), cw["open_spec_items"]


def test_a_generated_migration_with_another_timestamp_is_the_contracts_output() -> None:
    """The contract names `…/20260211213000_add_refs.exs`; `mix ash.codegen` wrote the migration as
    `…/20260211203856_add_refs.exs` (the time it ran): that output is written, not "not changed yet"."""
    s = ClaudeScript()
    s.user("tackle app-9")
    s.run("bd show app-9", SPEC.format(tid="app-9", title="Message refs",
                                       out="priv/repo/migrations/20260211213000_add_refs.exs"))
    s.run("bd update app-9 --status in_progress", "✓ Updated issue: app-9")
    s.create("priv/repo/migrations/20260211203856_add_refs.exs", "defmodule AddRefs do\nend\n")
    cw = handoff(s).data["current_work"]
    assert cw["untouched_outputs"] == [], cw


def test_a_failure_a_wider_run_no_longer_shows_is_answered_even_if_that_run_failed_elsewhere() -> None:
    """`mix test file` fails on an assertion; after a fix the whole `mix test` runs, its summary shows
    the tests ran, and its failures are other tests': the first failure is not "not re-run"."""
    s = ClaudeScript()
    s.user("fix the renderer test")
    s.run("mix test test/app/renderer_test.exs", "  1) test renders rows (App.RendererTest)\n"
          "     Assertion with != failed\n\n58 tests, 1 failure\n", code=2)
    s.change("lib/app/renderer.ex", "a = 1\n", "a = 2\n")
    s.run("mix test", "  1) test shows the badge (AppWeb.SessionLiveTest)\n     ** (ArgumentError) no element "
          "matched .subagent-badge\n\n140 tests, 12 failures\n", code=2)
    doc = handoff(s)
    errs = section(doc.markdown, "Errors")
    line = next(ln for ln in errs.split("\n") if "Assertion with != failed" in ln)
    assert "Not re-run" not in line and "Fixed by running" not in line, line
    assert any("subagent-badge" in ln and "Not re-run" in ln for ln in errs.split("\n")), errs


def test_a_file_the_contract_lists_to_read_is_not_an_output_to_write() -> None:
    s = ClaudeScript()
    s.user("tackle app-5")
    s.run("bd show app-5", SPEC.format(tid="app-5", title="Renderer", out="lib/app/renderer.ex").replace(
        "(create)\n", "(create)\n- `test/fixtures/tool_heavy.jsonl` (read reference only)\n"))
    s.run("bd update app-5 --status in_progress", "✓ Updated issue: app-5")
    s.create("lib/app/renderer.ex", "defmodule Renderer do\nend\n")
    cw = handoff(s).data["current_work"]
    assert "test/fixtures/tool_heavy.jsonl" not in cw["untouched_outputs"], cw


def test_a_failure_whose_re_run_was_issued_at_the_cut_is_not_called_not_re_run() -> None:
    s = ClaudeScript()
    s.user("make the live view tests pass")
    s.run("mix test test/app_web/live/review_live_test.exs",
          "** (RuntimeError) lazy_html is not available\n\n5 tests, 5 failures\n", code=2)
    s.change("mix.exs", "deps = []\n", "deps = [{:lazy_html, \">= 0.1.0\", only: :test}]\n")
    _issue(s, "mix test test/app_web/live/review_live_test.exs")
    errs = section(handoff(s).markdown, "Errors")
    line = next(ln for ln in errs.split("\n") if "lazy_html" in ln)
    assert "Not re-run" not in line and "Re-run issued after it; its result is not in the transcript." in line, line


def test_a_finished_contract_with_no_check_run_is_closed_after_the_checks() -> None:
    s = ClaudeScript()
    s.user("tackle app-8")
    s.run("bd show app-8", SPEC.format(tid="app-8", title="Renderer", out="lib/app/renderer.ex"))
    s.run("bd update app-8 --status in_progress", "✓ Updated issue: app-8")
    s.create("lib/app/renderer.ex", 'defmodule Renderer do\n  # GET endpoint under /api\nend\n')
    acts = handoff(s).data["next_actions"]
    assert any(a.startswith("Run the project's checks (none ran in the transcript), then close `app-8`")
               for a in acts), acts


def test_checks_re_run_after_the_last_edit_whose_results_come_after_the_cut_are_not_stale() -> None:
    s = ClaudeScript()
    s.user("finish the epic")
    s.run("mix test", "87 tests, 0 failures\n")
    s.change("lib/app/review.ex", "a = 1\n", "a = 2\n")
    _issue(s, "mix test")
    acts = handoff(s).data["next_actions"]
    assert not any(a.startswith("Re-run the checks") for a in acts), acts
