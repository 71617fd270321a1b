"""The session page shows the agent's notes (its own account), newest first, the newest leading the handoff."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.e2e_support import ApiClient, Server, sign_in
from tests.e2e.test_dashboard import make_project, start_session
from tests.e2e.test_dashboard_issue20 import _shot, _uid

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("wide", [True, False])
def test_agents_notes_tab_lists_versions_newest_first(page: Any, phone_page: Any, server: Server, api: ApiClient,
                                                      wide: bool) -> None:
    pid = make_project(api, name=f"Notes {_uid()}")["id"]
    start_session(api, pid, title="With a note")
    api.call("POST", f"/api/projects/{pid}/sessions/1/notes",
             {"text": "## Current work\nFirst try.\n", "kind": "compact_summary", "source": "post-compact"})
    api.call("POST", f"/api/projects/{pid}/sessions/1/notes",
             {"text": "## Current work\nParser done; " + "a-very-long-path/" * 12 + "x.py\n## Next action\nWire the flag.",
              "source": "mso note"})
    p = page if wide else phone_page
    sign_in(p, server, f"#/projects/{pid}/sessions/1")
    p.get_by_role("tab", name="Agent's notes").click()
    notes = p.locator("#session-notes .card.note")
    expect(notes).to_have_count(2)
    expect(notes.nth(0)).to_contain_text("Handoff note · version 2")
    expect(notes.nth(0)).to_contain_text("leads the handoff")
    expect(notes.nth(0)).to_contain_text("Wire the flag.")
    expect(notes.nth(1)).to_contain_text("Compaction summary · version 1")
    if not wide:
        assert p.evaluate("document.documentElement.scrollWidth") <= 375
    _shot(p, f"agent-notes-{'1280' if wide else '375'}")
