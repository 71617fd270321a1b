"""Claude Code session transcripts (`~/.claude/projects/<project>/<session>.jsonl`).

One JSON object a line; `type` is user, assistant, system, summary, progress,
file-history-snapshot or queue-operation. We keep user/assistant messages, the compaction
summary (`isCompactSummary` -> role "summary") and the `compact_boundary` system record; we skip
progress (a third of the bytes; dropped before JSON parsing) and snapshots. Messages the person
typed while the agent was busy exist only as `queue-operation` enqueue records: they become user
messages with `meta["queued"]`; queued harness notifications (text starting with `<`) are skipped.

Claude Code writes one line per content block: several assistant lines share one `message.id`.
Consecutive lines of one id are merged into one Message; when tool results interleave (parallel
tool calls) the id continues in a new Message. Token usage is counted once per id: each line
repeats the id's usage (output grows as it streams), so a Message carries only the increase over
what earlier lines of that id already reported. `Usage.input_tokens` is everything the model read
(input + cache creation + cache read, as OpenAI counts cached input inside input); the cache
share is totalled in `info`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from chalicelib.text import clip

from ..model import Message, ToolCall, ToolResult, Usage
from .base import Importer, ModelUsage, head_records, is_injected, iter_json_lines, text_of, to_int

_TYPES = frozenset({"user", "assistant", "system", "summary", "progress", "file-history-snapshot",
                    "queue-operation", "attachment"})
_SKIP_PREFIXES = ('{"type":"file-history-snapshot"', '{"type":"queue-operation","operation":"remove"',
                  '{"type":"queue-operation","operation":"dequeue"')
_KEPT_SYSTEM_SUBTYPES = frozenset({"compact_boundary", "api_error"})


def _skip_line(line: str) -> bool:
    """Drop bulky records before parsing. A progress record has its top-level `"type":"progress"`
    before any `"message":` key; in user/assistant records any nested "type" comes after it."""
    if line.startswith(_SKIP_PREFIXES):
        return True
    i = line.find('"type":"progress"')
    if i < 0:
        return False
    j = line.find('"message":')
    return j < 0 or i < j


def _queued_text(rec: dict[str, Any]) -> str | None:
    """The text of a message the person typed into the queue (harness notifications start with `<`)."""
    if rec.get("operation") != "enqueue":
        return None
    content = rec.get("content")
    if isinstance(content, str) and content.strip() and not content.lstrip().startswith("<"):
        return content
    return None


def patch_counts(hunks: Any) -> tuple[int, int]:
    """(added, removed) lines of a Claude Code `structuredPatch` (hunks of "+x"/"-x"/" x" lines)."""
    added = removed = 0
    if isinstance(hunks, list):
        for h in hunks:
            for ln in (h.get("lines") or []) if isinstance(h, dict) else []:
                if ln.startswith("+"):
                    added += 1
                elif ln.startswith("-"):
                    removed += 1
    return added, removed


def _scalar_fields(d: dict[str, Any], limit: int = 300) -> dict[str, Any]:
    return {k: v for k, v in d.items()
            if isinstance(v, bool | int | float) or (isinstance(v, str) and len(v) <= limit)}


def small_result_data(tur: Any) -> dict[str, Any] | None:
    """The useful, small part of `toolUseResult`: Edit/Write path, kind and line counts (the
    patch itself only when short), Bash stdout/stderr tails and flags, Read/Glob/Grep sizes.
    Whole file contents (`originalFile`, `content`, `file.content`) are dropped: the tool call
    input already holds what was written, and results would otherwise dwarf the conversation."""
    if isinstance(tur, str):
        return {"error": clip(tur, 300)} if tur.strip() else None
    if not isinstance(tur, dict):
        return None
    out: dict[str, Any] = {}
    for k, v in tur.items():
        if k in ("originalFile", "content", "oldString", "newString", "prompt", "usage"):
            continue
        if k == "structuredPatch":
            added, removed = patch_counts(v)
            out["linesAdded"], out["linesRemoved"] = added, removed
            if isinstance(v, list) and sum(len(ln) for h in v if isinstance(h, dict)
                                           for ln in h.get("lines") or ()) <= 2000:
                out["structuredPatch"] = v
        elif k in ("stdout", "stderr"):
            if isinstance(v, str) and v:
                out[k] = clip(v, 1000, tail=True)
        elif k in ("file", "task") and isinstance(v, dict):
            small = _scalar_fields(v)
            if small:
                out[k] = small
        elif k == "filenames" and isinstance(v, list):
            out["filenames"] = [f for f in v[:20] if isinstance(f, str)]
        elif isinstance(v, bool | int | float) or (isinstance(v, str) and len(v) <= 300):
            out[k] = v
    return out or None


def _blocks(content: list[Any]) -> Iterator[tuple[Any, dict[str, Any]]]:
    """(type, block) for each content block that is an object (anything else is skipped)."""
    for b in content:
        if isinstance(b, dict):
            yield b.get("type"), b


class ClaudeCodeImporter(Importer):
    """Claude Code JSONL (streams line by line)."""

    name = "claude-code"

    @classmethod
    def sniff(cls, head: str) -> float:
        recs = head_records(head)
        if recs:
            hits = sum(1 for r in recs if isinstance(r.get("type"), str) and r["type"] in _TYPES
                       and ("sessionId" in r or "uuid" in r or "messageId" in r or "leafUuid" in r))
            if not hits:
                return 0.0
            return 0.95 if hits * 2 >= len(recs) else 0.5
        s = head.lstrip()
        if s.startswith("{") and '"sessionId"' in s and ('"type":"user"' in s or '"type":"assistant"' in s
                                                         or '"type":"progress"' in s):
            return 0.6  # one huge first line: judge by its keys
        return 0.0

    def parse(self, stream: TextIO | Iterable[str]) -> Iterator[Message]:
        info = self.info
        pending: Message | None = None
        pending_id: str | None = None
        seen_usage: OrderedDict[str, tuple[int, int]] = OrderedDict()
        call_names: dict[str, str] = {}
        cache_read = cache_write = 0
        by_model = ModelUsage()
        where: tuple[Any, Any] = (None, None)  # (cwd, gitBranch) last written into a message's meta

        def mark_where(msg: Message, rec: dict[str, Any]) -> None:
            """Record cwd / git branch in meta where they change (first message included), so a
            stored transcript keeps them without repeating them on every message."""
            nonlocal where
            here = (rec.get("cwd"), rec.get("gitBranch"))
            if here != where and isinstance(here[0], str) and here[0]:
                msg.meta["cwd"] = here[0]
                if isinstance(here[1], str) and here[1]:
                    msg.meta["git_branch"] = here[1]
                where = here

        for _lineno, rec in iter_json_lines(stream, self.name, skip=_skip_line):
            rtype = rec.get("type")
            if rtype == "assistant":
                m = rec.get("message")
                if not isinstance(m, dict):
                    continue
                mid = m.get("id") or rec.get("uuid")
                if pending is None or mid != pending_id:
                    if pending is not None:
                        yield pending
                    pending = Message(role="assistant", timestamp=rec.get("timestamp"))
                    pending_id = mid
                    if rec.get("isSidechain"):
                        pending.meta["sidechain"] = True  # a sub-agent's turn written inline
                    if rec.get("isApiErrorMessage"):
                        pending.meta["api_error"] = True
                    mark_where(pending, rec)
                    model = m.get("model")
                    if model and model != "<synthetic>" and "model" not in info:
                        info["model"] = model
                self._add_assistant_blocks(pending, m.get("content"), call_names)
                u = m.get("usage")
                if isinstance(u, dict) and mid:
                    cr = to_int(u.get("cache_read_input_tokens"))
                    cw = to_int(u.get("cache_creation_input_tokens"))
                    tin = to_int(u.get("input_tokens")) + cr + cw
                    tout = to_int(u.get("output_tokens"))
                    prev = seen_usage.get(mid)
                    first = prev is None
                    if first:
                        cache_read += cr
                        cache_write += cw
                        prev = (0, 0)
                    new = (max(prev[0], tin), max(prev[1], tout))
                    by_model.add(m.get("model"), new[0] - prev[0] - (cr + cw if first else 0), new[1] - prev[1],
                                 cr if first else 0, cw if first else 0, prompt=tin)
                    seen_usage[mid] = new
                    seen_usage.move_to_end(mid)
                    if len(seen_usage) > 256:
                        seen_usage.popitem(last=False)
                    din, dout = new[0] - prev[0], new[1] - prev[1]
                    if din or dout:
                        if pending.usage is None:
                            pending.usage = Usage()
                        pending.usage.input_tokens += din
                        pending.usage.output_tokens += dout
                continue

            queued = _queued_text(rec) if rtype == "queue-operation" else None
            if pending is not None and (rtype == "user" or queued or (rtype == "system"
                                                                      and rec.get("subtype") in _KEPT_SYSTEM_SUBTYPES)):
                yield pending  # the assistant turn ends where the next kept record begins
                pending, pending_id = None, None

            if rtype == "user":
                if "cwd" in rec and "cwd" not in info:
                    for k_src, k_dst in (("cwd", "cwd"), ("sessionId", "session_id"), ("gitBranch", "git_branch"),
                                         ("version", "version")):
                        if rec.get(k_src):
                            info[k_dst] = rec[k_src]
                msg = self._user(rec, call_names)
                if msg is not None:
                    if rec.get("isSidechain"):
                        msg.meta["sidechain"] = True
                    mark_where(msg, rec)
                    yield msg
            elif rtype == "system":
                sub = rec.get("subtype")
                if sub in _KEPT_SYSTEM_SUBTYPES:
                    meta: dict[str, Any] = {"subtype": sub}
                    cm = rec.get("compactMetadata")
                    if isinstance(cm, dict):
                        meta.update({k: v for k, v in cm.items() if isinstance(v, str | int | float)})
                    content = rec.get("content")
                    yield Message(role="system", text=content if isinstance(content, str) else "",
                                  timestamp=rec.get("timestamp"), meta=meta)
            elif rtype == "summary" and isinstance(rec.get("summary"), str):
                info.setdefault("title", rec["summary"])
            elif queued:
                # Typed while the agent was busy: Claude Code queues it and records it only here.
                yield Message(role="user", text=queued, timestamp=rec.get("timestamp"), meta={"queued": True})

        if pending is not None:
            yield pending
        if cache_read or cache_write:
            info["cache_read_input_tokens"] = cache_read
            info["cache_creation_input_tokens"] = cache_write
        by_model.into(info)

    @staticmethod
    def _add_assistant_blocks(msg: Message, content: Any, call_names: dict[str, str]) -> None:
        if isinstance(content, str):
            msg.text = f"{msg.text}\n\n{content}" if msg.text else content
            return
        if not isinstance(content, list):
            return
        for bt, b in _blocks(content):
            if bt == "text":
                t = b.get("text") or ""
                if t.strip():
                    msg.text = f"{msg.text}\n\n{t}" if msg.text else t
            elif bt == "thinking":
                t = b.get("thinking") or ""
                if t:
                    msg.thinking = f"{msg.thinking}\n\n{t}" if msg.thinking else t
            elif bt in ("tool_use", "server_tool_use"):
                name = b.get("name") or "tool"
                inp = b.get("input")
                call = ToolCall(name=name, input=inp if isinstance(inp, dict) else {"input": inp}, id=b.get("id"))
                msg.tool_calls.append(call)
                if call.id:
                    call_names[call.id] = name

    def _user(self, rec: dict[str, Any], call_names: dict[str, str]) -> Message | None:
        m = rec.get("message")
        if not isinstance(m, dict):
            return None
        content = m.get("content")
        ts = rec.get("timestamp")
        if rec.get("isCompactSummary"):
            return Message(role="summary", text=text_of(content), timestamp=ts, meta={"subtype": "compact_summary"})
        if isinstance(content, str):
            return Message(role="user", text=content, timestamp=ts,
                           injected=bool(rec.get("isMeta")) or is_injected(content))
        if not isinstance(content, list):
            return None
        texts: list[str] = []
        results: list[ToolResult] = []
        for bt, b in _blocks(content):
            if bt == "text":
                t = b.get("text") or ""
                if t:
                    texts.append(t)
            elif bt == "image":
                texts.append("[image]")
            elif bt == "tool_result":
                tid = b.get("tool_use_id")
                results.append(ToolResult(text=text_of(b.get("content")), tool_call_id=tid,
                                          is_error=bool(b.get("is_error")),
                                          name=call_names.pop(tid, None) if tid else None))
        if results and "toolUseResult" in rec:
            data = small_result_data(rec["toolUseResult"])
            if data:
                results[-1].data = data
        if not texts and not results:
            return None
        text = "\n\n".join(texts)
        if results and not texts:
            return Message(role="tool", tool_results=results, timestamp=ts)
        injected = bool(rec.get("isMeta")) or all(is_injected(t) for t in texts)
        return Message(role="user", text=text, tool_results=results, timestamp=ts, injected=injected)
