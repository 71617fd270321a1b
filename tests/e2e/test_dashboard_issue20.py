"""Issue 20's dashboard fixes, each as a person meets it: no "null" on the Starting prompt tab,
no horizontal scroll at 375 px, open items closed from the project page, a configured "rules" is a
label not a warning, one meaning of token words, tool errors counted in the compare view, import
warnings shown, and a handoff made from a replaced transcript marked as such."""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.e2e_support import ApiClient, Server, goto, sign_in
from tests.e2e.test_dashboard import finish_session, make_project, start_session, wait_handoff

pytestmark = pytest.mark.e2e
SHOTS = Path(os.environ.get("MSO_E2E_SHOTS") or tempfile.gettempdir()) / "mso-e2e-issue20"  # to look at
TOOL_ERRORS = 8


def _uid() -> str:
    return uuid.uuid4().hex[:6]


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def claude_code_jsonl(errors: int = TOOL_ERRORS) -> bytes:
    """A small Claude Code transcript: `errors` failing Bash calls, each turn with cache reads."""
    lines: list[dict[str, Any]] = [{"type": "user", "uuid": "u0", "sessionId": "s", "timestamp": "2026-01-01T10:00:00Z",
                                    "message": {"role": "user", "content": "Make the tests pass"}}]
    for i in range(errors):
        lines.append({"type": "assistant", "uuid": f"a{i}", "sessionId": "s", "timestamp": f"2026-01-01T10:{i + 1:02d}:00Z",
                      "message": {"id": f"msg_{i}", "role": "assistant", "model": "claude-sonnet-4-5",
                                  "content": [{"type": "tool_use", "id": f"t{i}", "name": "Bash",
                                               "input": {"command": f"pytest tests/test_{i}.py"}}],
                                  "usage": {"input_tokens": 10, "cache_read_input_tokens": 1000,
                                            "cache_creation_input_tokens": 50, "output_tokens": 20}}})
        lines.append({"type": "user", "uuid": f"r{i}", "sessionId": "s", "timestamp": f"2026-01-01T10:{i + 1:02d}:30Z",
                      "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": f"t{i}",
                                                               "content": f"Error: test_{i} failed", "is_error": True}]}})
    return "\n".join(json.dumps(x) for x in lines).encode() + b"\n"


def _done_project(api: ApiClient, **finish: Any) -> str:
    pid = make_project(api, name=f"Issue20 {_uid()}")["id"]
    start_session(api, pid, title="First")
    finish_session(api, pid, 1, **{"next_steps": ["Ship the login fix"], **finish})
    wait_handoff(api, pid, 1)
    return pid


def test_starting_prompt_tab_has_no_literal_null(page: Any, server: Server, api: ApiClient) -> None:
    pid = _done_project(api)
    start_session(api, pid, title="Second")
    sign_in(page, server, f"#/projects/{pid}/sessions/2")
    page.get_by_role("tab", name="Starting prompt").click()
    page.locator("#starting-handoff").wait_for()
    panel = page.locator(".starting-panel")
    assert "null" not in panel.evaluate("el => Array.from(el.childNodes).filter(n => n.nodeType === 3)"
                                        ".map(n => n.textContent).join('')")
    assert "null" not in panel.inner_text().split("\n")[0:3].__str__()
    _shot(page, "starting-prompt-1280")


@pytest.mark.parametrize("where", ["session", "project", "projects"])
def test_no_horizontal_overflow_at_375px(phone_page: Any, server: Server, api: ApiClient, where: str) -> None:
    pid = _done_project(api, decisions=["A long decision " + "word " * 40], errors=["E" * 120])
    start_session(api, pid, title="A session with a rather long title to wrap on a phone screen")
    api.call("PUT", f"/api/projects/{pid}/sessions/2/transcript?format=claude-code", raw=claude_code_jsonl(),
             content_type="application/octet-stream")
    finish_session(api, pid, 2)
    start_session(api, pid)  # session 2 now has a previous and a next session: three links above its tabs
    target = {"session": f"#/projects/{pid}/sessions/2", "project": f"#/projects/{pid}", "projects": "#/projects"}[where]
    sign_in(phone_page, server, target)
    phone_page.wait_for_load_state("networkidle")
    if where == "session":
        phone_page.get_by_role("tab", name="Transcript").click()
        phone_page.locator("#transcript li").first.wait_for()
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    _shot(phone_page, f"{where}-375")
    assert width <= 375, f"{where} page is {width}px wide at 375px"
    if where == "project":  # an open item's text keeps a readable width beside its Done button
        text = phone_page.locator("#open-items li span:nth-child(2)").first
        assert text.bounding_box()["width"] > 150


def test_open_items_close_from_the_project_page(page: Any, server: Server, api: ApiClient) -> None:
    pid = _done_project(api)
    sign_in(page, server, f"#/projects/{pid}")
    items = page.locator("#open-items")
    items.get_by_text("Ship the login fix").wait_for()
    page.get_by_role("button", name="Mark done: Ship the login fix").click()
    expect(items.get_by_text("Ship the login fix")).to_have_count(0)
    closed = api.get(f"/api/projects/{pid}/open-items?status=closed")["items"]
    assert [(c["text"], c["closed_by"]) for c in closed] == [("Ship the login fix", 1)]
    page.reload()
    page.get_by_text("Nothing open").first.wait_for()


