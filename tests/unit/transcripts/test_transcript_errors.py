"""Bad input: each raises a named TranscriptError with a stable code and an actionable message."""

from __future__ import annotations

import gzip
import json
import random

import pytest
from transcript_support import run_import

from chalicelib.transcripts.errors import (
    TranscriptBadGzip,
    TranscriptBinary,
    TranscriptEmpty,
    TranscriptError,
    TranscriptInvalidJSON,
    TranscriptInvalidStructure,
    TranscriptNotUTF8,
    TranscriptTooLarge,
    TranscriptWrongFormat,
)
from chalicelib.transcripts.importing import open_transcript
from chalicelib.transcripts.model import Message


@pytest.mark.parametrize("body", [b"", b"   \n\n\t", gzip.compress(b""), gzip.compress(b"\n \n")])
def test_empty_body(body):
    with pytest.raises(TranscriptEmpty) as e:
        open_transcript(body)
    assert e.value.code == "transcript_empty" and "empty" in e.value.message


def test_valid_jsonl_without_messages_is_empty_at_the_end(fixtures):
    first_line = (fixtures / "claude_code_small.jsonl").read_bytes().split(b"\n")[0] + b"\n"  # a progress record
    imp = open_transcript(first_line)
    with pytest.raises(TranscriptEmpty) as e:
        list(imp)
    assert "No messages" in e.value.message and not imp.complete


def test_binary_noise():
    rng = random.Random(7)
    with pytest.raises(TranscriptBinary) as e:
        open_transcript(bytes(rng.getrandbits(8) for _ in range(5000)))
    assert e.value.code == "transcript_binary" and "binary" in e.value.message


def test_short_binary_noise_without_nul_bytes():
    rng = random.Random(3)
    noise = bytes(b for b in (rng.getrandbits(8) for _ in range(400)) if b != 0)
    with pytest.raises(TranscriptBinary):
        open_transcript(noise)


@pytest.mark.parametrize(("magic", "words"), [
    (b"PK\x03\x04", "ZIP archive"), (b"SQLite format 3\x00", "SQLite"), (b"\x89PNG\r\n", "PNG"),
    (b"BZh91AY", "bzip2"), (b"%PDF-1.7", "PDF"),
])
def test_known_binary_formats_get_a_specific_hint(magic, words):
    with pytest.raises(TranscriptBinary) as e:
        open_transcript(magic + b"\x01\x02" * 50)
    assert words in e.value.message


def test_nul_bytes_in_text():
    with pytest.raises(TranscriptBinary) as e:
        open_transcript(b'{"role": "user"}\x00\x00')
    assert e.value.offset == 16


def test_invalid_utf8_names_offset_and_line():
    body = b'{"a": 1}\n' * 3 + b"caf\xe9 au lait\n"  # latin-1 e-acute
    with pytest.raises(TranscriptNotUTF8) as e:
        list(open_transcript(body, "text"))
    assert (e.value.line, e.value.offset) == (4, 27 + 3)
    assert "byte offset 30" in e.value.message and "line 4" in e.value.message
    assert e.value.to_dict() == {"error": {"code": "transcript_not_utf8", "message": e.value.message, "line": 4,
                                           "offset": 30}}


def test_invalid_utf8_after_the_head_surfaces_while_iterating():
    body = b"User: hi\n" + b"x" * 200_000 + b"\n\xff\xfe oops\n"
    imp = open_transcript(body)  # the first 64 KB are fine
    with pytest.raises(TranscriptNotUTF8) as e:
        list(imp)
    assert e.value.line == 3 and e.value.offset == 9 + 200_001


def test_utf8_split_across_read_chunks_is_fine():
    text = ("é" * 100_000 + "\n").encode()  # 2-byte chars straddle every 64 KB / 256 KB boundary
    got = run_import(text, "text")
    assert got.messages[0].text == "é" * 100_000


def test_utf16_is_named():
    with pytest.raises(TranscriptNotUTF8) as e:
        open_transcript("User: hi".encode("utf-16"))
    assert "UTF-16" in e.value.message


def test_utf8_bom_is_accepted(fixtures):
    got = run_import(b"\xef\xbb\xbf" + (fixtures / "openai_messages.json").read_bytes())
    assert got.stats["format"] == "openai"


