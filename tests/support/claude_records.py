"""Tiny Claude Code transcripts for API tests: the real record shapes, a few records long."""

from __future__ import annotations

import json


def failing_check(command: str = "pytest tests/test_parse.py",
                  output: str = "FAILED tests/test_parse.py::test_x\n1 failed in 0.1s") -> bytes:
    """A user request, one Bash call of `command` and its failing result, as Claude Code writes them."""
    recs = [
        {"type": "user", "uuid": "u1", "timestamp": "2026-11-01T10:00:00Z", "cwd": "/w/p", "sessionId": "s1",
         "message": {"role": "user", "content": "make the parser strict"}},
        {"type": "assistant", "uuid": "a1", "timestamp": "2026-11-01T10:01:00Z",
         "message": {"id": "m1", "role": "assistant", "model": "claude-opus-4-6", "content": [
             {"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": command}}]}},
        {"type": "user", "uuid": "u2", "timestamp": "2026-11-01T10:02:00Z", "cwd": "/w/p",
         "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "is_error": True,
                                                  "content": output}]},
         "toolUseResult": {"stdout": output, "stderr": ""}},
    ]
    return "\n".join(json.dumps(r) for r in recs).encode()
