"""Markdown exports (SpecStory and heading styles) and the plain-text fallback."""

from __future__ import annotations

import pytest
from transcript_support import run_import

from chalicelib.transcripts.errors import TranscriptWrongFormat


def test_specstory_export(fixtures):
    got = run_import(fixtures / "specstory.md")
    assert got.stats["format"] == "markdown"
    assert [m.role for m in got.messages] == ["user", "assistant", "user", "assistant"]
    user, agent = got.messages[:2]
    assert user.timestamp == "2025-06-01 10:00Z"
    assert "[REDACTED:url_password]" in user.text and "pa55word" not in user.text
    assert [c.name for c in agent.tool_calls] == ["read_file"]
    assert "## User" in agent.text  # a heading inside a code fence stays in the message
    assert not any(m.text.endswith("---") or m.text.startswith("---") for m in got.messages)
    assert got.info["title"].startswith("Add retries to fetch_json")
    assert got.info["model"] == "claude-sonnet-4"


def test_heading_styles():
    body = (b"# Chat export\n\nsome preamble\n\n## User\n\nHow do I revert a commit?\n\n"
            b"## Assistant\n\nUse `git revert <sha>`.\n\n```\n## User\n```\n\n### User:\n\nThanks\n")
    got = run_import(body)
    assert got.stats["format"] == "markdown"
    assert [(m.role, m.text) for m in got.messages] == [
        ("user", "How do I revert a commit?"),
        ("assistant", "Use `git revert <sha>`.\n\n```\n## User\n```"),
        ("user", "Thanks"),
    ]


def test_bold_inline_style():
    body = b"**User:** first question\nmore detail\n\n**Assistant:** an answer\n\n**User:** ok\n"
    got = run_import(body)
    assert got.stats["format"] == "markdown"
    assert [(m.role, m.text) for m in got.messages] == [("user", "first question\nmore detail"),
                                                        ("assistant", "an answer"), ("user", "ok")]


def test_text_with_prefixes():
    body = b"Notes before.\nUser: fix the build\nAssistant: Done. CI is green.\nIt was a typo.\nUser: thanks\n"
    got = run_import(body)
    assert got.stats["format"] == "text"
    assert [(m.role, m.text) for m in got.messages] == [
        ("user", "Notes before."), ("user", "fix the build"), ("assistant", "Done. CI is green.\nIt was a typo."),
        ("user", "thanks")]


def test_text_without_prefixes_is_one_user_message():
    body = b"Session notes\n\n- refactored the parser\n- password=s3cret-Value in .env (rotate!)\n"
    got = run_import(body)
    assert got.stats["format"] == "text" and got.stats["messages"] == 1
    msg = got.messages[0]
    assert msg.role == "user" and msg.text.startswith("Session notes")
    assert "s3cret-Value" not in msg.text and got.stats["redactions"] == {"password": 1}


def test_markdown_declared_for_plain_text_is_refused():
    with pytest.raises(TranscriptWrongFormat):
        run_import(b"just some words\nwithout any role headings\n", "markdown")
    # `text` accepts anything
    assert run_import(b"just some words\n", "text").stats["messages"] == 1
