"""Small hand-made transcripts in the shapes two real agents write, for the handoff's truth rules.

`ClaudeScript` builds Claude Code's message model directly (as `handoff_support.Script` does);
`CodexScript` writes Codex CLI rollout JSONL records (`session_meta`, `function_call` of `shell`
with `["bash", "-lc", cmd]`, `function_call_output` with `{"output", "metadata": {"exit_code"}}`,
`custom_tool_call` of `apply_patch`) and reads them back through the real importer, as the product
does. Both offer the same methods, so one test runs against both agents.
"""

from __future__ import annotations

import io
import json
from typing import Any

from chalicelib.handoff import HandoffDoc, build_handoff
from chalicelib.transcripts import importing
from chalicelib.transcripts.model import Message, ToolCall
from tests.unit.handoff.handoff_support import Script

ROOT = "/home/dev/proj"


class ClaudeScript(Script):
    """Claude Code records: Bash with "Exit code N" failures, Edit/Write with absolute paths."""

    agent = "claude"

    def __init__(self, cwd: str = ROOT, branch: str = "main") -> None:
        super().__init__(cwd)
        self.branch = branch

    def run(self, command: str, output: str = "", code: int = 0) -> ClaudeScript:
        """A shell command and what it printed; a non-zero `code` is a failure as Claude Code shows it."""
        text = f"Exit code {code}\n{output}" if code else output
        self.bash(command, text, is_error=bool(code))
        return self

    def pending(self, command: str) -> ClaudeScript:
        """A shell command whose result the transcript ends before."""
        self._n += 1
        self.messages.append(Message(role="assistant", text="", tool_calls=[ToolCall("Bash", {"command": command},
                                                                                     f"toolu_{self._n:04d}")],
                                     meta={"cwd": self.cwd, "gitBranch": self.branch}))
        return self

    def change(self, path: str, old: str, new: str) -> ClaudeScript:
        self.edit(f"{self.cwd}/{path}", old, new)
        return self

    def create(self, path: str, content: str) -> ClaudeScript:
        self.write(f"{self.cwd}/{path}", content)
        return self

    def think(self, thought: str, text: str = "") -> ClaudeScript:
        self.messages.append(Message(role="assistant", text=text, thinking=thought, meta={"cwd": self.cwd}))
        return self

    def read(self, path: str, content: str = "x = 1\n") -> ClaudeScript:
        self.tool("Read", {"file_path": f"{self.cwd}/{path}"}, content)
        return self

    @property
    def msgs(self) -> list[Message]:
        for m in self.messages:
            if m.meta and "gitBranch" in m.meta:
                m.meta["gitBranch"] = self.branch
        return self.messages


