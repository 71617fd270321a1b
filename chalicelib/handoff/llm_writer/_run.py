"""One run of the LLM handoff writer: its deadline and calls, map-reduce, and the fallback reasons."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from chalicelib.config import HANDOFF_BUDGET_CHARS
from chalicelib.llm import errors
from chalicelib.llm.factory import LLMClient
from chalicelib.logs import event, get_logger
from chalicelib.text import clip_middle
from chalicelib.transcripts.model import Message

from ._prompts import (
    context_block,
    final_system,
    final_user,
    map_system,
    merge_system,
    must_keep_block,
    must_keep_facts,
)
from ._sections import (
    DEFAULT_SECTIONS,
    clean_answer,
    relabel,
    repair,
    sanity_problem,
    section_titles,
    trim_markdown,
)
from ._transcript import render_blocks_within, render_transcript, split_chunks

if TYPE_CHECKING:
    from chalicelib.handoff.rules import HandoffDoc

log = get_logger("llm")

METHOD_LLM = "llm"
METHOD_LLM_RULES = "llm+rules"
METHOD_RULES = "rules"
FRAMING_CHARS = 400  # labels and delimiters around the prompt parts


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


def generate_llm_handoff(
    *,
    rules_doc: HandoffDoc,
    messages: list[Message],
    client: LLMClient,
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
    facts: list[dict[str, str]] = []

    def finish(markdown: str, method: str, reason: str | None, restored: list[dict[str, str]],
               answer_chars: int) -> LLMHandoffResult:
        result = LLMHandoffResult(
            markdown=markdown, method=method, reason=reason, restored=restored, llm_calls=run.calls,
            prompt_chars=run.prompt_chars, answer_chars=answer_chars,
            elapsed_s=round(max(0.0, clock() - started), 3), model=client.settings.model,
        )
        level = logging.WARNING if method == METHOD_RULES else logging.INFO
        event(log, "llm.handoff.done", level, method=method, reason=reason or "", calls=run.calls,
              prompt_chars=run.prompt_chars, answer_chars=answer_chars, restored=len(restored),
              elapsed_s=result.elapsed_s)
        return result

    answer = ""
    try:
        facts = must_keep_facts(rules_doc)
        if not client.configured:
            raise errors.LLMNotConfigured(client.settings.not_configured_hint())
        answer = _ask_for_handoff(run, rules_md=rules_md, facts=facts, messages=messages,
                                  project=project, session=session, budget_chars=budget_chars)
        body = clean_answer(answer)
        problem = sanity_problem(body, rules_md=rules_md, budget_chars=budget_chars)
        if problem:
            raise _Fallback(f"LLM answer failed the check: {problem}")
        markdown, restored = repair(body, rules_md=rules_md, facts=facts)
    except errors.LLMError as exc:
        return finish(rules_md, METHOD_RULES, _reason_for(exc, client), [], len(answer))
    except _Fallback as exc:
        return finish(rules_md, METHOD_RULES, client.scrub(str(exc))[:300], [], len(answer))
    except Exception as exc:  # a bug here must not cost the user their handoff
        log.error("llm.handoff.internal_error", exc_info=True, extra={"fields": {"error": type(exc).__name__}})
        return finish(rules_md, METHOD_RULES, f"internal error in the LLM path ({type(exc).__name__})", [],
                      len(answer))

    if restored:
        reason = f"restored {len(restored)} must-keep fact(s) the LLM dropped"
        return finish(relabel(markdown, METHOD_LLM_RULES), METHOD_LLM_RULES, reason, restored, len(answer))
    return finish(relabel(markdown, METHOD_LLM), METHOD_LLM, None, [], len(answer))


_REASON_LABELS: tuple[tuple[type[errors.LLMError], str], ...] = (
    (errors.LLMNotConfigured, "LLM not configured"),
    (errors.LLMAuthError, "LLM refused the API key"),
    (errors.LLMTimeout, "LLM timed out"),
    (errors.LLMRateLimited, "LLM rate limited"),
    (errors.LLMUnavailable, "LLM unavailable"),
    (errors.LLMBadResponse, "LLM gave a bad response"),
    (errors.LLMRequestRejected, "LLM rejected the request"),
)


def _reason_for(exc: errors.LLMError, client: LLMClient) -> str:
    label = next((text for cls, text in _REASON_LABELS if isinstance(exc, cls)), "LLM failed")
    return client.scrub(f"{label}: {exc}")[:300]


class _Run:
    """Counts calls and prompt size, enforces the call budget and per-call window, redacts."""

    def __init__(self, client: LLMClient, *, deadline: float) -> None:
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
            user = clip_middle(user, max(0, limit - len(system)))
        if len(system) + len(user) > limit or not user:
            raise _Fallback("the model's context window is too small for the prompt")
        self.calls += 1
        self.prompt_chars += len(system) + len(user)
        event(log, "llm.handoff.call", logging.DEBUG, stage=stage, call=self.calls,
              prompt_chars=len(system) + len(user), max_tokens=max_tokens)
        deadline = self.deadline
        if stage in ("map", "merge"):
            deadline -= min(self.settings.timeout_s, 0.25 * self.settings.deadline_s)
        answer = self.client.complete(
            [{"role": "system", "content": system}, {"role": "user", "content": user}],
            max_tokens=max_tokens, temperature=0.0, deadline=deadline,
        )
        if self.client.last_finish_reason == "length":
            event(log, "llm.handoff.truncated", logging.WARNING, stage=stage, call=self.calls,
                  max_tokens=max_tokens, answer_chars=len(answer))
        return answer


def _redact(text: str) -> str:
    """Defence in depth: run prompt text through the transcript redactor once more before it leaves."""
    try:
        from chalicelib.transcripts.redact import redact
    except Exception as exc:  # a broken redactor must not let unchecked text out
        raise _Fallback(f"redactor failed to load ({type(exc).__name__}); prompt not sent") from None
    try:
        out, counts = redact(text)
    except Exception as exc:  # never send text we could not check
        raise _Fallback(f"redaction failed ({type(exc).__name__}); prompt not sent") from None
    if counts:
        total = sum(counts.values()) if isinstance(counts, dict) else counts
        event(log, "llm.prompt.redacted", logging.INFO, count=total)
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
    system = final_system(headings, target_chars)
    context = context_block(project, session)
    facts_block = must_keep_block(facts, max(200, final_input // 5))
    avail = final_input - len(system) - len(context) - len(facts_block) - FRAMING_CHARS
    if avail < 400:
        raise _Fallback("the model's context window is too small for the handoff prompt")

    transcript = render_transcript(messages, level=0)
    if len(rules_md) + len(transcript) <= avail:
        user = final_user(context, rules_md, facts_block, transcript, notes=False)
        return run.ask(system, user, max_tokens=final_tokens, stage="single")

    rules_part = trim_markdown(rules_md, min(len(rules_md), avail // 2))
    room = avail - len(rules_part)
    # Trimmed tool output in one call beats notes from several calls (faster, one less hop);
    # level 2 drops tool results altogether, so past level 1 reading in parts is better.
    compact = render_transcript(messages, level=1)
    if len(compact) <= room:
        return run.ask(system, final_user(context, rules_part, facts_block, compact, notes=False),
                       max_tokens=final_tokens, stage="single")

    notes = _map_notes(run, messages, context=context, map_tokens=map_tokens, map_input=map_input)
    notes_text = _fit_notes(run, notes, room=room, context=context, map_tokens=map_tokens, map_input=map_input)
    user = final_user(context, rules_part, facts_block, notes_text, notes=True)
    return run.ask(system, user, max_tokens=final_tokens, stage="reduce")


def _map_notes(run: _Run, messages: Sequence[Message], *, context: str, map_tokens: int,
               map_input: int) -> list[str]:
    s = run.settings
    note_chars = int(map_tokens * s.chars_per_token * 0.8)
    system = map_system(note_chars)
    chunk_chars = map_input - len(system) - len(context) - FRAMING_CHARS
    if chunk_chars < 500:
        raise _Fallback("the model's context window is too small to read the transcript in parts")
    max_chunks = max(1, s.max_calls - 2)  # leave room for one merge round and the final call
    blocks = render_blocks_within(messages, chunk_chars * max_chunks)
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
    system = merge_system(int(map_tokens * s.chars_per_token * 0.8))

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
        text = joined([clip_middle(n, per) for n in notes])
        text = clip_middle(text, room)
    return text
