"""The rule-based handoff on hand-made sessions: determinism, carry-forward, pins, budget, sections."""

from __future__ import annotations

import json
import random
import re
from typing import Any

import pytest

from chalicelib.handoff import build_handoff
from chalicelib.metrics import efficiency, knowledge
from chalicelib.transcripts.model import FileChange, Message, ToolCall, ToolResult
from tests.unit.handoff.handoff_support import Script, login_fix_script

SPEC_ORDER = [  # issue 9: what the next session needs to act comes first
    "Current work", "Next action", "State at the end of session", "Contract of", "What the user asked",
    "Open items", "Mission and goal", "Pinned context", "What session", "Conventions seen in this repository",
    "Facts learned by reading the code", "Errors and their fixes", "Files changed in session",
]
REMOVED = ("Metrics", "Checklist", "Commands run", "Where it stopped", "Summary of session", "Next steps",
           "Decisions and reasons", "Errors and blockers", "Learnings and patterns", "Current state")

PROJECT = {"name": "Auth service", "description": "Token issuing API", "goal": "Zero failed logins"}


def full_session(**over: Any) -> dict[str, Any]:
    s = {
        "number": 4, "title": "Fix login", "goal": "Green login tests", "status": "completed",
        "ai_account": "team-anthropic", "model": "claude-sonnet", "credit_budget": 100, "credits_used": 30,
        "tasks_planned": 4, "tasks_completed": 3, "duration_s": 5400,
        "accomplishments": ["Login test green again"], "blockers": ["Staging DB is read-only"],
        "decisions": ["Token expiry counts from issue time, because refresh time drifts"],
        "learnings": ["pytest -q output hides the failing assertion; use -x -vv when debugging"],
        "next_steps": ["Fix the failing UI test in npm test", "Move auth notes into README.md"],
        "errors": ["401 on /login after refresh"], "links": ["https://ci.example.com/run/981"],
        "done_items": [], "metrics": {"velocity": 1.5, "tasks_per_hour": 2},
    }
    s.update(over)
    return s


def make(messages: list[Message] | None = None, session: dict[str, Any] | None = None, **kw: Any) -> Any:
    args: dict[str, Any] = {
        "project": PROJECT, "session": session if session is not None else full_session(),
        "messages": login_fix_script().messages if messages is None else messages, "file_changes": [],
        "previous": None, "pins": ["Never deploy on Fridays."], "generated_at": "2026-02-11T21:18:41Z",
    }
    args.update(kw)
    return build_handoff(**args)


def headings(md: str) -> list[str]:
    return [h for h in re.findall(r"(?m)^## (.+)$", md)]


def section(md: str, title: str) -> str:
    """The body of the section whose heading starts with `title` (up to the next `## `)."""
    m = re.search(r"(?m)^## " + re.escape(title) + r".*$", md)
    assert m, f"no section {title!r}"
    return md[m.end():].split("\n## ", 1)[0]


def shuffled(d: dict[str, Any], seed: int) -> dict[str, Any]:
    items = list(d.items())
    random.Random(seed).shuffle(items)
    return {k: (shuffled(v, seed + 1) if isinstance(v, dict) else v) for k, v in items}


# ----------------------------------------------------------------------------- determinism


def test_same_input_same_bytes() -> None:
    a, b = make(), make()
    assert a.markdown.encode() == b.markdown.encode()
    assert json.dumps(a.data, sort_keys=True) == json.dumps(b.data, sort_keys=True)
    assert a.must_keep == b.must_keep


def test_dict_key_order_does_not_matter() -> None:
    base = make(previous={"open_items": [{"text": "Rotate keys", "kind": "next_step", "since_session": 2}],
                          "mission": {"goal": "x"}})
    for seed in range(3):
        other = make(project=shuffled(PROJECT, seed), session=shuffled(full_session(), seed + 10),
                     previous=shuffled({"open_items": [shuffled({"text": "Rotate keys", "kind": "next_step",
                                                                 "since_session": 2}, seed)],
                                        "mission": {"goal": "x"}}, seed + 20))
        assert other.markdown == base.markdown
        assert json.dumps(other.data, sort_keys=True) == json.dumps(base.data, sort_keys=True)


def test_consumes_any_iterable_of_messages() -> None:
    msgs = login_fix_script().messages
    assert make(messages=iter(msgs)).markdown == make(messages=list(msgs)).markdown


# ----------------------------------------------------------------------------- structure


