"""Issue 9, rule by rule, on small synthetic transcripts: the handoff tells the truth about where
things stand (checks vs edits since, git as git printed it, tasks as the tracker last showed them,
the last action that took effect) and renders any budget from one stored layout.

Each test asserts exact facts in the Markdown and in `doc.data`, so a wrong statement fails it.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from chalicelib.handoff import HandoffDoc, build_handoff
from chalicelib.handoff.render import render_layout
from chalicelib.handoff.shellfx import parse_push
from tests.unit.handoff.handoff_support import Script, login_fix_script

ROOT = "/w/proj"


def script() -> Script:
    return Script(cwd=ROOT).user("Carry on with the parser work.")


def make(s: Script, branch: str = "main", **kw: Any) -> HandoffDoc:
    """The handoff of `s`, with Claude Code's per-message branch set to `branch` (as git would say)."""
    for m in s.messages:
        if m.meta and "gitBranch" in m.meta:
            m.meta["gitBranch"] = branch
    args: dict[str, Any] = {"project": {"name": "proj"}, "session": {"number": 2, "status": "in_progress"},
                            "messages": s.messages, "file_changes": [], "previous": None, "pins": [],
                            "generated_at": "2026-02-11T00:00:00Z"}
    args.update(kw)
    return build_handoff(**args)


def section(md: str, title: str) -> str:
    """The body of the section whose heading starts with `title` (up to the next `## `)."""
    m = re.search(r"(?m)^## " + re.escape(title) + r".*$", md)
    assert m, f"no section {title!r} in:\n{md}"
    return md[m.end():].split("\n## ", 1)[0]


def line_with(md: str, needle: str) -> str:
    lines = [ln for ln in md.split("\n") if needle in ln]
    assert lines, f"no line with {needle!r} in:\n{md}"
    return lines[0]


def checks(doc: HandoffDoc) -> dict[str, dict[str, Any]]:
    """doc.data["checks"] (grouped by what changed since) flattened to {command: check}."""
    out = {}
    for group in doc.data["checks"]:
        for c in group if isinstance(group, list) else [group]:
            out[c["command"]] = c
    return out


# ----------------------------------------------------------------------------- 1. state truth


def test_a_check_that_passed_before_an_edit_is_not_re_verified() -> None:
    s = script()
    s.edit(f"{ROOT}/src/parse.py", "x = 1\n", "x = 2\n")  # before the run: covered by it
    s.bash("pytest -q tests/test_parse.py", "....\n4 passed in 0.10s")
    s.edit(f"{ROOT}/src/lexer.py", "TOKENS = []\n", "TOKENS = ['(', ')']\n")
    doc = make(s)
    md = doc.markdown
    line = line_with(md, "- Last run before")  # staleness first: "**passed** … not re-verified" misleads
    assert line == ("- Last run before 1 file changed (`src/lexer.py`), **not re-verified**: "
                    "`pytest -q tests/test_parse.py`: passed (`4 passed in 0.10s`)")
    assert "**passed**" not in md
    assert "nothing changed since" not in md
    c = checks(doc)["pytest -q tests/test_parse.py"]
    assert c["outcome"] == "pass" and c["verified"] is False and c["changed_since"] == ["src/lexer.py"]
    assert any("Re-run" in a and "`pytest -q tests/test_parse.py`" in a for a in doc.data["next_actions"])

    # the same command passing again after the edit: verified, nothing changed since
    s.bash("pytest -q tests/test_parse.py", "....\n4 passed in 0.11s")
    doc = make(s)
    assert line_with(doc.markdown, "- `pytest -q tests/test_parse.py` **") == (
        "- `pytest -q tests/test_parse.py` **passed** (`4 passed in 0.11s`) — nothing changed since")
    c = checks(doc)["pytest -q tests/test_parse.py"]
    assert c["verified"] is True and c["changed_since"] == [] and c["runs"] == 2
    assert not any("Re-run" in a for a in doc.data["next_actions"])


