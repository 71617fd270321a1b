"""The compaction re-anchor in a project that already has handoffs (issue 18), end to end: the real
`mso` CLI run by Claude Code's hook payloads in a temporary HOME, the app on DynamoDB Local.

After `/compact`, session-start with source "compact" must give this session's own state (from
the transcript pre-compact uploaded), never the previous session's handoff that the same hook
injects at a normal start; without any state of this session, the project's pins and open items;
with the server down and nothing cached, nothing. The first-session case, the cached checkpoint
and PostCompact are in tests/integration/test_cli_hooks_live.py::
test_handoff_command_note_post_compact_and_the_compaction_reanchor."""

from __future__ import annotations

import uuid

import pytest

from tests.integration.cli_support import CLAUDE_IDS, handoff_status, session_start_context, wait_for

pytestmark = pytest.mark.integration

PIN = "Never log a set twice: sync is at-least-once"
NEXT_STEP = "Add retry with backoff to the offline sync flush"


def test_after_compact_a_later_session_gets_its_own_state_then_pins_never_the_previous_handoff(home, server,
                                                                                               tenant):
    from chalicelib.domain import handoffs, open_items, projects

    # session 1 runs and ends: the project has a handoff, open items in its ledger, and a pin
    a = CLAUDE_IDS[0]
    home.claude_transcript(a)
    home.hook("claude", "session-start", "claude-session-start", a)
    home.hook("claude", "session-end", "claude-session-end", a)
    [proj] = projects.list_page(tenant, limit=10, cursor=None)["items"]
    wait_for(lambda: handoff_status(tenant, proj["id"], 1) == "ready")
    projects.set_pins(tenant, proj["id"], [PIN])
    # a next step left open (as `POST .../complete` with next_steps records it)
    open_items.record_session(tenant, proj["id"], 1, next_steps=[NEXT_STEP], blockers=[])
    previous = handoffs.get(tenant, proj["id"], 1)["markdown"]
    previous_head = previous.splitlines()[0]
    items = [i["text"] for i in open_items.list_page(tenant, proj["id"], status="open", limit=50,
                                                       cursor=None)["items"]]
    assert previous_head.startswith("#") and NEXT_STEP in items

    # session 2 is compacted before anything of it reached the server (its pre-compact never ran):
    # the project's pins and open items, said to be that, not session 1's handoff
    c = str(uuid.uuid4())
    home.claude_transcript(c)
    assert "handoff written after session 1" in session_start_context(home.hook("claude", "session-start",
                                                                     "claude-session-start", c))
    ctx = session_start_context(home.hook("claude", "session-start", "claude-session-start-compact", c))
    assert ctx.startswith("This conversation is mso project 'spotter', session 2. The context was just compacted "
                          "and mso holds no state of this session yet.")
    assert PIN in ctx and NEXT_STEP in ctx
    assert "handoff written after" not in ctx and previous_head not in ctx
    # the server down and no state cached for this session: nothing, rather than an older handoff
    server.stop()
    r = home.hook("claude", "session-start", "claude-session-start-compact", c)
    assert r.stdout == ""
    server.start()
    home.hook("claude", "session-end", "claude-session-end", c)
    wait_for(lambda: handoff_status(tenant, proj["id"], 2) == "ready")

    # session 3 starts with the latest handoff, then is compacted after pre-compact uploaded it
    b = CLAUDE_IDS[1]
    home.claude_transcript(b)
    assert "handoff written after session 2" in session_start_context(home.hook("claude", "session-start",
                                                                     "claude-session-start", b))
    home.hook("claude", "pre-compact", "claude-pre-compact", b)
    state = handoffs.checkpoint(tenant, proj["id"], 3, max_chars=2500)["markdown"]
    ctx = session_start_context(home.hook("claude", "session-start", "claude-session-start-compact", b))
    assert ctx.startswith("This conversation is mso project 'spotter', session 3. The context was just compacted. "
                          "What follows is this session's own state")
    assert "# This session's state after compaction: spotter, session 3" in ctx and state.strip() in ctx
    assert "spotter-fum" in ctx  # session 3's own work (session 1 and 2 worked on spotter-gqc)
    assert PIN in ctx
    assert "handoff written after" not in ctx and previous_head not in ctx
    assert len(ctx) <= 2500 + 300
