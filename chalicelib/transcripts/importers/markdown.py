"""Markdown chat exports with role headings: SpecStory (`_**User**_`, `_**Assistant**_`,
`_**Agent (model ...)**_`), Claude Code exporters' emoji headings (`### 👤 User`,
`### 🤖 Assistant (model-name)`, a `*2025-07-14 09:12:40*` line under them, `<details>` blocks for
tool calls, results and thinking), ChatGPT exporters (`#### You:` / `#### ChatGPT:`,
`**You:**` / `**ChatGPT:**`), and the common `## User` / `### Assistant` / `**User:** text` styles.

Read line by line. A role marker starts a message; markers inside code fences are ignored;
`---` separators around messages and HTML comments are dropped; the first `# Title` before any
message goes to `info["title"]`; other prose before the first marker is dropped. A timestamp
in the marker's parentheses (SpecStory: `_**User (2025-06-01 10:00Z)**_`), after it
(`## 🤖 Claude — 2025-07-14T09:12:44Z`) or alone on the message's first line becomes the message's.
SpecStory tool blocks (`<summary>Tool use: **name**</summary>`, `data-tool-name="name"`) add a
tool call with that name (input unknown: SpecStory does not export it reliably). Exporters'
`<details>` blocks whose summary says `Tool: Name` become a tool call (its JSON body the input),
`Tool result` / `Output` a tool result, `Thinking` the message's thinking; they leave the text.
Exporters that write `🔧 Tool Use: Name` (its fenced JSON the input) and `📊 Tool Result:` (its
fenced output; `(error)` marks a failure) lines do the same: a message left with only results is a
`tool` message, never something the user said. A time line that closes a message (after its
content) is that message's time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import TextIO

from ..limits import BoundedLines
from ..model import Message, ToolCall, ToolResult
from .base import Importer, is_injected

_USER_WORDS = r"User|Human|You|Me|Prompt"
_ASSISTANT_WORDS = (r"Assistant|AI|Agent|Model|ChatGPT|GPT[-\w.]*|Claude[-\w.]*|Gemini[-\w.]*|Copilot|Cursor"
                    r"|Bot|Response")
_ROLE = rf"(?P<role>{_USER_WORDS}|{_ASSISTANT_WORDS}|System)"
_SUFFIX = r"(?:\s*\((?P<paren>[^)]*)\))?"
# Emoji before the role word (👤, 🤖, 🧑‍💻 with joiners and variation selectors): symbols only.
_EMOJI = r"(?:[^\w\s*_#()\[\]<>`'\"]{1,12}\s*)?"
# A time after the marker: `— 2025-07-14T09:12:44Z`, `· 10:00`, `| 2025-07-14 09:12`
_WHEN = r"(?:\s*[-—–·|@,]\s*(?P<when>\d{4}-\d{2}-\d{2}[ T][\d:.]+\s*(?:Z|[+-]\d{2}:?\d{2}|UTC)?))?"
_MARKERS = (
    re.compile(rf"^_\*\*{_ROLE}{_SUFFIX}\*\*_\s*:?\s*$"),                      # SpecStory
    re.compile(rf"^#{{1,6}}\s+{_EMOJI}(?:\*\*|_)?{_ROLE}{_SUFFIX}(?:\*\*|_)?{_SUFFIX.replace('paren', 'paren2')}"
               rf"{_WHEN}\s*:?\s*$"),                                             # ## User, ### 👤 User
    re.compile(rf"^\*\*{_ROLE}{_SUFFIX}:?\*\*:?[ \t]*(?P<rest>.*)$"),          # **User:** text
)
# A line holding only a time, first in a message: `*2025-07-14 09:12:40*`, `_Timestamp: ..._`
_TIME_LINE = re.compile(r"^\s*(?:[^\w\s*_]{1,4}\s*)?[*_]*\s*(?:(?:time(?:stamp)?|date|at)\s*:\s*)?[*_]*\s*"
                        r"(?P<ts>\d{4}-\d{2}-\d{2}[ T]\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)"
                        r"\s*(?:UTC)?\s*[*_]*\s*$", re.I)
_DETAILS = re.compile(r"<details[^>]*>\s*<summary[^>]*>(?P<summary>.*?)</summary>(?P<body>.*?)</details>",
                      re.S | re.I)
_TOOL_SUMMARY = re.compile(r"(?i)\btool(?:\s*(?:use|call))?\s*[:\-–]\s*\**`?(?P<name>[A-Za-z_][\w.:-]*)")
_RESULT_SUMMARY = re.compile(r"(?i)\b(?:result|output)\b")
_THINKING_SUMMARY = re.compile(r"(?i)\b(?:thinking|reasoning|thoughts?)\b")
_BODY_FENCE = re.compile(r"\A\s*(```|~~~)[\w+-]*[ \t]*\n(?P<inner>.*?)\n?\1\s*\Z", re.S)
_FENCE = re.compile(r"^\s*(```|~~~)")
_TOOL_USE = re.compile(r"Tool use: \*\*([\w.:-]+)\*\*|data-tool-name=\"([\w.:-]+)\"")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?")
_SEPARATOR = re.compile(r"^\s*(-{3,}|\*{3,}|_{3,})\s*$")
# `**🔧 Tool Use: Bash**`, `🔧 Tool Use: mcp__github__get_issue (toolu_01…)`, `**📊 Tool Result (error):**`
_TOOL_USE_LINE = re.compile(r"^\s*[*_]*\s*🔧\s*Tool\s+Use\s*:\s*[*_`]*(?P<name>[A-Za-z_][\w.:-]*)[*_`]*"
                            r"(?:\s*\((?P<id>[^)]*)\))?\s*[*_:]*\s*$")
_TOOL_RESULT_LINE = re.compile(r"^\s*[*_]*\s*📊\s*Tool\s+Result(?P<err>\s*\((?:error|failed)\))?\s*:?\s*[*_:]*\s*$",
                               re.I)


_USER_RE = re.compile(_USER_WORDS, re.I)


def role_of(word: str) -> str:
    """The model role a marker word stands for ("Human" -> user, "Claude" -> assistant)."""
    if _USER_RE.fullmatch(word):
        return "user"
    if word.lower() == "system":
        return "system"
    return "assistant"


def match_marker(line: str) -> re.Match[str] | None:
    """The role-marker match for `line`, or None (cheap first-character test before any regex)."""
    if not line or line[0] not in "_#*":
        return None
    for rx in _MARKERS:
        m = rx.match(line)
        if m:
            return m
    return None


def _block_body(body: str) -> str:
    body = body.strip("\n").strip()
    m = _BODY_FENCE.match(body)
    return m.group("inner") if m else body


def split_details(text: str) -> tuple[str, list[ToolCall], list[ToolResult], str]:
    """Lift exporters' `<details>` tool, result and thinking blocks out of a message's text.
    SpecStory's `Tool use: **name**` blocks and any other block stay text."""
    calls: list[ToolCall] = []
    results: list[ToolResult] = []
    thinking: list[str] = []

    def lift(m: re.Match[str]) -> str:
        summary = re.sub(r"<[^>]+>", "", m.group("summary")).strip()
        if "Tool use: **" in summary:
            return m.group(0)
        body = _block_body(m.group("body"))
        tool = _TOOL_SUMMARY.search(summary)
        if tool and not _RESULT_SUMMARY.search(summary):
            try:
                value = json.loads(body) if body else {}
            except ValueError:
                value = None
            calls.append(ToolCall(name=tool.group("name"),
                                  input=value if isinstance(value, dict) else ({"input": body} if body else {})))
            return ""
        if _RESULT_SUMMARY.search(summary):
            results.append(ToolResult(text=body, name=calls[-1].name if calls else None))
            return ""
        if _THINKING_SUMMARY.search(summary):
            thinking.append(body)
            return ""
        return m.group(0)

    out = _DETAILS.sub(lift, text)
    if len(out) != len(text):
        out = re.sub(r"\n{3,}", "\n\n", out).strip()
    return out, calls, results, "\n\n".join(thinking)


