"""Helpers and constants for the transcript import tests (imported by conftest and the tests):
paths to the shared real transcripts and hand-made samples, a one-call import, raw-record reading
for independent counts, and fake secrets of every kind (built at run time so that no
secret-looking literal sits in the repository)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from chalicelib.transcripts.importing import TranscriptImport, open_transcript
from chalicelib.transcripts.model import FileChange, Message

REPO = Path(__file__).resolve().parents[3]
SHARED_TRANSCRIPTS = REPO / "tests" / "fixtures" / "real"
FIXTURES = REPO / "tests" / "fixtures" / "transcripts"

CLAUDE_SESSIONS = ("258c7280-ae70-4798-800f-63464d01a85d", "8463c716-a2ea-4c14-9efa-87158ebd9f20")


class Imported:
    """The outcome of one full import, for assertions."""

    def __init__(self, imp: TranscriptImport, messages: list[Message]) -> None:
        self.imp = imp
        self.messages = messages
        self.stats: dict[str, Any] = imp.stats
        self.changes: list[FileChange] = imp.file_changes
        self.info = imp.info

    def by_role(self, role: str) -> list[Message]:
        return [m for m in self.messages if m.role == role]

    @property
    def calls(self) -> list[Any]:
        return [c for m in self.messages for c in m.tool_calls]

    @property
    def results(self) -> list[Any]:
        return [r for m in self.messages for r in m.tool_results]

    def change(self, path: str) -> FileChange:
        found = [c for c in self.changes if c.path == path]
        assert found, f"no change for {path}: {[c.path for c in self.changes]}"
        return found[0]


def run_import(source: Path | bytes, fmt: str = "auto", **kw: Any) -> Imported:
    if isinstance(source, Path):
        with source.open("rb") as fh:
            imp = open_transcript(fh, fmt, **kw)
            msgs = list(imp)
    else:
        imp = open_transcript(source, fmt, **kw)
        msgs = list(imp)
    return Imported(imp, msgs)


def claude_records(path: Path) -> Iterator[dict[str, Any]]:
    """The raw JSONL records of a (gzipped) Claude Code session, for independent counting."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:  # type: ignore[operator]
        for line in f:
            if line.strip():
                yield json.loads(line)


def _fake(prefix: str, n: int, alphabet: str = "aB3dE5gH7jK9mN1pQ2sT4vW6yZ8") -> str:
    body = (alphabet * (n // len(alphabet) + 1))[:n]
    return prefix + body


# kind -> a text holding one such secret (fake values shaped like the real thing).
SECRET_SAMPLES: dict[str, str] = {
    "hf_token": f"HF hub token {_fake('hf_', 34)} for the download",
    "openai_key": f"OPENAI_API_KEY={_fake('sk-proj-', 48)}",
    "anthropic_key": f"export ANTHROPIC_API_KEY={_fake('sk-ant-api03-', 40)}",
    "github_token": f"git remote set-url origin https://x:{_fake('ghp_', 36)}@github.com/o/r.git",
    "aws_access_key": "aws_access_key_id = AKIA" + "QWERTYUIOPASDFGH",
    "aws_secret_key": "aws_secret_access_key = " + _fake("", 40, "AbCdEfGh12/+IjKlMn34"),
    "slack_token": "SLACK_BOT=" + "xoxb-" + "123456789012-1234567890123-" + _fake("", 24),
    "private_key": "-----BEGIN RSA PRIVATE KEY-----\n" + _fake("MIIE", 60) + "\n" + _fake("", 64)
                   + "\n-----END RSA PRIVATE KEY-----",
    "jwt": "token: " + "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9" + "." + "eyJzdWIiOiIxMjM0NTY3ODkwIn0" + "."
           + _fake("", 43, "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"),
    "url_password": "DATABASE_URL=postgres://admin:" + "Tr0ub4dor-3" + "@db.example.com:5432/app",
    "password": 'db = connect(host="db", password="' + "correct-horse-9" + '")',
    "api_key": "STRIPE_LIKE_API_KEY=" + _fake("", 32),
    "bearer_token": "curl -H 'Authorization: Bearer " + _fake("", 40) + "' https://api.example.com",
}

# The private value inside each sample (must not survive redaction).
SECRET_VALUES: dict[str, str] = {
    "hf_token": _fake("hf_", 34),
    "openai_key": _fake("sk-proj-", 48),
    "anthropic_key": _fake("sk-ant-api03-", 40),
    "github_token": _fake("ghp_", 36),
    "aws_access_key": "AKIA" + "QWERTYUIOPASDFGH",
    "aws_secret_key": _fake("", 40, "AbCdEfGh12/+IjKlMn34"),
    "slack_token": "xoxb-" + "123456789012-1234567890123-" + _fake("", 24),
    "private_key": _fake("", 64),
    "jwt": "eyJzdWIiOiIxMjM0NTY3ODkwIn0",
    "url_password": "Tr0ub4dor-3",
    "password": "correct-horse-9",
    "api_key": _fake("", 32),
    "bearer_token": _fake("", 40),
}