def test_rules_by_configuration_is_a_label_and_an_llm_fallback_a_warning(page: Any, server: Server,
                                                                        api: ApiClient) -> None:
    pid = _done_project(api, handoff_mode="auto")  # no LLM on the test server: rules, as configured
    ho = api.get(f"/api/projects/{pid}/sessions/1/handoff")
    assert ho["method"] == "rules" and ho["reason"].startswith("LLM not configured")
    sign_in(page, server, f"#/projects/{pid}/sessions/1")
    page.locator("#rules-by-choice").wait_for()
    assert "no LLM configured" in page.locator("#rules-by-choice").inner_text()
    assert page.get_by_text("Written by the rules, not the LLM").count() == 0
    _shot(page, "rules-label-1280")
    asked = _done_project(api, handoff_mode="llm")  # an LLM was asked for: the fallback is a warning
    goto(page, server, f"#/projects/{asked}/sessions/1")
    page.get_by_text("Written by the rules, not the LLM").wait_for()
    assert page.locator("#rules-by-choice").count() == 0


def test_token_words_mean_the_same_on_messages_and_the_session(page: Any, server: Server, api: ApiClient) -> None:
    pid = make_project(api, name=f"Tokens {_uid()}")["id"]
    start_session(api, pid)
    api.call("PUT", f"/api/projects/{pid}/sessions/1/transcript?format=claude-code", raw=claude_code_jsonl(),
             content_type="application/octet-stream")
    sign_in(page, server, f"#/projects/{pid}/sessions/1")
    page.get_by_role("tab", name="Transcript").click()
    page.locator("#transcript .msg-tokens").first.wait_for()
    per_message = page.locator("#transcript .msg-tokens").all_inner_texts()
    assert per_message and all(t == "1,060 prompt · 20 output" for t in per_message), per_message
    chip = lambda k: " ".join(page.locator(f'.chip[data-tokens="{k}"]').inner_text().split())  # noqa: E731
    assert chip("prompt") == f"{1060 * TOOL_ERRORS:,} prompt"  # the messages' prompts add up to it
    assert chip("input_tokens") == f"{10 * TOOL_ERRORS} input" and chip("cache_read_tokens") == f"{1000 * TOOL_ERRORS:,} cache read"
    assert " in ·" not in page.locator("#transcript").inner_text()
    _shot(page, "tokens-1280")


def test_compare_counts_the_transcripts_tool_errors(page: Any, server: Server, api: ApiClient) -> None:
    pid = make_project(api, name=f"Compare errors {_uid()}")["id"]
    start_session(api, pid)
    api.call("PUT", f"/api/projects/{pid}/sessions/1/transcript?format=claude-code", raw=claude_code_jsonl(),
             content_type="application/octet-stream")
    finish_session(api, pid, 1)
    start_session(api, pid)
    finish_session(api, pid, 2, errors=["ImportError in tests"])
    assert api.get(f"/api/projects/{pid}/sessions/1")["transcript"]["tool_errors"] == TOOL_ERRORS
    sign_in(page, server, f"#/projects/{pid}/compare/1/2")
    left = page.locator('.compare-col[data-session="1"] .compare-errors')
    left.wait_for()
    assert left.inner_text().startswith(str(TOOL_ERRORS)), left.inner_text()
    assert page.locator('.compare-col[data-session="2"] .compare-errors').inner_text().startswith("1")
    _shot(page, "compare-1280")


def test_upload_toast_shows_the_imports_warnings(page: Any, server: Server, api: ApiClient, tmp_path: Path) -> None:
    pid = make_project(api, name=f"Upload warn {_uid()}")["id"]
    start_session(api, pid)
    f = tmp_path / "notes.txt"
    f.write_text("just some notes without any speaker names\nand a second line\n")
    sign_in(page, server, f"#/projects/{pid}/sessions/1")
    page.get_by_role("tab", name="Transcript").click()
    page.locator("#transcript-file").set_input_files(str(f))
    page.get_by_role("button", name="Upload").click()
    warn = page.locator(".toast.warn", has_text="Warning")
    warn.first.wait_for()
    assert "role" in warn.first.inner_text().lower()
    _shot(page, "upload-warning-1280")


def test_a_replaced_transcript_marks_the_handoff(page: Any, server: Server, api: ApiClient) -> None:
    pid = make_project(api, name=f"Replace {_uid()}")["id"]
    start_session(api, pid)
    api.call("PUT", f"/api/projects/{pid}/sessions/1/transcript?format=text", raw=b"User: hi\nAssistant: hello\n",
             content_type="text/plain")
    finish_session(api, pid, 1)
    wait_handoff(api, pid, 1)
    refused = api.call("PUT", f"/api/projects/{pid}/sessions/1/transcript?format=text", raw=b"User: again\n",
                       content_type="text/plain", expect=(409,))
    assert refused["error"]["code"] == "transcript_exists"
    api.call("PUT", f"/api/projects/{pid}/sessions/1/transcript?format=text&replace=true",
             raw=b"User: again\nAssistant: ok\n", content_type="text/plain")
    sign_in(page, server, f"#/projects/{pid}/sessions/1")
    page.locator("#older-transcript").wait_for()
    _shot(page, "older-transcript-1280")
    goto(page, server, f"#/projects/{pid}")
    page.locator("#older-transcript").wait_for()
