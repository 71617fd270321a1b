"""A call the harness cancelled before it ran (Claude Code: "Sibling tool call errored") is not a run."""

from __future__ import annotations

from chalicelib.handoff import build_handoff
from chalicelib.transcripts.actions import never_ran
from tests.unit.handoff.handoff_support import Script


def _doc(s: Script):
    return build_handoff(project={"name": "p"}, session={"number": 1, "status": "in_progress"}, messages=s.messages,
                         file_changes=[], previous=None, pins=[], generated_at="2026-12-06T00:00:00Z")


def test_a_cancelled_parallel_check_is_neither_failed_nor_passed() -> None:
    s = Script(cwd="/w/app").user("Add the renderer tests and run both suites.")
    s.write("/w/app/test/render_test.exs", "defmodule RenderTest do\nend\n")
    s.bash("mix test test/render_test.exs", "1 test, 1 failure\n** (ExUnit) failed", is_error=True)
    # Claude Code ran `npx vitest run` in parallel and cancelled it when the sibling failed
    s.bash("npx vitest run", "<tool_use_error>Sibling tool call errored</tool_use_error>", is_error=True)
    doc = _doc(s)
    assert "`npx vitest run` **FAILED**" not in doc.markdown, doc.markdown
    assert "Make `npx vitest run` pass" not in doc.markdown
    assert "mix test test/render_test.exs" in doc.markdown  # the run that did fail is still there
    assert "Sibling tool call errored" not in doc.markdown


def test_never_ran_reads_the_registry_markers_on_errors_only() -> None:
    assert never_ran("<tool_use_error>Sibling tool call errored</tool_use_error>", True)
    assert not never_ran("<tool_use_error>Sibling tool call errored</tool_use_error>", False)
    assert not never_ran("Error: 3 tests failed", True)
