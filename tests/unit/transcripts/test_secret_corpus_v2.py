"""The fresh corpus (tests/fixtures/secret_corpus_v2.py): every secret kind is removed alone and in
every transcript format the importer reads, every look-alike survives, and `<private>` spans are
removed in every format too. The typed fields and the handoff: tests/unit/api/test_redaction_api.py."""

from __future__ import annotations

import json

import pytest
from transcript_support import run_import

from chalicelib.transcripts.redact import Redactor, redact
from tests.fixtures.secret_corpus_v2 import BY_KIND, LOOKALIKES, SECRETS
from tests.fixtures.secret_corpus_v2 import TRANSCRIPT_BUILDERS as _FORMATS


def test_the_corpus_has_80_kinds_and_30_look_alikes():
    assert len(SECRETS) >= 80 and len(LOOKALIKES) >= 30


@pytest.mark.parametrize("kind", sorted(BY_KIND))
def test_each_kind_alone(kind):
    s = BY_KIND[kind]
    out, counts = redact(s.text)
    assert s.secret not in out, out
    assert counts and "[REDACTED:" in out
    assert redact(out) == (out, {})  # idempotent


@pytest.mark.parametrize("sample", LOOKALIKES, ids=lambda x: x.name)
def test_each_look_alike_survives(sample):
    assert redact(sample.text) == (sample.text, {})


def _leaks(dumped: str) -> list[str]:
    """Kinds whose secret (or its first 24 characters, or its JSON-escaped form) is still there."""
    out = []
    for s in SECRETS:
        forms = {s.secret, json.dumps(s.secret)[1:-1]}
        forms |= {f[:24] for f in forms if len(f) >= 24}
        if any(f in dumped for f in forms):
            out.append(s.kind)
    return out


@pytest.mark.parametrize("fmt", sorted(_FORMATS))
def test_every_kind_in_every_format(fmt):
    texts = [s.text for s in SECRETS]
    got = run_import(_FORMATS[fmt](texts), fmt)
    assert got.stats["format"] == fmt and got.messages
    dumped = json.dumps([m.to_dict() for m in got.messages], ensure_ascii=False)
    assert _leaks(dumped) == []
    assert sum(got.stats["redactions"].values()) >= len(SECRETS)


@pytest.mark.parametrize("fmt", sorted(_FORMATS))
def test_look_alikes_survive_every_format(fmt):
    texts = [x.text for x in LOOKALIKES]
    got = run_import(_FORMATS[fmt](texts), fmt)
    assert got.stats["redactions"] == {}


PRIVATE = "the staging password is hunter2-staging and the vault lives at 10.0.4.2"


@pytest.mark.parametrize("text", [
    f"before <private>{PRIVATE}</private> after",
    f"before <PRIVATE>\n{PRIVATE}\n</Private> after",
    f"before <private>{PRIVATE}",  # unclosed at the end of the message
    f"before <private>one</private> middle <private>{PRIVATE}</private> after",
])
def test_private_spans_are_removed(text):
    out, counts = redact(text)
    assert "hunter2" not in out and "10.0.4.2" not in out and "[PRIVATE]" in out
    assert out.startswith("before ") and counts["private"] >= 1
    assert redact(out) == (out, {})


@pytest.mark.parametrize("fmt", sorted(_FORMATS))
def test_private_spans_in_every_format(fmt):
    texts = [f"please use <private>{PRIVATE}</private> for the deploy", f"notes <private>\n{PRIVATE}\n"]
    got = run_import(_FORMATS[fmt](texts), fmt)
    dumped = json.dumps([m.to_dict() for m in got.messages], ensure_ascii=False)
    assert "hunter2" not in dumped and "10.0.4.2" not in dumped and "[PRIVATE]" in dumped


def test_redactor_walks_nested_values_with_the_message_prefilter():
    from chalicelib.transcripts.model import Message, ToolCall, ToolResult

    a, b, c = BY_KIND["stripe_live_long"], BY_KIND["curl_user_pass"], BY_KIND["pem_base64_k8s"]
    msg = Message(role="assistant", text="ok", tool_calls=[ToolCall(name="Bash", input={"env": [{"x": a.text}]})],
                  tool_results=[ToolResult(text="done", data={"stdout": b.text, "files": {"k.yaml": c.text}})])
    r = Redactor()
    r.message(msg)
    dumped = json.dumps(msg.to_dict())
    assert a.secret not in dumped and b.secret not in dumped and c.secret[:40] not in dumped
    assert r.total == 3
