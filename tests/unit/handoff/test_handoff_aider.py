"""The handoff of real aider sessions (tests/fixtures/real/aider-multi): what aider applied and committed.

aider logs its edits as `> Applied edit to <file>` and its own commits as `> Commit <sha> <subject>`;
the importer turns them into the edit and `git commit` calls every agent's importer emits, so the
handoff's files and git facts see them. Expectations are read from the logs with regexes here,
independently of the importer.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from chalicelib.handoff import HandoffDoc, build_handoff
from chalicelib.transcripts import importing
from chalicelib.transcripts.model import Message

MULTI = Path(__file__).resolve().parents[2] / "fixtures" / "real" / "aider-multi"
SESSION_START = re.compile(r"(?m)^(?=# aider chat started at )")
APPLIED = re.compile(r"(?m)^> Applied edit to (.+?)\s*$")
NOOP = re.compile(r"^(?:> Applied edit to .*\n)+> No changes made to git tracked files", re.M)
COMMIT = re.compile(r"(?m)^> Commit ([0-9a-f]{7,40}) ")
USER = re.compile(r"(?m)^#### (.*?)\s*$")


def _sessions(project: str) -> list[str]:
    text = (MULTI / project / "aider.chat.history.md").read_text(encoding="utf-8")
    return [s for s in SESSION_START.split(text) if s.strip()]


def _import(text: str) -> list[Message]:
    messages, _stats, _changes = importing.import_all(io.BytesIO(text.encode()), "aider")
    return list(messages)


def _doc(messages: list[Message], budget: int = 50_000) -> HandoffDoc:
    return build_handoff(project={"name": "afi-core"}, session={"number": 5}, messages=messages, file_changes=[],
                         previous=None, pins=[], budget_chars=budget)


ALL = [(p.name, k, s) for p in sorted(MULTI.iterdir()) if p.is_dir() for k, s in enumerate(_sessions(p.name))]


def test_a_chosen_session_lists_its_applied_files_and_commits() -> None:
    session = _sessions("AFI-Protocol__afi-core")[5]
    assert session.startswith("# aider chat started at 2025-07-16 20:11:30")
    doc = _doc(_import(session), budget=9_500)
    assert [c["sha"] for c in doc.data["commits"]] == COMMIT.findall(session) == [
        "9760d2f", "24aed81", "c4b9dc7", "0d4b6dc", "c3b2015", "6dec692", "d101abd", "7f1724d", "8cba441"]
    files = {f["path"] for f in doc.data["files"]}
    assert files == set(APPLIED.findall(session)) and len(files) == 8
    md = doc.markdown
    assert "- In `9760d2f`: `schemas/validator_metadata_schema.ts`" in md
    assert "- In `0d4b6dc`: `src/components/ModalSignalReview.tsx`" in md
    assert "Committed `8cba441` `fix: correct search/replace block in validator_invoker.ts`" in md
    assert "Branch `HEAD`" not in md  # aider does not log the branch: none is claimed
    # `rm validators/PoIValidator.ts` ran after its commit 6dec692; aider's later commits took only the files
    # it edited (aider then asks "Has it been deleted from the file system but not from git?")
    assert doc.data["current_state"]["uncommitted"] == ["validators/PoIValidator.ts"]
    assert "- In `7f1724d`: `validators/PoIValidator.ts`" not in md


@pytest.mark.parametrize(("project", "k", "session"), ALL, ids=[f"{p}#{k}" for p, k, _ in ALL])
def test_every_aider_session_keeps_its_edits_commits_and_words_apart(project: str, k: int, session: str) -> None:
    messages = _import(session)
    doc = _doc(messages)
    files = {f["path"] for f in doc.data["files"]}
    # an edit aider followed with "No changes made to git tracked files" may have changed nothing
    noop = {a for m in NOOP.finditer(session) for a in APPLIED.findall(m.group(0))}
    for applied in set(APPLIED.findall(session)) - noop:  # as logged, or relative to the root its other name showed
        assert applied in files or any(applied.endswith(("/" + f, "\\" + f)) for f in files), applied
    assert set(COMMIT.findall(session)) <= {c["sha"] for c in doc.data["commits"]}
    # aider's prompts and the model's reasoning are never the user's words or the agent's last words
    md = doc.markdown
    assert "(Y)es/(N)o" not in md and "thinking-content" not in md
    typed = {" ".join(t.split()) for t in USER.findall(session)}
    for m in messages:
        assert "thinking-content" not in m.text
        if m.role == "user":
            assert "(Y)es/(N)o" not in m.text
            assert all(_typed(ln, typed) for ln in m.text.split("\n"))
    for request in doc.data["summary"]["requests"]:
        assert all(_typed(ln, typed) for ln in request.split("\n"))
    said = " ".join(" ".join(t.split()) for t in USER.findall(session) if t.strip()).replace("`", "'")
    for d in doc.data["decisions"]:  # "User said: …" quotes only what was typed after `#### `
        if d["source"] == "user" and not d["text"].startswith(("User rejected", "User declined", "User interrupted")):
            assert " ".join(d["text"].split())[:60].rstrip("…") in said or "[REDACTED:" in d["text"], d["text"]


def _typed(line: str, typed: set[str]) -> bool:
    """A line of a user message is one the log shows after `#### ` (a secret in it is redacted on import)."""
    return not line.strip() or "[REDACTED:" in line or " ".join(line.split()) in typed


def test_thinking_goes_to_the_reasoning_not_the_answer() -> None:
    session = next(s for _p, _k, s in ALL if "<thinking-content-" in s and "#### check if cursor" in s)
    messages = _import(session)
    thought = [m for m in messages if m.role == "assistant" and m.thinking]
    assert thought and all("<thinking" not in m.thinking for m in thought)
    assert any("install Cursor on Linux" in m.thinking for m in thought)
    assert not any("install Cursor on Linux" in m.text for m in messages)


def test_unapplied_edit_blocks_are_not_changes() -> None:
    session = ("# aider chat started at 2025-01-01 10:00:00\n\n#### fix it  \n\nHere:\n\napp.py\n```python\n"
               "<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n>>>>>>> REPLACE\n```\n\n"
               "> The LLM did not conform to the edit format.  \n")
    doc = _doc(_import(session))
    assert doc.data["files"] == [] and doc.data["commits"] == []


def test_what_aider_sends_the_model_itself_is_not_a_request() -> None:
    session = next(s for _p, _k, s in ALL if "#### # 1 SEARCH/REPLACE block failed to match!" in s)
    messages = _import(session)
    reflected = [m for m in messages if m.role == "user" and m.text.startswith("# 1 SEARCH/REPLACE block failed")]
    assert reflected and all(m.injected for m in reflected)
    doc = _doc(messages)
    assert not any("SEARCH/REPLACE block failed" in r for r in doc.data["summary"]["requests"])
    assert not any("SEARCH/REPLACE block failed" in d["text"] for d in doc.data["decisions"])
