"""Write `<private>` spans into copies of real transcripts (Claude Code JSONL, a Codex rollout), for
the tests that check none of it leaves the machine. Every secret contains SECRET-."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from tests.conftest import ROOT, TRANSCRIPTS

CLAUDE = TRANSCRIPTS / "claude-code" / "258c7280-ae70-4798-800f-63464d01a85d.jsonl.gz"
CODEX = ROOT / "tests" / "fixtures" / "transcripts" / "codex_rollout.jsonl"
SECRETS = ("SECRET-ALPHA-1", "SECRET-BRAVO-2", "SECRET-CHARLIE-3", "SECRET-DELTA-4", "SECRET-ECHO-5")


def claude_with_spans(text: str | None = None) -> str:
    """The real Claude Code session with spans in a prompt (closed), a tool result (upper case,
    multi-line, never closed) and a later prompt (mixed case, multi-line, closed; its tail is kept)."""
    lines = (text if text is not None else gzip.decompress(CLAUDE.read_bytes()).decode()).splitlines()
    prompts = results = 0
    out = []
    for line in lines:
        rec = json.loads(line)
        msg = rec.get("message") if rec.get("type") == "user" else None
        if isinstance(msg, dict) and isinstance(msg.get("content"), str):
            prompts += 1
            if prompts == 1:
                msg["content"] += " <private>SECRET-ALPHA-1 the vault code</private> now"
            elif prompts == 2:
                msg["content"] = "<Private>\nSECRET-DELTA-4 and\nmore\n</PRIVATE> visible tail " + msg["content"]
        elif isinstance(msg, dict) and isinstance(msg.get("content"), list):
            for block in msg["content"]:
                if block.get("type") == "tool_result" and isinstance(block.get("content"), str) and not results:
                    results += 1
                    block["content"] += "\n<PRIVATE>SECRET-BRAVO-2\nsecond line SECRET-CHARLIE-3"
        out.append(json.dumps(rec))
    assert prompts >= 2 and results == 1, "the fixture no longer has the records the spans go into"
    return "\n".join(out) + "\n"


def codex_with_spans(text: str | None = None) -> str:
    """The Codex rollout with a span in the user's prompt, as both records carry it."""
    out, hits = [], 0
    for line in (text if text is not None else CODEX.read_text()).splitlines():
        rec = json.loads(line)
        p = rec.get("payload") or {}
        if p.get("type") == "message" and p.get("role") == "user" and "add() test fails" in json.dumps(p):
            p["content"][0]["text"] += " <private>SECRET-ECHO-5 staging</private>"
            hits += 1
        if p.get("type") == "user_message" and "add() test fails" in str(p.get("message")):
            p["message"] += " <private>SECRET-ECHO-5 staging</private>"
            hits += 1
        out.append(json.dumps(rec))
    assert hits == 2, "the fixture no longer has the records the spans go into"
    return "\n".join(out) + "\n"


def assert_no_trace(received: bytes, original: str) -> None:
    """Nothing of the spans in what the server received; the rest intact and valid JSONL."""
    text = received.decode()
    assert not [s for s in SECRETS if s in text], "a private span left the machine"
    assert "vault code" not in text and "second line" not in text
    assert "[PRIVATE]" in text
    lines = text.splitlines()
    assert len(lines) == len(original.splitlines())
    for line in lines:
        json.loads(line)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path
