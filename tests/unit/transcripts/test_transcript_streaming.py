"""Streaming: messages come out before the upload is read to the end; memory stays flat;
the public entry points behave as documented."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tracemalloc
from collections.abc import Iterator

import pytest
from transcript_support import CLAUDE_SESSIONS, run_import

from chalicelib.transcripts.importing import STATS_KEYS, import_all, open_transcript
from chalicelib.transcripts.model import Message
from chalicelib.transcripts.textstream import TextSource


class GeneratorStream(io.RawIOBase):
    """A binary stream fed by a generator of byte chunks; counts what has been pulled."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buf = b""
        self.pulled = 0
        self.exhausted = False

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[no-untyped-def]
        while not self._buf:
            try:
                self._buf = next(self._chunks)
            except StopIteration:
                self.exhausted = True
                return 0
            self.pulled += len(self._buf)
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n


def _claude_lines(n: int, pad: int = 2000) -> Iterator[bytes]:
    for i in range(n):
        if i % 2 == 0:
            noise = hashlib.sha256(str(i).encode()).hexdigest() * (pad // 64)  # does not compress away
            rec = {"type": "user", "sessionId": "s", "uuid": f"u{i}", "cwd": "/p", "timestamp": "t",
                   "message": {"role": "user", "content": f"question {i} {noise}"}}
        else:
            rec = {"type": "assistant", "uuid": f"a{i}", "sessionId": "s", "timestamp": "t",
                   "message": {"id": f"m{i}", "role": "assistant", "content": [{"type": "text", "text": f"answer {i}"}],
                               "usage": {"input_tokens": 1, "output_tokens": 1}}}
        yield json.dumps(rec).encode() + b"\n"


def test_first_message_arrives_before_the_stream_is_read():
    total = sum(len(x) for x in _claude_lines(3000))  # ~6 MB
    stream = GeneratorStream(_claude_lines(3000))
    it = iter(open_transcript(stream))
    first = next(it)
    assert first.role == "user" and first.text.startswith("question 0")
    assert not stream.exhausted and stream.pulled < total * 0.1
    rest = sum(1 for _ in it)
    assert rest == 2999 and stream.exhausted


def test_gzip_stream_is_also_incremental():
    gz = gzip.compress(b"".join(_claude_lines(3000)))
    stream = GeneratorStream(gz[i:i + 8192] for i in range(0, len(gz), 8192))
    it = iter(open_transcript(stream))
    assert next(it).text.startswith("question 0")
    assert not stream.exhausted and stream.pulled < len(gz) * 0.1
    assert sum(1 for _ in it) == 2999


def test_peak_memory_does_not_grow_with_the_transcript():
    def peak(n: int) -> int:
        tracemalloc.start()
        try:
            for _ in open_transcript(GeneratorStream(_claude_lines(n))):
                pass
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small, big = peak(300), peak(3000)  # ~0.6 MB and ~6 MB of input
    assert big < 3_000_000  # well under the input size: nothing accumulates
    assert big < small * 2


def test_text_source_lines_across_tiny_chunks():
    text = "première ligne\nsecond ✓ line\n\n" + "long" * 1000 + "\nlast without newline"
    src = TextSource(text.encode(), head_bytes=5, chunk_bytes=3)
    lines = list(src)
    assert "".join(lines) == text
    assert lines == [ln + "\n" for ln in text.split("\n")[:-1]] + ["last without newline"]
    assert src.line_no == 5


def test_text_source_is_read_once():
    src = TextSource(b"a\nb\n")
    assert src.read() == "a\nb\n"
    with pytest.raises(RuntimeError):
        list(src)


# -- the public API --------------------------------------------------------------------------------

def test_stats_keys_and_live_updates(fixtures):
    imp = open_transcript((fixtures / "codex_rollout.jsonl").read_bytes())
    assert tuple(imp.stats) == STATS_KEYS
    assert imp.stats["messages"] == 0 and imp.format == "codex"
    it = iter(imp)
    next(it), next(it)
    assert imp.stats["messages"] == 2 and not imp.complete
    with pytest.raises(RuntimeError):
        imp.file_changes  # noqa: B018 - known only after the whole transcript
    msgs = [*it]
    assert imp.complete and imp.stats["messages"] == 2 + len(msgs)
    assert imp.stats["bytes"] == len((fixtures / "codex_rollout.jsonl").read_bytes())
    with pytest.raises(RuntimeError):
        iter(imp)


def test_chars_stat_is_the_sum_over_messages(claude_session):
    got = claude_session(CLAUDE_SESSIONS[1])
    assert got.stats["chars"] == sum(m.chars() for m in got.messages)
    assert got.stats["input_tokens"] + got.stats["output_tokens"] == got.stats["tokens"]


def test_import_all_and_file_like_input(fixtures):
    msgs, stats, changes = import_all((fixtures / "openai_messages.json").open("rb"))
    assert stats["format"] == "openai" and len(msgs) == stats["messages"] == 7
    assert [c.path for c in changes] == ["hello.py"]
    msgs2, stats2, _ = import_all(bytearray((fixtures / "openai_messages.json").read_bytes()), "openai")
    assert [m.to_dict() for m in msgs2] == [m.to_dict() for m in msgs]


def test_imported_messages_round_trip_through_the_model(fixtures):
    got = run_import(fixtures / "claude_code_small.jsonl")
    for m in got.messages:
        assert Message.from_dict(json.loads(json.dumps(m.to_dict()))) == m


def test_cwd_and_branch_are_kept_in_message_meta(fixtures, shared, claude_session):
    """The stored transcript keeps the working directory (for the handoff's repo root): on the
    first message, and again where Claude Code's cwd changes."""
    small = run_import(fixtures / "claude_code_small.jsonl")
    assert small.messages[0].meta == {"cwd": "/work/proj", "git_branch": "main"}
    assert sum(1 for m in small.messages if "cwd" in m.meta) == 1
    codex = run_import(fixtures / "codex_rollout.jsonl")
    assert codex.messages[0].meta == {"cwd": "/home/dev/proj/calc", "git_branch": "fix-add"}
    swe = run_import(shared / "swe-agent" / "pydicom__pydicom-1458.traj")
    assert swe.messages[0].meta == {"cwd": "/pydicom__pydicom"}
    cwds = [m.meta["cwd"] for m in claude_session(CLAUDE_SESSIONS[1]).messages if "cwd" in m.meta]
    assert cwds[0] == "/home/USER/projects/spotter-worktrees/spotter-fum"
    assert all(c.startswith("/home/USER/projects/spotter-worktrees/spotter-fum") for c in cwds)