def test_sections_follow_the_spec_order() -> None:
    doc = make()
    hs = headings(doc.markdown)
    titles = [next(t for t in SPEC_ORDER if h.startswith(t)) for h in hs]
    # every section is filled in this session (no tracker, so no contract), in the issue-9 order
    assert titles == [t for t in SPEC_ORDER if t != "Contract of"]
    assert hs[:3] == ["Current work", "Next action", "State at the end of session 4"]
    assert not any(h.startswith(REMOVED) for h in hs), hs
    first = doc.markdown.split("\n", 1)[0]
    assert first.startswith("# Handoff: Auth service") and "session 4 → 5" in first
    head = doc.markdown.split("## ", 1)[0]
    assert "rules" in head and "2026-02-11T21:18:41Z" in head and "Session 4 as it ended: " in head and "completed" not in head


def test_empty_sections_are_left_out() -> None:
    doc = make(messages=[], session={"number": 1}, pins=[], project={"name": "Bare"})
    hs = headings(doc.markdown)
    for absent in SPEC_ORDER:
        assert not any(h.startswith(absent) for h in hs), absent
    assert hs == [] and "**Accomplishments**" not in doc.markdown
    # the generic checklist is gone; what to do next is the (here empty) list of next actions
    assert doc.data["next_actions"] == [] and "checklist" not in doc.data and "Checklist" not in doc.markdown
    assert doc.data["files"] == [] and doc.data["open_items"] == []
    assert "Date: not recorded" in make(messages=[], session={"number": 1}, generated_at=None).markdown


def test_data_is_plain_json_with_every_section() -> None:
    doc = make()
    again = json.loads(json.dumps(doc.data))
    assert again == doc.data
    for key in ("project", "session", "mission", "pins", "summary", "accomplishments", "current_state", "files",
                "decisions", "errors", "blockers", "learnings", "next_steps", "open_items", "metrics",
                "budget", "todos", "task_ids", "checks", "current_work", "next_actions", "commits", "tasks",
                "contracts", "commands"):
        assert key in doc.data, key
    assert "checklist" not in doc.data  # the checklist section was removed (issue 9)
    assert doc.data["next_actions"] and doc.data["commits"][0]["sha"] == "abc1234"
    assert doc.data["generated_by"] == "rules"
    assert doc.output_chars == len(doc.markdown)
    assert doc.input_chars >= sum(m.chars() for m in login_fix_script().messages)


# ----------------------------------------------------------------------------- pins and record items


def test_pins_are_verbatim_even_over_budget() -> None:
    pins = ["Deploy only from `main`.\n  - keep   two   spaces\n  - and *this* line", "API base: https://x.io/v2 "]
    doc = make(pins=pins)
    for p in pins:
        assert p in doc.markdown
        assert {"kind": "pin", "text": p} in doc.must_keep
    big = ["P" * 3000 + " end of pin"]
    small = make(pins=big, budget_chars=1000)
    assert big[0] in small.markdown
    assert small.data["budget"]["over_budget"] is True
    assert "3" in small.data["budget"]["reason"] or "budget" in small.data["budget"]["reason"]


def test_session_record_items_are_kept_and_listed_first() -> None:
    session = full_session()
    doc = make(session=session, budget_chars=2500)
    md = doc.markdown
    for key in ("accomplishments", "blockers", "decisions", "learnings", "next_steps", "errors", "links"):
        for item in session[key]:
            assert item in md, (key, item)
    # the recorded next steps come first, in order, before the todos inferred from the transcript
    steps = section(md, "Open items")
    assert steps.index(session["next_steps"][0]) < steps.index(session["next_steps"][1])
    assert steps.index(session["next_steps"][1]) < steps.index("Todo: Update docs for auth")
    # the record's own items come before what was inferred from the transcript (unbudgeted document)
    rec = section(make(session=session).markdown, "What session 4 recorded")
    assert rec.index("Login test green again") < rec.index("**User corrections and choices**")
    assert rec.index("Token expiry counts from issue time") < rec.index("**User corrections and choices**")


def test_record_items_outrank_inferred_ones_under_pressure() -> None:
    s = login_fix_script()
    for k in range(200):
        s.bash(f"curl -s http://localhost:8000/api/items/{k} | jq .name", f'"item {k}"')
    session = full_session()
    doc = make(messages=s.messages, session=session, budget_chars=3500)
    md = doc.markdown
    assert len(md) <= 3500
    for key in ("accomplishments", "blockers", "decisions", "learnings", "next_steps", "errors"):
        for item in session[key]:
            assert item in md
    # the command log left the Markdown (issue 9): the JSON form keeps the latest commands, and
    # the statistics count them all, so none is silently lost
    assert "curl -s" not in md
    cmds = [c["command"] for c in doc.data["commands"]]
    assert len(cmds) == 60 and cmds[0] == "curl -s http://localhost:8000/api/items/199 | jq .name"
    assert doc.data["stats"]["shell_commands"] == 204


