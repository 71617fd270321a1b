"""ShareGPT-style conversations: `{"conversations": [{"from": "human", "value": "..."}]}`.

A single object, a list of such objects, or JSONL with one per line. Reads the whole document.
`from` maps human/user -> user, gpt/assistant/chatgpt/bard/bing/model -> assistant, system ->
system, tool/observation/function_response/ipython -> tool results; `function_call` turns
(value `{"name", "arguments"}`) become tool calls. With several conversations, `conversation=`
selects one by `id` (or its 0-based index); without it the first is used and `info` says so.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from ..errors import TranscriptConversationNotFound, TranscriptEmpty, TranscriptInvalidStructure
from ..model import Message, ToolCall, ToolResult
from .base import (
    Importer,
    as_input,
    head_document,
    head_records,
    is_injected,
    load_document,
    parse_json_string,
)

_USER = frozenset({"human", "user", "prompter"})
_ASSISTANT = frozenset({"gpt", "assistant", "chatgpt", "bard", "bing", "model", "bot", "claude", "ai"})
_TOOL = frozenset({"tool", "observation", "function_response", "ipython", "function_result"})
_SIGNATURE = re.compile(r'"conversations"\s*:\s*\[\s*\{[^{}]{0,200}?"(from|value)"\s*:')


def _convs_of(doc: Any) -> list[dict[str, Any]]:
    if isinstance(doc, dict) and isinstance(doc.get("conversations"), list):
        return [doc]
    if isinstance(doc, list):
        return [c for c in doc if isinstance(c, dict) and isinstance(c.get("conversations"), list)]
    return []


class ShareGPTImporter(Importer):
    """ShareGPT conversations (whole-document read)."""

    name = "sharegpt"
    multi_conversation = True

    @classmethod
    def sniff(cls, head: str) -> float:
        complete, doc = head_document(head)
        if complete:
            return 0.9 if _convs_of(doc) else 0.0
        recs = head_records(head)
        if recs:
            return 0.85 if all(isinstance(r.get("conversations"), list) for r in recs) else 0.0
        return 0.85 if _SIGNATURE.search(head) else 0.0

    def parse(self, stream: TextIO | Iterable[str]) -> Iterator[Message]:
        doc: Any = load_document(stream, self.name, allow_jsonl=True)
        convs = _convs_of(doc)
        if not convs:
            raise TranscriptEmpty("No ShareGPT conversation found (expected objects with a `conversations` "
                                  "list of {from, value}).", format=self.name)
        conv = self._select(convs)
        self.info["conversation"] = {"id": conv.get("id"), "index": convs.index(conv)}
        self.info["conversations_in_file"] = len(convs)
        last_call = None
        for i, turn in enumerate(conv["conversations"]):
            if not isinstance(turn, dict):
                raise TranscriptInvalidStructure(f"Turn {i + 1} of the ShareGPT conversation is not an object.",
                                                 format=self.name)
            msg = self._turn(turn, i)
            if msg is None:
                continue
            if msg.tool_calls:
                last_call = msg.tool_calls[-1]
            for r in msg.tool_results:  # an observation answers the call just before it
                if last_call is not None:
                    r.tool_call_id = r.tool_call_id or last_call.id
                    r.name = r.name or last_call.name
            if msg.role != "tool":
                last_call = last_call if msg.tool_calls else None
            yield msg

    def _select(self, convs: list[dict[str, Any]]) -> dict[str, Any]:
        want = self.conversation
        if not want:
            return convs[0]
        for c in convs:
            if str(c.get("id")) == want:
                return c
        if want.isdigit() and int(want) < len(convs):
            return convs[int(want)]
        raise TranscriptConversationNotFound(
            f"No conversation with id {want!r} (or index) among the {len(convs)} in this file; ids: "
            + ", ".join(str(c.get("id")) for c in convs[:10]) + ".", format=self.name)

    @staticmethod
    def _turn(turn: dict[str, Any], i: int) -> Message | None:
        who = str(turn.get("from") or turn.get("role") or "").lower()
        value = turn.get("value", turn.get("content"))
        text = value if isinstance(value, str) else json.dumps(value) if value is not None else ""
        if who in _USER:
            return Message(role="user", text=text, injected=is_injected(text))
        if who in _ASSISTANT:
            return Message(role="assistant", text=text)
        if who == "system":
            return Message(role="system", text=text)
        if who in ("function_call", "tool_call"):
            calls = []
            payload = parse_json_string(text)
            items = payload if isinstance(payload, list) else [payload]
            for it in items:
                name = it.get("name") if isinstance(it, dict) else None
                args = it.get("arguments", it.get("parameters")) if isinstance(it, dict) else None
                calls.append(ToolCall(name=name or "function", input=as_input(args) if args is not None else {},
                                      id=f"turn-{i}"))
            return Message(role="assistant", tool_calls=calls)
        if who in _TOOL:
            return Message(role="tool", tool_results=[ToolResult(text=text, name=turn.get("name"))])
        if not text:
            return None
        return Message(role="user", text=text, meta={"from": who})