def _fenced_after(lines: list[str], i: int) -> tuple[str, int]:
    """The fenced block starting at or after line `i` (blank lines skipped): (its body, the index
    after it). Without a fence, the lines up to the next blank one."""
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i < len(lines) and _FENCE.match(lines[i]):
        fence = lines[i].strip()
        marker = fence[: len(fence) - len(fence.lstrip(fence[0]))]  # ``` or ```` (longer fences nest shorter)
        body: list[str] = []
        i += 1
        while i < len(lines) and lines[i].strip() != marker:
            body.append(lines[i])
            i += 1
        return "\n".join(body), i + 1
    body = []
    while i < len(lines) and lines[i].strip() and not (_TOOL_USE_LINE.match(lines[i])
                                                       or _TOOL_RESULT_LINE.match(lines[i])):
        body.append(lines[i])
        i += 1
    return "\n".join(body), i


def split_tool_lines(text: str) -> tuple[str, list[ToolCall], list[ToolResult]]:
    """Lift `🔧 Tool Use: Name` and `📊 Tool Result:` blocks (each with its fenced body) out of a
    message's text into tool calls (JSON input) and results."""
    lines = text.split("\n")
    keep: list[str] = []
    calls: list[ToolCall] = []
    results: list[ToolResult] = []
    i = 0
    in_fence = False
    while i < len(lines):
        line = lines[i]
        if _FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence and "Tool" in line:
            use = _TOOL_USE_LINE.match(line)
            res = None if use else _TOOL_RESULT_LINE.match(line)
            if use or res:
                body, i = _fenced_after(lines, i + 1)
                if use:
                    try:
                        value = json.loads(body) if body.strip() else {}
                    except ValueError:
                        value = None
                    calls.append(ToolCall(name=use.group("name"), id=(use.group("id") or "").strip() or None,
                                          input=value if isinstance(value, dict) else {"input": body}))
                elif res is not None:
                    results.append(ToolResult(text=body, is_error=bool(res.group("err"))))
                continue
        keep.append(line)
        i += 1
    out = re.sub(r"\n{3,}", "\n\n", "\n".join(keep)).strip()
    return out, calls, results


