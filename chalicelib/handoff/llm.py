"""The LLM path of the handoff engine.

The rules-based document (`chalicelib.handoff.rules`) is always built first: it is deterministic
and holds the must-keep facts. This module asks an OpenAI-compatible model for a better-written
handoff from the same material, then distrusts the answer:

1. prompt: the redacted transcript rendered compactly (tool calls one line each, tool results
   trimmed, errors kept), the rules document and its must-keep facts, all sized to the model's
   window; a transcript that does not fit is map-reduced (notes per chunk, then one final call);
2. check: the answer must be non-empty, have the key section headings and stay near the budget;
3. repair: every must-keep fact the model dropped is put back with its rules line, under its
   section (a section the model left out comes back holding just those lines; a fact found in
   no section goes to "Facts carried by rules") -> method "llm+rules"; the header, pinned context and metrics
   are always taken verbatim from the rules document;
4. fallback: no answer, or one that fails the check, gives the rules document (method "rules").

`generate_llm_handoff` never raises for LLM faults: a handoff is always produced.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from chalicelib.config import HANDOFF_BUDGET_CHARS
from chalicelib.llm.client import ChatClient, log_event
from chalicelib.llm.errors import (
    LLMAuthError,
    LLMBadResponse,
    LLMError,
    LLMNotConfigured,
    LLMRateLimited,
    LLMRequestRejected,
    LLMTimeout,
    LLMUnavailable,
)
from chalicelib.transcripts.model import Message

log = logging.getLogger("mso.llm")

METHOD_LLM = "llm"
METHOD_LLM_RULES = "llm+rules"
METHOD_RULES = "rules"

FACTS_SECTION = "Facts carried by rules"
# The SPEC's sections after the header; used when the rules document offers no headings.
DEFAULT_SECTIONS: tuple[str, ...] = (
    "Mission and goal",
    "Pinned context",
    "Summary of the session",
    "Accomplishments",
    "Current state",
    "Files changed",
    "Decisions",
    "Errors and blockers",
    "Learnings",
    "Next steps",
    "Metrics",
    "Checklist for the next session",
)
# An answer missing any rules heading that contains one of these words fails the check.
KEY_SECTION_WORDS: tuple[str, ...] = ("summary", "files changed", "next step")
# Sections copied verbatim from the rules document whatever the model wrote (SPEC: pinned
# context is never shortened; metrics are computed numbers the model has no business retyping).
VERBATIM_SECTION_WORDS: tuple[str, ...] = ("pinned", "metrics")
MAX_ANSWER_RATIO = 1.5  # answers longer than this x budget_chars fail the check
FRAMING_CHARS = 400  # labels and delimiters around the prompt parts


class RulesDocLike(Protocol):
    """What we need of `chalicelib.handoff.rules.HandoffDoc`."""

    markdown: str
    must_keep: list[dict[str, Any]]


@dataclass
class LLMHandoffResult:
    """The handoff and how it was made; `method` is "llm", "llm+rules" or "rules"."""

    markdown: str
    method: str
    reason: str | None = None  # why rules were used, or what was repaired; never secrets
    restored: list[dict[str, str]] = field(default_factory=list)  # must-keep facts put back
    llm_calls: int = 0
    prompt_chars: int = 0  # all calls together
    answer_chars: int = 0  # the final (reduce) answer as received
    elapsed_s: float = 0.0
    model: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Fallback(Exception):
    """The LLM path cannot produce a usable answer; `str(exc)` is the human reason."""


# ---------------------------------------------------------------------------------------------
# entry point


def generate_llm_handoff(
    *,
    rules_doc: RulesDocLike,
    messages: list[Message],
    client: ChatClient,
    project: dict[str, Any],
    session: dict[str, Any],
    budget_chars: int = HANDOFF_BUDGET_CHARS,
    clock: Callable[[], float] | None = None,
) -> LLMHandoffResult:
    """Ask the model for the handoff, check and repair it, or fall back to `rules_doc`.

    `messages` must already be redacted (they are run through the redactor again before sending).
    All calls of one run share one deadline, `client.settings.deadline_s` from the start; `clock`
    (default: the client's) only measures `elapsed_s`.
    """
    clock = clock or client.clock
    started = clock()
    # The deadline is on the client's clock: that is the clock `complete` compares it with.
    run = _Run(client, deadline=client.clock() + client.settings.deadline_s)
    rules_md = rules_doc.markdown or ""
    facts = _facts(rules_doc)

    def finish(markdown: str, method: str, reason: str | None, restored: list[dict[str, str]],
               answer_chars: int) -> LLMHandoffResult:
        result = LLMHandoffResult(
            markdown=markdown, method=method, reason=reason, restored=restored, llm_calls=run.calls,
            prompt_chars=run.prompt_chars, answer_chars=answer_chars,
            elapsed_s=round(max(0.0, clock() - started), 3), model=client.settings.model,
        )
        level = logging.WARNING if method == METHOD_RULES else logging.INFO
        log_event(level, "llm.handoff.done", method=method, reason=reason or "", calls=run.calls,
                  prompt_chars=run.prompt_chars, answer_chars=answer_chars, restored=len(restored),
                  elapsed_s=result.elapsed_s)
        return result

    answer = ""
    try:
        if not client.configured:
            raise LLMNotConfigured("no API key (set MSO_LLM_API_KEY or HF_TOKEN, or MSO_LLM_API_KEY_SSM)")
        answer = _ask_for_handoff(run, rules_md=rules_md, facts=facts, messages=messages,
                                  project=project, session=session, budget_chars=budget_chars)
        body = clean_answer(answer)
        problem = sanity_problem(body, rules_md=rules_md, budget_chars=budget_chars)
        if problem:
            raise _Fallback(f"LLM answer failed the check: {problem}")
        markdown, restored = repair(body, rules_md=rules_md, facts=facts)
    except LLMError as exc:
        return finish(rules_md, METHOD_RULES, _reason_for(exc, client), [], len(answer))
    except _Fallback as exc:
        return finish(rules_md, METHOD_RULES, client.scrub(str(exc))[:300], [], len(answer))
    except Exception as exc:  # a bug here must not cost the user their handoff
        log.error("llm.handoff.internal_error", exc_info=True, extra={"fields": {"error": type(exc).__name__}})
        return finish(rules_md, METHOD_RULES, f"internal error in the LLM path ({type(exc).__name__})", [],
                      len(answer))

    if restored:
        reason = f"restored {len(restored)} must-keep fact(s) the LLM dropped"
        return finish(_relabel(markdown, METHOD_LLM_RULES), METHOD_LLM_RULES, reason, restored, len(answer))
    return finish(_relabel(markdown, METHOD_LLM), METHOD_LLM, None, [], len(answer))


_REASON_LABELS: tuple[tuple[type[LLMError], str], ...] = (
    (LLMNotConfigured, "LLM not configured"),
    (LLMAuthError, "LLM refused the API key"),
    (LLMTimeout, "LLM timed out"),
    (LLMRateLimited, "LLM rate limited"),
    (LLMUnavailable, "LLM unavailable"),
    (LLMBadResponse, "LLM gave a bad response"),
    (LLMRequestRejected, "LLM rejected the request"),
)


def _reason_for(exc: LLMError, client: ChatClient) -> str:
    label = next((text for cls, text in _REASON_LABELS if isinstance(exc, cls)), "LLM failed")
    return client.scrub(f"{label}: {exc}")[:300]


# ---------------------------------------------------------------------------------------------
# calling the model


class _Run:
    """Counts calls and prompt size, enforces the call budget and per-call window, redacts."""

    def __init__(self, client: ChatClient, *, deadline: float) -> None:
        self.client = client
        self.settings = client.settings
        self.deadline = deadline
        self.calls = 0
        self.prompt_chars = 0

    def ask(self, system: str, user: str, *, max_tokens: int, stage: str) -> str:
        """One chat call; map/merge calls stop early enough to leave the final call its time."""
        if self.calls >= self.settings.max_calls:
            raise _Fallback(f"LLM call budget exhausted ({self.settings.max_calls} calls)")
        system, user = _redact(system), _redact(user)
        limit = self.settings.input_chars(max_tokens)
        if len(system) + len(user) > limit:  # safety net; the planners already sized the parts
            user = clip(user, max(0, limit - len(system)))
        if len(system) + len(user) > limit or not user:
            raise _Fallback("the model's context window is too small for the prompt")
        self.calls += 1
        self.prompt_chars += len(system) + len(user)
        log_event(logging.DEBUG, "llm.handoff.call", stage=stage, call=self.calls,
                  prompt_chars=len(system) + len(user), max_tokens=max_tokens)
        deadline = self.deadline
        if stage in ("map", "merge"):
            deadline -= min(self.settings.timeout_s, 0.25 * self.settings.deadline_s)
        answer = self.client.complete(
            [{"role": "system", "content": system}, {"role": "user", "content": user}],
            max_tokens=max_tokens, temperature=0.0, deadline=deadline,
        )
        if self.client.last_finish_reason == "length":
            log_event(logging.WARNING, "llm.handoff.truncated", stage=stage, call=self.calls,
                      max_tokens=max_tokens, answer_chars=len(answer))
        return answer


def _redact(text: str) -> str:
    """Defence in depth: run prompt text through the transcript redactor when it exists."""
    try:
        from chalicelib.transcripts.redact import redact
    except ModuleNotFoundError as exc:
        if exc.name in ("chalicelib.transcripts.redact", "chalicelib.transcripts"):
            return text  # no redactor in this build: messages were redacted upstream
        raise _Fallback(f"redactor failed to load ({type(exc).__name__}); prompt not sent") from None
    except Exception as exc:  # a broken redactor must not let unchecked text out
        raise _Fallback(f"redactor failed to load ({type(exc).__name__}); prompt not sent") from None
    try:
        out, counts = redact(text)
    except Exception as exc:  # never send text we could not check
        raise _Fallback(f"redaction failed ({type(exc).__name__}); prompt not sent") from None
    if counts:
        total = sum(counts.values()) if isinstance(counts, dict) else counts
        log_event(logging.INFO, "llm.prompt.redacted", count=total)
    return out


def _ask_for_handoff(run: _Run, *, rules_md: str, facts: list[dict[str, str]], messages: Sequence[Message],
                     project: dict[str, Any], session: dict[str, Any], budget_chars: int) -> str:
    """One call when everything fits the window, else map (notes per chunk) and reduce."""
    s = run.settings
    final_tokens = max(64, min(s.max_output_tokens, s.tokens_for_chars(budget_chars), s.context_tokens // 2))
    map_tokens = max(32, min(s.map_output_tokens, s.context_tokens // 4))
    final_input = s.input_chars(final_tokens)
    map_input = s.input_chars(map_tokens)
    target_chars = min(budget_chars, int(final_tokens * s.chars_per_token * 0.9))

    headings = section_titles(rules_md) or list(DEFAULT_SECTIONS)
    system = _final_system(headings, target_chars)
    context = _context_block(project, session)
    facts_block = _facts_block(facts, max(200, final_input // 5))
    avail = final_input - len(system) - len(context) - len(facts_block) - FRAMING_CHARS
    if avail < 400:
        raise _Fallback("the model's context window is too small for the handoff prompt")

    transcript = render_transcript(messages, level=0)
    if len(rules_md) + len(transcript) <= avail:
        user = _final_user(context, rules_md, facts_block, transcript, notes=False)
        return run.ask(system, user, max_tokens=final_tokens, stage="single")

    rules_part = trim_markdown(rules_md, min(len(rules_md), avail // 2))
    room = avail - len(rules_part)
    # Trimmed tool output in one call beats notes from several calls (faster, one less hop);
    # level 2 drops tool results altogether, so past level 1 reading in parts is better.
    compact = render_transcript(messages, level=1)
    if len(compact) <= room:
        return run.ask(system, _final_user(context, rules_part, facts_block, compact, notes=False),
                       max_tokens=final_tokens, stage="single")

    notes = _map_notes(run, messages, context=context, map_tokens=map_tokens, map_input=map_input)
    notes_text = _fit_notes(run, notes, room=room, context=context, map_tokens=map_tokens, map_input=map_input)
    user = _final_user(context, rules_part, facts_block, notes_text, notes=True)
    return run.ask(system, user, max_tokens=final_tokens, stage="reduce")


def _map_notes(run: _Run, messages: Sequence[Message], *, context: str, map_tokens: int,
               map_input: int) -> list[str]:
    s = run.settings
    note_chars = int(map_tokens * s.chars_per_token * 0.8)
    system = _map_system(note_chars)
    chunk_chars = map_input - len(system) - len(context) - FRAMING_CHARS
    if chunk_chars < 500:
        raise _Fallback("the model's context window is too small to read the transcript in parts")
    max_chunks = max(1, s.max_calls - 2)  # leave room for one merge round and the final call
    blocks = _render_blocks_within(messages, chunk_chars * max_chunks)
    chunks = split_chunks(blocks, chunk_chars)
    notes = []
    for i, chunk in enumerate(chunks, 1):
        user = f"{context}\nPART {i} OF {len(chunks)} OF THE SESSION TRANSCRIPT:\n<<<\n{chunk}\n>>>"
        notes.append(run.ask(system, user, max_tokens=map_tokens, stage="map").strip())
    return notes


def _fit_notes(run: _Run, notes: list[str], *, room: int, context: str, map_tokens: int,
               map_input: int) -> str:
    """Join notes; while they overflow `room`, merge neighbours with the model, else trim them."""
    s = run.settings
    system = _merge_system(int(map_tokens * s.chars_per_token * 0.8))

    def joined(items: list[str]) -> str:
        return "\n\n".join(f"[notes {i}/{len(items)}]\n{n}" for i, n in enumerate(items, 1))

    group_room = map_input - len(system) - len(context) - FRAMING_CHARS
    while len(joined(notes)) > room and len(notes) > 1 and run.calls + 2 <= s.max_calls:
        groups: list[list[str]] = [[]]
        for note in notes:
            if groups[-1] and len(joined(groups[-1] + [note])) > group_room:
                groups.append([])
            groups[-1].append(note)
        if len(groups) == len(notes):  # no two notes fit one merge prompt: merging cannot help
            break
        merged = []
        for group in groups:
            if len(group) == 1:
                merged.append(group[0])
                continue
            if run.calls + 2 > s.max_calls:
                merged.extend(group)
                continue
            user = f"{context}\nNOTES FROM CONSECUTIVE PARTS OF ONE SESSION:\n<<<\n{joined(group)}\n>>>"
            merged.append(run.ask(system, user, max_tokens=map_tokens, stage="merge").strip())
        notes = merged
    text = joined(notes)
    if len(text) > room:  # last resort: trim every note evenly
        per = max(80, room // max(1, len(notes)) - 20)
        text = joined([clip(n, per) for n in notes])
        text = clip(text, room)
    return text


# ---------------------------------------------------------------------------------------------
# prompts


def _final_system(headings: Sequence[str], target_chars: int) -> str:
    heading_lines = "\n".join(f"## {h}" for h in headings)
    return (
        "You write the handoff document that starts the next working session of a long software "
        "project carried out by AI coding assistants. The next session starts cold: it knows only "
        "what you write.\n"
        "Write GitHub Markdown. Start directly with the first section: no preamble, no title, no "
        "code fence around the answer (the header is added for you).\n"
        "Use these level-2 headings exactly as written, in this order, and omit a section only "
        f"when there is nothing for it:\n{heading_lines}\n"
        "Rules:\n"
        "- Copy every MUST-KEEP fact verbatim, character for character: file paths, commands, "
        "error messages, task ids, pinned context.\n"
        "- Use only facts from the material given; never invent files, commands, results or numbers.\n"
        "- The draft is a correct mechanical summary of the same session; the transcript or notes "
        "tell what happened and why. Explain, merge and prioritize; do not drop facts.\n"
        "- Next steps: concrete, prioritized, with the commands to run; keep open items from the draft.\n"
        f"- Be concise: at most {target_chars} characters in total."
    )


def _final_user(context: str, rules_md: str, facts_block: str, material: str, *, notes: bool) -> str:
    label = ("NOTES FROM THE SESSION TRANSCRIPT, IN ORDER" if notes
             else "SESSION TRANSCRIPT (compact: -> tool call, <- tool result)")
    parts = [context, f"DRAFT HANDOFF (rules-based):\n<<<\n{rules_md.strip()}\n>>>"]
    if facts_block:
        parts.append(f"MUST-KEEP FACTS (copy each verbatim):\n{facts_block}")
    if material.strip():
        parts.append(f"{label}:\n<<<\n{material.strip()}\n>>>")
    parts.append("Write the handoff now.")
    return "\n\n".join(parts)


def _map_system(note_chars: int) -> str:
    return (
        "You read one part of the transcript of an AI coding-assistant session and write notes for "
        "the handoff to the next session. Write terse bullet points under these labels, skipping "
        "empty ones: Requests, Done, Files, Commands and results, Errors and fixes, Decisions, "
        "Open or pending. Copy file paths, commands, error messages and ids exactly. Never invent "
        f"anything. At most {note_chars} characters."
    )


def _merge_system(note_chars: int) -> str:
    return (
        "Merge these notes from consecutive parts of one AI coding-assistant session into one set "
        "of notes with the same labels, in order. Keep every file path, command, error message and "
        f"id exactly; drop repetition and anything later superseded. At most {note_chars} characters."
    )


def _context_block(project: dict[str, Any], session: dict[str, Any]) -> str:
    def get(d: dict[str, Any], *keys: str) -> str:
        for k in keys:
            v = d.get(k)
            if v not in (None, ""):
                return " ".join(str(v).split())
        return ""

    name = get(project, "name", "project_id", "id") or "(unnamed project)"
    goal = get(project, "goal", "description")
    number = get(session, "number")
    title = get(session, "title")
    status = get(session, "status")
    lines = [f"PROJECT: {clip(name, 120)}"]
    if goal:
        lines.append(f"PROJECT GOAL: {clip(goal, 400)}")
    sess = f"SESSION: {number or '?'}"
    if title:
        sess += f' "{clip(title, 120)}"'
    if status:
        sess += f" ({status})"
    if number.isdigit():
        sess += f"; this handoff starts session {int(number) + 1}"
    lines.append(sess)
    if get(session, "goal"):
        lines.append(f"SESSION GOAL: {clip(get(session, 'goal'), 400)}")
    return "\n".join(lines)


def _facts(rules_doc: RulesDocLike) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    seen: set[str] = set()
    for f in getattr(rules_doc, "must_keep", None) or []:
        text = str(f.get("text", "")) if isinstance(f, dict) else str(f)
        if not text.strip() or text in seen:
            continue
        seen.add(text)
        out.append({"kind": str(f.get("kind", "fact")) if isinstance(f, dict) else "fact", "text": text})
    return out


def _facts_block(facts: Sequence[dict[str, str]], limit: int) -> str:
    """Bulleted facts, as many as fit in `limit` (the rest are restored after the answer anyway)."""
    lines: list[str] = []
    used = 0
    for f in facts:
        line = f"- [{f['kind']}] {f['text']}"
        if used + len(line) + 1 > limit:
            lines.append(f"- ... and {len(facts) - len(lines)} more in the draft")
            break
        lines.append(line)
        used += len(line) + 1
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# compact transcript rendering


@dataclass(frozen=True)
class _Level:
    user: int
    injected: int
    assistant: int
    summary: int
    system: int
    arg: int
    call_line: int
    result: int
    error: int


_LEVELS = (
    _Level(user=4000, injected=400, assistant=1500, summary=4000, system=400, arg=200, call_line=400,
           result=600, error=1500),
    _Level(user=2000, injected=200, assistant=600, summary=2000, system=200, arg=120, call_line=240,
           result=160, error=700),
    _Level(user=1000, injected=100, assistant=300, summary=1000, system=0, arg=80, call_line=160,
           result=0, error=300),
)
_FIRST_ARGS = ("command", "cmd", "file_path", "path", "notebook_path", "pattern", "query", "url", "description")


def render_transcript(messages: Sequence[Message], *, level: int = 0) -> str:
    """The transcript as compact text; higher `level` trims harder (0..2)."""
    return "\n".join(_render_blocks(messages, level))


def _render_blocks(messages: Sequence[Message], level: int) -> list[str]:
    lv = _LEVELS[max(0, min(level, len(_LEVELS) - 1))]
    blocks = []
    for m in messages:
        block = _render_message(m, lv)
        if block:
            blocks.append(block)
    return blocks


def _render_message(m: Message, lv: _Level) -> str:
    lines: list[str] = []
    if m.role == "user":
        label, limit = ("USER (harness)", lv.injected) if m.injected else ("USER", lv.user)
    elif m.role == "assistant":
        label, limit = "ASSISTANT", lv.assistant
    elif m.role == "summary":
        label, limit = "EARLIER CONTEXT SUMMARY", lv.summary
    elif m.role == "system":
        label, limit = "SYSTEM", lv.system
    else:
        label, limit = "TOOL", lv.result
    text = _tidy(m.text)
    if text and limit > 0:
        lines.append(f"{label}: {clip(text, limit)}")
    for call in m.tool_calls:
        lines.append(clip(f"  -> {call.name} {_render_args(call.input, lv.arg)}".rstrip(), lv.call_line))
    for r in m.tool_results:
        name = f" {r.name}" if r.name else ""
        if r.is_error:
            lines.append(f"  <- ERROR{name}: {clip(_tidy(r.text), lv.error, tail_weight=0.7)}")
        elif lv.result > 0 and r.text.strip():
            lines.append(f"  <- {name.strip() or 'result'}: {clip(_one_line(r.text), lv.result)}")
    return "\n".join(lines)


def _render_args(args: dict[str, Any], limit: int) -> str:
    keys = [k for k in _FIRST_ARGS if k in args] + [k for k in args if k not in _FIRST_ARGS]
    parts = []
    for k in keys:
        v = args[k]
        text = v if isinstance(v, str) else repr(v)
        parts.append(f"{k}={clip(_one_line(text), limit)}")
    return " ".join(parts)


def _tidy(text: str) -> str:
    text = (text or "").strip()
    return re.sub(r"\n\s*\n\s*\n+", "\n\n", text)


def _one_line(text: str) -> str:
    return " ⏎ ".join(line.strip() for line in (text or "").strip().splitlines() if line.strip())


def clip(text: str, limit: int, *, tail_weight: float = 0.3) -> str:
    """`text` cut to at most `limit` chars, keeping head and tail around a marker."""
    if len(text) <= limit:
        return text
    if limit <= 40:
        return text[: max(0, limit)]
    marker = f" …[{len(text) - limit} chars cut]… "
    keep = max(0, limit - len(marker) - 8)
    tail = int(keep * tail_weight)
    head = keep - tail
    out = text[:head] + marker + (text[-tail:] if tail else "")
    return out[:limit]


def _render_blocks_within(messages: Sequence[Message], total: int) -> list[str]:
    """Blocks at the least trimmed level whose total fits `total`; else cut the middle."""
    blocks: list[str] = []
    for level in range(len(_LEVELS)):
        blocks = _render_blocks(messages, level)
        if sum(len(b) + 1 for b in blocks) <= total:
            return blocks
    # Keep the start (the ask) and, more, the end (last request, what is pending).
    head_room, tail_room = int(total * 0.3), int(total * 0.7) - 80
    head: list[str] = []
    used = 0
    for b in blocks:
        if used + len(b) + 1 > head_room:
            break
        head.append(b)
        used += len(b) + 1
    tail: list[str] = []
    used = 0
    for b in reversed(blocks[len(head):]):
        if used + len(b) + 1 > tail_room:
            break
        tail.append(b)
        used += len(b) + 1
    tail.reverse()
    omitted = len(blocks) - len(head) - len(tail)
    return head + [f"[... {omitted} messages omitted ...]"] + tail


def _pack(items: Iterable[str], limit: int) -> list[str]:
    """Join items with newlines, greedily, into strings of at most `limit` (each item fits alone)."""
    out: list[str] = []
    current = ""
    for item in items:
        if current and len(current) + 1 + len(item) > limit:
            out.append(current)
            current = ""
        current = f"{current}\n{item}" if current else item
    if current:
        out.append(current)
    return out


def split_chunks(blocks: Sequence[str], chunk_chars: int) -> list[str]:
    """Group blocks into chunks of at most `chunk_chars`; an oversized block is cut by lines."""
    pieces: list[str] = []
    for b in blocks:
        if len(b) <= chunk_chars:
            pieces.append(b)
            continue
        slices = (line[i:i + chunk_chars] for line in b.splitlines()
                  for i in range(0, max(len(line), 1), chunk_chars))
        pieces += _pack(slices, chunk_chars)
    return _pack(pieces, chunk_chars)


# ---------------------------------------------------------------------------------------------
# markdown sections, check and repair


@dataclass
class _Section:
    heading: str  # the full "## ..." line
    body: list[str]

    @property
    def key(self) -> str:
        return heading_key(self.heading)

    def text(self) -> str:
        return "\n".join([self.heading, *self.body])


def split_sections(markdown: str) -> tuple[list[str], list[_Section]]:
    """(preamble lines, level-2 sections); headings inside code fences do not count."""
    preamble: list[str] = []
    sections: list[_Section] = []
    in_fence = False
    for line in markdown.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        if not in_fence and re.match(r"^##\s+\S", line):
            sections.append(_Section(line.rstrip(), []))
        elif sections:
            sections[-1].body.append(line)
        else:
            preamble.append(line)
    return preamble, sections


def heading_key(heading: str) -> str:
    """Comparable form of a heading: no #, numbering, emoji or punctuation; lower case."""
    text = heading.lstrip("#").strip().lower()
    text = re.sub(r"^[\d.)\s]+", "", text)
    text = re.sub(r"[^\w\s+/-]", " ", text)
    return " ".join(text.split())


def _same_section(a: str, b: str) -> bool:
    return bool(a and b) and (a == b or a in b or b in a)


def section_titles(markdown: str) -> list[str]:
    """The level-2 heading texts of a document, in order."""
    return [s.heading.lstrip("#").strip() for s in split_sections(markdown)[1]]


def clean_answer(answer: str) -> str:
    """The model's answer from its first level-2 section on, without a wrapping code fence."""
    text = (answer or "").strip()
    fence = re.match(r"^```[\w-]*\n(.*?)\n?```\s*$", text, re.S)
    if fence:
        text = fence.group(1).strip()
    _, sections = split_sections(text)
    if not sections:
        return text
    return "\n".join(s.text() for s in sections).strip()


def sanity_problem(body: str, *, rules_md: str, budget_chars: int) -> str | None:
    """Why the answer is unusable, or None: empty, oversized, or missing key sections."""
    if not body.strip():
        return "the answer is empty"
    if len(body) > MAX_ANSWER_RATIO * budget_chars:
        return f"the answer is too long ({len(body)} chars, budget {budget_chars})"
    answer_keys = [s.key for s in split_sections(body)[1]]
    if not answer_keys:
        return "the answer has no section headings"
    rules_keys = [s.key for s in split_sections(rules_md)[1]]
    required = [k for k in rules_keys if any(w in k for w in KEY_SECTION_WORDS)]
    if not required:
        return None if len(answer_keys) >= 2 or len(rules_keys) < 2 else "the answer has too few sections"
    missing = [k for k in required if not any(_same_section(k, a) for a in answer_keys)]
    if missing:
        return "missing section(s): " + ", ".join(missing)
    return None


def trim_markdown(markdown: str, limit: int) -> str:
    """`markdown` in at most `limit` chars: every heading kept, each section's body cut evenly.

    Used for the rules draft inside a tight prompt; its facts travel separately and are restored
    after the answer, so a shortened draft loses nothing for good.
    """
    if len(markdown) <= limit:
        return markdown
    preamble, sections = split_sections(markdown)
    pre = clip("\n".join(preamble).strip(), min(400, limit // 5))
    fixed = len(pre) + sum(len(s.heading) + 2 for s in sections)
    body_room = max(0, limit - fixed)
    bodies = ["\n".join(s.body).strip() for s in sections]
    total = sum(len(b) for b in bodies) or 1
    out = [pre] if pre else []
    for sec, body in zip(sections, bodies, strict=True):
        share = int(body_room * len(body) / total)
        kept: list[str] = []
        used = 0
        for line in body.splitlines():
            if used + len(line) + 1 > share:
                if share - used > 40:
                    kept.append(clip(line, share - used - 1))
                kept.append("…")
                break
            kept.append(line)
            used += len(line) + 1
        out.append("\n".join([sec.heading, *kept]).rstrip())
    return clip("\n".join(out), limit)


def _norm(text: str) -> str:
    return " ".join(text.split())


def contains_fact(haystack: str, fact: str) -> bool:
    """`fact` occurs in `haystack` (whitespace-normalized) as a whole token run.

    Plain substring search would count `app.py` as present in `chalicelib/app.py` and `TASK-12`
    in `TASK-123`; a fact that starts or ends with a word character must not touch another word,
    path or id character there.
    """
    nf = _norm(fact)
    if not nf:
        return True
    hay = _norm(haystack)
    if nf not in hay:
        return False
    left = r"(?<![\w/.\-])" if re.match(r"\w", nf) else ""
    right = r"(?![\w/\-]|\.\w)" if re.search(r"\w$", nf) else ""
    return re.search(left + re.escape(nf) + right, hay) is not None


def repair(body: str, *, rules_md: str, facts: Sequence[dict[str, str]]) -> tuple[str, list[dict[str, str]]]:
    """Put the rules header, verbatim sections and dropped must-keep facts into the answer.

    Returns (markdown, facts that were missing from the model's answer).
    """
    dropped = [f for f in facts if not contains_fact(body, f["text"])]

    rules_pre, rules_secs = split_sections(rules_md)
    _, secs = split_sections(body)

    def insert_in_rules_order(new: _Section, ri: int) -> None:
        later = [r.key for r in rules_secs[ri + 1:]]
        pos = next((i for i, s in enumerate(secs) if any(_same_section(s.key, k) for k in later)), len(secs))
        secs.insert(pos, new)

    # Verbatim sections from the rules document, replacing or inserting in the rules order.
    for ri, rsec in enumerate(rules_secs):
        if not any(w in rsec.key for w in VERBATIM_SECTION_WORDS):
            continue
        idx = next((i for i, s in enumerate(secs) if _same_section(s.key, rsec.key)), None)
        copy = _Section(rsec.heading, list(rsec.body))
        if idx is not None:
            secs[idx] = copy
        else:
            insert_in_rules_order(copy, ri)

    def current_text() -> str:
        return "\n".join(s.text() for s in secs) + "\n" + "\n".join(appendix)

    # Dropped facts go back under their rules section, with the rules line they stood on; a
    # section the model left out comes back holding just those lines.
    appendix: list[str] = []
    for fact in dropped:
        if contains_fact(current_text(), fact["text"]):
            continue  # came back with a verbatim section, or with an earlier fact's line
        ri, line = _rules_line_for(fact["text"], rules_secs)
        bullet = _as_bullet(line, fact["text"])
        if ri is None:
            appendix.append(bullet)
            continue
        rsec = rules_secs[ri]
        target = next((s for s in secs if _same_section(s.key, rsec.key)), None)
        if target is None:
            target = _Section(rsec.heading, [])
            insert_in_rules_order(target, ri)
        while target.body and not target.body[-1].strip():
            target.body.pop()
        target.body.append(bullet)

    parts = ["\n".join(rules_pre).strip()] if "\n".join(rules_pre).strip() else []
    parts.extend("\n".join([s.heading, *s.body]).strip() for s in secs)
    if appendix:
        parts.append("\n".join([f"## {FACTS_SECTION}", *dict.fromkeys(appendix)]))
    markdown = "\n\n".join(parts).strip() + "\n"

    # Belt and braces: whatever still is not there goes in verbatim.
    leftovers = [f["text"] for f in facts if not contains_fact(markdown, f["text"])]
    if leftovers:
        extra = "\n".join(f"- {t}" for t in leftovers)
        if appendix:
            markdown = markdown.rstrip("\n") + "\n" + extra + "\n"
        else:
            markdown = markdown.rstrip("\n") + f"\n\n## {FACTS_SECTION}\n{extra}\n"
    return markdown, dropped


def _rules_line_for(fact: str, rules_secs: Sequence[_Section]) -> tuple[int | None, str]:
    """Index of the rules section holding `fact` and the line it is on (the fact if multi-line)."""
    for ri, sec in enumerate(rules_secs):
        if not contains_fact(sec.text(), fact):
            continue
        if "\n" not in fact.strip():
            for line in sec.body:
                if contains_fact(line, fact):
                    return ri, line
        return ri, fact
    return None, fact


def _as_bullet(line: str, fact: str) -> str:
    """A list item carrying `fact` in its rules-document context."""
    stripped = line.strip()
    if "\n" in fact.strip() or stripped.startswith(("```", "~~~", "#")) or not contains_fact(stripped, fact):
        return f"- {fact.strip()}" if "\n" not in fact.strip() else "- " + fact.strip().replace("\n", "\n  ")
    if stripped.startswith("|"):
        cells = [c.strip() for c in stripped.strip("|").split("|")]
        return "- " + " | ".join(c for c in cells if c)
    if re.match(r"^([-*+]|\d+[.)])\s", stripped):
        return re.sub(r"^([-*+]|\d+[.)])\s+", "- ", stripped)
    return "- " + stripped.lstrip("> ").strip()  # a quoted line becomes a plain item


def _relabel(markdown: str, method: str) -> str:
    """Say in the header (copied from the rules document) that the text is not rules-only.

    Only header lines that talk about generation/method are touched, and only the word "rules".
    """
    lines = markdown.split("\n")
    for i, line in enumerate(lines):
        if re.match(r"^##\s", line):
            break
        if re.search(r"(?i)generat|method|made by|source", line):
            lines[i] = re.sub(r"(?<![\w+])rules(?![\w+-])", method, line, count=1)
    return "\n".join(lines)