def test_a_package_install_after_a_passing_build_makes_it_stale() -> None:
    s = script()
    s.bash("cd web && npm run build", "built in 1.2s")
    s.bash("cd web && npm install lodash", "added 1 package in 1s")
    doc = make(s)
    line = line_with(doc.markdown, "`npm run build`: passed")
    assert "`web/package.json`" in line and "`web/package-lock.json`" in line and "**not re-verified**" in line
    assert set(checks(doc)["npm run build"]["changed_since"]) == {"web/package.json", "web/package-lock.json"}


# ----------------------------------------------------------------------------- 2. git truth


def test_without_any_git_output_committed_or_not_is_not_claimed() -> None:
    """Rule 2: committed and uncommitted come from what git printed. With no git output at all (an
    aider session, which commits by itself) the files are "changed", never "uncommitted"."""
    s = script()
    s.bash("cd web && npm install lodash", "added 1 package, and audited 2 packages in 1s\nfound 0 vulnerabilities")
    doc = make(s)
    assert doc.data["current_state"]["uncommitted"] == []
    assert "**Uncommitted:**" not in doc.markdown and "uncommitted" not in doc.markdown.split("\n")[2]
    line = line_with(doc.markdown, "Changed in this session (the transcript shows no git output")
    assert "`web/package.json`" in line and "`web/package-lock.json`" in line
    assert any(a.startswith("Run `git status` first") for a in doc.data["next_actions"])
    assert not any(a.startswith("Commit ") for a in doc.data["next_actions"])


def test_npm_install_changes_package_json_and_the_lock_file() -> None:
    s = script()
    s.bash('git commit --allow-empty -m "chore: start"', "[main 1111111] chore: start")
    s.bash("cd web && npm install lodash", "added 1 package, and audited 2 packages in 1s\nfound 0 vulnerabilities")
    doc = make(s)
    cs = doc.data["current_state"]  # no git output after the install: committed or not is not known
    assert cs["uncommitted"] == [] and cs["changed_not_known"] == ["web/package-lock.json", "web/package.json"]
    s.bash("git status --short", " M web/package-lock.json\n M web/package.json\n")
    doc = make(s)
    cs = doc.data["current_state"]
    assert cs["uncommitted"] == ["web/package-lock.json", "web/package.json"]
    files = {f["path"]: f for f in doc.data["files"]}
    assert set(files) == {"web/package.json", "web/package-lock.json"}
    assert files["web/package.json"]["abs_path"] == f"{ROOT}/web/package.json"
    assert all(f["uncommitted"] for f in files.values())
    unc = line_with(doc.markdown, "**Uncommitted:**")
    assert unc == ("- **Uncommitted:** `web/package-lock.json`, `web/package.json` (each: listed by `git status`; "
                   "changed by `npm install lodash`)")  # one reason, said once
    assert any(a.startswith("Commit `web/package-lock.json`, `web/package.json`") for a in doc.data["next_actions"])


def test_commit_then_edit_then_push() -> None:
    s = script()
    s.edit(f"{ROOT}/src/parse.py", "x = 1\n", "x = 2\n")
    s.bash('git add src/parse.py && git commit -m "feat: strict parser"',
           "[main abc1234] feat: strict parser\n 1 file changed, 1 insertion(+), 1 deletion(-)")
    s.edit(f"{ROOT}/src/cli.py", "y = 1\n", "y = 2\n")
    s.bash("git push", "To github.com:u/proj.git\n   abc1234..def5678  main -> main")
    doc = make(s)
    md = doc.markdown
    assert "- Committed `abc1234` `feat: strict parser` — pushed" in md
    assert doc.data["commits"] == [{"sha": "abc1234", "subject": "feat: strict parser", "pushed": True,
                                    "branch": "main"}]
    cs = doc.data["current_state"]
    assert cs["pushed"] is True and cs["last_commit"]["pushed"] is True
    assert cs["uncommitted"] == ["src/cli.py"]  # edited after the commit: the push did not carry it
    assert line_with(md, "**Uncommitted:**") == "- **Uncommitted:** `src/cli.py` (edited after `abc1234`)"
    files = {f["path"]: f for f in doc.data["files"]}
    assert files["src/parse.py"]["uncommitted"] is False and files["src/parse.py"]["commit"] == "abc1234"
    assert files["src/cli.py"]["uncommitted"] is True
    assert "Nothing was pushed" not in md


