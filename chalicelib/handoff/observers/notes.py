"""The people's words: what the user asked and corrected, what the assistant decided and found, the
URLs either named, and the todo list (TodoWrite calls and markdown checklists).

It owns `last_tool_kind` (was the last tool a read or a search? then what follows may be a finding) and
`last_intent` (the assistant's latest first sentence, which the files observer stamps on a new file).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from chalicelib.transcripts.actions import EditCall, Shell
from chalicelib.transcripts.model import Message

from ..facts import (
    CHECKLIST_RE,
    CORRECTION_RE,
    DECISION_RE,
    LEARN_RE,
    URL_RE,
    NoteFact,
    TodoFact,
    TranscriptFacts,
    UserMsg,
    display_command,
    findings,
)
from ..textutil import clip, code, first_sentence, norm_key, safe_inline

if TYPE_CHECKING:
    from .errors import ErrorsObserver


_SENT_END = re.compile(r"(?<!\.)(?<!\be\.g)(?<!\bi\.e)[.!?]\s+(?=[A-Z`\"'(*])")


def _sentence_around(text: str, start: int, end: int, limit: int = 200) -> str:
    ls = text.rfind("\n", 0, start) + 1
    le = text.find("\n", end)
    le = len(text) if le < 0 else le
    line = text[ls:le]
    rel_s, rel_e = start - ls, end - ls
    s = 0
    for m in _SENT_END.finditer(line[:rel_s]):
        s = m.end()
    m = _SENT_END.search(line[rel_e:]) or re.search(r"(?<!\.)[.!?]$", line[rel_e:])
    e = rel_e + m.end() if m else len(line)
    sent = line[s:e].strip().lstrip("-*#>• ").strip()
    return clip(safe_inline(sent), limit)


class NotesObserver:
    """Requests, decisions, learnings, findings, steps, URLs and todos, into the shared facts record."""

    def __init__(self, f: TranscriptFacts) -> None:
        self.f = f
        self.last_tool_kind = ""  # "inspect" after reads and searches: what follows may be a finding
        self.last_intent = ""

    def user(self, i: int, m: Message, text: str) -> None:
        """A message the person typed (not an injected one: the pipeline routes those)."""
        if not (m.meta or {}).get("queued"):
            self.last_tool_kind = ""  # what the agent says next answers the person, not what it had read
        self.f.user_messages.append(UserMsg(i, text.strip(), bool((m.meta or {}).get("queued"))))
        if len(self.f.user_messages) > 1 and CORRECTION_RE.search(text):  # the first one is the request itself
            self.f.decisions.append(NoteFact(clip(safe_inline(text), 220), i, "user"))
        self.scan_checklist(i, text, "user")
        self.scan_urls(i, text, "user")

    def assistant(self, i: int, m: Message, errors: ErrorsObserver) -> None:
        """The assistant's text; its first sentence after an error is that error's diagnosis."""
        text = m.text or ""
        thinking = getattr(m, "thinking", "") or ""
        if thinking and self.last_tool_kind == "inspect":  # what the model concluded from what it read
            for sent in findings(thinking, limit=2):
                self.f.learned.append(NoteFact(sent, i, "thinking"))  # its reasoning: a hypothesis, never a fact
        if not text.strip():
            return
        self.f.last_assistant = text.strip()
        self.f.last_assistant_index = i
        self.last_intent = first_sentence(text, 140)
        if self.last_intent:
            self.f.steps.append(NoteFact(self.last_intent, i, "assistant"))
        errors.diagnose(text)
        self.scan_checklist(i, text, "assistant")
        self.scan_urls(i, text, "assistant")
        dm = DECISION_RE.search(text)
        if dm:
            self.f.decisions.append(NoteFact(_sentence_around(text, dm.start(), dm.end()), i, "assistant"))
        lm = LEARN_RE.search(text)
        if lm:
            sent = _sentence_around(text, lm.start(), lm.end())
            if findings(sent, limit=1):
                self.f.learnings.append(NoteFact(sent, i, "assistant"))
        if self.last_tool_kind == "inspect":
            for sent in findings(text):
                self.f.learned.append(NoteFact(sent, i, "assistant"))

    def rejected(self, i: int, a: EditCall | Shell) -> None:
        """The user turned down a command or an edit: a decision in the user's name."""
        what = (f"the command {code(display_command(a.command))}" if isinstance(a, Shell)
                else f"an edit to {code(a.path or '?')}")
        self.f.decisions.append(NoteFact(f"User rejected {what}", i, "user"))

    def scan_checklist(self, i: int, text: str, who: str) -> None:
        """Markdown checklist items (`- [ ] x`, `- [x] y`) as todos."""
        if "[ ]" not in text and "[x]" not in text and "[X]" not in text:
            return
        for cm in CHECKLIST_RE.finditer(text):
            content = clip(safe_inline(cm.group(2)), 200)
            status = "pending" if cm.group(1) == " " else "completed"
            self.set_todo(content, status, i, "checklist")

    def scan_urls(self, i: int, text: str, who: str, cap: int = 20) -> None:
        """URLs in a text, the first mention of each kept."""
        if "://" not in text:
            return
        for k, um in enumerate(URL_RE.finditer(text)):
            if k >= cap:
                break
            url = um.group(0).rstrip(".,;:!?*_'")
            if len(url) < 12 or len(url) > 300:
                continue
            if url not in self.f.urls:
                self.f.urls[url] = NoteFact(url, i, who)

    def set_todo(self, content: str, status: str, i: int, source: str) -> None:
        """One todo's latest status; it keeps the index where it first appeared."""
        key = norm_key(content)
        if not key:
            return
        old = self.f.todos.pop(key, None)
        self.f.todos[key] = TodoFact(content, status, i if old is None else old.index, source)

    def todo_call(self, i: int, items: list[tuple[str, str]]) -> None:
        """A TodoWrite-style call: the whole list, so items it no longer lists are gone from the plan."""
        seen = set()
        for content, status in items:
            content = clip(safe_inline(content), 200)
            seen.add(norm_key(content))
            self.set_todo(content, status, i, "todo")
        for k in [k for k, t in self.f.todos.items() if t.source == "todo" and k not in seen]:
            del self.f.todos[k]
