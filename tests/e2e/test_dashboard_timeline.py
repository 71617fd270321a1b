"""Issue 19 in the dashboard, as a person meets it, at 1280 and 375 px: the project timeline (zoom,
pan, click), the session timeline (an event opens its message), cost, the analytics labels (measured
first, the seed's model labelled) and the search box opened with "/".

The session timeline and search routes are built by other engineers: while a route is missing from
the API, the test serves its documented answer shape with `page.route`, so the UI is still tested
against the contract (and against the real route once it exists)."""

from __future__ import annotations

import json
import os
import re
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.e2e_support import ApiClient, Server, goto, sign_in
from tests.e2e.test_dashboard import finish_session, make_project, start_session, wait_handoff

pytestmark = pytest.mark.e2e
SHOTS = Path(os.environ.get("MSO_E2E_SHOTS") or tempfile.gettempdir()) / "mso-e2e-timeline"  # to look at


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _jsonl(model: str = "claude-sonnet-4-5", turns: int = 60, hours_ago: float = 5) -> bytes:
    """A Claude Code transcript that began `hours_ago`: a prompt, then `turns` Bash calls a minute
    apart (pytest fails then passes, a commit)."""
    t0 = datetime.now(UTC) - timedelta(hours=hours_ago)
    lines: list[dict[str, Any]] = [{"type": "user", "uuid": "u0", "sessionId": "s", "timestamp": _iso(t0),
                                    "message": {"role": "user", "content": "Make the login tests pass"}}]
    for i in range(turns):
        cmd, out, err = ("pytest -q", "1 failed, 3 passed", True) if i == 1 else (
            ("pytest -q", "4 passed", False) if i == 2 else (
                ('git commit -am "fix login"', "[main abc1234] fix login", False) if i == 3 else
                (f"cat notes_{i}.txt", f"line {i}", False)))
        ts = _iso(t0 + timedelta(minutes=i + 1))
        lines.append({"type": "assistant", "uuid": f"a{i}", "sessionId": "s", "timestamp": ts,
                      "message": {"id": f"msg_{i}", "role": "assistant", "model": model,
                                  "content": [{"type": "tool_use", "id": f"t{i}", "name": "Bash", "input": {"command": cmd}}],
                                  "usage": {"input_tokens": 10, "cache_read_input_tokens": 1000 + i,
                                            "cache_creation_input_tokens": 50, "output_tokens": 20}}})
        lines.append({"type": "user", "uuid": f"r{i}", "sessionId": "s", "timestamp": ts,
                      "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": f"t{i}",
                                                               "content": out, "is_error": err}]}})
    return "\n".join(json.dumps(x) for x in lines).encode() + b"\n"


def _upload(api: ApiClient, pid: str, n: int, data: bytes) -> None:
    api.call("PUT", f"/api/projects/{pid}/sessions/{n}/transcript", raw=data, content_type="application/octet-stream")


@pytest.fixture(scope="module")
def project(server: Server, api: ApiClient) -> dict[str, Any]:
    """Two finished sessions, hours apart (handoffs ready), and a running third one started now."""
    pid = make_project(api, name=f"Timeline {uuid.uuid4().hex[:6]}")["id"]
    start_session(api, pid, title="Fix the login")
    _upload(api, pid, 1, _jsonl())
    finish_session(api, pid, 1, errors=["the UI suite still fails"])
    wait_handoff(api, pid, 1)
    start_session(api, pid, title="Local model run")
    _upload(api, pid, 2, _jsonl(model="my-local-model", turns=5, hours_ago=2))
    finish_session(api, pid, 2)
    wait_handoff(api, pid, 2)
    start_session(api, pid, title="Still running")
    return {"id": pid}


def _has_route(api: ApiClient, path: str) -> bool:
    return path in api.get("/api/openapi.json")["paths"]


def _no_overflow(page: Any) -> None:
    wide = page.evaluate("""[...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > 376)
        .slice(0, 5).map((e) => `${e.tagName}.${e.getAttribute('class')}#${e.id} ${Math.round(e.getBoundingClientRect().right)}`)""")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375, wide


def _bar(page: Any, n: int) -> dict[str, float]:
    return page.evaluate(f"""(() => {{ const r = document.querySelector('#project-timeline [data-session="{n}"] rect');
        return {{x: Number(r.getAttribute('x')), w: Number(r.getAttribute('width'))}}; }})()""")


