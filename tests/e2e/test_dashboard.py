"""The dashboard in a real browser against the real dev server.

Data that is not under test is set up through the API; what a person does is done through the UI.
Every route a test uses must exist: a route that disappears fails the suite.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.e2e_support import ApiClient, ApiFailure, Console, Server, goto, sign_in

pytestmark = pytest.mark.e2e

XSS_IMG = "<img src=x onerror=window.__xss=1>"
XSS_SCRIPT = "<script>window.__xss=2</script>"


def _uid() -> str:
    return uuid.uuid4().hex[:6]


def make_project(api: ApiClient, name: str | None = None, **fields: Any) -> dict[str, Any]:
    return api.post("/api/projects", {"name": name or f"Project {_uid()}", **fields})


def start_session(api: ApiClient, pid: str, **body: Any) -> dict[str, Any]:
    return api.post(f"/api/projects/{pid}/sessions", body)


def finish_session(api: ApiClient, pid: str, n: int, **body: Any) -> None:
    api.post(f"/api/projects/{pid}/sessions/{n}/complete", {"status": "completed", "handoff_mode": "rules", **body})


def wait_handoff(api: ApiClient, pid: str, n: int, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        try:
            h = api.get(f"/api/projects/{pid}/sessions/{n}/handoff")
            if h.get("status") in ("ready", "failed"):
                return h
        except ApiFailure as e:
            if e.status != 404:
                raise
        if time.monotonic() > deadline:
            raise AssertionError(f"the handoff of session {n} was not ready within {timeout} s")
        time.sleep(0.3)


def widths(page: Any) -> tuple[int, int]:
    """(content width, screen width) in CSS pixels: content wider than the screen scrolls sideways."""
    return (page.evaluate("document.documentElement.scrollWidth"),
            page.evaluate("document.documentElement.clientWidth"))


# ---------------------------------------------------------------------------------------------------------


def test_pages_load_without_console_errors(page: Any, server: Server, api: ApiClient, console: Console) -> None:
    project = make_project(api, description="Console check", goal="Nothing logs an error")
    pid = project["id"]
    api.post("/api/accounts", {"name": f"Acct {_uid()}", "provider": "anthropic", "credit_budget": 100})
    s = start_session(api, pid, title="first", credit_budget=10)
    finish_session(api, pid, s["number"], credits_used=4, tasks_planned=2, tasks_completed=2,
                   accomplishments=["did one thing"])
    wait_handoff(api, pid, s["number"])
    views = ["#/projects", f"#/projects/{pid}", "#/accounts", "#/settings",
             f"#/projects/{pid}/sessions/{s['number']}", f"#/analytics/{pid}"]
    sign_in(page, server)
    for v in views:
        goto(page, server, v)
        page.wait_for_load_state("networkidle")
    assert console.errors == [], "\n".join(console.errors)


def test_sign_in_by_token_link_removes_it_from_the_url(page: Any, server: Server) -> None:
    page.goto(f"{server.base}/#token={server.token}")
    page.wait_for_url(re.compile(r"#/projects$"))
    assert server.token not in page.url
    assert "token=" not in page.url
    assert page.evaluate("localStorage.getItem('mso.token')") == server.token
    page.get_by_role("heading", level=1, name="Projects").wait_for()
    # Settings shows it masked, with a reveal button
    goto(page, server, "#/settings")
    field = page.locator("#token-input")
    assert field.get_attribute("type") == "password"
    assert field.input_value() == server.token
    page.get_by_role("button", name="Show the token").click()
    assert field.get_attribute("type") == "text"
    page.get_by_text("Signed in: the API accepts this token.").wait_for()


def test_create_project_through_the_ui(page: Any, server: Server, api: ApiClient) -> None:
    sign_in(page, server)
    page.get_by_role("button", name="New project").click()
    dialog = page.get_by_role("dialog", name="New project")
    assert dialog.get_attribute("aria-modal") == "true"
    # validation before sending: a name is required
    dialog.get_by_role("button", name="Create project").click()
    dialog.get_by_text("Name is required.").wait_for()
    name = f"Rewrite billing {_uid()}"
    dialog.get_by_label("Name").fill(name)
    dialog.get_by_label("Description").fill("Move billing to its own service")
    dialog.get_by_label("Goal").fill("Idempotent webhooks")
    dialog.get_by_role("button", name="Create project").click()
    page.get_by_role("heading", level=1, name=name).wait_for()
    assert re.search(r"#/projects/[A-Za-z0-9_-]+$", page.url)
    page.get_by_text("Idempotent webhooks").wait_for()
    names = [p["name"] for p in api.get("/api/projects?limit=100")["items"]]
    assert name in names


def test_modal_keyboard_escape_and_focus(page: Any, server: Server) -> None:
    sign_in(page, server)
    opener = page.get_by_role("button", name="New project")
    opener.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="New project")
    dialog.wait_for()
    assert page.evaluate("document.activeElement.id") == dialog.get_by_label("Name").get_attribute("id")
    for _ in range(8):  # Tab never leaves the dialog
        page.keyboard.press("Tab")
        assert page.evaluate("!!document.activeElement.closest('dialog')")
    page.keyboard.press("Escape")
    dialog.wait_for(state="detached")
    assert page.evaluate("document.activeElement.textContent").strip() == "New project"


def test_edit_pins_and_delete_project(page: Any, server: Server, api: ApiClient) -> None:
    project = make_project(api, name=f"Pins {_uid()}")
    pid = project["id"]
    sign_in(page, server, f"#/projects/{pid}")
    page.get_by_role("button", name="Edit pinned context").click()
    page.get_by_label("Pinned item", exact=True).first.fill("Never run migrations on Fridays")
    page.get_by_role("button", name="Add item").click()
    page.get_by_label("Pinned item", exact=True).nth(1).fill("Use the staging database")
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_text("Pinned context saved").wait_for()
    assert api.get(f"/api/projects/{pid}/pins")["items"] == ["Never run migrations on Fridays",
                                                             "Use the staging database"]
    page.get_by_role("button", name="Delete project").click()
    dialog = page.get_by_role("dialog", name="Delete project?")
    dialog.get_by_role("button", name="Delete project").click()
    page.wait_for_url(re.compile(r"#/projects$"))
    with pytest.raises(ApiFailure) as e:
        api.get(f"/api/projects/{pid}")
    assert e.value.status == 404


def test_start_and_complete_a_session_then_copy_and_download_the_handoff(
        page: Any, server: Server, api: ApiClient) -> None:
    project = make_project(api, name=f"Sessions {_uid()}", goal="Ship the webhook handlers")
    pid = project["id"]
    acct = api.post("/api/accounts", {"name": f"Claude {_uid()}", "provider": "anthropic", "credit_budget": 500})
    sign_in(page, server, f"#/projects/{pid}")

    # start
    page.get_by_role("button", name="Start session").first.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Title").fill("Webhook handlers")
    dialog.get_by_label("Goal of this session").fill("Handle invoice.paid")
    dialog.get_by_label("AI account").select_option(acct["id"])
    dialog.get_by_label("Model").fill("claude-sonnet-4.5")
    dialog.get_by_label("Credit budget").fill("-3")
    dialog.get_by_role("button", name="Start session").click()
    dialog.get_by_text("Credit budget must be 0 or more.").wait_for()
    dialog.get_by_label("Credit budget").fill("40")
    dialog.get_by_role("button", name="Start session").click()
    # the session page opens on its starting handoff: none for a first session
    page.get_by_role("heading", level=1, name="Webhook handlers").wait_for()
    page.locator("#panel-start").get_by_text("A cold start").wait_for()
    session = api.get(f"/api/projects/{pid}/sessions/1")
    assert (session["status"], session["ai_account"], session["credit_budget"]) == ("in_progress", acct["id"], 40)

    # complete
    page.get_by_role("button", name="Complete session").click()
    dialog = page.get_by_role("dialog", name="Complete session 1")
    dialog.get_by_label("Credits used").fill("31.5")
    dialog.get_by_label("Tasks planned").fill("4")
    dialog.get_by_label("Tasks completed").fill("3")
    dialog.get_by_label("Accomplishments").fill("Added the invoice.paid handler\nWrote the idempotency table")
    dialog.get_by_label("Next steps").fill("Handle refunds")
    dialog.get_by_label("Decisions").fill("Postgres advisory locks for webhooks")
    dialog.get_by_label("Links").fill("https://example.com/pr/12")
    dialog.get_by_label("Handoff").select_option("rules")
    dialog.get_by_role("button", name="Complete session").click()
    dialog.wait_for(state="detached")
    page.locator(".title-row .badge-completed").wait_for()
    session = api.get(f"/api/projects/{pid}/sessions/1")
    assert session["status"] == "completed"
    assert session["credits_used"] == 31.5
    assert session["accomplishments"] == ["Added the invoice.paid handler", "Wrote the idempotency table"]
    assert session["links"] == ["https://example.com/pr/12"]

    # the page polls until the job is done, then renders the Markdown
    md_box = page.locator("#handoff-markdown")
    md_box.wait_for(timeout=30_000)
    handoff = wait_handoff(api, pid, 1)
    assert handoff["status"] == "ready"
    md_box.get_by_text("Added the invoice.paid handler").first.wait_for()
    assert md_box.locator("h1, h2").count() > 0  # rendered, not shown as source

    # copy
    page.get_by_role("button", name="Copy the handoff to the clipboard").click()
    page.get_by_text("Handoff copied to the clipboard").wait_for()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == handoff["markdown"]

    # download
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download .md").click()
    download = dl.value
    assert download.suggested_filename.endswith("-session-1-handoff.md")
    with open(download.path(), encoding="utf-8") as f:
        assert f.read() == handoff["markdown"]

    # the project page leads with it, Copy first
    goto(page, server, f"#/projects/{pid}")
    latest = page.locator("#latest-handoff")
    latest.get_by_text("Added the invoice.paid handler").first.wait_for()
    page.get_by_role("button", name="Copy the latest handoff to the clipboard").click()
    assert page.evaluate("navigator.clipboard.readText()") == handoff["markdown"]
    assert page.locator("#open-items").get_by_text("Handle refunds").count() == 1

    # the next session starts from it, with account, model and budget of the previous one
    page.get_by_role("button", name="Start session").first.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("Account, model and budget are taken from session 1.").wait_for()
    assert dialog.get_by_label("Model").input_value() == "claude-sonnet-4.5"
    assert dialog.get_by_label("Credit budget").input_value() == "40"
    assert dialog.get_by_label("AI account").input_value() == acct["id"]
    dialog.get_by_role("button", name="Start session").click()
    page.wait_for_url(re.compile(r"/sessions/2$"))
    page.locator("#starting-handoff").get_by_text("Added the invoice.paid handler").first.wait_for()
    first_button = page.locator("#panel-start button").first
    assert first_button.get_attribute("aria-label") == "Copy the starting handoff to the clipboard"
    first_button.click()
    assert page.evaluate("navigator.clipboard.readText()") == handoff["markdown"]
    page.get_by_role("link", name="Session 1").first.wait_for()

    # completing it closes an open item from the checklist
    page.get_by_role("button", name="Complete session").click()
    dialog = page.get_by_role("dialog", name="Complete session 2")
    dialog.get_by_label("Handle refunds").check()
    dialog.get_by_label("Handoff").select_option("rules")
    dialog.get_by_role("button", name="Complete session").click()
    dialog.wait_for(state="detached")
    closed = api.get(f"/api/projects/{pid}/open-items?status=closed")["items"]
    assert [(c["text"], c["closed_by"]) for c in closed] == [("Handle refunds", 2)]
    page.get_by_role("button", name="Start session 3 from this handoff").wait_for()


def test_user_and_transcript_text_is_shown_as_text_and_runs_nothing(
        page: Any, server: Server, api: ApiClient) -> None:
    name = f"{XSS_IMG} {XSS_SCRIPT} {_uid()}"
    project = make_project(api, name=name, description=XSS_SCRIPT, goal=XSS_IMG)
    pid = project["id"]
    start_session(api, pid, title=XSS_IMG)
    sign_in(page, server)
    card = page.locator(f'article[data-project-id="{pid}"]')
    card.get_by_text(name).wait_for()
    goto(page, server, f"#/projects/{pid}")
    page.get_by_role("heading", level=1, name=name).wait_for()
    page.get_by_text(XSS_IMG, exact=True).first.wait_for()
    assert page.locator("main img").count() == 0
    assert page.evaluate("window.__xss") is None

    transcript = (f"## User\n\nplease fix {XSS_IMG}\n\n## Assistant\n\ndone {XSS_SCRIPT}\n").encode()
    api.call("PUT", f"/api/projects/{pid}/sessions/1/transcript?format=markdown", raw=transcript,
             content_type="text/markdown")
    finish_session(api, pid, 1, accomplishments=[f"escaped {XSS_IMG}"], next_steps=[XSS_SCRIPT])
    goto(page, server, f"#/projects/{pid}/sessions/1")
    page.get_by_role("tab", name=re.compile("Transcript")).click()
    messages = page.locator("#transcript")
    messages.get_by_text(XSS_IMG, exact=False).first.wait_for()
    messages.get_by_text(XSS_SCRIPT, exact=False).first.wait_for()
    assert "please fix <img src=x onerror=window.__xss=1>" in messages.inner_text()
    wait_handoff(api, pid, 1)
    page.get_by_role("tab", name="Handoff").click()
    handoff = page.locator("#handoff-markdown")
    handoff.get_by_text(f"escaped {XSS_IMG}").first.wait_for()  # raw HTML in Markdown is shown as text
    assert XSS_SCRIPT in handoff.inner_text()
    assert page.locator("main img, main script").count() == 0
    assert page.evaluate("window.__xss") is None


def test_charts_draw_from_real_data(page: Any, server: Server, api: ApiClient) -> None:
    project = make_project(api, name=f"Charts {_uid()}")
    pid = project["id"]
    acct = api.post("/api/accounts", {"name": f"Codex {_uid()}", "provider": "openai", "credit_budget": 300})
    credits = [12, 30, 21.5]
    for i, used in enumerate(credits, start=1):
        start_session(api, pid, title=f"s{i}", ai_account=acct["id"], credit_budget=40)
        finish_session(api, pid, i, credits_used=used, tasks_planned=4, tasks_completed=i)
    data = api.get(f"/api/projects/{pid}/analytics")
    sign_in(page, server, f"#/analytics/{pid}")
    page.locator("canvas#chart-credits").wait_for()

    def series(canvas_id: str, label: str) -> list[Any]:
        return page.evaluate(
            """([id, label]) => {
                const c = Chart.getChart(document.getElementById(id));
                const ds = c.data.datasets.find((d) => d.label === label);
                return ds ? ds.data : null;
            }""", [canvas_id, label])

    assert page.locator("canvas").count() >= 6
    assert series("chart-credits", "Used") == credits
    assert series("chart-credits", "Budget") == [40, 40, 40]
    predicted = [s["efficiency_predicted"] for s in data["series"]]
    assert series("chart-efficiency", "Predicted (the seed's model)") == pytest.approx(predicted)
    assert series("chart-efficiency", "Measured") == pytest.approx([0.25, 0.5, 0.75])
    assert series("chart-tasks", "Completed") == [1, 2, 3]
    assert series("chart-accounts", "Used") == [sum(credits)]
    assert len(series("chart-knowledge", "Predicted (the seed's model)")) == 3
    assert len(series("chart-growth", "Measured")) == 3
    # each chart actually drew pixels
    drawn = page.evaluate("""() => [...document.querySelectorAll('canvas')].every((c) => {
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        for (let i = 3; i < d.length; i += 4) if (d[i]) return true;
        return false; })""")
    assert drawn
    expected = data["sessions_to_target"]["sessions"]
    value = page.locator("#stat-sessions-to-target .value").inner_text()
    assert value.split()[0] == str(expected), value


def test_unauthorized_goes_to_settings(page: Any, server: Server) -> None:
    page.goto(f"{server.base}/#token=mso_not_a_valid_token")
    page.wait_for_url(re.compile(r"#/settings$"))
    page.get_by_text("Your token was not accepted").wait_for()
    assert "mso_not_a_valid_token" not in page.url
    # paste the right one, and we are back in
    page.locator("#token-input").fill(server.token)
    page.get_by_role("button", name="Save token").click()
    page.wait_for_url(re.compile(r"#/projects$"))
    page.get_by_role("heading", level=1, name="Projects").wait_for()


def test_phone_screen_has_no_horizontal_scroll(phone_page: Any, server: Server, api: ApiClient) -> None:
    long = "A-very-long-project-name-without-any-spaces-that-must-wrap-on-a-phone-" + _uid()
    project = make_project(api, name=long, description="x" * 300, goal="Fits on a phone")
    pid = project["id"]
    api.post("/api/accounts", {"name": "Phone account", "provider": "openai", "credit_budget": 50})
    start_session(api, pid, title="A session title that is long enough to need truncating on a phone screen")
    finish_session(api, pid, 1, credits_used=3, tasks_planned=2, tasks_completed=1,
                   links=["https://example.com/" + "a" * 120])
    start_session(api, pid, title="open")
    page = phone_page
    sign_in(page, server)
    views = ["#/projects", f"#/projects/{pid}", f"#/projects/{pid}/sessions/1", "#/accounts", "#/settings",
             f"#/analytics/{pid}"]
    for v in views:
        goto(page, server, v)
        page.wait_for_load_state("networkidle")
        content, screen = widths(page)
        assert content <= screen, f"{v}: content is {content}px wide on a {screen}px screen"
    goto(page, server, f"#/projects/{pid}")
    page.get_by_role("button", name="Complete session 2").click()
    page.get_by_role("dialog", name="Complete session 2").wait_for()
    content, screen = widths(page)
    assert content <= screen, f"the open dialog makes the page {content}px wide on a {screen}px screen"
    box = page.get_by_role("dialog").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 375


def test_upload_a_transcript_and_page_through_it(page: Any, server: Server, api: ApiClient, tmp_path: Any) -> None:
    project = make_project(api, name=f"Transcript {_uid()}")
    pid = project["id"]
    start_session(api, pid, title="long talk")
    turns = []
    for i in range(1, 36):
        turns.append(f"## User\n\nquestion number {i}\n\n## Assistant\n\nanswer number {i}\n")
    path = tmp_path / "session.md"
    path.write_text("\n".join(turns), encoding="utf-8")
    sign_in(page, server, f"#/projects/{pid}/sessions/1")
    page.get_by_role("tab", name=re.compile("Transcript")).click()
    page.locator("#transcript-file").set_input_files(str(path))
    page.locator("#transcript-format").select_option("markdown")
    page.get_by_role("button", name="Upload").click()
    page.get_by_text("Imported 70 messages (markdown)").wait_for()
    messages = page.locator("#transcript > li")
    messages.first.wait_for()
    assert messages.count() == 50  # one page
    page.get_by_role("button", name="Load more messages").click()
    messages.get_by_text("answer number 35", exact=True).wait_for()  # in the transcript (the timeline names it too)
    assert messages.count() == 70
    assert page.get_by_role("button", name="Load more messages").count() == 0
    assert api.get(f"/api/projects/{pid}/sessions/1")["transcript"]["messages"] == 70


def test_projects_list_loads_more_pages(page: Any, server: Server, api: ApiClient) -> None:
    tag = _uid()
    for i in range(26):
        make_project(api, name=f"Bulk {tag} {i:02d}")
    total = len(api.get("/api/projects?limit=100")["items"])
    assert total > 24
    sign_in(page, server)
    cards = page.locator("#project-list > article")
    cards.first.wait_for()
    assert cards.count() == 24
    while page.get_by_role("button", name="Load more").count():
        before = cards.count()
        page.get_by_role("button", name="Load more").click()
        expect(cards).not_to_have_count(before)
    assert cards.count() == total
