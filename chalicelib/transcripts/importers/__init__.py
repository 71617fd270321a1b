"""Transcript importers, one module per format, and content-based format detection."""

from __future__ import annotations

from .aider import AiderImporter
from .base import Importer
from .chatgpt import ChatGPTImporter
from .claude_code import ClaudeCodeImporter
from .codex import CodexImporter
from .markdown import MarkdownImporter
from .openai import OpenAIImporter
from .sharegpt import ShareGPTImporter
from .swe_agent import SWEAgentImporter
from .text import TextImporter

# Most specific first: on equal scores the earlier one wins.
IMPORTERS: dict[str, type[Importer]] = {
    cls.name: cls
    for cls in (ClaudeCodeImporter, CodexImporter, SWEAgentImporter, ChatGPTImporter, ShareGPTImporter,
                OpenAIImporter, AiderImporter, MarkdownImporter, TextImporter)
}
FALLBACK = TextImporter.name
MIN_SCORE = 0.25  # below this the head is not convincingly any structured format


def sniff(name: str, head: str) -> float:
    """`IMPORTERS[name].sniff(head)`, where a sniffer tripping over odd content scores 0."""
    try:
        return float(IMPORTERS[name].sniff(head))
    except Exception:  # noqa: BLE001 - detection must never fail an upload; any surprise = "not me"
        return 0.0


def scores(head: str) -> dict[str, float]:
    """Every importer's sniff score for `head` (for diagnostics and tests)."""
    return {name: sniff(name, head) for name in IMPORTERS}


def detect(head: str) -> str:
    """The format `head` (first ~64 KB of text) is most likely in; `text` when none scores
    at least MIN_SCORE."""
    best, best_score = FALLBACK, 0.0
    for name in IMPORTERS:
        if name == FALLBACK:
            continue
        s = sniff(name, head)
        if s > best_score:
            best, best_score = name, s
    return best if best_score >= MIN_SCORE else FALLBACK


__all__ = [
    "FALLBACK", "IMPORTERS", "AiderImporter", "ChatGPTImporter", "ClaudeCodeImporter", "CodexImporter",
    "Importer", "MarkdownImporter", "OpenAIImporter", "SWEAgentImporter", "ShareGPTImporter", "TextImporter",
    "detect", "scores", "sniff",
]
