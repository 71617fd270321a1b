"""The prompts of the LLM handoff writer: system and user texts, the context and must-keep facts blocks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from chalicelib.text import clip_middle

if TYPE_CHECKING:
    from chalicelib.handoff.rules import HandoffDoc


def final_system(headings: Sequence[str], target_chars: int) -> str:
    """The final call's instructions: the rules headings to use, verbatim facts, the size."""
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
        "- Sections marked as the agent's note or summary are the agent's own account: it knows what is left "
        "and why, but it can be wrong. Keep its reasons and its plan; where the draft says a claim of it is "
        "contradicted or changed since, keep that finding with its evidence and never repeat the claim as a fact.\n"
        f"- Be concise: at most {target_chars} characters in total."
    )


def final_user(context: str, rules_md: str, facts_block: str, material: str, *, notes: bool) -> str:
    """The final call's material: context, rules draft, must-keep facts, transcript or notes."""
    label = ("NOTES FROM THE SESSION TRANSCRIPT, IN ORDER" if notes
             else "SESSION TRANSCRIPT (compact: -> tool call, <- tool result)")
    parts = [context, f"DRAFT HANDOFF (rules-based):\n<<<\n{rules_md.strip()}\n>>>"]
    if facts_block:
        parts.append(f"MUST-KEEP FACTS (copy each verbatim):\n{facts_block}")
    if material.strip():
        parts.append(f"{label}:\n<<<\n{material.strip()}\n>>>")
    parts.append("Write the handoff now.")
    return "\n\n".join(parts)


def map_system(note_chars: int) -> str:
    """Instructions for notes on one transcript part (map step)."""
    return (
        "You read one part of the transcript of an AI coding-assistant session and write notes for "
        "the handoff to the next session. Write terse bullet points under these labels, skipping "
        "empty ones: Requests, Done, Files, Commands and results, Errors and fixes, Decisions, "
        "Open or pending. Copy file paths, commands, error messages and ids exactly. Never invent "
        f"anything. At most {note_chars} characters."
    )


def merge_system(note_chars: int) -> str:
    """Instructions for merging neighbouring parts' notes when they overflow the final prompt."""
    return (
        "Merge these notes from consecutive parts of one AI coding-assistant session into one set "
        "of notes with the same labels, in order. Keep every file path, command, error message and "
        f"id exactly; drop repetition and anything later superseded. At most {note_chars} characters."
    )


def context_block(project: dict[str, Any], session: dict[str, Any]) -> str:
    """Project and session in a few labelled lines, so every call knows what it is writing about."""
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
    lines = [f"PROJECT: {clip_middle(name, 120)}"]
    if goal:
        lines.append(f"PROJECT GOAL: {clip_middle(goal, 400)}")
    sess = f"SESSION: {number or '?'}"
    if title:
        sess += f' "{clip_middle(title, 120)}"'
    if status:
        sess += f" ({status})"
    if number.isdigit():
        sess += f"; this handoff starts session {int(number) + 1}"
    lines.append(sess)
    if get(session, "goal"):
        lines.append(f"SESSION GOAL: {clip_middle(get(session, 'goal'), 400)}")
    return "\n".join(lines)


def must_keep_facts(rules_doc: HandoffDoc) -> list[dict[str, str]]:
    """The rules document's must-keep facts as {kind, text}, blank and repeated ones dropped."""
    out: list[dict[str, str]] = []
    seen: set[str] = set()
    for f in getattr(rules_doc, "must_keep", None) or []:
        text = str(f.get("text", "")) if isinstance(f, dict) else str(f)
        if not text.strip() or text in seen:
            continue
        seen.add(text)
        out.append({"kind": str(f.get("kind", "fact")) if isinstance(f, dict) else "fact", "text": text})
    return out


def must_keep_block(facts: Sequence[dict[str, str]], limit: int) -> str:
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