def test_project_timeline_zooms_pans_and_opens_a_session(page: Any, server: Server, project: dict[str, Any]) -> None:
    pid = project["id"]
    sign_in(page, server, f"#/projects/{pid}")
    tl = page.locator("#project-timeline")
    expect(tl.locator(".ptl-session")).to_have_count(3)
    # colour by status, the marks of session 1 (a commit, a failed then passed check, errors) and its cost
    expect(tl.locator(".ptl-bar.completed")).to_have_count(2)
    expect(tl.locator(".ptl-bar.in_progress")).to_have_count(1)
    label1 = tl.locator('[data-session="1"] text').text_content()
    assert "●1" in label1 and "✓1" in label1 and "⚠" in label1 and "$" in label1, label1
    assert "unpriced" in tl.locator('[data-session="2"] text').text_content()
    expect(tl.locator("path.ptl-handoff")).to_have_count(2)  # 1 -> 2 and 2 -> 3
    # the project's cost: session 1 priced, session 2's model unpriced (not counted as $0)
    expect(page.locator("#stat-project-cost .value")).to_have_text(re.compile(r"^\$\d"))
    expect(page.locator("#stat-project-cost .hint")).to_contain_text("1 session priced from their tokens · 1 unpriced")
    _shot(page, "desktop-project-timeline")

    before = _bar(page, 1)
    tl.get_by_role("button", name="Zoom in").click()
    zoomed = _bar(page, 1)
    assert zoomed["w"] > before["w"] * 1.5
    tl.get_by_role("button", name="Pan later").click()
    panned = _bar(page, 1)
    assert panned["x"] < zoomed["x"] and panned["w"] == pytest.approx(zoomed["w"], rel=1e-3)
    # the wheel zooms out again around the pointer
    box = tl.locator(".ptl-plot").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, 400)
    assert _bar(page, 1)["w"] < panned["w"]
    # a drag pans, and is not a click on a session
    start = _bar(page, 1)
    page.mouse.move(box["x"] + 20, box["y"] + 40)
    page.mouse.down()
    page.mouse.move(box["x"] + 220, box["y"] + 40, steps=5)
    page.mouse.up()
    assert _bar(page, 1)["x"] > start["x"] + 100
    assert re.search(rf"#/projects/{pid}$", page.url)
    tl.get_by_role("button", name="Show every session").click()
    tl.locator('[data-session="2"] rect').click()
    page.wait_for_url(re.compile(rf"#/projects/{pid}/sessions/2$"))
    expect(page.locator("#session-cost")).to_have_text(re.compile(r"unpriced \(my-local-model\)"))


def test_project_timeline_on_a_phone(phone_page: Any, server: Server, project: dict[str, Any]) -> None:
    sign_in(phone_page, server, f"#/projects/{project['id']}")
    tl = phone_page.locator("#project-timeline")
    expect(tl.locator(".ptl-session")).to_have_count(3)
    _no_overflow(phone_page)
    tl.get_by_role("button", name="Zoom in").click()
    tl.get_by_role("button", name="Pan earlier").click()
    _no_overflow(phone_page)
    _shot(phone_page, "phone-project-timeline")
    tl.locator('[data-session="1"] rect').click(force=True)
    phone_page.wait_for_url(re.compile(r"/sessions/1$"))
    _no_overflow(phone_page)


def _session_events(page: Any, api: ApiClient, pid: str, source: str) -> list[dict[str, Any]]:
    """`api`: the real session timeline (when the route exists); `contract`: its documented shape, stubbed."""
    path = "/api/projects/{project_id}/sessions/{number}/timeline"
    if source == "api" and _has_route(api, path):
        return api.get(f"/api/projects/{pid}/sessions/1/timeline")["events"]
    events = [
        {"index": 0, "at": "2026-01-01T10:00:00Z", "kind": "user", "label": "Make the login tests pass", "outcome": None, "path": None},
        {"index": 3, "at": "2026-01-01T10:02:00Z", "kind": "check", "label": "pytest -q", "outcome": "fail", "path": None},
        {"index": 5, "at": "2026-01-01T10:03:00Z", "kind": "check", "label": "pytest -q", "outcome": "pass", "path": None},
        {"index": 7, "at": "2026-01-01T10:04:00Z", "kind": "commit", "label": "fix login <img src=x onerror=alert(1)>",
         "outcome": None, "path": None},
        {"index": 101, "at": "2026-01-01T10:50:00Z", "kind": "command", "label": "cat notes_49.txt", "outcome": None, "path": None},
    ]
    body = json.dumps({"session": 1, "started_at": "2026-01-01T10:00:00Z", "ended_at": "2026-01-01T11:00:00Z",
                       "events": events, "truncated": False})
    page.route(re.compile(r".*/api/projects/[^/]+/sessions/1/timeline$"),
               lambda route: route.fulfill(status=200, content_type="application/json", body=body))
    return events


