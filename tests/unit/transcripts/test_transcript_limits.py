"""One stored message keeps at most its limit: cut after redaction, with one marker saying how much."""

from __future__ import annotations

import json

from chalicelib.transcripts.importing import import_all
from chalicelib.transcripts.limits import MessageClipper
from chalicelib.transcripts.model import Message, ToolCall, ToolResult


def test_every_part_of_a_message_counts_and_one_marker_says_how_much():
    msg = Message(role="assistant", text="t" * 100_000, thinking="h" * 100_000,
                  tool_calls=[ToolCall(name="Write", input={"file_path": "a.py", "content": "c" * 300_000,
                                                            "nested": {"more": ["n" * 50_000]}})],
                  tool_results=[ToolResult(text="r" * 200_000)])
    clip = MessageClipper(256 * 1024)
    clip.precut(msg)
    clip.cut(msg)
    stored = json.dumps(msg.to_dict(), ensure_ascii=False).encode()
    assert len(stored) < 256 * 1024 + 2048
    dump = json.dumps(msg.to_dict())
    assert dump.count("characters cut") == 1
    assert msg.text == "t" * 100_000  # the start is kept whole
    assert clip.clipped == 1


def test_a_small_message_is_left_alone():
    msg = Message(role="user", text="hello", tool_results=[ToolResult(text="ok")])
    clip = MessageClipper()
    clip.precut(msg)
    clip.cut(msg)
    assert msg.text == "hello" and msg.tool_results[0].text == "ok" and clip.clipped == 0


def test_a_secret_at_the_cut_is_redacted_not_stored_in_part():
    key = "sk-ant-api03-" + "Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0PpOoNnMm"
    text = "x" * (256 * 1024 - 20) + " " + key + " tail" + "y" * 100_000
    body = json.dumps([{"role": "user", "content": text}, {"role": "assistant", "content": "ok"}]).encode()
    messages, _stats, _files = import_all(body, "openai")
    stored = messages[0].text
    assert "Zz9Yy8Xx7Ww6" not in stored and "characters cut" in stored


def test_a_text_transcript_without_roles_stops_buffering_at_the_limit():
    body = ("line of text\n" * 200_000).encode()  # 2.6 MB, one endless message
    messages, _stats, _files = import_all(body, "text")
    assert len(messages) == 1
    assert len(messages[0].text.encode()) < 256 * 1024 + 1024
    cut = int(messages[0].text.rsplit("[… ", 1)[1].split(" characters cut")[0].replace(",", ""))
    assert 2_300_000 < cut < 2_600_000