def test_a_push_that_failed_for_no_upstream_pushes_nothing() -> None:
    s = script()
    s.edit(f"{ROOT}/src/parse.py", "x = 1\n", "x = 2\n")
    s.bash('git add src/parse.py && git commit -m "feat: strict parser"', "[x abc1234] feat: strict parser\n 1 file changed")
    s.bash("git push", "fatal: The current branch x has no upstream branch.\nTo push the current branch and set the "
           "remote as upstream, use\n\n    git push --set-upstream origin x\n", is_error=True)
    doc = make(s, branch="x")
    md = doc.markdown
    assert "- Committed `abc1234` `feat: strict parser` — not pushed" in md
    assert "Nothing was pushed in this session." in md
    assert "**no upstream branch**" in line_with(md, "- Branch `x`")
    cs = doc.data["current_state"]
    assert cs["pushed"] is False and cs["no_upstream"] is True and cs["upstream"] == ""
    assert doc.data["commits"][0]["pushed"] is False
    assert "`git push --set-upstream origin x`" in " ".join(doc.data["next_actions"])
    assert any(e["error"] == "fatal: The current branch x has no upstream branch." for e in doc.data["errors"])


def test_a_rejected_push_is_not_a_push_even_when_a_pipe_hid_the_exit_code() -> None:
    """`git push 2>&1 | tail` loses the exit status; git's own lines still say nothing was updated."""
    rejected = ("To github.com:u/proj.git\n ! [rejected]        main -> main (fetch first)\n"
                "error: failed to push some refs to 'github.com:u/proj.git'")
    assert parse_push(rejected, False).ok is False
    s = script()
    s.edit(f"{ROOT}/src/parse.py", "x = 1\n", "x = 2\n")
    s.bash('git add src/parse.py && git commit -m "feat: strict parser"', "[main abc1234] feat: strict parser\n 1 file changed")
    s.bash("git push 2>&1 | tail -3", rejected)
    doc = make(s)
    assert doc.data["commits"][0]["pushed"] is False
    assert doc.data["current_state"]["pushed"] is False
    assert "- Committed `abc1234` `feat: strict parser` — not pushed" in doc.markdown


CLEAN_STATUS = "On branch main\nYour branch is up to date with 'origin/main'.\n\nnothing to commit, working tree clean"


def test_a_plan_file_outside_the_root_is_not_a_project_file() -> None:
    plan = "/home/u/.claude/plans/x.md"
    s = script()
    s.bash("git status", CLEAN_STATUS)  # git is known: edits after this are uncommitted
    s.write(plan, "# Plan\n\n1. tokenizer\n2. grammar\n")
    s.edit(f"{ROOT}/src/parse.py", "x = 1\n", "x = 2\n")
    s.bash("pytest -q", "3 passed in 0.1s")
    s.write(plan, "# Plan\n\n1. tokenizer (done)\n2. grammar\n")  # after the run: not project code
    s.bash("git status --short", " M src/parse.py\n")
    doc = make(s)
    md = doc.markdown
    cs = doc.data["current_state"]
    assert cs["root"] == ROOT
    assert cs["outside_project"] == [plan]
    assert cs["uncommitted"] == ["src/parse.py"]
    assert [f["path"] for f in doc.data["files"]] == ["src/parse.py"]
    assert line_with(md, "- Not project files") == f"- Not project files (outside the work tree, never commit them): `{plan}`"
    assert plan not in section(md, "Files changed in session 2")
    assert plan not in line_with(md, "**Uncommitted:**")
    assert not any(mk["kind"] == "file" and mk["text"] == plan for mk in doc.must_keep)
    # the plan edit after the run does not make the check stale
    assert checks(doc)["pytest -q"]["verified"] is True
    assert line_with(md, "`pytest -q` **passed**").endswith("— nothing changed since")


# ----------------------------------------------------------------------------- 3. task truth

EPIC_SHOW = ("○ epic-1 [EPIC] · Parser rewrite   [● P2 · OPEN]\n\nDESCRIPTION\nRewrite the parser.\n\n"
             "CHILDREN\n  ↳ ✓ epic-1.1: Tokenizer ● P2\n  ↳ ○ epic-1.2: Grammar ● P2\n  ↳ ○ epic-1.3: Error messages ● P2\n")