# ----------------------------------------------------------------------------- budget


@pytest.mark.parametrize("budget", [2000, 3000, 4500, 7000, 12000])
def test_budget_is_met_by_dropping_whole_facts(budget: int) -> None:
    s = login_fix_script()
    for k in range(60):
        s.edit(f"/repo/pkg/mod_{k:02d}.py", f"x = {k}\n", f"x = {k + 1}\ny = {k}\n", text=f"Tweak module {k}.")
        s.bash(f"python scripts/check_{k}.py --strict", "ok")
    full = make(messages=s.messages, budget_chars=10**6)
    doc = make(messages=s.messages, budget_chars=budget)
    md = doc.markdown
    floor = doc.data["budget"]
    if not floor["over_budget"]:
        assert len(md) <= budget
    for mk in doc.must_keep:
        assert mk["text"] in md, mk
    # no fact is cut: every line is a line of the unbudgeted document, except the "… and N more" notes
    full_lines = set(full.markdown.split("\n"))
    for line in md.split("\n"):
        assert line in full_lines or "left out for size" in line.lower(), line
    # dropping starts from the bottom of the ranking: pins and record items always survive
    assert "Never deploy on Fridays." in md and "Fix the failing UI test in npm test" in md


def test_small_budget_keeps_the_most_important_inferred_facts() -> None:
    s = login_fix_script()
    for k in range(100):
        s.bash(f"ls -la build/out_{k}", "total 0")
    doc = make(messages=s.messages, session={"number": 2}, pins=[], budget_chars=3000)
    md = doc.markdown
    assert len(md) <= 3000
    # files edited, the test commands and the last user request outrank old `ls` commands
    assert "app/auth.py" in md
    assert "pytest tests/test_login.py -q" in md
    assert "No, don't touch the docs folder" in md
    assert "ls -la build/out_0`" not in md


# ----------------------------------------------------------------------------- carry-forward


def test_open_items_carry_forward_until_marked_done() -> None:
    s1 = {"number": 1, "status": "completed", "next_steps": ["Write the migration guide", "Add rate limiting"],
          "blockers": ["Waiting for the staging API key"]}
    d1 = make(messages=[], session=s1, pins=[])
    assert {it["text"] for it in d1.data["open_items"]} == {
        "Write the migration guide", "Add rate limiting", "Waiting for the staging API key"}

    s2 = {"number": 2, "status": "completed", "done_items": ["Add rate limiting"]}
    d2 = make(messages=[], session=s2, previous=d1.data, pins=[])
    open2 = {it["text"]: it for it in d2.data["open_items"]}
    assert set(open2) == {"Write the migration guide", "Waiting for the staging API key"}
    assert open2["Write the migration guide"]["since_session"] == 1
    assert "Write the migration guide" in d2.markdown and "open since session 1" in d2.markdown
    assert "Add rate limiting" not in d2.markdown
    assert "Waiting for the staging API key" in section(d2.markdown, "Errors and their fixes")

    s3 = {"number": 3, "status": "completed",
          "done_items": ["write the migration guide.", "Waiting for the staging API key"]}
    d3 = make(messages=[], session=s3, previous=d2.data, pins=[])
    assert d3.data["open_items"] == []
    assert "migration guide" not in d3.markdown and "staging API key" not in d3.markdown
    assert {it["text"] for it in d3.data["closed_items"]} == {"Write the migration guide",
                                                               "Waiting for the staging API key"}


def test_completed_todo_closes_a_carried_item_and_pending_todos_carry() -> None:
    prev = {"open_items": [{"text": "Fix token refresh", "kind": "todo", "since_session": 3, "source": "transcript"}]}
    doc = make(previous=prev)  # the transcript completes "Fix token refresh", leaves "Update docs for auth"
    texts = {it["text"] for it in doc.data["open_items"]}
    assert "Fix token refresh" not in texts
    assert "Update docs for auth" in texts
    nxt = make(messages=[], session={"number": 5}, previous=doc.data)
    assert "Update docs for auth" in nxt.markdown
    assert any(it["text"] == "Update docs for auth" and it["since_session"] == 4 for it in nxt.data["open_items"])