class MarkdownImporter(Importer):
    """Markdown with User/Assistant headings (streams line by line)."""

    name = "markdown"

    @classmethod
    def sniff(cls, head: str) -> float:
        roles: set[str] = set()
        count = 0
        in_fence = False
        for line in head.split("\n")[:5000]:
            if ("`" in line or "~" in line) and _FENCE.match(line):
                in_fence = not in_fence
                continue
            if in_fence:
                continue
            m = match_marker(line)
            if m:
                count += 1
                roles.add(role_of(m.group("role")))
        if "<!-- Generated by SpecStory -->" in head and count:
            return 0.9
        if {"user", "assistant"} <= roles:
            return 0.7
        return 0.3 if count else 0.0

    def parse(self, stream: TextIO | Iterable[str]) -> Iterator[Message]:
        role: str | None = None
        ts: str | None = None
        buf = BoundedLines(self.max_message_chars)  # a message without end stops growing at the limit
        in_fence = False
        fresh = False

        def flush() -> Message | None:
            nonlocal buf
            lines, buf = buf, BoundedLines(self.max_message_chars)
            if role is None:
                return None
            while lines and (not lines[-1].strip() or _SEPARATOR.match(lines[-1])):
                lines.pop()
            while lines and (not lines[0].strip() or _SEPARATOR.match(lines[0])):
                lines.pop(0)
            text = lines.joined()
            calls: list[ToolCall] = []
            results: list[ToolResult] = []
            thinking = ""
            msg_ts = ts
            if lines and len(lines[-1]) < 80 and "-" in lines[-1]:
                t = _TIME_LINE.match(lines[-1])  # a time line closing the message is its own time
                if t:
                    msg_ts = msg_ts or t.group("ts")
                    text = text[: text.rfind("\n") + 1].rstrip() if "\n" in text else ""
            if "<details" in text:
                text, calls, results, thinking = split_details(text)
            if "Tool" in text and ("🔧" in text or "📊" in text):
                text, more_calls, more_results = split_tool_lines(text)
                calls += more_calls
                results += more_results
            if role == "assistant" and ("Tool use:" in text or "data-tool-name" in text):
                calls += [ToolCall(name=a or b) for a, b in _TOOL_USE.findall(text)]
            if not text and not calls and not results and not thinking:
                return None
            kind = "tool" if role == "user" and results and not text else role  # results only: not the user's words
            return Message(role=kind, text=text, tool_calls=calls, tool_results=results,  # type: ignore[arg-type]
                           thinking=thinking, timestamp=msg_ts, injected=kind == "user" and is_injected(text))

        for raw in stream:
            line = raw.rstrip("\r\n")
            if ("`" in line or "~" in line) and _FENCE.match(line):
                in_fence = not in_fence
                if role is not None:
                    buf.append(line)
                continue
            m = None if in_fence else match_marker(line)
            if m:
                msg = flush()
                if msg:
                    yield msg
                role = role_of(m.group("role"))
                groups = m.groupdict()
                paren = groups.get("paren") or groups.get("paren2") or ""
                d = _DATE.search(paren)
                ts = d.group(0) if d else (groups.get("when") or "").strip() or None
                if role == "assistant" and paren and not d:
                    self.info.setdefault("model", paren.strip())
                rest = groups.get("rest")
                if rest:
                    buf.append(rest)
                fresh = not rest  # the next non-blank line may be the message's time
                continue
            if role is None:
                s = line.strip()
                if s.startswith("# ") and "title" not in self.info:
                    self.info["title"] = s[2:].strip()
                continue
            if "<!--" in line and line.lstrip().startswith("<!--") and line.rstrip().endswith("-->"):
                continue
            if fresh and line.strip():
                fresh = False
                t = _TIME_LINE.match(line) if len(line) < 80 and "-" in line else None
                if t:
                    ts = ts or t.group("ts")
                    continue
            buf.append(line)
        msg = flush()
        if msg:
            yield msg