def tasks(doc: HandoffDoc) -> dict[str, dict[str, Any]]:
    return {t["id"]: t for t in doc.data["tasks"]}


def test_a_reopened_epic_is_in_progress_not_closed() -> None:
    s = script()
    s.bash("bd show epic-1", EPIC_SHOW)
    s.bash("bd close epic-1 --reason done", "✓ Closed epic-1: done")
    s.bash("bd show epic-1.2", "○ epic-1.2 · Grammar   [● P2 · OPEN]\n\nDESCRIPTION\nWrite the grammar.\n\n"
           "PARENT\n  ↑ ◐ epic-1: (EPIC) Parser rewrite ● P2\n")
    doc = make(s)
    md = doc.markdown
    assert tasks(doc)["epic-1"]["status"] == "in_progress"
    assert line_with(md, "`epic-1` (epic)") == "- `epic-1` (epic) `Parser rewrite` — in progress"
    assert "`epic-1` (epic) `Parser rewrite` — closed" not in md
    assert any("close `epic-1` too (the tracker shows it in progress)" in a for a in doc.data["next_actions"])


def test_a_task_the_tracker_listed_but_nobody_started() -> None:
    s = script()
    s.bash("bd show epic-1", EPIC_SHOW)
    s.bash("bd update epic-1.2 --status in_progress", "✓ Updated issue: epic-1.2")
    doc = make(s)
    t = tasks(doc)
    assert t["epic-1.3"] == {"id": "epic-1.3", "title": "Error messages", "status": "open", "kind": "",
                             "parent": "epic-1", "started": False}
    assert t["epic-1.2"]["status"] == "in_progress" and t["epic-1.2"]["started"] is True
    assert t["epic-1.1"]["status"] == "closed"
    tasks_md = section(doc.markdown, "State at the end of session 2").split(
        "**Tasks (the tracker's last word)**", 1)[1]
    assert "  - `epic-1.3` `Error messages` — open (next, no claim of it in the transcript)" in tasks_md
    assert "  - `epic-1.2` `Grammar` — in progress (current)" in tasks_md
    assert "  - `epic-1.1` `Tokenizer` — closed" in tasks_md
    assert doc.data["current_work"]["next_task"] == "epic-1.3"


# ----------------------------------------------------------------------------- 4. where it stopped

SPEC = """○ t-1.2 · Close review session   [● P2 · OPEN]
Owner: someone
Type: task

DESCRIPTION
Close every open annotation of the project in one action.

Output files:
- `lib/review_live.ex` (modify)
- `test/review_live_test.exs` (modify)

Technical specs:
- button labeled `Close review session`.
- show flash with exact closed count (e.g. `Closed 7 annotations`).

Edge cases:
- If no open annotations exist, the flash still says `Closed 0 annotations`.

PARENT
  ↑ ○ t-1: (EPIC) Review workflow ● P2
"""


def claimed_task_script() -> Script:
    s = script()
    s.bash("git status", CLEAN_STATUS)
    s.bash("bd show t-1.2", SPEC)
    s.bash("bd update t-1.2 --status in_progress", "✓ Updated issue: t-1.2")
    s.edit(f"{ROOT}/lib/review_live.ex", "def handle_event(_, _, s), do: {:noreply, s}\n",
           'def handle_event("close_review_session", _, socket) do\n'
           '  {:noreply, put_flash(socket, :info, "Closed #{n} annotations")}\nend\n')
    return s


