"""OpenAI chat-completions style messages (what most agent frameworks and API logs store).

Accepted shapes: a JSON array of messages; an object with `messages` (a request body or a saved
run, optionally with `choices`/`response` holding the final answer and `usage`); or JSONL with one
message per line. Reads the whole document (one JSON value; JSONL too, to tell the shapes apart).

Messages: `role` user/assistant/system/developer/tool/function, `content` a string or a list of
parts, assistant `tool_calls` [{id, type: function, function: {name, arguments (JSON string)}}]
(and the legacy `function_call`), tool results as role "tool" with `tool_call_id`. Anthropic
Messages API content blocks (text/thinking/tool_use/tool_result) are understood too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from ..errors import TranscriptInvalidStructure
from ..model import Message, ToolCall, ToolResult, Usage
from .base import Importer, as_input, head_document, head_records, is_injected, load_document, text_of, to_int

_ROLES = frozenset({"user", "assistant", "system", "developer", "tool", "function"})
_LIST_START = re.compile(r"\A\s*\[\s*\{")
_ROLE_KEY = re.compile(r'"role"\s*:\s*"(user|assistant|system|developer|tool)"')
_MESSAGES_KEY = re.compile(r'\A\s*\{[\s\S]{0,2000}?"messages"\s*:\s*\[\s*\{')


def _is_messages(value: Any) -> bool:
    return (isinstance(value, list) and bool(value)
            and all(isinstance(m, dict) and m.get("role") in _ROLES for m in value[:50]))


class OpenAIImporter(Importer):
    """OpenAI-style message arrays (whole-document read)."""

    name = "openai"

    @classmethod
    def sniff(cls, head: str) -> float:
        complete, doc = head_document(head)
        if complete:
            if _is_messages(doc):
                return 0.8
            if isinstance(doc, dict) and _is_messages(doc.get("messages")):
                return 0.8
            return 0.0
        recs = head_records(head)
        if recs and all(r.get("role") in _ROLES and ("content" in r or "tool_calls" in r) for r in recs):
            return 0.6  # JSONL, one message a line
        if recs:
            return 0.0
        if '"mapping"' in head or '"conversations"' in head or '"trajectory"' in head:
            return 0.0
        if _MESSAGES_KEY.search(head):
            return 0.6
        if _LIST_START.match(head) and _ROLE_KEY.search(head, 0, 8192):
            return 0.5  # a large array of messages: the first ones carry roles
        return 0.0

    def parse(self, stream: TextIO | Iterable[str]) -> Iterator[Message]:
        doc: Any = load_document(stream, self.name, allow_jsonl=True)
        final_usage: Usage | None = None
        if isinstance(doc, dict):
            if isinstance(doc.get("model"), str):
                self.info["model"] = doc["model"]
            messages = doc.get("messages")
            response = doc.get("response") if isinstance(doc.get("response"), dict) else doc
            choices = response.get("choices")
            if isinstance(messages, list) and isinstance(choices, list):
                messages = messages + [c["message"] for c in choices
                                       if isinstance(c, dict) and isinstance(c.get("message"), dict)]
            u = response.get("usage")
            if isinstance(u, dict):
                final_usage = Usage(to_int(u.get("prompt_tokens") or u.get("input_tokens")),
                                    to_int(u.get("completion_tokens") or u.get("output_tokens")))
        else:
            messages = doc
        if not isinstance(messages, list):
            raise TranscriptInvalidStructure(
                "Expected a JSON array of chat messages ({role, content}) or an object with `messages`.",
                format=self.name)

        call_names: dict[str, str] = {}
        out: list[Message] = []  # the document is in memory anyway; merge consecutive tool messages
        for i, m in enumerate(messages):
            if not isinstance(m, dict) or m.get("role") not in _ROLES:
                raise TranscriptInvalidStructure(
                    f"Message {i + 1} is not a chat message (needs a `role` among {', '.join(sorted(_ROLES))}).",
                    format=self.name)
            for msg in self._convert(m, call_names):
                if msg.role == "tool" and out and out[-1].role == "tool":
                    out[-1].tool_results.extend(msg.tool_results)
                else:
                    out.append(msg)
        if final_usage is not None and final_usage.total:
            last = next((m for m in reversed(out) if m.role == "assistant"), None)
            if last is not None and last.usage is None:
                last.usage = final_usage
        yield from out

    @staticmethod
    def _convert(m: dict[str, Any], call_names: dict[str, str]) -> Iterator[Message]:
        role = m["role"]
        content = m.get("content")
        ts = m.get("timestamp") or m.get("created_at")
        ts = ts if isinstance(ts, str) else None
        if role in ("tool", "function"):
            cid = m.get("tool_call_id")
            name = m.get("name") or (call_names.get(cid) if cid else None)
            yield Message(role="tool", timestamp=ts, tool_results=[
                ToolResult(text=text_of(content), tool_call_id=cid, name=name, is_error=bool(m.get("is_error")))])
            return
        text_parts: list[str] = []
        thinking: list[str] = []
        calls: list[ToolCall] = []
        results: list[ToolResult] = []
        if isinstance(content, list):
            for b in content:
                bt = b.get("type") if isinstance(b, dict) else None
                if bt == "tool_use":
                    calls.append(ToolCall(name=b.get("name") or "tool", input=as_input(b.get("input")), id=b.get("id")))
                elif bt == "tool_result":
                    tid = b.get("tool_use_id")
                    results.append(ToolResult(text=text_of(b.get("content")), tool_call_id=tid,
                                              is_error=bool(b.get("is_error")), name=call_names.get(tid or "")))
                elif bt in ("thinking", "reasoning"):
                    thinking.append(str(b.get("thinking") or b.get("text") or ""))
                else:
                    t = text_of([b])
                    if t:
                        text_parts.append(t)
        else:
            t = text_of(content)
            if t:
                text_parts.append(t)
        for tc in m.get("tool_calls") or []:
            if not isinstance(tc, dict):
                continue
            fn = tc.get("function") if isinstance(tc.get("function"), dict) else {}
            name = fn.get("name") or tc.get("name") or "function"
            calls.append(ToolCall(name=name, input=as_input(fn.get("arguments", tc.get("arguments"))), id=tc.get("id")))
        fc = m.get("function_call")
        if isinstance(fc, dict) and fc.get("name"):
            calls.append(ToolCall(name=fc["name"], input=as_input(fc.get("arguments"))))
        for c in calls:
            if c.id:
                call_names[c.id] = c.name
        if isinstance(m.get("reasoning_content"), str):
            thinking.append(m["reasoning_content"])
        text = "\n".join(text_parts)
        if results and role == "user" and not text:
            yield Message(role="tool", tool_results=results, timestamp=ts)
            return
        out_role = "system" if role == "developer" else role
        usage = None
        u = m.get("usage")
        if isinstance(u, dict):
            usage = Usage(to_int(u.get("prompt_tokens") or u.get("input_tokens")),
                          to_int(u.get("completion_tokens") or u.get("output_tokens")))
        if not text and not calls and not thinking and not results:
            return
        yield Message(role=out_role, text=text, tool_calls=calls, tool_results=results, timestamp=ts,
                      thinking="\n\n".join(t for t in thinking if t), usage=usage,
                      injected=role == "user" and is_injected(text))
