"""Test support for the handoff tests: the real Claude Code sessions, loaded into the message model.

Real sessions go through the real importer (`chalicelib.transcripts.importing`), as in the product.
"""

from __future__ import annotations

import gzip
import io
from pathlib import Path
from typing import Any

from chalicelib.transcripts import importing
from chalicelib.transcripts.model import Message, ToolCall, ToolResult

CC_DIR = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "real" / "claude-code"
SESSIONS = sorted(CC_DIR.glob("*.jsonl.gz"))


def load_session(path: Path) -> list[Message]:
    """All messages of one real session, through the real importer."""
    messages, _stats, _changes = importing.import_all(io.BytesIO(gzip.decompress(path.read_bytes())), "claude-code")
    return list(messages)


def split_at_compaction(messages: list[Message]) -> list[Message]:
    """The messages before Claude Code's compact boundary (the session to hand off)."""
    for i, m in enumerate(messages):
        if m.role == "summary" or (m.role == "system" and (m.meta or {}).get("subtype") == "compact_boundary"):
            return messages[:i]
    return messages


# ----------------------------------------------------------------------------- synthetic transcripts


class Script:
    """Builds a small Claude-Code-like transcript: user turns, assistant tool calls and their results."""

    def __init__(self, cwd: str = "/repo") -> None:
        self.messages: list[Message] = []
        self.cwd = cwd
        self._n = 0

    def user(self, text: str, injected: bool = False) -> Script:
        self.messages.append(Message(role="user", text=text, injected=injected, meta={"cwd": self.cwd}))
        return self

    def say(self, text: str) -> Script:
        self.messages.append(Message(role="assistant", text=text, meta={"cwd": self.cwd}))
        return self

    def tool(self, name: str, inp: dict[str, Any], result: str = "", is_error: bool = False,
             data: dict[str, Any] | None = None, text: str = "") -> Script:
        self._n += 1
        cid = f"toolu_{self._n:04d}"
        self.messages.append(Message(role="assistant", text=text, tool_calls=[ToolCall(name, inp, cid)],
                                     meta={"cwd": self.cwd, "gitBranch": "feature/login"}))
        self.messages.append(Message(role="tool", tool_results=[ToolResult(result, cid, is_error, name, data)],
                                     meta={"cwd": self.cwd}))
        return self

    def bash(self, command: str, output: str = "", is_error: bool = False, text: str = "") -> Script:
        return self.tool("Bash", {"command": command}, output, is_error, text=text)

    def edit(self, path: str, old: str, new: str, text: str = "") -> Script:
        return self.tool("Edit", {"file_path": path, "old_string": old, "new_string": new},
                         f"The file {path} has been updated successfully.", text=text)

    def write(self, path: str, content: str, text: str = "") -> Script:
        return self.tool("Write", {"file_path": path, "content": content},
                         f"File created successfully at: {path}", data={"type": "create", "filePath": path},
                         text=text)

    def todos(self, items: list[tuple[str, str]]) -> Script:
        return self.tool("TodoWrite", {"todos": [{"content": c, "status": s, "activeForm": c} for c, s in items]},
                         "Todos have been modified successfully.")


def login_fix_script() -> Script:
    """A session that fixes a failing login test: ids, todos, a failing then passing test, a commit."""
    s = Script()
    s.user("Please fix JIRA-42 and issue 12: the login test fails after the token refresh change. "
           "Use pytest, not unittest.")
    s.todos([("Reproduce the failing login test", "in_progress"), ("Fix token refresh", "pending"),
             ("Update docs for auth", "pending")])
    s.bash("pytest tests/test_login.py -q 2>&1 | tail -20",
           "Exit code 1\n.F..\nE   AssertionError: expected status 200, got 401\n"
           "FAILED tests/test_login.py::test_login - AssertionError: expected status 200, got 401\n"
           "1 failed, 3 passed in 0.21s", is_error=True)
    s.say("The problem was that the refresh token expired before the access token. Decided to compute "
          "the expiry from the issue time instead of the refresh time.")
    s.edit("/repo/app/auth.py", "def expiry(t):\n    return t.refreshed + TTL\n",
           "def expiry(t):\n    # from issue time\n    return t.issued + TTL\n", text="Fix the expiry computation.")
    s.bash("pytest tests/test_login.py -q", "....\n4 passed in 0.12s")
    s.todos([("Reproduce the failing login test", "completed"), ("Fix token refresh", "completed"),
             ("Update docs for auth", "in_progress")])
    s.write("/repo/docs/auth.md", "# Auth\n\nTokens expire from issue time.\n")
    s.bash("npm test 2>&1 | tail -5", "Tests: 1 failed, 10 passed, 11 total")
    s.user("No, don't touch the docs folder; instead keep auth notes in README.md. The spec is at "
           "https://example.com/spec/auth and the follow-up is T-7.")
    s.bash('git add app/auth.py && git commit -m "fix: compute token expiry from issue time (JIRA-42)"',
           "[feature/login abc1234] fix: compute token expiry from issue time (JIRA-42)\n 1 file changed")
    s.edit("/repo/app/auth.py", "TTL = 60\n", "TTL = 90\n", text="Raise the TTL as the spec says.")
    s.say("I raised the TTL to 90 seconds; the npm suite still has one failing test in the UI package.")
    return s
