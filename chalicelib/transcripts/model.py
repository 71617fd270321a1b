"""The one message model every importer produces.

Importers turn whatever a tool wrote (Claude Code JSONL, Codex rollouts, ChatGPT exports, ...)
into a stream of `Message` objects; everything downstream (storage, handoffs, the UI) only
knows this model. Plain dataclasses keep it cheap to build millions of them and trivial to
serialize (`to_dict` / `from_dict` round-trip exactly).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["user", "assistant", "system", "tool", "summary"]
ROLES: tuple[str, ...] = ("user", "assistant", "system", "tool", "summary")


@dataclass
class ToolCall:
    """A tool the assistant asked to run: `name` plus its `input` (JSON-like)."""

    name: str
    input: dict[str, Any] = field(default_factory=dict)
    id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "input": self.input}
        if self.id:
            d["id"] = self.id
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ToolCall:
        return cls(name=d["name"], input=d.get("input") or {}, id=d.get("id"))


@dataclass
class ToolResult:
    """The output of a tool call; `is_error` marks failures (non-zero exit, tool error)."""

    text: str
    tool_call_id: str | None = None
    is_error: bool = False
    name: str | None = None  # tool name when the format states it (or it was resolved from the call)
    data: dict[str, Any] | None = None  # structured result when the tool gives one (e.g. Edit patch)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"text": self.text, "is_error": self.is_error}
        if self.tool_call_id:
            d["tool_call_id"] = self.tool_call_id
        if self.name:
            d["name"] = self.name
        if self.data:
            d["data"] = self.data
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ToolResult:
        return cls(
            text=d.get("text", ""),
            tool_call_id=d.get("tool_call_id"),
            is_error=bool(d.get("is_error", False)),
            name=d.get("name"),
            data=d.get("data"),
        )


@dataclass
class Usage:
    """Token usage reported by the tool for one message (0 when unknown)."""

    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def total(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass
class Message:
    """One normalized message.

    `role` is one of ROLES; `summary` marks a context-compaction summary (Claude Code's
    `isCompactSummary`), `tool` a message that only carries tool results.
    `injected` marks user-role text written by the harness, not typed by a person.
    `thinking` holds the model's visible reasoning when the format records it.
    """

    role: Role
    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_results: list[ToolResult] = field(default_factory=list)
    timestamp: str | None = None  # ISO 8601 as the tool wrote it
    usage: Usage | None = None
    injected: bool = False
    thinking: str = ""
    meta: dict[str, Any] = field(default_factory=dict)  # small format-specific extras (e.g. subtype)

    def chars(self) -> int:
        """Characters of content, used for size budgets and stats."""
        n = len(self.text) + len(self.thinking)
        for c in self.tool_calls:
            n += len(c.name) + sum(len(str(v)) for v in c.input.values())
        for r in self.tool_results:
            n += len(r.text)
        return n

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"role": self.role, "text": self.text}
        if self.tool_calls:
            d["tool_calls"] = [c.to_dict() for c in self.tool_calls]
        if self.tool_results:
            d["tool_results"] = [r.to_dict() for r in self.tool_results]
        if self.timestamp:
            d["timestamp"] = self.timestamp
        if self.usage and self.usage.total:
            d["usage"] = {"input_tokens": self.usage.input_tokens, "output_tokens": self.usage.output_tokens}
        if self.injected:
            d["injected"] = True
        if self.thinking:
            d["thinking"] = self.thinking
        if self.meta:
            d["meta"] = self.meta
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Message:
        u = d.get("usage")
        return cls(
            role=d["role"],
            text=d.get("text", ""),
            tool_calls=[ToolCall.from_dict(c) for c in d.get("tool_calls", [])],
            tool_results=[ToolResult.from_dict(r) for r in d.get("tool_results", [])],
            timestamp=d.get("timestamp"),
            usage=Usage(u.get("input_tokens", 0), u.get("output_tokens", 0)) if u else None,
            injected=bool(d.get("injected", False)),
            thinking=d.get("thinking", ""),
            meta=d.get("meta") or {},
        )


@dataclass
class FileChange:
    """A change to one file in a session: from edit tool calls, `git diff --numstat`, or posted."""

    path: str
    kind: Literal["added", "modified", "deleted", "renamed"] = "modified"
    lines_added: int | None = 0  # None for binary files (numstat shows "-")
    lines_removed: int | None = 0
    summary: str = ""
    old_path: str | None = None  # for renames
    source: str = "transcript"  # transcript | numstat | api

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "path": self.path,
            "kind": self.kind,
            "lines_added": self.lines_added,
            "lines_removed": self.lines_removed,
            "summary": self.summary,
            "source": self.source,
        }
        if self.old_path:
            d["old_path"] = self.old_path
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FileChange:
        return cls(
            path=d["path"],
            kind=d.get("kind", "modified"),
            lines_added=d.get("lines_added", 0),
            lines_removed=d.get("lines_removed", 0),
            summary=d.get("summary", ""),
            old_path=d.get("old_path"),
            source=d.get("source", "api"),
        )