def test_current_work_and_next_action_come_first_and_name_the_untouched_output() -> None:
    doc = make(claimed_task_script())
    md = doc.markdown
    heads = re.findall(r"(?m)^## (.+)$", md)
    assert heads[:3] == ["Current work", "Next action", "State at the end of session 2"]
    cur = section(md, "Current work")
    assert cur.lstrip("\n").startswith("- **Task in progress:** `t-1.2` — `Close review session` (part of `t-1`")
    assert "`lib/review_live.ex`: `def handle_event(\"close_review_session\", _, socket) do`" in cur
    assert "**Not changed yet** of the files the task lists as output: `test/review_live_test.exs`." in cur
    nxt = section(md, "Next action")
    first = nxt.strip().split("\n")[0]
    assert first.startswith("1. ") and "`t-1.2`" in first and "`test/review_live_test.exs`" in first
    # no git output after the edit: commit it once `git status` lists it (not claimed uncommitted)
    assert "Run `git status`; commit `lib/review_live.ex` if it lists it" in nxt
    cw = doc.data["current_work"]
    assert cw["task"] == "t-1.2" and cw["untouched_outputs"] == ["test/review_live_test.exs"]
    assert doc.data["session"]["ended_mid_task"] is True
    assert "`t-1.2` is still in progress" in md.split("\n## ", 1)[0]


def test_the_contract_is_quoted_verbatim_from_the_tracker() -> None:
    doc = make(claimed_task_script())
    md = doc.markdown
    con = section(md, "Contract of `t-1.2` (in progress), verbatim from the tracker")
    for ln in ("> Close every open annotation of the project in one action.",
               "> - show flash with exact closed count (e.g. `Closed 7 annotations`).",
               "> - If no open annotations exist, the flash still says `Closed 0 annotations`.",
               "> - button labeled `Close review session`.", "> - `test/review_live_test.exs` (modify)"):
        assert ln in con.split("\n"), ln
    assert "Owner:" not in con and "someone" not in con  # tracker metadata is not the contract
    assert "PARENT" not in con
    texts = {c["section"]: c["text"] for c in doc.data["contracts"] if c["task"] == "t-1.2"}
    assert texts["Technical specs"] == ("Technical specs:\n- button labeled `Close review session`.\n"
                                        "- show flash with exact closed count (e.g. `Closed 7 annotations`).")
    assert any(mk["kind"] == "contract" for mk in doc.must_keep)


def test_an_announced_edit_that_was_applied_is_the_last_action_not_pending_work() -> None:
    s = script()
    s.edit(f"{ROOT}/lib/review_live.ex", "def close(socket) do\n  socket\nend\n",
           'def close(socket) do\n  put_flash(socket, :info, "Closed")\nend\n')
    s.say("Now I'll add the flash div.")
    s.edit(f"{ROOT}/lib/layouts/root.html.heex", "<main>\n",
           '<main>\n<div id="flash" class="flash-info"><%= @flash[:info] %></div>\n')
    doc = make(s)
    md = doc.markdown
    assert line_with(md, "**Last action that took effect:**") == (
        "- **Last action that took effect:** changed `lib/layouts/root.html.heex`.")
    assert doc.data["current_work"]["last_action"].startswith("changed `lib/layouts/root.html.heex`")
    assert "add the flash div" not in md  # the announcement is history, not what is left to do
    assert not any("flash div" in a for a in doc.data["next_actions"])


def test_the_json_does_not_call_an_applied_announcement_where_it_stopped() -> None:
    s = script()
    s.say("Now I'll add the flash div.")
    s.edit(f"{ROOT}/lib/layouts/root.html.heex", "<main>\n", '<main>\n<div id="flash"></div>\n')
    doc = make(s)
    assert "add the flash div" not in doc.data["summary"]["stopped_at"]


def test_words_after_the_last_action_are_shown_as_such() -> None:
    s = script()
    s.edit(f"{ROOT}/src/parse.py", "x = 1\n", "x = 2\n")
    s.say("The parser now rejects trailing commas; the CLI still needs the same flag.")
    md = make(s).markdown
    assert line_with(md, "Its last words") == ("- Its last words (after that action): `The parser now rejects "
                                               "trailing commas; the CLI still needs the same flag.`")