@pytest.mark.parametrize(("name", "fmt"), [
    ("openai_messages.json", "openai"), ("chatgpt_conversations.json", "chatgpt"), ("sharegpt.json", "sharegpt"),
    ("swe_agent_fc.traj", "swe-agent"),
])
def test_truncated_json_document(name, fmt, fixtures):
    raw = (fixtures / name).read_bytes()
    with pytest.raises(TranscriptInvalidJSON) as e:
        list(open_transcript(raw[: len(raw) * 2 // 3], fmt))
    assert e.value.code == "transcript_invalid_json" and e.value.line and e.value.line > 1
    assert "truncated" in e.value.message or "not valid JSON" in e.value.message


def test_truncated_jsonl_upload(fixtures):
    raw = (fixtures / "codex_rollout.jsonl").read_bytes()
    with pytest.raises(TranscriptInvalidJSON) as e:
        list(open_transcript(raw[:-100]))
    assert "cut off" in e.value.message and e.value.line == raw.count(b"\n")


def test_malformed_line_in_the_middle_of_jsonl(fixtures):
    lines = (fixtures / "codex_rollout.jsonl").read_bytes().split(b"\n")
    lines.insert(10, b'{"timestamp": "x", "type": "event_msg", "payload": ')
    with pytest.raises(TranscriptInvalidJSON) as e:
        list(open_transcript(b"\n".join(lines)))
    assert e.value.line == 11 and "Line 11" in e.value.message


def test_jsonl_line_that_is_not_an_object(fixtures):
    raw = (fixtures / "codex_rollout.jsonl").read_bytes()
    with pytest.raises(TranscriptInvalidStructure) as e:
        list(open_transcript(raw + b"[1, 2]\n"))
    assert e.value.line == raw.count(b"\n") + 1


def test_wrong_declared_format(fixtures):
    with pytest.raises(TranscriptWrongFormat) as e:
        open_transcript((fixtures / "codex_rollout.jsonl").read_bytes(), "claude-code")
    assert e.value.code == "transcript_wrong_format" and "codex" in e.value.message


def test_corrupt_gzip(fixtures):
    gz = gzip.compress((fixtures / "codex_rollout.jsonl").read_bytes())
    with pytest.raises(TranscriptBadGzip) as e:
        list(open_transcript(gz[: len(gz) // 2]))
    assert e.value.code == "transcript_bad_gzip"
    flipped = gz[:20] + bytes([gz[20] ^ 0xFF]) + gz[21:]
    with pytest.raises(TranscriptError):
        list(open_transcript(flipped))


def test_max_bytes_guards_against_gzip_bombs():
    bomb = gzip.compress(b"User: " + b"a" * 5_000_000)
    assert len(bomb) < 10_000
    with pytest.raises(TranscriptTooLarge) as e:
        list(open_transcript(bomb, max_bytes=1_000_000))
    assert e.value.status == 413


def test_every_error_is_a_transcript_error_with_a_code():
    for cls in (TranscriptBadGzip, TranscriptBinary, TranscriptEmpty, TranscriptInvalidJSON,
                TranscriptInvalidStructure, TranscriptNotUTF8, TranscriptTooLarge, TranscriptWrongFormat):
        err = cls("msg")
        assert isinstance(err, TranscriptError) and err.code.startswith("transcript_") and err.status in (400, 413)


def _mutate(obj, rng: random.Random, p: float = 0.08):
    odd = [None, 1, "s", [], {}, True, 2.5]
    if isinstance(obj, dict):
        return {k: rng.choice(odd) if rng.random() < p else _mutate(v, rng, p) for k, v in obj.items()}
    if isinstance(obj, list):
        return [rng.choice(odd) if rng.random() < p else _mutate(v, rng, p) for v in obj]
    return obj


@pytest.mark.parametrize("name", ["claude_code_small.jsonl", "codex_rollout.jsonl", "chatgpt_conversations.json",
                                  "openai_messages.json", "sharegpt.json", "swe_agent_fc.traj"])
def test_odd_field_types_never_crash(name, fixtures):
    """Fields of the wrong type anywhere: the import succeeds with well-typed messages, or raises
    a TranscriptError (a 4xx for the API), never anything else."""
    rng = random.Random(name)
    raw = (fixtures / name).read_text()
    ok = 0
    for _ in range(25):
        if name.endswith(".jsonl"):
            body = "\n".join(json.dumps(_mutate(json.loads(ln), rng)) for ln in raw.splitlines()) + "\n"
        else:
            body = json.dumps(_mutate(json.loads(raw), rng))
        try:
            msgs = run_import(body.encode()).messages
        except TranscriptError:
            continue
        ok += 1
        for m in msgs:  # the model's types hold
            assert Message.from_dict(json.loads(json.dumps(m.to_dict()))) == m
            assert isinstance(m.text, str) and all(isinstance(c.input, dict) for c in m.tool_calls)
    assert ok > 0


def test_large_openai_array_is_detected_from_its_head():
    msgs = [{"content": "x" * 500 + " {braces} ", "role": "user" if i % 2 else "assistant"} for i in range(400)]
    got = run_import(json.dumps(msgs).encode())  # ~200 KB: the head is not a complete document
    assert got.stats["format"] == "openai" and got.stats["messages"] == 400
