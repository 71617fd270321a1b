"""The knowledge base in the browser: add from a project, search, copy (counts a use), hostile text."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.e2e_support import ApiClient, Console, Server, goto, sign_in
from tests.e2e.test_dashboard import (
    XSS_IMG,
    XSS_SCRIPT,
    finish_session,
    make_project,
    start_session,
    wait_handoff,
    widths,
)

pytestmark = pytest.mark.e2e


def test_add_from_the_project_then_search_and_copy(page: Any, server: Server, api: ApiClient,
                                                   console: Console) -> None:
    word = f"zebra{uuid.uuid4().hex[:6]}"
    project = make_project(api, name=f"Knowledge home {word}")
    pid = project["id"]
    sign_in(page, server, f"#/projects/{pid}")
    card = page.locator("#project-knowledge")
    card.get_by_text("Patterns, solutions and lessons worth reusing.", exact=False).wait_for()

    card.get_by_role("button", name="Add a knowledge item").click()
    dialog = page.get_by_role("dialog", name=re.compile("Add knowledge"))
    dialog.get_by_role("button", name="Add to knowledge").click()  # checked before sending
    dialog.get_by_text("Title is required.").wait_for()
    dialog.get_by_text("Text is required.").wait_for()
    dialog.get_by_label("Tags").fill("ok, " + "t" * 51)
    dialog.get_by_label("Title").fill(f"Pin the lockfile {word}")
    dialog.get_by_label("Text").fill("Line one\nLine two\nLine three\nLine four\nLine five\nLine six")
    dialog.get_by_role("button", name="Add to knowledge").click()
    dialog.get_by_text("is too long (51 characters, the limit is 50)", exact=False).wait_for()
    dialog.get_by_label("Kind").select_option("pattern")
    dialog.get_by_label("Tags").fill("deps, ci, deps")
    dialog.get_by_role("button", name="Add to knowledge").click()
    expect(dialog).to_be_hidden()
    item = card.locator(".kb-item", has_text=f"Pin the lockfile {word}")
    expect(item).to_be_visible()
    expect(item.locator(".kb-kind")).to_have_text("Pattern")
    expect(item.locator(".chip")).to_have_text(["deps", "ci"])
    stored = api.get(f"/api/projects/{pid}/knowledge")["items"]
    assert [(k["title"], k["kind"], k["tags"]) for k in stored] == [(f"Pin the lockfile {word}", "pattern", ["deps", "ci"])]

    page.get_by_role("link", name="Knowledge", exact=True).click()
    page.get_by_role("heading", level=1, name="Knowledge").wait_for()
    search = page.get_by_role("searchbox", name="Search knowledge")
    search.fill(word.upper())  # case-insensitive, debounced: no Enter needed
    page.wait_for_url(re.compile(rf"#/knowledge\?q={word.upper()}$"))
    result = page.locator("#knowledge-list .kb-item")
    expect(result).to_have_count(1)
    expect(result.get_by_role("link", name=project["name"])).to_have_attribute("href", f"#/projects/{pid}")
    expect(result.locator(".kb-uses")).to_have_text("0 uses")
    # the body is folded; "Show more" unfolds it
    more = result.get_by_role("button", name="Show more")
    more.click()
    expect(result.get_by_role("button", name="Show less")).to_have_attribute("aria-expanded", "true")
    result.get_by_role("button", name=re.compile("^Copy")).click()
    expect(result.locator(".kb-uses")).to_have_text("1 use")
    copied = page.evaluate("window.__msoLastCopied")  # the title, then the text
    assert copied.split("\n\n", 1)[1].startswith("Line one\nLine two") and "lockfile" in copied.split("\n", 1)[0]
    assert api.get(f"/api/projects/{pid}/knowledge")["items"][0]["uses"] == 1

    search.fill(f"{word} nothing-like-this")
    search.press("Enter")
    page.get_by_text("Nothing matches").wait_for()
    assert console.errors == [], "\n".join(console.errors)


def test_hostile_text_and_session_learnings(page: Any, server: Server, api: ApiClient, console: Console) -> None:
    word = f"otter{uuid.uuid4().hex[:6]}"
    project = make_project(api, name=f"{XSS_IMG} {word}")
    pid = project["id"]
    api.post(f"/api/projects/{pid}/knowledge",
             {"title": XSS_IMG, "body": f"{XSS_SCRIPT} {word}", "tags": [XSS_IMG], "kind": "solution"})
    sign_in(page, server, f"#/knowledge?q={word}")
    result = page.locator("#knowledge-list .kb-item", has_text=XSS_IMG).first
    expect(result.locator(".kb-title")).to_have_text(XSS_IMG)
    expect(result.locator(".kb-body")).to_have_text(f"{XSS_SCRIPT} {word}")
    expect(result.locator(".chip")).to_have_text(XSS_IMG)
    assert page.get_by_role("searchbox").input_value() == word
    assert page.locator("main img, main script").count() == 0
    assert page.evaluate("window.__xss") is None

    # a session's learnings become lessons once its handoff is made
    s = start_session(api, pid, title="learn")
    finish_session(api, pid, s["number"], learnings=[f"Cache the {word} token per tenant"])
    wait_handoff(api, pid, s["number"])
    goto(page, server, f"#/knowledge?q=cache the {word}")
    lesson = page.locator("#knowledge-list .kb-item").first
    expect(lesson.locator(".kb-kind")).to_have_text("Lesson")
    expect(lesson.get_by_role("link", name=f"from session {s['number']}")).to_have_attribute(
        "href", f"#/projects/{pid}/sessions/{s['number']}")
    expect(lesson.locator(".chip")).to_have_text(f"session-{s['number']}")
    assert page.evaluate("window.__xss") is None
    assert console.errors == [], "\n".join(console.errors)


def test_knowledge_fits_a_phone(phone_page: Any, server: Server, api: ApiClient) -> None:
    word = f"heron{uuid.uuid4().hex[:6]}"
    project = make_project(api, name="A-long-project-name-without-spaces-to-wrap-on-a-phone-" + word)
    pid = project["id"]
    api.post(f"/api/projects/{pid}/knowledge", {"title": "Unbroken-" + "x" * 150, "body": "y" * 2000 + " " + word,
                                                "tags": ["a-very-long-tag-without-any-spaces-in-it-" + word[:5]]})
    page = phone_page
    sign_in(page, server)
    for v in (f"#/knowledge?q={word}", f"#/projects/{pid}"):
        goto(page, server, v)
        item = page.locator(".kb-item").first
        expect(item).to_contain_text("Unbroken-xxxx")
        content, screen = widths(page)
        assert content <= screen, f"{v}: content is {content}px wide on a {screen}px screen"
        box = item.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= screen, f"{v}: the item is cut off at {box}"
