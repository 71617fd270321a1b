"""Secret redaction: every kind, in every place a secret can sit in a transcript, counted."""

from __future__ import annotations

import importlib
import json

import pytest
from transcript_support import SECRET_SAMPLES, SECRET_VALUES, run_import

from chalicelib.transcripts.model import Message, ToolCall, ToolResult
from chalicelib.transcripts.redact import Redactor, may_hold_secret, redact


@pytest.mark.parametrize("kind", sorted(SECRET_SAMPLES))
def test_each_kind_is_redacted_and_counted(kind):
    out, counts = redact(SECRET_SAMPLES[kind])
    assert sum(counts.values()) == 1, counts
    assert SECRET_VALUES[kind] not in out
    assert f"[REDACTED:{next(iter(counts))}]" in out


def test_url_password_keeps_user_and_host():
    out, _ = redact(SECRET_SAMPLES["url_password"])
    assert out == "DATABASE_URL=postgres://admin:[REDACTED:url_password]@db.example.com:5432/app"


def test_generic_assignment_forms():
    text = "\n".join([
        'password = "hunter2-x"',
        "DB_PASSWORD=s3cr3t!",
        '{"password": "abc"}',
        "  passwd: 'letmein'",
        'config["api_key"] = "0123456789abcdef"',
        "mysql --password=Zz9zz9 db",
        '{\\"password\\": \\"escaped-in-json\\"}',
    ])
    out, counts = redact(text)
    assert sum(counts.values()) == 7 and counts["password"] >= 5
    for value in ("hunter2-x", "s3cr3t!", '"abc"', "letmein", "0123456789abcdef", "Zz9zz9", "escaped-in-json"):
        assert value not in out


@pytest.mark.parametrize("text", [
    "commit 3f2c1e9a7d6b5c4e3f2a1b0c9d8e7f6a5b4c3d2e fixes it",
    "session 258c7280-ae70-4798-800f-63464d01a85d",
    "we use sk-learn and sk-image here",
    "12 passed, 0 failed; the tests passed",
    "password = get_password()",
    "connect(password=password, user=user)",
    "api_key=settings.API_KEY",
    "password: ${DB_PASSWORD}",
    'password: "<your password>"',
    "The password is wrong. Reset the token budget.",
    "see https://github.com/org/repo and http://localhost:8000/api/health",
    "git@github.com:org/repo.git",
    "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "secret_key_base: String.t()",
    "AKIAX is too short; so is ghp_abc",
])
def test_ordinary_text_is_left_alone(text):
    out, counts = redact(text)
    assert out == text and counts == {}


def test_redaction_is_idempotent():
    text = "\n".join(SECRET_SAMPLES.values())
    once, counts = redact(text)
    twice, again = redact(once)
    assert twice == once and again == {}
    assert sum(counts.values()) == len(SECRET_SAMPLES)


def test_private_key_block_across_lines_of_one_message():
    key = "\n".join(["-----BEGIN OPENSSH PRIVATE KEY-----", "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB",
                     "AAAAMwAAAAtzc2gtZWQyNTUxOQAAACDqcRrn5lT0dPg3pZ1Tq7s8mXhqK9uQfqo6Jk3a",
                     "-----END OPENSSH PRIVATE KEY-----"])
    out, counts = redact(f"Here is the key:\n{key}\nkeep this line")
    assert out == "Here is the key:\n[REDACTED:private-key]\nkeep this line" and counts == {"private-key": 1}


