"""SWE-agent trajectories (`*.traj`): one JSON object, read whole.

`history` is the conversation the model saw (system prompt, issue, actions, observations);
`trajectory` the steps ({action, observation, thought, response, state}); `info` the outcome
(`exit_status`, the final diff in `submission`, `model_stats` with token counts). We import
`history` (falling back to `trajectory` when a file has none), minus the in-context
demonstration (entries flagged `is_demo`, or a user turn that opens with SWE-agent's
"Here is a demonstration ..." / "--- DEMONSTRATION ---" block): it is a canned example, not
part of the run. Each action becomes a tool call (the SWE-agent command name, or "bash" for a
shell command), the observation that follows its tool result. The submission ends the import
as a role "system" message with meta {"subtype": "submission", "exit_status"}, carrying the run's
token usage; the file-change tracker treats its diff as authoritative.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from ..errors import TranscriptInvalidStructure
from ..model import Message, ToolCall, ToolResult, Usage
from .base import Importer, as_input, head_document, load_document, text_of, to_int

SWE_COMMANDS = frozenset({
    "open", "goto", "scroll_up", "scroll_down", "create", "edit", "insert", "append", "search_dir",
    "search_file", "find_file", "submit", "str_replace_editor", "filemap", "view", "summarize",
    "exit_forfeit", "exit_cost", "exit_context", "exit_error", "skip", "forfeit", "review_on_submit",
})
_TRAJ_KEY = re.compile(r'\A\s*\{[\s\S]{0,4096}?"trajectory"\s*:\s*\[')
_ERROR_MARKERS = ("Your proposed edit has introduced new syntax error", "Traceback (most recent call last)",
                  ": command not found", "Usage: ")


def command_name(action: str) -> str:
    """The SWE-agent command an action runs ("edit", "open", ...), or "bash" for shell commands."""
    first = action.strip().split(None, 1)[0] if action.strip() else ""
    return first if first in SWE_COMMANDS else "bash"


def observation_failed(text: str) -> bool:
    """SWE-agent records no exit codes; flag the failures its observations spell out."""
    head = text[:4000]
    return any(m in head for m in _ERROR_MARKERS) or head.lstrip().startswith(("Error:", "ERROR:"))


def _is_demo(entry: dict[str, Any]) -> bool:
    if entry.get("is_demo"):
        return True
    if entry.get("role") == "user":
        c = text_of(entry.get("content"))
        return c.lstrip().startswith("Here is a demonstration") or "--- DEMONSTRATION ---" in c[:2000]
    return False


class SWEAgentImporter(Importer):
    """SWE-agent `.traj` (whole-document read)."""

    name = "swe-agent"

    @classmethod
    def sniff(cls, head: str) -> float:
        complete, doc = head_document(head)
        if complete:
            ok = isinstance(doc, dict) and isinstance(doc.get("trajectory"), list)
            return 0.95 if ok else 0.0
        return 0.9 if _TRAJ_KEY.search(head) else 0.0

    def parse(self, stream: TextIO | Iterable[str]) -> Iterator[Message]:
        doc = load_document(stream, self.name)
        if not isinstance(doc, dict) or not isinstance(doc.get("trajectory"), list):
            raise TranscriptInvalidStructure("A SWE-agent .traj is a JSON object with a `trajectory` list; this "
                                             "document has none.", format=self.name)
        info = doc.get("info") if isinstance(doc.get("info"), dict) else {}
        if isinstance(doc.get("environment"), str):
            self.info["environment"] = doc["environment"]
        for step in doc["trajectory"]:
            state = step.get("state") if isinstance(step, dict) else None
            if isinstance(state, str):
                try:
                    state = json.loads(state)
                except ValueError:
                    state = None
            if isinstance(state, dict) and state.get("working_dir"):
                self.info["cwd"] = state["working_dir"]
                break
        stats = info.get("model_stats") if isinstance(info.get("model_stats"), dict) else {}
        if isinstance(stats.get("model"), str):
            self.info["model"] = stats["model"]

        history = doc.get("history")
        if isinstance(history, list) and history:
            yield from self._from_history(history)
        else:
            yield from self._from_trajectory(doc["trajectory"])

        usage = Usage(to_int(stats.get("tokens_sent")), to_int(stats.get("tokens_received")))
        submission = info.get("submission")
        exit_status = info.get("exit_status")
        if isinstance(submission, str) and submission.strip():
            yield Message(role="system", text=submission, usage=usage if usage.total else None,
                          meta={"subtype": "submission", "exit_status": exit_status})
        elif exit_status or usage.total:
            yield Message(role="system", text=f"Run ended: {exit_status or 'unknown'}",
                          usage=usage if usage.total else None,
                          meta={"subtype": "run_end", "exit_status": exit_status})

    def _from_history(self, history: list[Any]) -> Iterator[Message]:
        dropped = 0
        awaiting: list[ToolCall] = []  # calls whose observation comes next
        step = 0
        for entry in history:
            if not isinstance(entry, dict):
                continue
            if _is_demo(entry):
                dropped += 1
                continue
            role = entry.get("role")
            text = text_of(entry.get("content"))
            if role == "system":
                yield Message(role="system", text=text)
            elif role == "assistant":
                thought = entry.get("thought")
                calls: list[ToolCall] = []
                for tc in entry.get("tool_calls") or []:
                    if isinstance(tc, dict):
                        fn = tc.get("function") if isinstance(tc.get("function"), dict) else {}
                        calls.append(ToolCall(name=fn.get("name") or "tool", input=as_input(fn.get("arguments")),
                                              id=tc.get("id")))
                action = entry.get("action")
                if not calls and isinstance(action, str) and action.strip():
                    step += 1
                    calls.append(ToolCall(name=command_name(action), input={"command": action.rstrip("\n")},
                                          id=f"step-{step}"))
                awaiting = calls
                body = thought.strip() if isinstance(thought, str) and thought.strip() else text
                yield Message(role="assistant", text=body, tool_calls=calls)
            elif role == "tool" or (role == "user" and awaiting):
                ids = entry.get("tool_call_ids") or [c.id for c in awaiting[:1]]
                call = next((c for c in awaiting if c.id in ids), awaiting[0] if awaiting else None)
                yield Message(role="tool", tool_results=[ToolResult(
                    text=text, tool_call_id=ids[0] if ids else None, name=call.name if call else None,
                    is_error=observation_failed(text))])
                awaiting = []
            elif role == "user":
                yield Message(role="user", text=text)
        self.info["demonstrations_dropped"] = dropped

    def _from_trajectory(self, trajectory: list[Any]) -> Iterator[Message]:
        for i, st in enumerate(trajectory, 1):
            if not isinstance(st, dict):
                continue
            action = st.get("action") if isinstance(st.get("action"), str) else ""
            thought = st.get("thought") if isinstance(st.get("thought"), str) else ""
            calls = [ToolCall(name=command_name(action), input={"command": action.rstrip("\n")}, id=f"step-{i}")] \
                if action.strip() else []
            yield Message(role="assistant", text=thought.strip() or str(st.get("response") or ""), tool_calls=calls)
            obs = st.get("observation")
            if calls and obs is not None:
                text = obs if isinstance(obs, str) else text_of(obs)
                yield Message(role="tool", tool_results=[ToolResult(
                    text=text, tool_call_id=calls[0].id, name=calls[0].name, is_error=observation_failed(text))])