class CodexScript:
    """Codex CLI rollout records, imported by the real Codex importer."""

    agent = "codex"

    def __init__(self, cwd: str = ROOT, branch: str = "main") -> None:
        self.cwd = cwd
        self.records: list[dict[str, Any]] = [
            {"timestamp": "2026-01-01T00:00:00Z", "type": "session_meta",
             "payload": {"id": "s-1", "cwd": cwd, "originator": "codex_cli_rs", "cli_version": "0.44.0",
                         "git": {"branch": branch}}},
            {"timestamp": "2026-01-01T00:00:00Z", "type": "turn_context",
             "payload": {"cwd": cwd, "model": "gpt-5-codex"}}]
        self._n = 0

    def _item(self, payload: dict[str, Any]) -> None:
        self.records.append({"timestamp": "2026-01-01T00:00:01Z", "type": "response_item", "payload": payload})

    def user(self, text: str) -> CodexScript:
        self._item({"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]})
        return self

    def say(self, text: str) -> CodexScript:
        self._item({"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": text}]})
        return self

    def think(self, thought: str, text: str = "") -> CodexScript:
        self._item({"type": "reasoning", "summary": [{"type": "summary_text", "text": thought}], "content": None})
        if text:
            self.say(text)
        return self

    def run(self, command: str, output: str = "", code: int = 0) -> CodexScript:
        self._n += 1
        cid = f"call_{self._n}"
        self._item({"type": "function_call", "name": "shell", "call_id": cid, "arguments": json.dumps(
            {"command": ["bash", "-lc", command], "workdir": self.cwd, "timeout_ms": 120000})})
        self._item({"type": "function_call_output", "call_id": cid, "output": json.dumps(
            {"output": output, "metadata": {"exit_code": code, "duration_seconds": 0.4}})})
        return self

    def pending(self, command: str) -> CodexScript:
        """A shell command whose result the transcript ends before."""
        self._n += 1
        self._item({"type": "function_call", "name": "shell", "call_id": f"call_{self._n}", "arguments": json.dumps(
            {"command": ["bash", "-lc", command], "workdir": self.cwd, "timeout_ms": 120000})})
        return self

    def _patch(self, body: str) -> CodexScript:
        self._n += 1
        cid = f"call_{self._n}"
        self._item({"type": "custom_tool_call", "status": "completed", "call_id": cid, "name": "apply_patch",
                    "input": "*** Begin Patch\n" + body + "*** End Patch\n"})
        self._item({"type": "custom_tool_call_output", "call_id": cid, "output": json.dumps(
            {"output": "Success. Updated the following files:\n", "metadata": {"exit_code": 0}})})
        return self

    def change(self, path: str, old: str, new: str) -> CodexScript:
        minus = "".join(f"-{ln}\n" for ln in old.rstrip("\n").split("\n"))
        plus = "".join(f"+{ln}\n" for ln in new.rstrip("\n").split("\n"))
        return self._patch(f"*** Update File: {path}\n@@\n{minus}{plus}")

    def create(self, path: str, content: str) -> CodexScript:
        return self._patch(f"*** Add File: {path}\n" + "".join(f"+{ln}\n" for ln in content.rstrip("\n").split("\n")))

    def read(self, path: str, content: str = "x = 1\n") -> CodexScript:
        return self.run(f"sed -n '1,200p' {path}", content)

    @property
    def msgs(self) -> list[Message]:
        data = "\n".join(json.dumps(r) for r in self.records).encode()
        messages, _stats, _changes = importing.import_all(io.BytesIO(data), "codex")
        return list(messages)


AGENTS = {"claude": ClaudeScript, "codex": CodexScript}


def start(agent: str, request: str = "Carry on with the work.", branch: str = "main") -> Any:
    """A new transcript of `agent` ("claude" or "codex") that opens with the user's request."""
    return AGENTS[agent](branch=branch).user(request)


def handoff(s: Any, number: int = 2, previous: dict[str, Any] | None = None, **session: Any) -> HandoffDoc:
    """The rule-based handoff of a script, as the product writes it (the session's cwd is known)."""
    rec = {"number": number, "status": "completed", "cwd": s.cwd, **session}
    return build_handoff(project={"name": "proj"}, session=rec, messages=s.msgs, file_changes=[],
                         previous=previous, pins=[], generated_at="2026-01-01T00:00:00Z")


def header(doc: HandoffDoc) -> str:
    """The document's status line (the third line: whether it ended mid-task, and why)."""
    return doc.markdown.split("\n")[2]


def section(md: str, title: str) -> str:
    """The body of the section whose heading starts with `title` ("" when there is none)."""
    head = "\n## " + title
    if head not in md:
        return ""
    return md.split(head, 1)[1].split("\n## ", 1)[0]


def aider_handoff(log: str) -> HandoffDoc:
    """The rule-based handoff of an aider chat log, imported by the real aider importer."""
    messages, _stats, changes = importing.import_all(log.encode(), "aider")
    return build_handoff(project={"name": "p"}, session={"number": 1, "status": "completed"}, messages=messages,
                         file_changes=list(changes), previous=None, pins=[], generated_at="t", fmt="aider")
