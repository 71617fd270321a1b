"""Codex CLI rollouts (`~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl`).

Each line is `{"timestamp", "type", "payload"}` with type session_meta, turn_context,
response_item (the model conversation: message, reasoning, function_call, function_call_output,
custom_tool_call(+_output), local_shell_call, web_search_call), event_msg (UI events:
user_message, agent_message, agent_reasoning, token_count, exec_command_end, ...) or compacted.
Older rollouts (mid 2025) have no envelope: a first line `{"id", "timestamp", "instructions"}`,
then bare response items and `{"record_type": "state"}` lines; both layouts are read.

The conversation comes from response_items; event_msg user/agent messages duplicate them and are
ignored. Consecutive assistant-side items (reasoning, text, tool calls) form one assistant Message;
consecutive tool outputs one "tool" Message. Token usage comes from `token_count` events: the
increase of `total_token_usage` (or `last_token_usage`) is attached to the latest assistant message,
so each token is counted once. `exec_command_end` exit codes mark tool results as errors.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from ..model import Message, ToolCall, ToolResult, Usage
from .base import Importer, ModelUsage, as_input, head_records, is_injected, iter_json_lines, text_of, to_int

_ENVELOPE_TYPES = frozenset({"session_meta", "response_item", "event_msg", "turn_context", "compacted"})
_ITEM_TYPES = frozenset({"message", "reasoning", "function_call", "function_call_output", "custom_tool_call",
                         "custom_tool_call_output", "local_shell_call", "web_search_call"})
_ASSISTANT_ITEMS = frozenset({"reasoning", "function_call", "custom_tool_call", "local_shell_call",
                              "web_search_call"})
_EXIT_CODE = re.compile(r"(?:Exit code|exit_code|Process exited with code)[:=\s]+(-?\d+)")


def _output_text_and_exit(output: Any) -> tuple[str, int | None]:
    """function_call_output.output is a string: JSON {"output", "metadata": {"exit_code"}} in
    most versions, plain text ("Exit code: 1\\nWall time: ...\\nOutput:\\n...") in newer ones."""
    if isinstance(output, dict):
        content = output.get("content")
        text = content if isinstance(content, str) else text_of(content) if content else json.dumps(output)
        ok = output.get("success")
        return text, (None if ok is None else (0 if ok else 1))
    if not isinstance(output, str):
        return text_of(output), None
    s = output.lstrip()
    if s.startswith("{"):
        try:
            obj = json.loads(s)
        except ValueError:
            obj = None
        if isinstance(obj, dict) and "output" in obj:
            meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
            code = meta.get("exit_code")
            return str(obj.get("output") or ""), code if isinstance(code, int) else None
    m = _EXIT_CODE.search(output[:200])
    return output, int(m.group(1)) if m else None


class CodexImporter(Importer):
    """Codex CLI rollout JSONL (streams line by line)."""

    name = "codex"

    @classmethod
    def sniff(cls, head: str) -> float:
        recs = head_records(head)
        if recs:
            env = sum(1 for r in recs if r.get("type") in _ENVELOPE_TYPES and "payload" in r)
            if env:
                return 0.95 if env * 2 >= len(recs) else 0.5
            first = recs[0]
            bare = sum(1 for r in recs if r.get("type") in _ITEM_TYPES or r.get("record_type") == "state")
            if bare and ("instructions" in first or first.get("type") in _ITEM_TYPES):
                return 0.8
            return 0.0
        s = head.lstrip()
        if s.startswith("{") and '"payload"' in s and re.search(r'"type":\s*"(session_meta|response_item)"', s):
            return 0.6
        return 0.0

    def parse(self, stream: TextIO | Iterable[str]) -> Iterator[Message]:
        info = self.info
        pending: Message | None = None
        call_names: dict[str, str] = {}
        exit_codes: dict[str, int] = {}
        last_total: tuple[int, int] | None = None
        carry = Usage()  # usage reported before any assistant message could take it
        by_model, model = ModelUsage(), None
        cached_total: int | None = None  # cumulative cached input (OpenAI counts it inside input)
        cache_read = 0

        def take_usage(msg: Message) -> None:
            nonlocal carry
            if carry.total:
                msg.usage = msg.usage or Usage()
                msg.usage.input_tokens += carry.input_tokens
                msg.usage.output_tokens += carry.output_tokens
                carry = Usage()

        for _lineno, rec in iter_json_lines(stream, self.name):
            rtype = rec.get("type")
            rtype = rtype if isinstance(rtype, str) else None
            ts = rec.get("timestamp")
            ts = ts if isinstance(ts, str) else None
            if rtype in _ENVELOPE_TYPES:
                payload = rec.get("payload")
                if not isinstance(payload, dict):
                    continue
            elif rtype in _ITEM_TYPES:  # legacy layout: the record is the item
                rtype, payload = "response_item", rec
            else:
                if "instructions" in rec and "id" in rec:  # legacy session header
                    info.setdefault("session_id", rec.get("id"))
                continue

            if rtype == "session_meta":
                for k_src, k_dst in (("id", "session_id"), ("cwd", "cwd"), ("cli_version", "version"),
                                     ("originator", "originator")):
                    if payload.get(k_src):
                        info.setdefault(k_dst, payload[k_src])
                git = payload.get("git")
                if isinstance(git, dict) and git.get("branch"):
                    info.setdefault("git_branch", git["branch"])
                continue
            if rtype == "turn_context":
                if payload.get("model"):
                    info.setdefault("model", payload["model"])
                    model = payload["model"]
                if payload.get("cwd"):
                    info.setdefault("cwd", payload["cwd"])
                continue
            if rtype == "compacted":
                if pending is not None:
                    yield pending
                    pending = None
                yield Message(role="summary", text=str(payload.get("message") or ""), timestamp=ts,
                              meta={"subtype": "compacted"})
                continue
            if rtype == "event_msg":
                et = payload.get("type")
                if et == "token_count":
                    tinfo = payload.get("info")
                    delta, last_total = self._usage_delta(tinfo, last_total)
                    cached, cached_total = self._cached_delta(tinfo, cached_total)
                    cache_read += cached
                    if delta is not None:
                        last = tinfo.get("last_token_usage") if isinstance(tinfo, dict) else None
                        by_model.add(model, delta.input_tokens - cached, delta.output_tokens, cached,
                                     prompt=to_int(last.get("input_tokens")) if isinstance(last, dict) else 0)
                    if delta is not None and delta.total:
                        if pending is not None and pending.role == "assistant":
                            pending.usage = pending.usage or Usage()
                            pending.usage.input_tokens += delta.input_tokens
                            pending.usage.output_tokens += delta.output_tokens
                        else:
                            carry.input_tokens += delta.input_tokens
                            carry.output_tokens += delta.output_tokens
                elif et == "exec_command_end":
                    cid, code = payload.get("call_id"), payload.get("exit_code")
                    if isinstance(cid, str) and isinstance(code, int):
                        exit_codes[cid] = code
                        if len(exit_codes) > 256:
                            exit_codes.pop(next(iter(exit_codes)))
                elif et == "turn_aborted":
                    if pending is not None:
                        yield pending
                        pending = None
                    yield Message(role="system", text=f"Turn aborted: {payload.get('reason') or 'interrupted'}",
                                  timestamp=ts, meta={"subtype": "turn_aborted"})
                continue

            # response_item
            it = payload.get("type")
            it = it if isinstance(it, str) else None
            if it == "message":
                role = payload.get("role")
                text = text_of(payload.get("content"))
                if role == "assistant":
                    if pending is None or pending.role != "assistant":
                        if pending is not None:
                            yield pending
                        pending = Message(role="assistant", timestamp=ts)
                        take_usage(pending)
                    if text:
                        pending.text = f"{pending.text}\n\n{text}" if pending.text else text
                    continue
                if pending is not None:
                    yield pending
                    pending = None
                if role in ("user", "developer", "system"):
                    yield Message(role="user" if role == "user" else "system", text=text, timestamp=ts,
                                  injected=role != "user" or is_injected(text)
                                  or text.startswith("# AGENTS.md instructions"))
                continue
            if it in _ASSISTANT_ITEMS:
                if pending is None or pending.role != "assistant":
                    if pending is not None:
                        yield pending
                    pending = Message(role="assistant", timestamp=ts)
                    take_usage(pending)
                if it == "reasoning":
                    parts = [text_of(payload.get("summary"))]
                    if payload.get("content"):
                        parts.append(text_of(payload.get("content")))
                    t = "\n\n".join(p for p in parts if p)
                    if t:
                        pending.thinking = f"{pending.thinking}\n\n{t}" if pending.thinking else t
                else:
                    call = self._call(payload)
                    pending.tool_calls.append(call)
                    if call.id:
                        call_names[call.id] = call.name
                continue
            if it in ("function_call_output", "custom_tool_call_output"):
                if pending is None or pending.role != "tool":
                    if pending is not None:
                        yield pending
                    pending = Message(role="tool", timestamp=ts)
                cid = payload.get("call_id")
                text, code = _output_text_and_exit(payload.get("output"))
                if code is None and cid in exit_codes:
                    code = exit_codes.pop(cid)
                pending.tool_results.append(ToolResult(
                    text=text, tool_call_id=cid, is_error=bool(code), name=call_names.pop(cid, None),
                    data={"exit_code": code} if code is not None else None))
                continue

        if pending is not None:
            if carry.total and pending.role == "assistant":
                take_usage(pending)
            yield pending
        if cache_read:
            info["cache_read_input_tokens"] = cache_read
        by_model.into(info)

    @staticmethod
    def _call(p: dict[str, Any]) -> ToolCall:
        it = p.get("type")
        cid = p.get("call_id") or p.get("id")
        if it == "function_call":
            return ToolCall(name=p.get("name") or "function", input=as_input(p.get("arguments")), id=cid)
        if it == "custom_tool_call":  # e.g. apply_patch with the patch as free text
            inp = p.get("input")
            return ToolCall(name=p.get("name") or "custom_tool", input=as_input(inp) if not isinstance(inp, str)
                            else {"input": inp}, id=cid)
        if it == "local_shell_call":
            action = p.get("action") if isinstance(p.get("action"), dict) else {}
            return ToolCall(name="local_shell", input={k: v for k, v in action.items() if k != "type"}, id=cid)
        action = p.get("action") if isinstance(p.get("action"), dict) else {}
        return ToolCall(name="web_search", input={k: v for k, v in action.items() if k != "type"}, id=cid)

    @staticmethod
    def _cached_delta(tinfo: Any, last: int | None) -> tuple[int, int | None]:
        """Cached input tokens added since the previous token_count (cumulative, like the totals)."""
        total = tinfo.get("total_token_usage") if isinstance(tinfo, dict) else None
        if not isinstance(total, dict):
            return 0, last
        cur = to_int(total.get("cached_input_tokens"))
        return (cur if last is None or cur < last else cur - last), cur

    @staticmethod
    def _usage_delta(tinfo: Any, last_total: tuple[int, int] | None) -> tuple[Usage | None, tuple[int, int] | None]:
        """Usage added since the previous token_count. Totals are cumulative per session; a total
        that goes down (a resumed session) starts a new count."""
        if not isinstance(tinfo, dict):
            return None, last_total
        total = tinfo.get("total_token_usage")
        if isinstance(total, dict):
            cur = (to_int(total.get("input_tokens")), to_int(total.get("output_tokens")))
            reset = last_total is None or cur[0] < last_total[0] or cur[1] < last_total[1]
            prev = (0, 0) if reset else last_total
            return Usage(cur[0] - prev[0], cur[1] - prev[1]), cur
        last = tinfo.get("last_token_usage")
        if isinstance(last, dict):
            return Usage(to_int(last.get("input_tokens")), to_int(last.get("output_tokens"))), last_total
        return None, last_total