@pytest.mark.parametrize(("width", "source"), [(1280, "contract"), (375, "contract"), (1280, "api"), (375, "api")])
def test_session_timeline_event_opens_its_message(browser: Any, server: Server, api: ApiClient, project: dict[str, Any],
                                                  width: int, source: str) -> None:
    pid = project["id"]
    ctx = browser.new_context(viewport={"width": width, "height": 800})
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        events = _session_events(page, api, pid, source)
        assert events
        sign_in(page, server, f"#/projects/{pid}/sessions/1")
        card = page.locator("#session-timeline")
        expect(card.locator(".stl-event")).to_have_count(len(events))
        expect(card.locator(".stl-tick")).to_have_count(len(events))
        assert page.locator("img[src=x]").count() == 0  # labels are text
        # an event past the first page of the transcript (50 messages): paging follows it
        last = max(events, key=lambda e: e["index"])
        if width == 375:
            _no_overflow(page)
            _shot(page, f"phone-session-timeline-{source}")
        else:
            _shot(page, f"desktop-session-timeline-{source}")
        card.locator(f'a[data-index="{last["index"]}"]').click()
        page.wait_for_url(re.compile(rf"/sessions/1/messages/{last['index']}$"))
        target = page.locator(f"#msg-{last['index']}")
        expect(target).to_have_class(re.compile(r"msg-target"))
        expect(target).to_be_in_viewport()
        expect(page.get_by_role("tab", name=re.compile("Transcript"))).to_have_attribute("aria-selected", "true")
        if width == 375:
            _no_overflow(page)
        assert not errors, errors
    finally:
        ctx.close()


def test_cost_on_the_session_and_in_analytics(page: Any, server: Server, api: ApiClient, project: dict[str, Any]) -> None:
    pid = project["id"]
    s1 = api.get(f"/api/projects/{pid}/sessions/1")
    sign_in(page, server, f"#/projects/{pid}/sessions/1")
    expect(page.locator("#session-cost")).to_have_text(re.compile(r"^\$\d"))
    peak = s1["transcript"]["peak_context_tokens"]
    expect(page.locator(".dl")).to_contain_text(f"{peak:,} tokens")
    goto(page, server, f"#/analytics/{pid}")
    a = api.get(f"/api/projects/{pid}/analytics")
    expect(page.locator("#stat-cost .value")).to_contain_text("$")
    expect(page.locator("#stat-cost")).to_contain_text("unpriced: my-local-model")
    expect(page.locator("#stat-peak-context .value")).to_contain_text(f"{a['cost']['peak_context_tokens']:,}")
    # measured figures first; the seed's predictions after them, labelled as the seed's model
    order = page.evaluate("""[...document.querySelectorAll('#measured-stats, #seed-stats')].map((e) => e.id)""")
    assert order == ["measured-stats", "seed-stats"]
    expect(page.locator("#stat-sessions-to-target .label")).to_contain_text("(the seed's model)")
    expect(page.locator("#seed-model-note")).to_contain_text("not from this project's data")
    page.wait_for_function("window.Chart && Object.keys(window.Chart.instances).length >= 4")
    labels = page.evaluate("""Object.values(window.Chart.instances).flatMap((c) => c.data.datasets.map((d) => d.label))""")
    assert "Predicted" not in labels and "Predicted (the seed's model)" in labels, labels
    costs = page.evaluate("""(() => { const c = Object.values(window.Chart.instances).find((c) => c.canvas.id === 'chart-cost');
        return c.data.datasets[0].data; })()""")
    assert costs[0] == pytest.approx(s1["cost"]["usd"]) and costs[1] is None  # unpriced is a gap, not $0
    _shot(page, "desktop-analytics-cost")
    page.set_viewport_size({"width": 375, "height": 800})
    # Chart.js resizes its canvases after a debounce; a loaded machine may take longer than any fixed pause
    page.wait_for_function("Object.values(window.Chart.instances).every((c) => c.canvas.getBoundingClientRect().right <= 376)")
    _no_overflow(page)


