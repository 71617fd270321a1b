"""The loop in the dashboard: the running session's prompt first, pending handoffs, warnings, order of the project page."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.e2e_support import ApiClient, Server, goto, sign_in
from tests.e2e.test_dashboard import finish_session, make_project, start_session, wait_handoff

pytestmark = pytest.mark.e2e


def _uid() -> str:
    return uuid.uuid4().hex[:6]


def test_a_pending_starting_handoff_shows_a_spinner_then_the_document(page: Any, server: Server,
                                                                      api: ApiClient) -> None:
    pid = make_project(api, name=f"Pending {_uid()}")["id"]
    start_session(api, pid)
    finish_session(api, pid, 1, next_steps=["Wire the refund webhook"])
    handoff = wait_handoff(api, pid, 1)
    start_session(api, pid)
    served = {"pending": 0}

    def first_pending(route: Any) -> None:
        # the first read says the handoff is still being written, as it is a second after a completion
        if served["pending"]:
            route.continue_()
            return
        served["pending"] += 1
        body = route.fetch().json()
        body["starting_handoff"] = {"status": "pending", "from_session": 1, "markdown": None, "data": None,
                                    "method": None, "finished_at": None, "reason": None}
        route.fulfill(status=200, content_type="application/json", body=json.dumps(body))

    page.route(re.compile(rf".*/api/projects/{pid}/sessions/2$"), first_pending)
    sign_in(page, server, f"#/projects/{pid}/sessions/2")
    page.locator("#starting-status").get_by_text("is still being written").wait_for()
    md = page.locator("#starting-handoff")
    md.get_by_text("Wire the refund webhook").first.wait_for(timeout=15_000)
    page.get_by_text("The starting handoff is ready").wait_for()
    page.get_by_role("button", name="Copy the starting handoff to the clipboard").click()
    assert page.evaluate("navigator.clipboard.readText()") == handoff["markdown"]
    assert page.locator("#starting-status").count() == 0


def test_starting_beside_a_running_session_warns_in_the_ui(page: Any, server: Server, api: ApiClient) -> None:
    pid = make_project(api, name=f"Parallel {_uid()}")["id"]
    start_session(api, pid)
    sign_in(page, server, f"#/projects/{pid}")
    page.get_by_role("button", name="Start session").first.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("Session 1 is still in progress").wait_for()
    dialog.get_by_role("button", name="Start session").click()
    page.wait_for_url(re.compile(r"/sessions/2$"))
    page.locator(".toast.warn").get_by_text("session 1 is still in progress").wait_for()
    page.locator("#session-warnings").get_by_text("session 1 is still in progress").wait_for()


def test_project_page_leads_with_the_latest_handoff_and_the_sessions(page: Any, server: Server,
                                                                      api: ApiClient) -> None:
    pid = make_project(api, name=f"Order {_uid()}", goal="Ship it")["id"]
    start_session(api, pid)
    finish_session(api, pid, 1, next_steps=["Write the docs"])
    wait_handoff(api, pid, 1)
    api.post(f"/api/projects/{pid}/knowledge", {"title": "A lesson", "body": "Learned a thing"})
    sign_in(page, server, f"#/projects/{pid}")
    page.locator("#latest-handoff").get_by_text("Write the docs").first.wait_for()
    page.locator("#timeline").wait_for()
    tops = page.evaluate("""() => ["latest-h", "sessions-h", "goal-h", "open-h", "pins-h"].map(
        (id) => document.getElementById(id).getBoundingClientRect().top)""")
    assert tops == sorted(tops), tops
    assert tops[1] < 900  # the session list is on the first screen, not 1,300 px down
    # session links: previous and next
    start_session(api, pid)
    goto(page, server, f"#/projects/{pid}/sessions/1")
    page.get_by_role("link", name="Session 2 →").wait_for()
    assert page.get_by_role("button", name="Start session 2 from this handoff").count() == 0


def test_llm_status_fallback_reason_and_versions(page: Any, server: Server, api: ApiClient) -> None:
    """The dev server has no LLM key: Settings says so, and an LLM handoff says it was written by the rules."""
    pid = make_project(api, name=f"LLM {_uid()}")["id"]
    start_session(api, pid)
    sign_in(page, server, f"#/projects/{pid}/sessions/1")
    page.get_by_role("button", name="Complete session").click()
    dialog = page.get_by_role("dialog", name="Complete session 1")
    dialog.get_by_label("Next steps").fill("Try the model")
    dialog.get_by_label("Handoff").select_option("llm")
    dialog.get_by_role("button", name="Complete session").click()
    dialog.wait_for(state="detached")
    page.locator("#handoff-markdown").wait_for(timeout=30_000)
    page.get_by_text("Written by the rules, not the LLM").wait_for()
    page.locator(".notice.warn").get_by_text("LLM not configured").first.wait_for()
    # regenerate with rules: two versions, each with its method and reason
    page.locator("#panel-handoff select").select_option("rules")
    page.get_by_role("button", name="Regenerate").click()
    page.get_by_text("Versions (2)").wait_for(timeout=30_000)
    page.get_by_text("Versions (2)").click()
    versions = page.locator("#handoff-versions")
    versions.get_by_text("LLM not configured").wait_for()
    versions.get_by_role("button", name="Open version 1").click()
    page.get_by_role("dialog", name="Handoff of session 1, version 1").locator("#version-markdown").get_by_text(
        "Try the model").first.wait_for()
    page.keyboard.press("Escape")
    goto(page, server, "#/settings")
    card = page.locator("#llm-status")
    card.get_by_text("No LLM configured").wait_for()
    card.locator("#llm-last-failure").get_by_text("LLM not configured").wait_for()
    assert "router.huggingface.co" in card.inner_text()


def test_form_limits_come_from_the_api_schema(page: Any, server: Server, api: ApiClient) -> None:
    schema = api.get("/api/openapi.json")["paths"]["/api/projects"]["post"]["requestBody"]["content"][
        "application/json"]["schema"]["properties"]
    sign_in(page, server, "#/projects")
    page.get_by_role("button", name="New project").first.click()
    dialog = page.get_by_role("dialog", name="New project")
    name = dialog.get_by_label("Name")
    name.wait_for()
    expect(name).to_have_attribute("maxlength", str(schema["name"]["maxLength"]))  # once the schema is read
    assert dialog.get_by_label("Goal").get_attribute("maxlength") == str(schema["goal"]["maxLength"])
    dialog.get_by_role("button", name="Create project").click()
    dialog.get_by_text("Name is required.").wait_for()
    page.keyboard.press("Escape")
    # a list field: the complete form names the line that is too long, with the API's item limit
    pid = make_project(api, name=f"Limits {_uid()}")["id"]
    start_session(api, pid)
    goto(page, server, f"#/projects/{pid}/sessions/1")
    page.get_by_role("button", name="Complete session").click()
    dialog = page.get_by_role("dialog", name="Complete session 1")
    dialog.get_by_label("Next steps").fill("ok\n" + "x" * 4001)
    dialog.get_by_role("button", name="Complete session").click()
    dialog.get_by_text("Line 2 is too long (4001 characters, the limit is 4000).").wait_for()


def test_transcript_renders_markdown_safely_and_searches_every_page(page: Any, server: Server,
                                                                   api: ApiClient) -> None:
    pid = make_project(api, name=f"Transcript {_uid()}")["id"]
    start_session(api, pid)
    lines = []
    for i in range(60):  # more than one page (50)
        lines.append(f"User: question {i}")
        lines.append(f"Assistant: answer {i} with **bold** and <img src=x onerror=window.__xss=1>"
                     + (" NEEDLE-7" if i == 57 else ""))
    api.call("PUT", f"/api/projects/{pid}/sessions/1/transcript?format=text",
             raw=("\n".join(lines) + "\n").encode(), content_type="text/plain")
    sign_in(page, server, f"#/projects/{pid}/sessions/1")
    page.get_by_role("tab", name="Transcript").click()
    box = page.locator("#transcript")
    box.locator("strong").first.wait_for()  # **bold** rendered
    assert page.evaluate("window.__xss") is None
    assert box.locator("img").count() == 0
    page.locator("#transcript-search").fill("needle-7")
    page.locator("#transcript-found").get_by_text("1 message of 120 match").wait_for()
    visible = box.locator("li.msg:visible")
    assert visible.count() == 1 and "NEEDLE-7" in visible.first.inner_text()
    assert page.locator("h1").count() == 1  # the page title only: Markdown headings are demoted


def test_upload_picker_takes_every_importable_type(page: Any, server: Server, api: ApiClient) -> None:
    pid = make_project(api, name=f"Picker {_uid()}")["id"]
    start_session(api, pid)
    sign_in(page, server, f"#/projects/{pid}/sessions/1")
    page.get_by_role("tab", name="Transcript").click()
    accept = page.locator("#transcript-file").get_attribute("accept") or ""
    for ext in (".jsonl", ".json", ".traj", ".md", ".txt", ".gz"):
        assert ext in accept.split(","), ext
    # drag and drop: a dropped file lands in the picker
    page.evaluate("""() => {
        const dt = new DataTransfer();
        dt.items.add(new File(["User: hi\\nAssistant: hello\\n"], "chat.txt", {type: "text/plain"}));
        document.querySelector(".drop-zone").dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true}));
    }""")
    page.get_by_text("chat.txt is ready: press Upload.").wait_for()
    page.get_by_role("button", name="Upload").click()
    page.get_by_text("Imported 2 messages").wait_for()


def test_project_card_shows_the_goal_and_credits_without_a_budget(page: Any, server: Server,
                                                                   api: ApiClient) -> None:
    goal = f"Make the app work offline {_uid()}"
    pid = make_project(api, name=f"Card {_uid()}", goal=goal)["id"]
    start_session(api, pid)
    api.call("PATCH", f"/api/projects/{pid}/sessions/1", {"credits_used": 3})
    sign_in(page, server)
    card = page.locator(f'article[data-project-id="{pid}"]')
    page.locator("#project-list > article").first.wait_for()
    while not card.count() and page.get_by_role("button", name="Load more").count():  # other tests' projects
        before = page.locator("#project-list > article").count()
        page.get_by_role("button", name="Load more").click()
        expect(page.locator("#project-list > article")).not_to_have_count(before)
    card.get_by_text(goal).wait_for()
    assert "3 used" in card.inner_text()


def test_cross_project_analytics(page: Any, server: Server, api: ApiClient) -> None:
    name = f"Compare A {_uid()}"
    pid = make_project(api, name=name)["id"]
    start_session(api, pid, tasks_planned=4, credit_budget=10)
    finish_session(api, pid, 1, tasks_completed=3, credits_used=7)
    # a transcript whose tokens are priced: the project's cost shows beside its credits
    turn = [{"type": "user", "uuid": "u1", "timestamp": "2026-11-01T10:00:00Z", "sessionId": "s1",
             "message": {"role": "user", "content": "step"}},
            {"type": "assistant", "uuid": "a1", "timestamp": "2026-11-01T10:01:00Z",
             "message": {"id": "m1", "role": "assistant", "model": "claude-haiku-4-5",
                         "content": [{"type": "text", "text": "ok"}],
                         "usage": {"input_tokens": 1_000_000, "output_tokens": 0}}}]
    api.call("PUT", f"/api/projects/{pid}/sessions/1/transcript?replace=true",
             raw="\n".join(json.dumps(r) for r in turn).encode(), content_type="application/octet-stream")
    usd = api.call("GET", f"/api/projects/{pid}/analytics")["cost"]["usd"]
    assert usd and usd > 0
    sign_in(page, server, "#/analytics")
    page.get_by_role("heading", level=1, name="Analytics").wait_for()
    row = page.locator("#all-projects tr", has_text=name)
    row.wait_for()
    assert "75.0%" in row.inner_text() and "7" in row.inner_text()
    assert row.locator('td[data-label="Cost"]').inner_text().startswith("$")
    page.locator("#all-cost").get_by_text("$").first.wait_for()
    page.locator("#chart-all-credits").wait_for()
    row.get_by_role("link", name=name).click()
    page.wait_for_url(re.compile(rf"#/analytics/{pid}$"))


def test_compare_two_sessions_side_by_side(page: Any, server: Server, api: ApiClient) -> None:
    pid = make_project(api, name=f"Compare {_uid()}")["id"]
    start_session(api, pid, tasks_planned=2)
    api.call("PUT", f"/api/projects/{pid}/sessions/1/files", raw=b"10\t2\tsrc/one.py\n", content_type="text/plain")
    finish_session(api, pid, 1, decisions=["Use SQLite first"], next_steps=["Move to Postgres"],
                   errors=["ImportError in tests"], tasks_completed=1)
    start_session(api, pid)
    api.call("PUT", f"/api/projects/{pid}/sessions/2/files", raw=b"4\t0\tsrc/two.py\n", content_type="text/plain")
    finish_session(api, pid, 2, done_items=["Move to Postgres"], decisions=["Postgres 16 in docker"])
    sign_in(page, server, f"#/projects/{pid}/sessions/2")
    page.get_by_role("link", name="Compare with session 1").click()
    left = page.locator('.compare-col[data-session="1"]')
    right = page.locator('.compare-col[data-session="2"]')
    left.get_by_text("src/one.py").wait_for()
    for text in ("Use SQLite first", "ImportError in tests", "Move to Postgres (next step)"):
        assert left.get_by_text(text).count() == 1, text
    right.get_by_text("src/two.py").wait_for()
    assert right.locator(".compare-part", has_text="Open items closed").get_by_text("Move to Postgres").count() == 1
    assert right.get_by_text("Postgres 16 in docker").count() == 1


def test_knowledge_markdown_edit_delete_and_filters(page: Any, server: Server, api: ApiClient) -> None:
    tag = _uid()
    pid = make_project(api, name=f"KB {tag}")["id"]
    other = make_project(api, name=f"KB other {tag}")["id"]
    item = api.post(f"/api/projects/{pid}/knowledge", {"title": f"Use **bold** {tag}", "kind": "pattern",
                                                      "body": f"Run `make test` first {tag}\n\n- one\n- two"})
    api.post(f"/api/projects/{other}/knowledge", {"title": f"Other {tag}", "kind": "lesson", "body": "x"})
    sign_in(page, server, f"#/knowledge?q={tag}")
    row = page.locator(f'article[data-item-id="{item["id"]}"]')
    row.locator("code").get_by_text("make test").wait_for()  # Markdown rendered
    assert row.locator("li").count() == 2
    page.locator("#kb-project").select_option(other)
    page.locator("#knowledge-list").get_by_role("heading", name=f"Other {tag}").wait_for()
    assert row.count() == 0
    page.locator("#kb-project").select_option("")
    page.locator("#kb-kind").select_option("pattern")
    row.wait_for()
    assert page.locator("#knowledge-list").get_by_role("heading", name=f"Other {tag}").count() == 0
    row.get_by_role("button", name=re.compile("^Edit")).click()
    dialog = page.get_by_role("dialog", name="Edit knowledge")
    dialog.get_by_label("Title").fill(f"Renamed {tag}")
    dialog.get_by_role("button", name="Save changes").click()
    dialog.wait_for(state="detached")
    row.get_by_text(f"Renamed {tag}").wait_for()
    assert api.get(f"/api/projects/{pid}/knowledge")["items"][0]["title"] == f"Renamed {tag}"
    row.get_by_role("button", name=re.compile("^Delete")).click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(row).to_have_count(0)
    assert api.get(f"/api/projects/{pid}/knowledge")["items"] == []


def test_starting_prompt_carries_items_a_parallel_session_added(page: Any, server: Server, api: ApiClient) -> None:
    pid = make_project(api, name=f"Parallel items {_uid()}")["id"]
    start_session(api, pid)
    start_session(api, pid)
    finish_session(api, pid, 2, next_steps=["Step from two"])
    wait_handoff(api, pid, 2)
    finish_session(api, pid, 1, next_steps=["Step from one"])
    wait_handoff(api, pid, 1)
    start_session(api, pid)
    sign_in(page, server, f"#/projects/{pid}/sessions/3")
    page.get_by_text("1 open item was added after this handoff was written").wait_for()
    md = page.locator("#starting-handoff")
    md.get_by_text("Step from one (next step, open since session 1)").wait_for()
    page.get_by_role("button", name="Copy the starting handoff to the clipboard").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "Step from two" in copied and copied.rstrip().endswith("Step from one (next step, open since session 1)")