def test_reading_the_tracker_is_not_an_action_that_took_effect() -> None:
    s = script()
    s.bash("bd close epic-1 --reason done", "✓ Closed epic-1: done")
    s.edit(f"{ROOT}/src/grammar.py", "RULES = []\n", "RULES = ['expr']\n")
    s.bash("bd show epic-1.2", "○ epic-1.2 · Grammar   [● P2 · OPEN]\n\nDESCRIPTION\nWrite the grammar.\n\n"
           "PARENT\n  ↑ ◐ epic-1: (EPIC) Parser rewrite ● P2\n")
    doc = make(s)
    # the session never set epic-1 (or epic-1.2) to anything after its edit: `bd show` only read them
    assert doc.data["current_work"]["last_action"].startswith("changed `src/grammar.py`")
    assert line_with(doc.markdown, "**Last action that took effect:**") == (
        "- **Last action that took effect:** changed `src/grammar.py`.")


# ----------------------------------------------------------------------------- 7. errors and their fixes


def test_a_failed_skill_call_is_an_error_with_its_message() -> None:
    s = script()
    s.edit(f"{ROOT}/src/parse.py", "x = 1\n", "x = 2\n")
    s.tool("Skill", {"skill": "x:commit"},
           "fatal: ambiguous argument 'main..HEAD': unknown revision or path not in the working tree.", is_error=True)
    doc = make(s)
    errs = [e for e in doc.data["errors"] if e.get("tool") == "Skill"]
    assert len(errs) == 1
    e = errs[0]
    assert e["command"] == "Skill x:commit"
    assert e["error"] == "fatal: ambiguous argument 'main..HEAD': unknown revision or path not in the working tree."
    assert e["resolved"] is None  # never retried
    line = line_with(section(doc.markdown, "Errors and their fixes"), "`Skill x:commit` failed")
    assert "fatal: ambiguous argument 'main..HEAD'" in line and "Not retried" in line
    assert {"kind": "error", "text": e["error"]} in doc.must_keep


def test_a_fix_is_the_edit_that_touched_what_the_error_named() -> None:
    s = script()
    s.bash("mix test test/review_live_test.exs",
           "** (RuntimeError) missing secret_key_base for SpotterWeb.Endpoint in config/test.exs\n"
           "    (phoenix) lib/phoenix/endpoint.ex:10", is_error=True)
    s.edit(f"{ROOT}/lib/unrelated_helper.ex", "def a, do: 1\n", "def a, do: 2\n")  # in between, unrelated
    s.edit(f"{ROOT}/config/test.exs", "config :spotter, SpotterWeb.Endpoint,\n",
           'config :spotter, SpotterWeb.Endpoint,\n  secret_key_base: String.duplicate("a", 64),\n  server: false\n')
    s.bash("mix test test/review_live_test.exs", "5 tests, 0 failures")
    doc = make(s)
    e = next(e for e in doc.data["errors"] if "secret_key_base" in e["error"])
    assert e["resolved"] is True and e["fixed_by"] == ["config/test.exs"]
    line = line_with(section(doc.markdown, "Errors and their fixes"), "secret_key_base")
    assert line.endswith("Fixed by editing `config/test.exs`: `secret_key_base: String.duplicate(\"a\", 64),`.")
    assert "unrelated_helper" not in line


def test_an_error_is_resolved_only_by_the_same_command_succeeding() -> None:
    s = script()
    s.bash("pytest -q tests/test_a.py", "E   KeyError: 'token'\n1 failed in 0.1s", is_error=True)
    s.bash("pytest -q tests/test_b.py", "3 passed in 0.1s")  # another test file: says nothing about test_a
    doc = make(s)
    assert checks(doc)["pytest -q tests/test_a.py"]["outcome"] == "fail"
    e = next(e for e in doc.data["errors"] if "KeyError" in e["error"])
    assert e["resolved"] is not True and e["fix_command"] == ""
    line = line_with(section(doc.markdown, "Errors and their fixes"), "KeyError")
    assert "Fixed" not in line and "pytest -q tests/test_b.py" not in line


# ----------------------------------------------------------------------------- 9. size: any budget, later