def test_repeated_next_step_keeps_its_oldest_session() -> None:
    prev = {"open_items": [{"text": "Add rate limiting", "kind": "next_step", "since_session": 1}]}
    doc = make(messages=[], session={"number": 3, "next_steps": ["add rate limiting"]}, previous=prev)
    items = [it for it in doc.data["open_items"] if "rate limiting" in it["text"].lower()]
    assert len(items) == 1 and items[0]["since_session"] == 1
    nxt = section(doc.markdown, "Open items")
    assert nxt.lower().count("rate limiting") == 1


# ----------------------------------------------------------------------------- transcript facts


def test_must_keep_kinds_from_a_transcript() -> None:
    doc = make()
    kinds: dict[str, set[str]] = {}
    for mk in doc.must_keep:
        kinds.setdefault(mk["kind"], set()).add(mk["text"])
        assert mk["text"] in doc.markdown
        assert len(mk["text"]) <= 200 or mk["kind"] == "pin"
    assert {"app/auth.py", "docs/auth.md"} <= kinds["file"]
    assert {"pytest tests/test_login.py -q", "npm test"} <= kinds["test_command"]
    assert any("AssertionError: expected status 200, got 401" in t for t in kinds["error"])
    assert {"JIRA-42", "issue 12", "T-7"} <= kinds["task_id"]
    assert any(t.startswith("No, don't touch the docs folder") for t in kinds["user_request"])
    assert "Update docs for auth" in kinds["todo"]
    assert "https://example.com/spec/auth" in kinds["url"]
    assert "Never deploy on Fridays." in kinds["pin"]
    assert "Fix the failing UI test in npm test" in kinds["next_step"]
    assert kinds.get("decision")
    # commands left the Markdown (issue 9): they are in the JSON form
    assert "command" not in kinds
    cmds = {c["command"]: c for c in doc.data["commands"]}
    commit = 'git add app/auth.py && git commit -m "fix: compute token expiry from issue time (JIRA-42)"'
    assert cmds[commit]["kind"] == "git" and cmds["pytest tests/test_login.py -q"]["count"] == 2


def test_test_commands_keep_their_latest_outcome() -> None:
    md = make().markdown
    line = next(ln for ln in md.split("\n") if "`pytest tests/test_login.py -q`" in ln and "4 passed" in ln)
    assert line.startswith("- Last run before ") and "`pytest tests/test_login.py -q`: passed (`4 passed" in line
    npm = next(ln for ln in md.split("\n") if "`npm test`" in ln and "Tests:" in ln and ln.startswith("- "))
    assert "`npm test` **FAILED**" in npm  # "1 failed" in the output even though the pipe hid the exit code


def test_error_and_the_fix_that_followed() -> None:
    doc = make()
    err = next(e for e in doc.data["errors"] if e.get("source") == "transcript")
    assert "AssertionError" in err["error"]
    assert err["resolved"] is True  # the same command passed afterwards
    assert "refresh token expired" in err["diagnosis"]
    # issue 9 rule 7: the failure names only tests/test_login.py, so the edit of app/auth.py in
    # between is not claimed as its fix
    assert err["fixed_by"] == []
    line = next(ln for ln in doc.markdown.split("\n") if "AssertionError: expected status 200" in ln)
    assert "Gone on the next run." in line and "app/auth.py" not in line

    # the same session with a traceback that names app/auth.py: the edit is the fix, with its hunk
    s = Script()
    s.user("Fix the login test.")
    s.bash("pytest tests/test_login.py -q",
           "Exit code 1\napp/auth.py:2: in expiry\n    return t.refreshed + TTL\n"
           "E   AssertionError: expected status 200, got 401\n1 failed, 3 passed in 0.21s", is_error=True)
    s.edit("/repo/app/auth.py", "def expiry(t):\n    return t.refreshed + TTL\n",
           "def expiry(t):\n    return t.issued + TTL\n")
    s.bash("pytest tests/test_login.py -q", "....\n4 passed in 0.12s")
    doc = make(messages=s.messages, session={"number": 4})
    err = next(e for e in doc.data["errors"] if e.get("source") == "transcript")
    assert err["fixed_by"] == ["app/auth.py"] and err["resolved"] is True
    line = next(ln for ln in doc.markdown.split("\n") if "AssertionError: expected status 200" in ln)
    assert "Fixed by editing `app/auth.py`: `return t.issued + TTL`." in line


