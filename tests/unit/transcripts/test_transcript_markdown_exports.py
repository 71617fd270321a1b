"""Markdown exports of agent sessions: Claude Code exporters' emoji role headings (timestamps,
`<details>` tool blocks, thinking), SpecStory, ChatGPT exporters; a file with no role markers
imports with a warning instead of silently becoming one message."""

from __future__ import annotations

from transcript_support import run_import


def test_claude_code_export_with_emoji_headings_timestamps_and_details(fixtures):
    got = run_import(fixtures / "claude_code_export.md")
    assert got.stats["format"] == "markdown"
    assert [m.role for m in got.messages] == ["user", "assistant", "user", "assistant"]
    u1, a1, u2, a2 = got.messages
    assert u1.timestamp == "2025-07-14 09:12:40" and a1.timestamp == "2025-07-14 09:12:44"
    assert u1.text == "The retry test in tests/test_client.py fails one run in five. Find out why."
    assert got.info["model"] == "claude-sonnet-4-20250514"
    assert got.info["title"] == "Claude Code session: Fix the flaky retry test"
    assert [(c.name, c.input) for c in a1.tool_calls] == [
        ("Read", {"file_path": "/home/dev/billing/tests/test_client.py"})]
    assert len(a1.tool_results) == 1 and "delay = random.random()" in a1.tool_results[0].text
    assert "<details>" not in a1.text and a1.text.startswith("I'll read the test first.")
    assert "global `random` module" in a1.text
    assert a2.thinking.startswith("A local `random.Random(42)`")
    assert [c.name for c in a2.tool_calls] == ["Edit", "Bash"]
    assert a2.tool_calls[1].input["command"] == "pytest -q tests/test_client.py"
    assert "1 passed" in a2.tool_results[0].text
    assert "### 👤 User" in a2.text  # a heading inside a code fence stays text
    assert got.stats["tool_calls"] == 3
    paths = {c.path for c in got.changes}
    assert any(p.endswith("tests/test_client.py") for p in paths)


def test_emoji_heading_variants():
    body = ("## 🧑‍💻 Human\n\nhi there\n\n## 🤖 Claude — 2025-07-14T09:12:44Z\n\nhello\n\n"
            "### ⚙️ System\n\nbe brief\n\n#### 👤 **User** · 2025-07-14 10:00\n\nbye\n\n"
            "### 🤖 Assistant\n🕐 2025-07-14 10:01:02\n\nsee you\n\n### 👤 User\n**Time:** 2025-07-14T10:02:00Z\n\nok\n"
            ).encode()
    got = run_import(body)
    assert got.stats["format"] == "markdown"
    assert [(m.role, m.text, m.timestamp) for m in got.messages] == [
        ("user", "hi there", None), ("assistant", "hello", "2025-07-14T09:12:44Z"),
        ("system", "be brief", None), ("user", "bye", "2025-07-14 10:00"),
        ("assistant", "see you", "2025-07-14 10:01:02"), ("user", "ok", "2025-07-14T10:02:00Z")]


def test_specstory_cursor_export(fixtures):
    got = run_import(fixtures / "specstory_cursor.md")
    assert got.stats["format"] == "markdown"
    assert [m.role for m in got.messages] == ["user", "assistant", "user", "assistant"]
    assert got.messages[0].text == "Rename `load_cfg` to `load_config` everywhere."
    assert "load_config(path)" in got.messages[1].text
    assert got.info["title"].startswith("Rename the config loader")


def test_chatgpt_exporter_headings(fixtures):
    got = run_import(fixtures / "chatgpt_exporter.md")
    assert got.stats["format"] == "markdown"
    assert [m.role for m in got.messages] == ["user", "assistant", "user", "assistant"]
    assert got.messages[0].text.startswith("Write a Python regex")
    assert 're.compile(r"\\d{4}-\\d{2}-\\d{2}")' in got.messages[1].text
    assert got.info["title"] == "Regex for ISO dates"


def test_chatgpt_export_bold_you(fixtures):
    got = run_import(fixtures / "chatgpt_export_bold.md")
    assert got.stats["format"] == "markdown"
    assert [(m.role, m.text[:12]) for m in got.messages] == [
        ("user", "How do I und"), ("assistant", "Use `git res"), ("user", "And unstaged"),
        ("assistant", "`git reset H")]


def test_no_role_markers_imports_as_one_message_with_a_warning():
    body = b"# Notes from Tuesday\n\nWe looked at the parser.\n\n## Next\n\n- fix the lexer\n"
    got = run_import(body)
    assert got.stats["messages"] == 1
    warnings = got.info.get("warnings") or []
    assert [w["code"] for w in warnings] == ["no_roles_recognised"]
    assert "one user message" in warnings[0]["message"]


def test_role_markers_found_means_no_warning(fixtures):
    assert not run_import(fixtures / "chatgpt_exporter.md").info.get("warnings")
    assert not run_import(b"User: fix it\nAssistant: done\n").info.get("warnings")
