"""Background check runs (`run_in_background` answered by `TaskOutput` or `BashOutput`).

A failing check followed by a background re-run that completes used to raise IndexError while
the errors were resolved (a background run was recorded with three fields where four are read),
so the job failed on the path that must always work.
"""

from __future__ import annotations

from pathlib import Path

from chalicelib.handoff import build_handoff
from chalicelib.transcripts import importing
from chalicelib.transcripts.model import Message
from tests.unit.handoff.handoff_support import Script

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "transcripts" / "claude_code_background.jsonl"


def _messages() -> list[Message]:
    with FIXTURE.open("rb") as fh:
        messages, _stats, _changes = importing.import_all(fh, "auto")
        return list(messages)


def _doc(messages: list[Message]):
    return build_handoff(project={"name": "invoicer"}, session={"number": 4}, messages=messages, file_changes=[],
                         previous=None, pins=[])


def test_failing_check_then_completed_background_rerun_does_not_crash() -> None:
    msgs = _messages()
    assert any(c.name == "TaskOutput" for m in msgs for c in m.tool_calls)
    assert any(c.name == "BashOutput" for m in msgs for c in m.tool_calls)
    doc = _doc(msgs)
    checks = {c["command"]: c for group in doc.data["checks"] for c in group}
    assert checks["python -m pytest -q"]["outcome"] == "pass"
    assert checks["python -m pytest -q"]["summary"] == "41 passed in 1.92s"  # from TaskOutput's <output>
    assert checks["python -m pytest tests/test_money.py -q"]["outcome"] == "pass"
    assert checks["python -m pytest tests/test_money.py -q"]["summary"] == "4 passed in 0.05s"  # BashOutput <stdout>
    (err,) = doc.data["errors"]
    assert "Decimal('0.12')" in err["error"] and err["resolved"] is True
    assert "FAILED" not in doc.markdown


def test_each_cut_of_the_background_transcript_generates() -> None:
    msgs = _messages()
    for k in range(1, len(msgs) + 1):
        doc = _doc(msgs[:k])
        assert doc.markdown.startswith("# Handoff: invoicer")


def _bg_script(final_exit: int, final_output: str) -> Script:
    s = Script()
    s.user("Make the parser tests pass.")
    s.bash("pytest tests/test_parser.py -q", "Exit code 1\nE   KeyError: 'name'\n1 failed, 2 passed in 0.1s",
           is_error=True)
    s.edit("/repo/app/parser.py", "row['name']", "row.get('name', '')")
    s.tool("Bash", {"command": "pytest tests/test_parser.py -q", "run_in_background": True},
           "Command running in background with ID: bq9", data={"backgroundTaskId": "bq9"})
    s.tool("TaskOutput", {"task_id": "bq9", "block": True},
           f"<retrieval_status>success</retrieval_status>\n\n<task_id>bq9</task_id>\n\n<status>completed</status>\n\n"
           f"<exit_code>{final_exit}</exit_code>\n\n<output>\n{final_output}\n</output>")
    return s


def test_background_rerun_that_passes_answers_the_failure() -> None:
    doc = _doc(_bg_script(0, "3 passed in 0.1s").messages)
    (err,) = doc.data["errors"]
    assert err["resolved"] is True
    checks = {c["command"]: c["outcome"] for group in doc.data["checks"] for c in group}
    assert checks == {"pytest tests/test_parser.py -q": "pass"}


def test_background_rerun_that_fails_again_is_still_failing() -> None:
    doc = _doc(_bg_script(1, "E   KeyError: 'name'\n1 failed, 2 passed in 0.1s").messages)
    checks = {c["command"]: c["outcome"] for group in doc.data["checks"] for c in group}
    assert checks == {"pytest tests/test_parser.py -q": "fail"}
    (err,) = doc.data["errors"]
    assert err["count"] == 2 and err["resolved"] is not True  # the background run showed it again
    assert "**FAILED**" in doc.markdown