def test_uncommitted_edits_and_commit_are_reported() -> None:
    doc = make()
    # docs/auth.md was never staged in the commit; auth.py changed again after it, and no git output
    # came after that change, so whether it is committed is not known (not "uncommitted")
    assert doc.data["current_state"]["uncommitted"] == ["docs/auth.md"]
    assert doc.data["current_state"]["changed_not_known"] == ["app/auth.py"]
    assert doc.data["current_state"]["last_commit"]["sha"] == "abc1234"
    assert "Committed `abc1234` `fix: compute token expiry from issue time (JIRA-42)`" in doc.markdown
    assert doc.data["current_state"]["branch"] == "feature/login"


def test_todos_latest_state() -> None:
    doc = make()
    todos = {t["content"]: t["status"] for t in doc.data["todos"]}
    assert todos == {"Reproduce the failing login test": "completed", "Fix token refresh": "completed",
                     "Update docs for auth": "in_progress"}
    nxt = section(doc.markdown, "Open items")
    assert "- [ ] Todo: Update docs for auth" in nxt
    assert "- [x] Fix token refresh" in nxt


def test_markdown_checklists_count_as_todos() -> None:
    s = Script().user("Plan:\n- [ ] write the parser\n- [x] pick a format").say("Done:\n- [x] write the parser")
    doc = make(messages=s.messages, session={"number": 1})
    todos = {t["content"]: t["status"] for t in doc.data["todos"]}
    assert todos == {"write the parser": "completed", "pick a format": "completed"}


def test_user_corrections_become_decisions() -> None:
    dec = section(make().markdown, "What session 4 recorded")
    assert "No, don't touch the docs folder; instead keep auth notes in README.md." in dec
    assert "Token expiry counts from issue time" in dec  # the session's own decision is there too


def test_last_user_requests_are_verbatim_and_long_ones_keep_their_start() -> None:
    long_req = "Refactor the billing module " + " ".join(f"step{k} does something useful" for k in range(300))
    s = Script().user("First ask").user("Second ask").user(long_req)
    doc = make(messages=s.messages, session={"number": 1})
    md = doc.markdown
    assert "> First ask" in md and "> Second ask" in md
    quoted = next(ln for ln in md.split("\n") if ln.startswith("> Refactor the billing module"))[2:]
    assert quoted.endswith(" …") and len(quoted) < len(long_req)
    kept = quoted[: -len(" …")]
    assert long_req.startswith(kept) and long_req[len(kept)] == " "  # cut at a word boundary


def test_injected_user_text_is_not_a_request() -> None:
    s = (Script().user("Fix the flaky test in tests/test_api.py")
         .user("<system-reminder>JIRA-99 from a hook</system-reminder>", injected=True))
    doc = make(messages=s.messages, session={"number": 1})
    assert "JIRA-99" not in doc.markdown
    assert doc.data["summary"]["asked"] == "Fix the flaky test in tests/test_api.py"


def test_hyphenated_ids_need_to_be_used_as_ids() -> None:
    s = (Script().user("Implement proj-x7k, and use a pre-commit hook")
         .bash("bd show proj-x7k", "proj-x7k: Add the exporter [P2]").bash("pre-commit run -a", "Passed"))
    doc = make(messages=s.messages, session={"number": 1})
    ids = set(doc.data["task_ids"])
    assert ids == {"proj-x7k"}
    assert "Add the exporter" in doc.markdown


def test_file_changes_are_merged_with_the_transcript() -> None:
    fcs = [FileChange("app/auth.py", lines_added=10, lines_removed=2, summary="token expiry from issue time",
                       source="numstat"),
           FileChange("README.md", lines_added=3, lines_removed=0, source="numstat"),
           FileChange("img/logo.png", lines_added=None, lines_removed=None, source="numstat")]
    doc = make(file_changes=fcs)
    files = {f["path"]: f for f in doc.data["files"]}
    assert files["app/auth.py"]["lines_added"] == 10 and files["app/auth.py"]["lines_removed"] == 2
    assert "README.md" in files and "img/logo.png" in files
    files_md = section(doc.markdown, "Files changed in session 4")
    assert "`app/auth.py` +10/−2" in files_md
    # the summary posted with the change is a fact about the file, shown with it (not only in the commit subject)
    assert "token expiry from issue time" in files_md
    assert files["img/logo.png"]["lines_added"] is None and "`img/logo.png` +" not in files_md  # binary: no counts
    assert len([p for p in files if p.endswith("auth.py")]) == 1