def big_script() -> Script:
    s = login_fix_script()
    s.bash("bd show t-1", "○ t-1 [EPIC] · Auth hardening   [● P2 · OPEN]\n\nDESCRIPTION\nHarden auth.\n\n"
           "CHILDREN\n" + "".join(f"  ↳ ○ t-1.{k}: Subtask number {k} of the hardening ● P2\n" for k in range(1, 9)))
    s.bash("bd show t-1.1", "○ t-1.1 · Subtask number 1 of the hardening   [● P2 · OPEN]\n\nDESCRIPTION\n"
           + "".join(f"- Requirement {k}: refuse tokens older than {k} minutes with `E_TOKEN_{k}`.\n" for k in range(30)))
    s.bash("bd update t-1.1 --status in_progress", "✓ Updated issue: t-1.1")
    for k in range(60):
        s.edit(f"/repo/pkg/mod_{k:02d}.py", f"x = {k}\n", f"x = {k + 1}\ny = {k}\n")
        s.bash(f"pytest -q tests/test_mod_{k:02d}.py", f"{k + 1} passed in 0.1s")
        s.user(f"Also keep module {k} backwards compatible with the v{k} clients, and log every refusal.")
    return s


@pytest.fixture(scope="module")
def big() -> HandoffDoc:
    return build_handoff(project={"name": "Auth"}, session={"number": 4}, messages=big_script().messages,
                         file_changes=[], previous=None, pins=["Never deploy on Fridays."], generated_at="x")


@pytest.mark.parametrize("budget", [2000, 5000, 9500, 50000])
def test_render_layout_meets_any_budget_deterministically(big: HandoffDoc, budget: int) -> None:
    a = render_layout(big.layout, budget)
    b = render_layout(json.loads(json.dumps(big.layout)), budget)  # as stored, then loaded
    assert a.markdown.encode() == b.markdown.encode()
    assert a.markdown.encode() == render_layout(big.layout, budget).markdown.encode()
    if a.over_budget:  # only when the items that are never dropped alone exceed it
        assert a.floor_chars > budget and len(a.markdown) == a.floor_chars
    else:
        assert len(a.markdown) <= budget
    assert "Never deploy on Fridays." in a.markdown  # pins are never dropped
    assert a.markdown.startswith("# Handoff: Auth — session 4 → 5")


def test_render_layout_at_the_docs_own_budget_is_the_doc(big: HandoffDoc) -> None:
    assert big.data["budget"]["dropped"]  # the default budget really cuts this document
    assert len(render_layout(big.layout, 50000).markdown) > 9500
    assert render_layout(big.layout, big.data["budget"]["budget_chars"]).markdown == big.markdown
    small = build_handoff(project={"name": "Auth"}, session={"number": 4}, messages=big_script().messages,
                          file_changes=[], previous=None, pins=["Never deploy on Fridays."], generated_at="x",
                          budget_chars=5000)
    assert render_layout(small.layout, 5000).markdown == small.markdown
    assert render_layout(big.layout, 5000).markdown == small.markdown  # same ranking, no regeneration
    sizes = [len(render_layout(big.layout, n).markdown) for n in (2000, 5000, 9500, 50000)]
    assert sizes == sorted(sizes) and len(set(sizes)) == 4


def test_render_layout_keeps_required_items_over_budget() -> None:
    pin = "P" * 3000 + " end of pin"
    doc = build_handoff(project={"name": "Auth"}, session={"number": 4}, messages=login_fix_script().messages,
                        file_changes=[], previous=None, pins=[pin], generated_at="x")
    fit = render_layout(doc.layout, 2000)
    assert fit.over_budget is True and pin in fit.markdown
    assert len(fit.markdown) == fit.floor_chars > 2000
    assert render_layout(doc.layout, 2000).markdown == fit.markdown


def test_a_build_is_verified_by_a_later_passing_test_run_of_the_same_tool() -> None:
    """`mix compile` ran, then a file changed, then `mix test` (which compiles) passed: the compile
    is not "not re-verified"; a later edit that no run saw still is."""
    s = script()
    s.bash("mix compile --warnings-as-errors", "Compiling 3 files (.ex)")
    s.edit(f"{ROOT}/lib/a.ex", "def a, do: 1\n", "def a, do: 2\n")
    s.bash("mix test", "..\n2 tests, 0 failures")
    doc = make(s)
    line = line_with(doc.markdown, "`mix compile --warnings-as-errors` **passed**")
    assert "not re-verified" not in line and "`mix test` passed after the later changes" in line
    assert checks(doc)["mix compile --warnings-as-errors"]["verified"] is True
    # a credo run is no evidence for the tests
    s.bash("mix credo --strict", "found no issues.")
    s.edit(f"{ROOT}/lib/b.ex", "def b, do: 1\n", "def b, do: 2\n")
    s.bash("mix credo --strict", "found no issues.")
    doc = make(s)
    assert checks(doc)["mix test"]["changed_since"] == ["lib/b.ex"]
    assert checks(doc)["mix credo --strict"]["verified"] is True


