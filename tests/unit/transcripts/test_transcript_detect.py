"""Format detection from content (not file names), gzip transparency, declared-format checks."""

from __future__ import annotations

import gzip

import pytest
from transcript_support import CLAUDE_SESSIONS, run_import

from chalicelib.transcripts.errors import TranscriptUnknownFormat, TranscriptWrongFormat
from chalicelib.transcripts.importers import IMPORTERS, detect, scores
from chalicelib.transcripts.importing import FORMATS, open_transcript

FIXTURE_FORMATS = {
    "claude_code_small.jsonl": "claude-code",
    "codex_rollout.jsonl": "codex",
    "chatgpt_conversations.json": "chatgpt",
    "openai_messages.json": "openai",
    "sharegpt.json": "sharegpt",
    "swe_agent_fc.traj": "swe-agent",
    "aider_modern.md": "aider",
    "specstory.md": "markdown",
}


def test_formats_constant_matches_the_importers():
    assert FORMATS == ("auto", "claude-code", "codex", "chatgpt", "openai", "sharegpt", "swe-agent", "aider",
                       "markdown", "text")
    assert set(FORMATS) - {"auto"} == set(IMPORTERS)


@pytest.mark.parametrize(("name", "fmt"), sorted(FIXTURE_FORMATS.items()))
def test_auto_detects_each_sample(name, fmt, fixtures):
    raw = (fixtures / name).read_bytes()
    head = raw[:65536].decode()
    assert detect(head) == fmt
    s = scores(head)
    assert max(s, key=s.get) == fmt  # the winner is clear, not a tie-break
    imp = open_transcript(raw)
    assert imp.format == fmt and imp.detected


@pytest.mark.parametrize(("name", "fmt"), sorted(FIXTURE_FORMATS.items()))
def test_auto_detects_gzip_compressed_samples(name, fmt, fixtures):
    # the file name says nothing: only content and the gzip magic bytes count
    got = run_import(gzip.compress((fixtures / name).read_bytes()))
    assert got.stats["format"] == fmt and got.stats["messages"] > 0
    assert got.imp._source.compressed


@pytest.mark.parametrize(("rel", "fmt"), [
    (f"claude-code/{CLAUDE_SESSIONS[0]}.jsonl.gz", "claude-code"),
    ("claude-code/258c7280-ae70-4798-800f-63464d01a85d.agent-acompact-fffbd0.jsonl", "claude-code"),
    ("swe-agent/pydicom__pydicom-1458.traj", "swe-agent"),
    ("aider/aider_example_add-test.md", "aider"),
    ("aider/aider_example_complex-change.md", "aider"),
])
def test_auto_detects_the_real_files(rel, fmt, shared):
    with (shared / rel).open("rb") as fh:
        assert open_transcript(fh).format == fmt


def test_plain_text_falls_back_to_text():
    assert detect("Some notes about the session.\nNothing structured.\n") == "text"
    assert open_transcript(b"hello").format == "text"


@pytest.mark.parametrize(("declared", "name"), [
    ("codex", "claude_code_small.jsonl"),
    ("claude-code", "codex_rollout.jsonl"),
    ("swe-agent", "openai_messages.json"),
    ("chatgpt", "sharegpt.json"),
    ("sharegpt", "chatgpt_conversations.json"),
    ("aider", "specstory.md"),
    ("openai", "swe_agent_fc.traj"),
])
def test_declared_format_contradicted_by_content(declared, name, fixtures):
    with pytest.raises(TranscriptWrongFormat) as e:
        open_transcript((fixtures / name).read_bytes(), declared)
    assert e.value.details["detected"] == FIXTURE_FORMATS[name]
    assert f"format={FIXTURE_FORMATS[name]}" in e.value.message


def test_declared_format_that_matches_is_used(fixtures):
    imp = open_transcript((fixtures / "codex_rollout.jsonl").read_bytes(), "codex")
    assert imp.format == "codex" and not imp.detected


def test_unknown_format_name():
    with pytest.raises(TranscriptUnknownFormat) as e:
        open_transcript(b"x", "cursor")
    assert "claude-code" in e.value.message and e.value.code == "transcript_unknown_format"
