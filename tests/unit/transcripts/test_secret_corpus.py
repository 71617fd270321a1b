"""The secret corpus: every shape is redacted (100% recall) alone and through a whole import, and
the ids real transcripts are full of (commit hashes, UUIDs, message and tool ids) survive."""

from __future__ import annotations

import json
import re

import pytest
from transcript_support import run_import

from chalicelib.transcripts.redact import redact
from tests.fixtures.secret_corpus import BY_NAME, KINDS, SAMPLES


def test_the_corpus_covers_at_least_40_kinds_and_the_nine_found_verbatim():
    assert len(SAMPLES) >= 40 and len(KINDS) >= 40
    assert len([s for s in SAMPLES if s.issue12]) >= 10


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_each_sample_is_redacted_once(name):
    """Kinds are the rule's id now (gitleaks' for its rules), so only the count is asserted."""
    sample = BY_NAME[name]
    out, counts = redact(sample.text)
    assert sample.secret not in out, out
    assert sum(counts.values()) == 1, (out, counts)
    assert f"[REDACTED:{next(iter(counts))}]" in out


def test_redaction_of_the_whole_corpus_is_idempotent():
    text = "\n".join(s.text for s in SAMPLES)
    once, counts = redact(text)
    assert sum(counts.values()) == len(SAMPLES)
    assert redact(once) == (once, {})


def _line(rtype: str, content, i: int) -> str:
    rec = {"type": rtype, "sessionId": "s", "uuid": f"u{i}-{rtype}", "cwd": "/p", "timestamp": "2026-01-01T00:00:00Z",
           "message": {"role": rtype, "content": content}}
    if rtype == "assistant":
        rec["message"]["id"] = f"m{i}"
    return json.dumps(rec)


def test_every_sample_in_text_tool_input_and_tool_result_of_an_import():
    lines = []
    for i, s in enumerate(SAMPLES):
        lines.append(_line("user", f"please use this: {s.text}", i))
        lines.append(_line("assistant", [{"type": "tool_use", "id": f"t{i}", "name": "Bash",
                                          "input": {"command": f"echo '{s.text}'"}}], i))
        lines.append(_line("user", [{"type": "tool_result", "tool_use_id": f"t{i}", "content": s.text}], i))
    got = run_import(("\n".join(lines) + "\n").encode(), "claude-code")
    dumped = json.dumps([m.to_dict() for m in got.messages], ensure_ascii=False)
    leaked = [s.name for s in SAMPLES if s.secret in dumped or json.dumps(s.secret)[1:-1] in dumped]
    assert leaked == []
    assert sum(got.stats["redactions"].values()) == 3 * len(SAMPLES)


_HASH = re.compile(r"(?<![0-9a-f])[0-9a-f]{40}(?![0-9a-f])")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_TOOL_ID = re.compile(r"\b(?:toolu|msg|call)_[A-Za-z0-9]{20,}\b")


def _real_files(shared):
    return sorted(p for p in shared.rglob("*") if p.is_file() and p.suffix in (".gz", ".jsonl", ".md", ".traj")
                  and not p.name.startswith(("README", "LICENSE", "SOURCES")))


def _ids(text: str) -> set[str]:
    return set(_HASH.findall(text)) | set(_UUID.findall(text)) | set(_TOOL_ID.findall(text))


def test_ids_in_real_transcripts_survive_redaction(shared, monkeypatch):
    """Import each real file with and without redaction: every commit hash, UUID and tool/message
    id of the unredacted messages is still in the redacted ones."""
    from chalicelib.transcripts.redact import Redactor

    files = _real_files(shared)
    assert len(files) >= 5
    redacted = {p.name: json.dumps([m.to_dict() for m in run_import(p).messages], ensure_ascii=False)
                for p in files}
    monkeypatch.setattr(Redactor, "message", lambda self, msg: msg)
    checked = 0
    for path in files:
        plain = json.dumps([m.to_dict() for m in run_import(path).messages], ensure_ascii=False)
        ids = _ids(plain)
        missing = sorted(i for i in ids if i not in redacted[path.name])
        assert missing == [], (path.name, missing[:5])
        checked += len(ids)
    assert checked > 100


@pytest.mark.parametrize("text", [
    '"max_tokens": 4096, "input_tokens": 1234567890123456',
    "token: string  # the field's type",
    "secret: my-app-secret-v2",
    "token_id: 258c7280-ae70-4798-800f-63464d01a85d",
    'token: "258c7280-ae70-4798-800f-63464d01a85d"',
    "secret: src/config/secrets.v2.yaml",
    "the secret was in commit 3f2c1e9a7d6b5c4e3f2a1b0c9d8e7f6a5b4c3d2e, reverted",
    "mysql -u root -p app_db   # prompts for the password",
    "mysql -h db -P3306 -u app",
    "a key-value store; the sig= parameter is documented in RFC 9421",
    "secret: ${{ secrets.DEPLOY_KEY }}",
    "Token: <paste your token here>",
    "tool_use_id: toolu_01ABCdefGHIjklMNOpqrSTUv, message id msg_01XyZabcDEF123456789",
    "sha256 of the secret is 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
])
def test_near_misses_are_left_alone(text):
    assert redact(text) == (text, {})