# ----------------------------------------------------------------------------- knowledge


def test_project_knowledge_feeds_the_handoff_within_its_budget() -> None:
    """Items written by people come before extracted lessons; what fits is listed in knowledge_used."""
    items = [{"id": "k-lesson", "title": "pynamodb update returns ALL_NEW", "body": "use it to read back",
              "source_session": 3},
             {"id": "k-hand", "title": "Staging deploys need VPN", "body": "connect to vpn.example first",
              "source_session": None}]
    doc = make(script(), knowledge=items)
    sec = section(doc.markdown, "Project knowledge")
    assert sec.index("Staging deploys need VPN") < sec.index("pynamodb update returns ALL_NEW")
    assert doc.data["knowledge_used"] == ["k-hand", "k-lesson"]
    # under a small budget the extracted lesson goes first, and knowledge_used says what stayed
    many = [{"id": f"k{i}", "title": f"Lesson number {i} about the parser", "body": "x " * 120,
             "source_session": 1} for i in range(12)]
    small = make(script(), knowledge=[items[1], *many], budget_chars=2500)
    assert len(small.markdown) <= 2500
    used = small.data["knowledge_used"]
    assert "k-hand" in used and len(used) < 13
    assert all((f"Lesson number {i[1:]} " in small.markdown) == (i in used) for i in (f"k{n}" for n in range(12)))


def test_a_failure_answered_by_a_later_run_of_the_same_target_is_not_failing_last() -> None:
    """`node assets/build.js` failed from the root, then `cd assets && node build.js` passed: the
    build is not "failing"; a file test failing, then the whole suite passing, likewise."""
    s = script()
    s.bash("git status", CLEAN_STATUS)
    s.bash("node assets/build.js", 'Error: Could not resolve "js/app.js"\nExit code 1', is_error=True)
    s.bash("cd assets && node build.js", "built in 0.3s")
    s.bash("mix test test/a_test.exs", "1) test a (ATest)\nAssertion with == failed\n3 tests, 1 failure",
           is_error=True)
    s.edit(f"{ROOT}/lib/a.ex", "def a, do: 1\n", "def a, do: 2\n")
    s.bash("mix test", "....\n12 tests, 0 failures")
    doc = make(s)
    md = doc.markdown
    assert "Make `node assets/build.js` pass" not in md and "Make `mix test test/a_test.exs` pass" not in md
    assert "failed last" not in md.split("\n")[2]
    assert "`node assets/build.js` **FAILED**, then `node build.js` passed" in md or \
        "then `node build.js` passed after it" in line_with(md, "`node assets/build.js` **FAILED**")
    c = checks(doc)
    assert c["node assets/build.js"]["passed_later"] == "node build.js"
    assert c["mix test test/a_test.exs"]["passed_later"] == "mix test"
    err = next(e for e in doc.data["errors"] if "Assertion with == failed" in e["error"])
    assert err["resolved"] is True


def test_an_edit_in_another_language_does_not_make_a_check_stale() -> None:
    """An Elixir edit cannot break a vitest run; a config file of no known language affects all."""
    s = script()
    s.bash("git status", CLEAN_STATUS)
    s.bash("npx vitest run", "Test Files  3 passed (3)")
    s.edit(f"{ROOT}/lib/a.ex", "def a, do: 1\n", "def a, do: 2\n")
    doc = make(s)
    assert checks(doc)["npx vitest run"]["verified"] is True
    s.edit(f"{ROOT}/vite.config.yaml", "a: 1\n", "a: 2\n")
    doc = make(s)
    assert checks(doc)["npx vitest run"]["changed_since"] == ["vite.config.yaml"]
