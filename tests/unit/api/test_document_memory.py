"""One-JSON-document transcripts (ChatGPT, OpenAI, ShareGPT exports) are parsed whole: what bounds
the server's memory is the parsed form, not the text. A 200 KB gzip can hold 60 MiB of "[],", which
json.loads turns into ~1.5 GB of lists. Such documents get a 413 before they are parsed; peak memory
is measured by `python -m bench.hardening_bench` (docs/benchmarks.md), not here."""

from __future__ import annotations

import gzip
import json

import pytest

from chalicelib import config
from chalicelib.transcripts.errors import TranscriptTooLarge
from chalicelib.transcripts.textstream import PARSE_FACTOR, TextSource, parsed_size
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "transcripts"
MiB = 1024 * 1024


@pytest.fixture
def pid(api) -> str:
    pid = api.post("/api/projects", {"name": "p"}).json_body["id"]
    api.post(f"/api/projects/{pid}/sessions", {})
    return pid


def _tiny_values(n: int) -> bytes:
    """An OpenAI messages document followed by `n` empty lists: 3 bytes of text, 64 of memory each."""
    return ('{"messages":[{"role":"user","content":"hi"}' + ",[]" * n + "]}").encode()


def test_the_document_cap_is_32_mib_by_default(monkeypatch):
    monkeypatch.delenv("MSO_MAX_DOCUMENT_BYTES", raising=False)
    config.reset()
    assert config.settings().max_document_bytes == 32 * MiB


def test_a_document_of_millions_of_tiny_values_is_413_before_it_is_parsed(api, pid):
    doc = _tiny_values(10 * MiB // 3)  # 10 MiB of text (under the 32 MiB cap), ~230 MB once parsed
    assert len(doc) < 32 * MiB and parsed_size(doc.decode()) > 200 * MiB
    r = api.put(f"/api/projects/{pid}/sessions/1/transcript?format=openai", raw=gzip.compress(doc),
                headers={"Content-Type": "application/gzip"})
    assert r.status_code == 413, r.body
    err = r.json_body["error"]
    assert err["code"] == "transcript_too_large" and "parsed" in err["message"] and "JSONL" in err["message"]
    assert api.get(f"/api/projects/{pid}/sessions/1").json_body["transcript"] is None


def test_the_parse_budget_follows_the_configured_cap(monkeypatch):
    doc = _tiny_values(MiB // 3)  # 1 MiB of text, ~22 MB parsed
    cost = parsed_size(doc.decode())
    with pytest.raises(TranscriptTooLarge):
        TextSource(doc, max_document_bytes=cost // PARSE_FACTOR - 1).read()
    assert TextSource(doc, max_document_bytes=cost // PARSE_FACTOR + 1).read() == doc.decode()


@pytest.mark.parametrize("name,fmt", [("chatgpt_conversations.json", "chatgpt"), ("openai_messages.json", "openai"),
                                      ("sharegpt.json", "sharegpt")])
def test_real_exports_are_far_inside_the_parse_budget(api, pid, name, fmt):
    text = (FIXTURES / name).read_text(encoding="utf-8")
    assert parsed_size(text) < 12 * len(text)  # prose: a few bytes of memory per byte of text
    r = api.put(f"/api/projects/{pid}/sessions/1/transcript?format={fmt}", raw=text.encode(),
                headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.body
    assert json.loads(r.body)["messages"] > 0
