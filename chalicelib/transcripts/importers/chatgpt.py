"""ChatGPT data export (`conversations.json`), or one conversation object from it.

Reads the whole document (it is one JSON value; exports are a few MB to a few hundred MB).
A conversation is a tree (`mapping` {node_id: {message, parent, children}}) because edits and
regenerations branch it; we walk the active branch from `current_node` up to the root and
reverse it.

Several conversations in one file: `conversation=` picks one by id or by exact title
(case-insensitive); without it we take the most recently updated one (`update_time`, then
`create_time`), so the common "export, upload" flow works, and record which one in `info`
(`conversation`, `conversations_in_file`). An unknown `conversation=` raises
TranscriptConversationNotFound listing some choices.

Assistant messages addressed to a tool (`recipient` != "all", e.g. "python", "web.run") become
tool calls; `tool` messages become tool results; `thoughts` become thinking; hidden system
messages and zero-weight (abandoned) nodes are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, TextIO

from ..errors import TranscriptConversationNotFound, TranscriptEmpty, TranscriptInvalidStructure
from ..model import Message, ToolCall, ToolResult
from .base import Importer, as_input, load_document

_MAPPING = re.compile(r'"mapping"\s*:\s*\{')


def iso(ts: Any) -> str | None:
    """Epoch seconds (ChatGPT's float timestamps) as ISO 8601 UTC; strings pass through."""
    if isinstance(ts, int | float) and ts > 0:
        return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")
    return ts if isinstance(ts, str) else None


def _parts_text(content: dict[str, Any]) -> str:
    ct = content.get("content_type")
    if ct in ("text", "multimodal_text"):
        out: list[str] = []
        for p in content.get("parts") or []:
            if isinstance(p, str):
                if p:
                    out.append(p)
            elif isinstance(p, dict):
                if isinstance(p.get("text"), str):
                    out.append(p["text"])
                elif "image" in str(p.get("content_type", "")):
                    out.append("[image]")
        return "\n".join(out)
    if ct in ("code", "execution_output", "tether_quote", "system_error", "computer_output"):
        return str(content.get("text") or "")
    if ct == "tether_browsing_display":
        return str(content.get("result") or content.get("summary") or "")
    if ct == "user_editable_context":
        return "\n\n".join(str(content.get(k)) for k in ("user_profile", "user_instructions") if content.get(k))
    if isinstance(content.get("text"), str):
        return content["text"]
    if isinstance(content.get("parts"), list):
        return "\n".join(p for p in content["parts"] if isinstance(p, str))
    return ""


def _thoughts(content: dict[str, Any]) -> str:
    out = []
    for t in content.get("thoughts") or []:
        if isinstance(t, dict):
            out.append("\n".join(str(t[k]) for k in ("summary", "content") if t.get(k)))
    return "\n\n".join(o for o in out if o)


class ChatGPTImporter(Importer):
    """ChatGPT `conversations.json` (whole-document read)."""

    name = "chatgpt"
    multi_conversation = True

    @classmethod
    def sniff(cls, head: str) -> float:
        s = head.lstrip()
        if not s.startswith(("[", "{")) or not _MAPPING.search(head):
            return 0.0
        return 0.9 if ('"current_node"' in head or '"children"' in head or '"parent"' in head) else 0.6

    def parse(self, stream: TextIO | Iterable[str]) -> Iterator[Message]:
        doc = load_document(stream, self.name)
        conv = self._select(doc)
        mapping = conv.get("mapping")
        if not isinstance(mapping, dict):
            raise TranscriptInvalidStructure("The ChatGPT conversation has no `mapping` object; upload "
                                             "conversations.json from the ChatGPT data export.", format=self.name)
        self.info["conversation"] = {"id": conv.get("conversation_id") or conv.get("id"), "title": conv.get("title")}
        if conv.get("default_model_slug"):
            self.info["model"] = conv["default_model_slug"]

        branch = self._active_branch(conv, mapping)
        pending: Message | None = None
        last_call: dict[str, str] = {}
        for node in branch:
            msg = node.get("message") if isinstance(node, dict) else None
            if not isinstance(msg, dict):
                continue
            out = self._convert(msg, last_call)
            if out is None:
                continue
            if out.role == "assistant" and pending is not None and pending.role == "assistant":
                pending.text = "\n\n".join(t for t in (pending.text, out.text) if t)
                pending.thinking = "\n\n".join(t for t in (pending.thinking, out.thinking) if t)
                pending.tool_calls.extend(out.tool_calls)
                continue
            if pending is not None:
                yield pending
            pending = out
        if pending is not None:
            yield pending

    def _select(self, doc: Any) -> dict[str, Any]:
        if isinstance(doc, dict):
            convs = [doc]
        elif isinstance(doc, list):
            convs = [c for c in doc if isinstance(c, dict) and "mapping" in c]
        else:
            convs = []
        if not convs:
            raise TranscriptEmpty("The ChatGPT export holds no conversation (expected a list of objects with "
                                  "`mapping`).", format=self.name)
        self.info["conversations_in_file"] = len(convs)
        want = self.conversation
        if want:
            wl = want.strip().lower()
            for c in convs:
                if want in (c.get("id"), c.get("conversation_id")) or str(c.get("title") or "").strip().lower() == wl:
                    return c
            choices = [f"{c.get('conversation_id') or c.get('id')} ({c.get('title') or 'untitled'})" for c in convs[:10]]
            more = f" and {len(convs) - 10} more" if len(convs) > 10 else ""
            raise TranscriptConversationNotFound(
                f"No conversation with id or title {want!r} in this export; it holds {len(convs)}: "
                + "; ".join(choices) + more + ".", format=self.name,
                details={"choices": [c.get("conversation_id") or c.get("id") for c in convs[:50]]})
        if len(convs) == 1:
            return convs[0]

        def recency(c: dict[str, Any]) -> float:
            for k in ("update_time", "create_time"):
                v = c.get(k)
                if isinstance(v, int | float):
                    return float(v)
            return 0.0

        return max(convs, key=recency)

    @staticmethod
    def _active_branch(conv: dict[str, Any], mapping: dict[str, Any]) -> list[dict[str, Any]]:
        cur = conv.get("current_node")
        if cur not in mapping:
            # No pointer: follow the last child from the root (the most recent branch).
            roots = [k for k, n in mapping.items() if isinstance(n, dict) and not n.get("parent")]
            cur = roots[0] if roots else next(iter(mapping), None)
            while cur in mapping and (mapping[cur].get("children") or []):
                cur = mapping[cur]["children"][-1]
        branch: list[dict[str, Any]] = []
        seen: set[str] = set()
        while cur in mapping and cur not in seen:
            seen.add(cur)
            node = mapping[cur]
            branch.append(node)
            cur = node.get("parent") if isinstance(node, dict) else None
        branch.reverse()
        return branch

    def _convert(self, msg: dict[str, Any], last_call: dict[str, str]) -> Message | None:
        author = msg.get("author") if isinstance(msg.get("author"), dict) else {}
        role = author.get("role")
        content = msg.get("content") if isinstance(msg.get("content"), dict) else {}
        meta = msg.get("metadata") if isinstance(msg.get("metadata"), dict) else {}
        if msg.get("weight") == 0 or meta.get("is_visually_hidden_from_conversation"):
            return None
        ts = iso(msg.get("create_time"))
        ct = content.get("content_type")
        if role == "assistant" and meta.get("model_slug") and "model" not in self.info:
            self.info["model"] = meta["model_slug"]
        if role in ("system", "user") and ct == "user_editable_context":
            text = _parts_text(content)
            return Message(role="system", text=text, timestamp=ts, injected=True) if text else None
        if role == "system":
            text = _parts_text(content)
            return Message(role="system", text=text, timestamp=ts) if text.strip() else None
        if role == "user":
            text = _parts_text(content)
            return Message(role="user", text=text, timestamp=ts) if text.strip() else None
        if role == "assistant":
            if ct == "thoughts":
                t = _thoughts(content)
                return Message(role="assistant", thinking=t, timestamp=ts) if t else None
            if ct == "reasoning_recap":
                return None
            text = _parts_text(content)
            recipient = msg.get("recipient") or "all"
            if recipient != "all":
                cid = str(msg.get("id") or "")
                last_call[recipient] = cid
                inp = {"code": text} if ct == "code" else as_input(text)
                return Message(role="assistant", tool_calls=[ToolCall(name=recipient, input=inp, id=cid or None)],
                               timestamp=ts)
            return Message(role="assistant", text=text, timestamp=ts) if text.strip() else None
        if role == "tool":
            name = author.get("name") or "tool"
            text = _parts_text(content)
            agg = meta.get("aggregate_result") if isinstance(meta.get("aggregate_result"), dict) else {}
            status = agg.get("status")
            is_error = ct == "system_error" or (status is not None and status != "success")
            cid = last_call.get(name) or next((v for k, v in last_call.items() if name.startswith(k)), None)
            return Message(role="tool", timestamp=ts, tool_results=[
                ToolResult(text=text, tool_call_id=cid, is_error=is_error, name=name)])
        return None