def test_metrics_are_in_the_json_form_not_in_the_markdown() -> None:
    doc = make()
    # issue 9: growth metrics and token counts belong in the JSON form and the dashboard
    assert not any(h.startswith("Metrics") for h in headings(doc.markdown))
    assert "Credits:" not in doc.markdown and "efficiency" not in doc.markdown and "velocity" not in doc.markdown
    met = doc.data["metrics"]
    assert met["measured"]["credits_used"] == 30 and met["measured"]["credit_budget"] == 100
    assert met["measured"]["credit_usage"] == pytest.approx(0.3)
    assert met["measured"]["tasks_completed"] == 3 and met["measured"]["tasks_planned"] == 4
    assert met["measured"]["task_completion"] == pytest.approx(0.75)
    assert met["measured"]["duration_s"] == 5400
    assert met["predicted"]["efficiency"] == pytest.approx(efficiency(4))
    assert met["predicted"]["knowledge"] == pytest.approx(knowledge(4))
    assert met["reported"] == {"tasks_per_hour": 2, "velocity": 1.5}
    assert met["transcript"]["messages"] == len(login_fix_script().messages)
    assert met["transcript"]["shell_commands"] == 4


def test_odd_inputs_do_not_break_the_generator() -> None:
    msgs = [
        Message(role="user", text=""),
        Message(role="assistant", text="", tool_calls=[]),
        Message(role="tool", tool_results=[]),
        Message(role="summary", text="Earlier: did things"),
        Message(role="system", text="compacted", meta={"subtype": "compact_boundary"}),
        Message(role="assistant", tool_calls=[
            ToolCall("Bash", {"command": ["bash", "-lc",
                                                                                                "pytest -q"]}, "x1"),
            ToolCall("Edit", {"file_path": None}, "x2"),
            ToolCall("TodoWrite", {"todos": "nope"}),
            ToolCall("Weird", {}, None),
        ]),
        Message(role="tool", tool_results=[
            ToolResult("2 passed", "x1"),
            ToolResult("?", "unknown-id"),
        ]),
    ]
    session = {"number": "3", "next_steps": "a single string step", "accomplishments": [None, "", {"x": 1}],
               "credits_used": "12.5", "credit_budget": 0, "metrics": {"nested": {"b": 2, "a": [1, 2]}}}
    doc = make(messages=msgs, session=session, previous={"open_items": ["plain string item", {"bad": 1}, 5]},
               file_changes=None, pins=None)
    assert "session 3 → 4" in doc.markdown
    assert "a single string step" in doc.markdown and "plain string item" in doc.markdown
    assert "`pytest -q` **passed** (`2 passed`) — nothing changed since" in doc.markdown
    assert doc.data["metrics"]["reported"] == {"nested": {"a": [1, 2], "b": 2}}
    assert doc.data["metrics"]["measured"]["credits_used"] == 12.5
    json.dumps(doc.data)


def test_same_bytes_across_processes_with_different_hash_seeds() -> None:
    import hashlib
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    code = ("import hashlib, json\n"
            "from tests.unit.handoff.test_handoff_rules import make\n"
            "d = make()\n"
            "print(hashlib.sha256((d.markdown + json.dumps(d.data, sort_keys=True)"
            " + json.dumps(d.must_keep)).encode()).hexdigest())\n")
    digests = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(root)}
        out = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True,
                             check=True, timeout=60)
        digests.add(out.stdout.strip())
    here = make()
    digests.add(hashlib.sha256((here.markdown + json.dumps(here.data, sort_keys=True)
                                + json.dumps(here.must_keep)).encode()).hexdigest())
    assert len(digests) == 1


def test_transcript_errors_have_their_own_heading_not_open_blockers() -> None:
    """Issue 20: a transcript's errors followed the "Open blockers" list with no heading of their own."""
    md = make(session=full_session(errors=[])).markdown
    body = section(md, "Errors")
    assert "**Open blockers**" in body and "**Errors in the transcript**" in body, body
    blockers, transcript = body.split("**Errors in the transcript**")
    assert "Staging DB is read-only" in blockers.split("**Open blockers**")[1]
    assert "failed" in transcript or "Fixed" in transcript or "Not re-run" in transcript, transcript
    alone = section(make(session=full_session(errors=[], blockers=[])).markdown, "Errors")
    assert "**" not in alone.split("\n- ")[0]  # alone in the section: no heading needed