HOSTILE_SNIPPET = "🚀 cat notes_49.txt <img src=x onerror=alert(1)> login"


def _span(text: str, word: str) -> list[int]:
    """[start, end) of `word` in code points, as the API counts them (an emoji is one)."""
    return [text.index(word), text.index(word) + len(word)]


def _search_hits(pid: str) -> dict[str, Any]:
    return {"items": [
        {"project_id": pid, "session": 1, "message_index": 101, "kind": "command", "at": "2026-01-01T10:50:00Z",
         "snippet": HOSTILE_SNIPPET, "highlights": [_span(HOSTILE_SNIPPET, "notes"), _span(HOSTILE_SNIPPET, "login")],
         "score": 3.2, "tokens": 12},
        {"project_id": pid, "session": 1, "message_index": 0, "kind": "prompt", "at": "2026-01-01T10:00:00Z",
         "snippet": "Make the login tests pass", "highlights": [[9, 14]], "score": 2.0, "tokens": 8},
        {"project_id": pid, "session": 2, "message_index": None, "kind": "handoff", "at": None,
         "snippet": "Next: make the login tests pass", "highlights": [[15, 20]], "score": 1.5, "tokens": 8},
    ], "next_cursor": None}


@pytest.mark.parametrize(("width", "source"), [(1280, "contract"), (375, "contract"), (1280, "api"), (375, "api")])
def test_search_box_opens_with_slash_and_links_to_the_message(browser: Any, server: Server, api: ApiClient,
                                                             project: dict[str, Any], width: int, source: str) -> None:
    """`contract`: hits in the documented shape (hostile snippet, exact highlight ranges), served by
    page.route; `api`: the real search routes (the contract again while they are missing)."""
    pid = project["id"]
    ctx = browser.new_context(viewport={"width": width, "height": 800})
    page = ctx.new_page()
    real = source == "api" and _has_route(api, "/api/search") and _has_route(api, "/api/projects/{project_id}/search")
    seen: list[str] = []
    if not real:
        body = json.dumps(_search_hits(pid))

        def reply(route: Any) -> None:
            seen.append(route.request.url)
            route.fulfill(status=200, content_type="application/json", body=body)

        page.route(re.compile(r".*/api/(projects/[^/]+/)?search\?.*"), reply)
    try:
        sign_in(page, server, f"#/projects/{pid}")
        page.locator("body").press("/")
        dialog = page.locator("#search-dialog")
        expect(dialog).to_be_visible()
        expect(page.locator("#search-q")).to_be_focused()
        page.keyboard.type("login" if not real else "pytest")
        groups = dialog.locator(".search-group")
        if real:
            expect(groups.first).to_be_visible()
            first = dialog.locator(".search-hit[data-index]").first
            expect(first.locator("mark").first).to_be_visible()
        else:
            expect(groups).to_have_count(2)  # grouped by session
            expect(groups.nth(0).locator(".search-hit")).to_have_count(2)
            # a handoff hit has no message: it opens its session, never ".../messages/null"
            handoff_hit = groups.nth(1).locator(".search-hit")
            expect(handoff_hit).to_have_attribute("href", f"#/projects/{pid}/sessions/2")
            assert "null" not in handoff_hit.text_content()
            assert "/api/projects/" in seen[-1] and "q=login" in seen[-1]  # this project by default
            snippet = groups.nth(0).locator(".search-snippet").first
            expect(snippet).to_contain_text("<img src=x onerror=alert(1)>")  # escaped: shown as text
            assert page.locator("img[src=x]").count() == 0
            assert snippet.locator("mark").all_text_contents() == ["notes", "login"]
            if width == 375:
                _no_overflow(page)
                _shot(page, "phone-search")
            else:
                _shot(page, "desktop-search")
            first = groups.nth(0).locator(".search-hit").first
        index = first.get_attribute("data-index")
        first.click()
        page.wait_for_url(re.compile(rf"/sessions/\d+/messages/{index}$"))
        expect(page.locator(f"#msg-{index}")).to_have_class(re.compile("msg-target"))
        expect(dialog).to_have_count(0)
        # "/" typed in a field is a character, not the search
        page.locator("#transcript-search").press("/")
        expect(page.locator("#search-dialog")).to_have_count(0)
        if width == 375:
            _no_overflow(page)
    finally:
        ctx.close()