def test_private_key_in_numbered_read_output_and_without_end():
    lines = ["-----BEGIN PRIVATE KEY-----", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7", "QWERTYUIOPASDFGHJKLZXCVBNM0123"]
    numbered = "\n".join(f"{i + 1:6}→{ln}" for i, ln in enumerate([*lines, "-----END PRIVATE KEY-----"]))
    out, counts = redact(numbered)
    assert counts == {"private-key": 1} and "MIIEvQ" not in out and "QWERTY" not in out
    cut = "\n".join(lines) + "\n\nnext paragraph"  # the transcript was cut before the END line
    out, counts = redact(cut)
    assert counts == {"private-key": 1} and "MIIEvQ" not in out and "QWERTY" not in out
    assert out.endswith("\n\nnext paragraph")


def test_redactor_accumulates_and_walks_values():
    r = Redactor()
    assert r.text(SECRET_SAMPLES["hf_token"]).count("[REDACTED:hf_token]") == 1
    value = {"cmd": SECRET_SAMPLES["slack_token"], "args": [SECRET_SAMPLES["jwt"], 3, None, True],
             "nested": {"env": (SECRET_SAMPLES["aws_access_key"],)}, SECRET_VALUES["hf_token"]: "key stays"}
    out = r.value(value)
    assert r.total == 4 and r.counts["hf_token"] == 1 and r.counts["jwt"] == 1
    assert out["args"][1:] == [3, None, True] and isinstance(out["nested"]["env"], tuple)
    assert SECRET_VALUES["hf_token"] in out  # dict keys are not rewritten
    assert SECRET_VALUES["slack_token"] not in json.dumps(out["cmd"])


def test_redactor_message_covers_every_field():
    s = SECRET_SAMPLES
    msg = Message(role="assistant", text=s["openai_key"], thinking=s["anthropic_key"],
                  tool_calls=[ToolCall(name="Bash", input={"command": s["github_token"], "env": [s["password"]]})],
                  tool_results=[ToolResult(text=s["bearer_token"], data={"stdout": s["api_key"]})],
                  meta={"note": s["url_password"]})
    r = Redactor()
    r.message(msg)
    dumped = json.dumps(msg.to_dict())
    for kind in ("openai_key", "anthropic_key", "github_token", "password", "bearer_token", "api_key", "url_password"):
        assert SECRET_VALUES[kind] not in dumped, kind
    assert r.total == 7 and r.counts["url_password"] == 1 and r.counts["bearer_token"] == 1


def _claude_line(rtype: str, content, **extra) -> dict:
    rec = {"type": rtype, "sessionId": "s", "uuid": f"u{id(content)}", "cwd": "/p",
           "timestamp": "2026-01-01T00:00:00Z", "message": {"role": rtype, "content": content}, **extra}
    if rtype == "assistant":
        rec["message"]["id"] = f"m{id(content)}"
    return rec


def test_every_kind_in_text_tool_input_and_tool_result_through_the_import():
    lines = []
    for i, (_kind, sample) in enumerate(sorted(SECRET_SAMPLES.items())):
        lines.append(_claude_line("user", f"please use this: {sample}"))
        lines.append(_claude_line("assistant", [{"type": "tool_use", "id": f"t{i}", "name": "Bash",
                                                 "input": {"command": f"echo '{sample}'"}}]))
        lines.append(_claude_line("user", [{"type": "tool_result", "tool_use_id": f"t{i}", "content": sample}]))
    lines.append(_claude_line("assistant", [{"type": "thinking", "thinking": SECRET_SAMPLES["hf_token"]}]))
    lines.append(_claude_line("user", "summary: " + SECRET_SAMPLES["jwt"], isCompactSummary=True))
    body = "\n".join(json.dumps(x) for x in lines).encode() + b"\n"
    got = run_import(body, "claude-code")
    # three places per kind, plus the thinking block and the compaction summary
    assert sum(got.stats["redactions"].values()) == 3 * len(SECRET_SAMPLES) + 2
    dumped = json.dumps([m.to_dict() for m in got.messages])
    for value in SECRET_VALUES.values():
        assert value not in dumped


def test_secrets_in_openai_tool_call_arguments_are_redacted():
    doc = [{"role": "user", "content": "deploy"},
           {"role": "assistant", "tool_calls": [{"id": "c", "type": "function", "function": {
               "name": "deploy", "arguments": json.dumps({"token": SECRET_SAMPLES["github_token"]})}}]}]
    got = run_import(json.dumps(doc).encode())
    assert got.stats["redactions"] == {"github-pat": 1}
    assert "[REDACTED:github-pat]" in got.calls[0].input["token"]


# -- detect-secrets: the vendored patterns are the plugin's, and we remove what it flags ----------

_PLUGIN_MODULES = {
    "AWSKeyDetector": "aws", "GitHubTokenDetector": "github_token", "GitLabTokenDetector": "gitlab_token",
    "StripeDetector": "stripe", "SendGridDetector": "sendgrid", "PypiTokenDetector": "pypi_token",
    "SquareOAuthDetector": "square_oauth", "AzureStorageKeyDetector": "azure_storage_key",
    "MailchimpDetector": "mailchimp", "TwilioKeyDetector": "twilio", "DiscordBotTokenDetector": "discord",
    "SlackDetector": "slack", "NpmDetector": "npm", "OpenAIDetector": "openai", "JwtTokenDetector": "jwt",
    "PrivateKeyDetector": "private_key", "BasicAuthDetector": "basic_auth",
}


def _plugin(name: str):
    mod = importlib.import_module(f"detect_secrets.plugins.{_PLUGIN_MODULES[name]}")
    return getattr(mod, name)()


def _r(n: int, alphabet: str = "Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9St0") -> str:
    return (alphabet * (n // len(alphabet) + 1))[:n]


DETECT_SECRETS_SAMPLES = {
    "AWSKeyDetector": ["key AKIA" + "ABCDEFGHIJKLMNOP" + " here", "aws_pass = '" + _r(40) + "'"],
    "GitHubTokenDetector": ["token ghp_" + _r(36), "gho_" + _r(36)],
    "GitLabTokenDetector": ["glpat-" + _r(20), "GR1348941" + _r(24), "glcbt-ab_" + _r(24), "glimt-" + _r(25),
                            "glptt-" + _r(40), "glagent-" + _r(50), "gloas-" + _r(64)],
    "StripeDetector": ["sk_live_" + _r(24), "rk_live_" + _r(24)],
    "SendGridDetector": ["SG." + _r(22) + "." + _r(43)],
    "PypiTokenDetector": ["pypi-AgEIcHlwaS5vcmc" + _r(72)],
    "SquareOAuthDetector": ["sq0csp-" + _r(43)],
    "AzureStorageKeyDetector": ["DefaultEndpointsProtocol=https;AccountKey=" + _r(86) + "==;"],
    "SlackDetector": ["xoxb-1234-5678-abcdef0123", "https://hooks.slack.com/services/T0001/B0002/" + _r(24)],
    "NpmDetector": ["//registry.npmjs.org/:_authToken=npm_" + _r(36)],
    "OpenAIDetector": ["sk-" + _r(20) + "T3BlbkFJ" + _r(20)],
    "JwtTokenDetector": [SECRET_SAMPLES["jwt"]],
    "PrivateKeyDetector": [SECRET_SAMPLES["private_key"]],
    "BasicAuthDetector": ["https://deploy:" + "pw123456" + "@ci.example.com/x"],
}


@pytest.mark.parametrize("plugin", sorted(DETECT_SECRETS_SAMPLES))
def test_we_redact_what_detect_secrets_flags(plugin):
    detector = _plugin(plugin)
    for line in DETECT_SECRETS_SAMPLES[plugin]:
        assert list(detector.analyze_string(line)), f"sample does not trigger {plugin}: {line!r}"
        out, counts = redact(line)
        assert counts, f"{plugin}: nothing redacted in {line!r}"
        assert not list(detector.analyze_string(out)), f"{plugin} still flags {out!r}"


def test_precheck_lets_code_through_unchanged():
    """The speed of this (well under 2 s for 2.4 MB) is measured by `make bench` (bench/timings_bench.py).
    gitleaks' keywords include "key", "token" and "ey", so code nearly always reaches the rules;
    what matters is that they change nothing in it."""
    assert not may_hold_secret("12 passed in 0.40s, nothing else to do here")
    code = ("def handler(event, context):\n    token_count = len(tokens)  # count them\n"
            "    return {'statusCode': 200, 'body': json.dumps(result)}\n") * 20_000  # ~2.4 MB
    risky = code + "client_secret = load_secret()  # a trigger word: every rule that could match runs\n"
    assert may_hold_secret(risky)
    for text in (code, risky):
        out, counts = redact(text)
        assert out == text and counts == {}
