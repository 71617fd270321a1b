"""Claude Code Markdown exports that write `🔧 Tool Use: Name` and `📊 Tool Result:` blocks under role
headings, each message closed by its time line (tests/fixtures/transcripts/claude_code_export_tooluse.md,
written for these tests in that exporter's style).

Their tool calls used to be lost: results read as "User said", tool output as what the user asked,
and each message took the next one's time.
"""

from __future__ import annotations

import re
from pathlib import Path

from chalicelib.handoff import build_handoff
from tests.unit.transcripts.transcript_support import FIXTURES, run_import

EXPORT: Path = FIXTURES / "claude_code_export_tooluse.md"


def _times_in_file() -> list[str]:
    return re.findall(r"(?m)^\*(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})\*$", EXPORT.read_text(encoding="utf-8"))


def test_tool_uses_and_results_are_parsed() -> None:
    got = run_import(EXPORT)
    assert got.imp.format == "markdown"
    assert [m.role for m in got.messages] == ["user", "assistant", "tool", "assistant", "tool", "assistant", "tool",
                                              "assistant", "tool", "user", "assistant", "tool", "assistant"]
    calls = got.calls
    assert [c.name for c in calls] == ["Read", "Bash", "Edit", "Bash", "Bash"]
    assert calls[0].input == {"file_path": "/srv/shop/app/pagination.py"}
    assert calls[1].input["command"] == "python -m pytest tests/test_pagination.py -q"
    assert calls[2].input["new_string"] == "    start = (number - 1) * size"
    results = got.results
    assert [r.is_error for r in results] == [False, True, False, False, False]
    assert results[1].text.startswith("Exit code 1\nF.") and results[1].text.endswith("1 failed, 1 passed in 0.04s")
    assert results[3].text == "..\n2 passed in 0.03s"
    for m in got.messages:  # the markers and fences went with the blocks they introduced
        assert "Tool Use" not in m.text and "Tool Result" not in m.text and "```" not in m.text
    assert got.change("/srv/shop/app/pagination.py").lines_added == 1


def test_each_message_keeps_its_own_time() -> None:
    got = run_import(EXPORT)
    times = _times_in_file()
    assert len(times) == len(got.messages) == 13
    assert [m.timestamp for m in got.messages] == times


def test_only_what_the_user_typed_is_a_request() -> None:
    got = run_import(EXPORT)
    typed = [m.text for m in got.by_role("user")]
    assert typed == ["The product list shows the last item of each page again at the top of the next page. Fix the "
                     "pagination in app/pagination.py and run its tests.",
                     "Good. Also commit it, with a message that says what was wrong."]
    doc = build_handoff(project={"name": "shop"}, session={"number": 3}, messages=got.messages,
                        file_changes=got.changes, previous=None, pins=[])
    assert doc.data["summary"]["requests"] == typed
    assert not any("Exit code" in d["text"] or "def page" in d["text"] for d in doc.data["decisions"])
    checks = {c["command"]: c["outcome"] for group in doc.data["checks"] for c in group}
    assert checks == {"python -m pytest tests/test_pagination.py -q": "pass"}
    assert [c["sha"] for c in doc.data["commits"]] == ["4c1d2e9"]
    assert [e["resolved"] for e in doc.data["errors"]] == [True]
    assert "- In `4c1d2e9`: `app/pagination.py`" in doc.markdown
