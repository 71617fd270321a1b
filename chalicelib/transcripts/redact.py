"""Secret redaction for transcripts, before anything is stored or sent to an LLM.

One precompiled alternation of high-signal patterns (provider key shapes, private key blocks,
JWTs, passwords in URLs, `password=`/`api_key=` assignments) replaces each secret with
`[REDACTED:<kind>]` and counts it per kind. Speed matters (imports must run at >= 20 MB/s), so a
string is only handed to the regex engine when a cheap substring pre-check says it may hold a
secret; most transcript strings never reach the regex.

The provider patterns marked "detect-secrets" are copied verbatim from the denylists of
detect-secrets 1.5.0 plugins (Apache-2.0, https://github.com/Yelp/detect-secrets); a unit test
checks they still equal the installed plugin's, and that we redact whatever those plugins flag
on our samples. detect-secrets itself is not imported at runtime: it pulls in `requests` and
`yaml` (~0.3 s of cold start), and its entropy and keyword plugins flag hashes and ordinary code.

Values are never logged. Redaction is idempotent: `[REDACTED:...]` markers are never re-matched.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .model import Message

MARKER = "[REDACTED:{kind}]"
_MARKER_PREFIX = "[REDACTED"


@dataclass(frozen=True)
class Rule:
    """A secret shape: `pattern` must contain group `v` (the secret) or the whole match is secret.

    `triggers` are literals one of which must occur in the string (case-sensitively, or in the
    lower-cased string when `ci`) before the regex is worth running.
    """

    kind: str
    pattern: str
    triggers: tuple[str, ...]
    ci: bool = False
    # Extra filter on the secret: check(value, quoted) -> False means "not a secret, keep it".
    check: Callable[[str, bool], bool] | None = None
    # Generic (context) rules defer to a specific shape found inside their value, so that
    # `OPENAI_API_KEY=sk-...` counts as openai_key, not api_key.
    generic: bool = False


# -- value filters for the generic assignment rules -----------------------------------------------
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z_.]*\Z")  # a variable / attribute path, not a literal
_PLACEHOLDER = re.compile(
    r"""(?x)
    \$ | \{\{ | <.*> | %\( | \#\{        # ${VAR}, $VAR, {{ tmpl }}, <password>, %(x)s, #{x}
    | \A[*xX.\-_•]+\Z                     # ****, xxxx, ....
    | \A(?:null|none|nil|true|false|undefined|string|str|required|optional|changeme|example
         |password|secret|your[_-].*|my[_-]?password|redacted)\Z
    """,
    re.IGNORECASE,
)


def _literal_ok(value: str) -> bool:
    """A value that looks real: not blank, not a placeholder, not already redacted."""
    return bool(value.strip()) and not value.startswith(_MARKER_PREFIX) and not _PLACEHOLDER.search(value)


def _password_ok(value: str, quoted: bool) -> bool:
    """Quoted literals count; an unquoted value must not be a bare identifier (`password=password`,
    `password=cfg.password`), which is code passing a variable along, not a secret."""
    return _literal_ok(value) and (quoted or not _IDENTIFIER.match(value))


def _api_value_ok(value: str, quoted: bool) -> bool:
    return len(value) >= 8 and _password_ok(value, quoted)


def _url_password_ok(value: str, quoted: bool) -> bool:
    return _literal_ok(value)


# `key = value` / `"key": "value"` / `key: value` / `key => 'value'` (also inside escaped JSON).
_ASSIGN = r"""[A-Za-z0-9_]*\\?["']?\]?\s{0,3}(?:=>|:=|=|:)\s{0,3}"""
_VALUE = (r"""(?:\\?"(?P<v>[^"\\\n]{1,200})\\?"|'(?P<v2>[^'\\\n]{1,200})'"""
          r"""|(?P<v3>[^\s"'`,;&(){}\[\]<>|\\]{1,200}))""")

# detect-secrets 1.5.0 denylist patterns (verbatim; see module docstring). plugin -> [(kind, pattern)]
DETECT_SECRETS_PATTERNS: dict[str, list[tuple[str, str]]] = {
    "AWSKeyDetector": [
        ("aws_access_key", r"(?:A3T[A-Z0-9]|ABIA|ACCA|AKIA|ASIA)[0-9A-Z]{16}"),
    ],
    "GitHubTokenDetector": [("github_token", r"(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9_]{36}")],
    "GitLabTokenDetector": [
        ("gitlab_token", r"(glpat|gldt|glft|glsoat|glrt)-[A-Za-z0-9_\-]{20,50}(?!\w)"),
        ("gitlab_token", r"GR1348941[A-Za-z0-9_\-]{20,50}(?!\w)"),
        ("gitlab_token", r"glcbt-([0-9a-fA-F]{2}_)?[A-Za-z0-9_\-]{20,50}(?!\w)"),
        ("gitlab_token", r"glimt-[A-Za-z0-9_\-]{25}(?!\w)"),
        ("gitlab_token", r"glptt-[A-Za-z0-9_\-]{40}(?!\w)"),
        ("gitlab_token", r"glagent-[A-Za-z0-9_\-]{50,1024}(?!\w)"),
        ("gitlab_token", r"gloas-[A-Za-z0-9_\-]{64}(?!\w)"),
    ],
    "StripeDetector": [("stripe_key", r"(?:r|s)k_live_[0-9a-zA-Z]{24}")],
    "SendGridDetector": [("sendgrid_key", r"SG\.[a-zA-Z0-9_-]{22}\.[a-zA-Z0-9_-]{43}")],
    "PypiTokenDetector": [
        ("pypi_token", r"pypi-AgEIcHlwaS5vcmc[A-Za-z0-9-_]{70,}"),
        ("pypi_token", r"pypi-AgENdGVzdC5weXBpLm9yZw[A-Za-z0-9-_]{70,}"),
    ],
    "SquareOAuthDetector": [("square_secret", r"sq0csp-[0-9A-Za-z\\\-_]{43}")],
    "AzureStorageKeyDetector": [("azure_storage_key", r"AccountKey=[a-zA-Z0-9+\/=]{88}")],
    "MailchimpDetector": [("mailchimp_key", r"[0-9a-z]{32}-us[0-9]{1,2}")],
    "TwilioKeyDetector": [("twilio_key", r"AC[a-z0-9]{32}"), ("twilio_key", r"SK[a-z0-9]{32}")],
    "DiscordBotTokenDetector": [
        ("discord_token", r"[MNO][a-zA-Z\d_-]{23,25}\.[a-zA-Z\d_-]{6}\.[a-zA-Z\d_-]{27}"),
    ],
    "SlackDetector": [
        ("slack_token", r"xox(?:a|b|p|o|s|r)-(?:\d+-)+[a-z0-9]+"),
        ("slack_webhook", r"https://hooks\.slack\.com/services/T[a-zA-Z0-9_]+/B[a-zA-Z0-9_]+/[a-zA-Z0-9_]+"),
    ],
    "NpmDetector": [("npm_token", r"\/\/.+\/:_authToken=\s*((npm_.+)|([A-Fa-f0-9-]{36})).*")],
    "OpenAIDetector": [("openai_key", r"sk-[A-Za-z0-9-_]*[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}")],
    "JwtTokenDetector": [("jwt", r"eyJ[A-Za-z0-9-_=]+\.[A-Za-z0-9-_=]+\.?[A-Za-z0-9-_.+/=]*?")],
}
_DS = {plugin: [p for _, p in pats] for plugin, pats in DETECT_SECRETS_PATTERNS.items()}

def _tok(literal: str, body: str, end: bool = False) -> str:
    """`literal` + `body`, with a left word boundary checked AFTER the literal (a lookbehind first
    would cost the regex engine its fast literal search: ~30x slower on long strings)."""
    lit = re.escape(literal)
    return lit + f"(?<![A-Za-z0-9_]{lit})" + body + (r"(?![A-Za-z0-9_])" if end else "")


_GITLAB_TRIGGERS = [("glpat-", "gldt-", "glft-", "glsoat-", "glrt-"), ("gr1348941",), ("glcbt-",), ("glimt-",),
                    ("glptt-",), ("glagent-",), ("gloas-",)]
_API_KEYS = ("api_key", "api-key", "apikey", "api_secret", "api-secret", "apisecret", "secret_key", "secret-key",
             "secretkey", "client_secret", "client-secret", "clientsecret", "access_token", "access-token",
             "accesstoken", "auth_token", "auth-token", "authtoken", "refresh_token", "refresh-token",
             "refreshtoken", "private_token", "private-token", "privatetoken", "app_secret", "app-secret",
             "appsecret")

# Applied in this order (specific shapes before the generic `key = value` rules, so that
# `OPENAI_API_KEY=sk-...` counts as openai_key; the generic rules then skip the marker).
# Triggers are lower-case: the pre-check looks at the lower-cased string.
RULES: tuple[Rule, ...] = (
    # Multi-line PEM blocks; without an END line (cut transcript) take the BEGIN line and the
    # base64 lines after it (allowing short prefixes such as Read's "  12→" or "> ").
    Rule("private_key",
         r"-----BEGIN[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----"
         r"(?:[\s\S]{0,20000}?-----END[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----"
         r"|[^\n]*(?:\n[^\n]{0,16}?[A-Za-z0-9+/=]{16,}[ \t\r]*(?=\n|\Z))*)",
         ("private key",)),
    Rule("private_key", r"PuTTY-User-Key-File-\d: [\s\S]{0,8000}?Private-MAC: [0-9a-f]+", ("putty-user-key",)),
    Rule("jwt", _tok("eyJ", r"[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"), ("eyj",)),
    Rule("anthropic_key", _tok("sk-ant-", r"[A-Za-z0-9_-]{20,}"), ("sk-ant-",)),
    Rule("openai_key", _DS["OpenAIDetector"][0], ("t3blbkfj",)),
    Rule("openai_key", _tok("sk-", r"(?!ant-)(?:proj-|svcacct-|admin-|None-)?(?=[A-Za-z_-]*[0-9])[A-Za-z0-9_-]{20,}"),
         ("sk-",)),
    Rule("hf_token", _tok("hf_", r"[A-Za-z0-9]{30,}", end=True), ("hf_",)),
    Rule("github_token", _tok("github_pat_", r"[A-Za-z0-9_]{22,}"), ("github_pat_",)),
    Rule("github_token", _DS["GitHubTokenDetector"][0] + r"(?<![A-Za-z0-9_]g..._[A-Za-z0-9_]{36})[A-Za-z0-9_]*",
         ("ghp_", "gho_", "ghu_", "ghs_", "ghr_")),
    Rule("aws_access_key", _DS["AWSKeyDetector"][0] + r"(?<![A-Z0-9].{20})(?![A-Z0-9])",
         ("akia", "asia", "abia", "acca", "a3t")),
    Rule("aws_secret_key",
         r"(?i:aws_?secret_?(?:access_?)?key|secret_?access_?key)\\?[\"']?\s{0,3}(?:=>|:=|=|:)\s{0,3}"
         r"\\?[\"']?(?P<v>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])",
         ("secret",)),
    # detect-secrets' AWS secret shape: "aws ... key|token ... '<40 chars>'" (case-insensitive)
    Rule("aws_secret_key",
         r"(?i:aws.{0,20}?(?:key|pwd|pw|password|pass|token).{0,20}?)['\"](?P<v>[0-9a-zA-Z/+]{40})['\"]",
         ("aws",)),
    Rule("slack_token", _tok("xox", r"[abposr]-[A-Za-z0-9-]{10,}"), ("xox",)),
    Rule("slack_webhook", _DS["SlackDetector"][1], ("hooks.slack.com",)),
    Rule("stripe_key", _DS["StripeDetector"][0], ("k_live_",)),
    Rule("sendgrid_key", _DS["SendGridDetector"][0], ("sg.",)),
    Rule("pypi_token", _DS["PypiTokenDetector"][0], ("pypi-",)),
    Rule("pypi_token", _DS["PypiTokenDetector"][1], ("pypi-",)),
    Rule("square_secret", _DS["SquareOAuthDetector"][0], ("sq0csp-",)),
    Rule("azure_storage_key", _DS["AzureStorageKeyDetector"][0], ("accountkey=",)),
    Rule("npm_token", _DS["NpmDetector"][0], ("_authtoken",)),
    Rule("mailchimp_key", r"-us[0-9]{1,2}(?<![A-Za-z0-9_][0-9a-z]{32}-us[0-9])(?<=[0-9a-z]{32}-us[0-9])"
         r"(?![A-Za-z0-9_])", ("-us",), whole_back=32),
    *(Rule(kind, pat, trig) for (kind, pat), trig in zip(
        DETECT_SECRETS_PATTERNS["GitLabTokenDetector"], _GITLAB_TRIGGERS, strict=True)),
    Rule("twilio_key", r"(?:AC|SK)[a-z0-9]{32}(?![A-Za-z0-9_])", ("ac", "sk")),
    Rule("url_password",
         r"://(?P<u>[^\s:/?#@'\"<>\[\]]{1,128}):(?P<v>[^\s@/?#'\"<>]{1,256})@(?=[A-Za-z0-9\[])",
         ("://",), check=_url_password_ok),
    Rule("bearer_token", r"(?i:bearer)\s+(?P<v>[A-Za-z0-9._~+/-]{20,}=*)", ("bearer",)),
    Rule("basic_auth",
         r"(?i:authorization\\?[\"']?\s{0,3}[:=]\s{0,3}\\?[\"']?basic)\s+(?P<v>[A-Za-z0-9+/]{12,}={0,2})",
         ("authorization",)),
    Rule("password", r"(?i:--pass(?:word|wd))(?:=|\s+)" + _VALUE, ("--pass",), check=_password_ok),
    Rule("password", r"(?i:pass(?:word|wd|phrase))" + _ASSIGN + _VALUE,
         ("password", "passwd", "passphrase"), check=_password_ok),
    Rule("api_key",
         r"(?i:api[_-]?key|api[_-]?secret|secret[_-]?key|client[_-]?secret|access[_-]?token|auth[_-]?token"
         r"|refresh[_-]?token|private[_-]?token|app[_-]?secret)" + _ASSIGN + _VALUE,
         _API_KEYS, check=_api_value_ok),
)


def redact(text: str) -> tuple[str, dict[str, int]]:
    """Redact secrets in `text`; returns the new text and {kind: count}."""
    counts: dict[str, int] = {}
    if not text or not _may_hold_secret(text):
        return text, counts
    return _COMBINED.sub(_make_repl(counts), text), counts


class Redactor:
    """Redacts strings and JSON-like values, accumulating `counts` ({kind: n}) across calls."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self._repl = _make_repl(self.counts)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def text(self, s: str) -> str:
        """Redacted copy of `s` (the same object when nothing needed redacting)."""
        if not s or not _may_hold_secret(s):
            return s
        return _COMBINED.sub(self._repl, s)

    def value(self, obj: Any) -> Any:
        """Redact every string inside dicts/lists/tuples (keys are left alone); other values pass."""
        if isinstance(obj, str):
            return self.text(obj)
        if isinstance(obj, dict):
            return {k: self.value(v) for k, v in obj.items()}
        if isinstance(obj, list | tuple):
            return type(obj)(self.value(v) for v in obj)
        return obj

    def message(self, msg: Message) -> Message:
        """Redact a message in place (text, thinking, tool inputs, results, data, meta); returns it."""
        msg.text = self.text(msg.text)
        if msg.thinking:
            msg.thinking = self.text(msg.thinking)
        for call in msg.tool_calls:
            call.input = self.value(call.input)
        for res in msg.tool_results:
            res.text = self.text(res.text)
            if res.data:
                res.data = self.value(res.data)
        if msg.meta:
            msg.meta = self.value(msg.meta)
        return msg
