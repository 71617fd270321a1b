"""Secret redaction for transcripts and typed fields, before anything is stored or sent to an LLM.

Two rule sets, one pass:

- gitleaks' default rules (MIT, vendored unchanged in rules/gitleaks.toml, run by `ruleset`): about
  two hundred provider shapes, each with its keywords, regex, entropy threshold and allowlists;
  the kind of a finding is the gitleaks rule id (`[REDACTED:github-pat]`);
- our rules (`RULES`, snake_case kinds): the context rules (a password after `password=`, in a URL,
  after `-p`, `sshpass -p`, `curl -u`), names that only hold secrets (`JWT_SIGNING_KEY=`), shapes
  gitleaks misses or cuts short (unterminated and base64-encoded PEM keys, hex private keys, AWS
  secrets in prose, Twilio, Discord, Azure keys outside `AccountKey=`).

gitleaks' specific rules run first, then ours, then gitleaks' `generic-api-key` (with extra
allowlist entries for digests, UUIDs, versions and file paths). `<private>...</private>` spans are
replaced by `[PRIVATE]` first, in the same entry point.

Speed matters (imports must run at >= 20 MB/s), so a string only reaches the regexes when one
pre-check scan finds a keyword in it, and then only the rules whose keywords occur run.
Values are never logged. Redaction is idempotent: `[REDACTED:...]` markers are never re-matched.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

from .model import Message
from .ruleset import GitleaksRule, load_rules

MARKER = "[REDACTED:{kind}]"
_MARKER_PREFIX = "[REDACTED"


@dataclass(frozen=True)
class Rule:
    """A secret shape. The secret is the named group v (double-quoted value), v2 (single-quoted)
    or v3 (bare) when the pattern has one (the rest of the match, e.g. the key name, is kept),
    else the whole match.

    `triggers` are lower-case literals, one of which must occur in the lower-cased string before
    the rule's regex is worth running.

    `anchored` rules (the case-insensitive keyword rules) only match starting at one of their
    triggers, so they are tried at each trigger occurrence instead of scanning the whole string:
    a case-insensitive alternation scanned over a 1 MB tool output costs ~0.3 s; this costs ~0.
    """

    kind: str
    pattern: str
    triggers: tuple[str, ...]
    # Extra filter on the secret: check(value, quoted) -> False means "not a secret, keep it".
    check: Callable[[str, bool], bool] | None = None
    anchored: bool = False
    back: int = 0  # an anchored rule whose match starts this many characters before its trigger


# -- value filters for the generic assignment rules -----------------------------------------------
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z_.]*\Z")  # a variable / attribute path, not a literal
_PLACEHOLDER = re.compile(
    r"""(?x)
    \A\$ | \$\{ | \{\{ | \A<.*>\Z | %\( | \#\{   # $VAR, ${VAR}, {{ tmpl }}, <password>, %(x)s, #{x}
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
    """`user:${PASS}@host` or `user:<password>@host` are documentation, not secrets."""
    return _literal_ok(value)


_UUID_SHAPE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
_KEYLIKE = re.compile(r"[A-Za-z0-9_\-.+/=~]+\Z")


def _keylike_ok(value: str, quoted: bool) -> bool:
    """A value after a bare `token:` / `secret:` key that looks generated, not typed: one run of
    at least 16 characters mixing letters and digits (between `-_.` separators), not a UUID
    (ids must survive), not a file path. `secret: my-app-secret-v2` stays, `token: <40 chars>` goes."""
    if not _literal_ok(value) or not _KEYLIKE.match(value) or _UUID_SHAPE.match(value):
        return False
    if "/" in value and re.search(r"\.[A-Za-z]{1,5}\Z", value):
        return False
    return any(len(seg) >= 16 and re.search(r"[0-9]", seg) and re.search(r"[A-Za-z]", seg)
               for seg in re.split(r"[-_.]", value))


def _random40_ok(value: str, quoted: bool) -> bool:
    """An AWS secret access key in prose: 40 characters of base64 with upper, lower and digits
    (a commit hash is lower-case hex, so it never passes)."""
    return (re.search(r"[A-Z]", value) is not None and re.search(r"[a-z]", value) is not None
            and re.search(r"[0-9]", value) is not None)


# `key = value` / `"key": "value"` / `key: value` / `key => 'value'` (also inside escaped JSON).
_ASSIGN = r"""[A-Za-z0-9_]*\\?["']?\]?\s{0,3}(?:=>|:=|=|:)\s{0,3}"""
_VALUE = (r"""(?:\\?"(?P<v>[^"\\\n]{1,200})\\?"|'(?P<v2>[^'\\\n]{1,200})'"""
          r"""|(?P<v3>[^\s"'`,;&(){}\[\]<>|\\]{1,200}))""")

def _port_ok(value: str, quoted: bool) -> bool:
    """A URL password, not `host:8080/path@...` (a port and a path) nor a placeholder."""
    return _literal_ok(value) and not re.match(r"\d{1,5}(?:/|\Z)", value)


def _strong_name_ok(value: str, quoted: bool) -> bool:
    """After a name that only ever holds a secret (`JWT_SIGNING_KEY`, `ENCRYPTION_KEY`): any literal
    of 8+ characters that is not a variable, a number or a file path."""
    return (len(value) >= 8 and _password_ok(value, quoted) and not value.isdigit()
            and not ("/" in value and re.search(r"\.[A-Za-z]{1,5}\Z", value)))


# `password` followed by one of these in its key name is a setting about passwords, not one.
_PASSWORD_SETTING = re.compile(
    r"(?i)[_.-]?(?:min|max|length|len|size|policy|rounds|expiry|expires|age|count|attempts|retries|reset"
    r"|field|regex|pattern|label|prompt|hint|strength|file|path|env|var|url|timeout|enabled|required"
    r"|validators?|hasher|hashers|algorithm|complexity|history)")


def _mixed_ok(value: str, quoted: bool) -> bool:
    """Generated, not typed: upper case, lower case and digits (a branch name is lower case)."""
    return _random40_ok(value, quoted)


def _pem_base64_ok(value: str, quoted: bool) -> bool:
    """Base64 whose decoded head is a private key's BEGIN line (a certificate is not a secret)."""
    import base64
    import binascii

    head = value[: len(value) // 4 * 4][:80]
    try:
        return b"PRIVATE KEY" in base64.b64decode(head)
    except (binascii.Error, ValueError):
        return False


def _tok(literal: str, body: str, end: bool = False) -> str:
    """`literal` + `body`, with the left word boundary checked AFTER the literal: a look-behind
    in front would cost the regex engine its fast literal search (~30x slower on long strings)."""
    lit = re.escape(literal)
    return lit + f"(?<![A-Za-z0-9_]{lit})" + body + (r"(?![A-Za-z0-9_])" if end else "")


_API_KEY_TRIGGERS = tuple(
    a + sep + b
    for a, b in (("api", "key"), ("api", "secret"), ("secret", "key"), ("client", "secret"), ("access", "token"),
                 ("auth", "token"), ("refresh", "token"), ("private", "token"), ("app", "secret"))
    for sep in ("_", "-", "")
)
# Names that only ever hold a secret, whatever the value looks like.
_STRONG_WORDS = ("signing", "encryption", "encrypt", "master", "hmac", "cipher", "jwt", "session", "cookie")
_STRONG_TRIGGERS = tuple(w + sep + k for w in _STRONG_WORDS for sep in ("_", "-", "") for k in ("key", "secret"))


def _assign_triggers(word: str) -> tuple[str, ...]:
    """`word` followed by what starts an assignment (`:`, `=`, a quote, a space): narrower than the
    bare word, so prose and code that only mention tokens (`max_tokens`, `tokens)`) skip the rule."""
    return tuple(word + c for c in (":", "=", '"', "'", "\\", " "))


# Our own rules: what gitleaks' default rules miss or cut short, and the context rules (a password
# after `password=`, in a URL, after `-p`). Kinds are snake_case; gitleaks' are its kebab-case ids.
# Order matters (see _ordered): these run after gitleaks' specific rules and before its generic one.
RULES: tuple[Rule, ...] = (
    # Multi-line PEM blocks; without an END line (a cut transcript) take the BEGIN line and the
    # base64 lines after it (allowing short prefixes such as Read's "  12→" or "> ").
    Rule("private-key",
         r"-----BEGIN[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----"
         r"(?:[\s\S]{0,20000}?-----END[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----"
         r"|[^\n]*(?:\n[^\n]{0,16}?[A-Za-z0-9+/=]{16,}[ \t\r]*(?=\n|\Z))*)",
         ("private key",)),
    Rule("private-key", r"PuTTY-User-Key-File-\d: [\s\S]{0,8000}?Private-MAC: [0-9a-f]+", ("putty-user-key",)),
    # a PEM private key, base64-encoded once more (Kubernetes secrets, CI variables)
    Rule("private-key", r"LS0tLS1CRUdJTi[A-Za-z0-9+/]{20,}={0,2}", ("ls0tls1crudjti",), check=_pem_base64_ok),
    # hex private keys (Ethereum and other wallets): 64 hex digits after "private key" and the like
    Rule("private-key",
         r"(?i:priv(?:ate)?[_ -]?key|privkey|secret[_ -]?key|signing[_ -]?key|wallet[_ -]?key)"
         r"[^\n]{0,24}?(?<![0-9a-fA-F])(?:0x)?(?P<v3>[0-9a-fA-F]{64})(?![0-9a-fA-F])",
         ("private", "privkey", "privkey", "secret", "signing", "wallet"), anchored=True),
    Rule("jwt", _tok("eyJ", r"[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"), ("eyj",)),
    Rule("anthropic_key", _tok("sk-ant-", r"[A-Za-z0-9_-]{20,}"), ("sk-ant-",)),
    Rule("openai_key", _tok("sk-", r"(?:proj|svcacct|admin|None)-[A-Za-z0-9_-]{20,}"), ("sk-",)),
    Rule("openai_key", _tok("sk-", r"[A-Za-z0-9]{32,}", end=True), ("sk-",), check=_mixed_ok),
    Rule("hf_token", _tok("hf_", r"[A-Za-z0-9]{30,}", end=True), ("hf_",)),
    Rule("github_token", _tok("github_pat_", r"[A-Za-z0-9_]{22,}"), ("github_pat_",)),
    Rule("github_token", r"gh[pousr]_(?<![A-Za-z0-9_]gh[pousr]_)[A-Za-z0-9_]{36,}",
         ("ghp_", "gho_", "ghu_", "ghs_", "ghr_")),
    Rule("aws_access_key", r"(?:A3T[A-Z0-9]|ABIA|ACCA|AKIA|ASIA)[0-9A-Z]{16}(?<![A-Z0-9].{20})(?![A-Z0-9])",
         ("akia", "asia", "abia", "acca", "a3t")),
    Rule("aws_secret_key",
         r"(?i:aws_?secret_?(?:access_?)?key|secret_?access_?key)\\?[\"']?\s{0,3}(?:=>|:=|=|:)\s{0,3}"
         r"\\?[\"']?(?P<v>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])",
         ("aws_secret", "awssecret", "secret_access", "secretaccess"), anchored=True),
    # "aws ... <40 chars of base64 mixing cases and digits>": a secret access key quoted in prose,
    # and one written after its access key id ("AKIA... / wJalr...")
    Rule("aws_secret_key",
         r"(?i:aws)[^\n]{0,80}?(?<![A-Za-z0-9/+=])(?P<v3>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])",
         ("aws",), check=_random40_ok, anchored=True),
    Rule("aws_secret_key",
         r"(?:AKIA|ASIA)[A-Z0-9]{16}[^\n]{0,80}?(?<![A-Za-z0-9/+=])(?P<v3>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])",
         ("akia", "asia"), check=_random40_ok),
    Rule("slack_token", _tok("xox", r"[abposr]-[A-Za-z0-9-]{10,}"), ("xox",)),
    Rule("slack_webhook", r"https://hooks\.slack\.com/services/T[a-zA-Z0-9_]+/B[a-zA-Z0-9_]+/[a-zA-Z0-9_]+",
         ("hooks.slack.com",)),
    Rule("square_secret", _tok("sq0csp-", r"[0-9A-Za-z_-]{43}"), ("sq0csp-",)),
    Rule("azure_storage_key", r"(?i:AccountKey)=(?P<v3>[a-zA-Z0-9+/=]{40,100})", ("accountkey=",), anchored=True),
    # an Azure storage / Cosmos key anywhere (86 base64 characters and "=="), but not a package
    # lock's sha512 integrity hash
    Rule("azure_key", r"(?<![A-Za-z0-9+/])(?<!sha512-)[A-Za-z0-9+/]{86}==(?![A-Za-z0-9+/=])",
         ("==",), check=_mixed_ok, anchored=True, back=86),
    Rule("azure_shared_access_key", r"(?i:SharedAccessKey)=(?P<v3>[A-Za-z0-9+/]{42,86}={0,2})",
         ("sharedaccesskey=",), anchored=True),
    Rule("azure_sas_token", r"[?&](?i:sig)=(?P<v3>[A-Za-z0-9%+/=]{40,120})(?=[&\s.,)]|$|[\"'])", ("sig=",)),
    Rule("npm_token", r"//[^\s]+/:_authToken=\s*(?P<v3>[^\s\"']{8,})", ("_authtoken",)),
    Rule("npm_token", _tok("npm_", r"[A-Za-z0-9]{36}", end=True), ("npm_",)),
    Rule("pypi_token", _tok("pypi-", r"AgE[A-Za-z0-9_-]{50,}"), ("pypi-",)),
    Rule("google_oauth_secret", _tok("GOCSPX-", r"[A-Za-z0-9_-]{28}", end=True), ("gocspx-",)),
    Rule("google_api_key", _tok("AIza", r"[0-9A-Za-z_-]{35}", end=True), ("aiza",)),
    # Twilio account SIDs and keys near the word (gitleaks' twilio-api-key takes SK keys anywhere)
    Rule("twilio_key", r"(?i:twilio)[^\n]{0,80}?(?i:token|secret)\W{0,3}(?P<v3>[0-9a-f]{32})(?![A-Za-z0-9])",
         ("twilio",), anchored=True),
    Rule("twilio_key", r"(?i:twilio)[^\n]{0,60}?(?<![A-Za-z0-9])(?P<v3>(?:AC|SK)?[0-9a-f]{32})(?![A-Za-z0-9])",
         ("twilio",), anchored=True),
    # Discord bot tokens: three base64url parts, the first the bot's id (starts M, N or O)
    Rule("discord_token",
         r"(?<![A-Za-z0-9_.-])[MNO][A-Za-z0-9_-]{23,25}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38}(?![A-Za-z0-9_.-])",
         ("discord", ".run(", "bot_token", "bot token", "bot-token")),
    Rule("discord_webhook", r"https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/[0-9]{5,30}/[A-Za-z0-9_-]{60,}",
         ("discord.com/api/webhooks", "discordapp.com/api/webhooks")),
    Rule("telegram_bot_token", r"(?<![0-9])[0-9]{8,10}:AA[A-Za-z0-9_-]{33}(?![A-Za-z0-9_-])", (":aa",)),
    Rule("gitlab_token", _tok("glptt-", r"[A-Za-z0-9_-]{40}", end=True), ("glptt-",)),
    Rule("age_secret_key", r"AGE-SECRET-KEY-1[0-9A-Z]{58}", ("age-secret-key-1",)),
    Rule("mailgun_key", r"(?i:mailgun)[^\n]{0,60}?(?<![A-Za-z0-9_])(?P<v3>key-[0-9a-f]{32})(?![A-Za-z0-9_])",
         ("mailgun",), anchored=True),
    Rule("groq_key", _tok("gsk_", r"[A-Za-z0-9]{52}", end=True), ("gsk_",)),
    Rule("replicate_token", _tok("r8_", r"[A-Za-z0-9]{37}", end=True), ("r8_",)),
    Rule("dockerhub_token", _tok("dckr_pat_", r"[A-Za-z0-9_-]{27,}"), ("dckr_pat_",)),
    Rule("supabase_token", _tok("sbp_", r"[a-f0-9]{40}", end=True), ("sbp_",)),
    Rule("stripe_webhook_secret", _tok("whsec_", r"[A-Za-z0-9+/=]{24,}"), ("whsec_",)),
    Rule("vault_token", _tok("hvs.", r"[A-Za-z0-9_-]{24,}"), ("hvs.",)),
    Rule("doppler_token", r"dp\.(?:pt|st|sa|ct|scim|audit)\.(?<![A-Za-z0-9_]dp\.(?:pt|st|sa|ct)\.)[A-Za-z0-9]{40,44}",
         ("dp.pt.", "dp.st.", "dp.sa.", "dp.ct.", "dp.scim.", "dp.audit.")),
    Rule("newrelic_key", _tok("NRAK-", r"[A-Z0-9]{27}", end=True), ("nrak-",)),
    Rule("mso_token", _tok("mso_", r"[A-Za-z0-9_-]{43}", end=True), ("mso_",)),  # our own API tokens
    # scheme://user:password@host -> keep user and host (a password may hold '/' or '#')
    Rule("url_password",
         r"://[^\s:/?#@'\"<>\[\]]{0,128}:(?P<v3>[^\s@'\"<>]{1,256})@(?=[A-Za-z0-9\[])",
         ("://",), check=_port_ok),
    Rule("bearer_token", r"(?i:bearer)\s+(?P<v3>[A-Za-z0-9._~+/-]{20,}=*)", ("bearer",), anchored=True),
    Rule("basic_auth",
         r"(?i:authorization\\?[\"']?\s{0,3}[:=]\s{0,3}\\?[\"']?basic)\s+(?P<v3>[A-Za-z0-9+/]{12,}={0,2})",
         ("authorization",), anchored=True),
    # curl -u user:pass (gitleaks' curl-auth-user needs "curl" first on the line; -u and --user anywhere)
    Rule("basic_auth",
         r"(?:curl|wget|http)\b[^\n]{0,200}?\s(?:-u|--user|--http-user)(?:=|\s+)['\"]?"
         r"(?P<v3>[^\s:'\"]{1,64}:[^\s'\"]{3,128})",
         ("curl", "wget", "http"), check=_url_password_ok),
    Rule("password", r"(?i:--pass(?:word|wd)|--http-password)(?:=|\s+)" + _VALUE, ("--pass", "--http-password"),
         check=_password_ok, anchored=True),
    Rule("password", r"docker\s+login\b[^\n]{0,120}?\s(?:-p|--password)(?:=|\s+)" + _VALUE, ("docker login",),
         check=_url_password_ok),
    Rule("password", r"sshpass\s+(?:-[a-oq-zA-Z]\S*\s+)*-p\s*" + _VALUE, ("sshpass",), check=_url_password_ok),
    Rule("password", r"(?i:pass(?:word|wd|phrase))(?P<suffix>[A-Za-z0-9_]*)\\?[\"']?\]?\s{0,3}(?:=>|:=|=|:)\s{0,3}"
         + _VALUE, ("password", "passwd", "passphrase"), check=_password_ok, anchored=True),
    # `mysql -pSECRET` (the password glued to -p; `-p` alone prompts, `-P3306` is the port)
    Rule("password", r"(?:mysql|mysqldump|mysqladmin|mariadb)\b[^\n]{0,120}?\s-p(?P<v3>[^\s'\"`;|&]{1,200})",
         ("mysql", "mariadb"), check=_url_password_ok),
    Rule("api_key",
         r"(?i:api[_-]?key|api[_-]?secret|secret[_-]?key|client[_-]?secret|access[_-]?token|auth[_-]?token"
         r"|refresh[_-]?token|private[_-]?token|app[_-]?secret)" + _ASSIGN + _VALUE,
         _API_KEY_TRIGGERS, check=_api_value_ok, anchored=True),
    # JWT_SIGNING_KEY=, ENCRYPTION_KEY=, RAILS_MASTER_KEY=, SESSION_SECRET=: any literal value
    Rule("secret_key",
         r"(?i:(?:signing|encryption|encrypt|master|hmac|cipher|jwt|session|cookie)[_-]?(?:key|secret))"
         + _ASSIGN + _VALUE, _STRONG_TRIGGERS, check=_strong_name_ok, anchored=True),
    Rule("aws_secret_key",
         r"(?i:secret)[^\n]{0,40}?(?<![A-Za-z0-9/+=])(?P<v3>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])",
         ("secret",), check=_random40_ok, anchored=True),
    # bare `token: <value>` / `SECRET=<value>` / `"webhook_secret": "<value>"`: only values that look
    # generated (see _keylike_ok), so `token: string` and `secret: my-app-secret-v2` stay
    Rule("generic_token", r"(?i:token)\\?[\"']?\s{0,3}(?:=>|:=|=|:)\s{0,3}" + _VALUE,
         _assign_triggers("token"), check=_keylike_ok, anchored=True),
    Rule("generic_secret", r"(?i:secret)\\?[\"']?\s{0,3}(?:=>|:=|=|:)\s{0,3}" + _VALUE,
         _assign_triggers("secret"), check=_keylike_ok, anchored=True),
)

# gitleaks' own generic rule runs last, after every specific shape and context rule above has had
# its say; these are extra allowlist entries for it: digests and ids that real transcripts are full
# of (a cache key's md5, a commit hash, a UUID) and file paths.
_GENERIC_ID = "generic-api-key"
_GENERIC_ALLOW = re.compile(
    r"\A(?:[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}"
    r"-[0-9a-fA-F]{12}|[\w.-]*/[\w./-]*|[\w-]+(?:\.[\w-]+)*\.(?:py|js|ts|tsx|jsx|json|md|txt|yaml|yml|toml|go|rs"
    r"|rb|java|sh|lock|cfg|ini|html|css|sql|log|csv|gz|zip|png|jpg|svg)|v?\d+(?:\.\d+)+[\w.-]*)\Z")
PRIVATE_MARKER = "[PRIVATE]"
_PRIVATE = re.compile(r"<private\s*>.*?(?:</private\s*>|\Z)", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class _Compiled:
    """One rule ready to run: a hand `Rule` or a gitleaks rule, with its prefilter keywords (the
    hand rule's regex is compiled on first use, like gitleaks')."""

    kind: str
    keywords: tuple[str, ...]
    rule: Rule | None = None  # a hand rule
    groups: tuple[str, ...] = ()
    leak: GitleaksRule | None = None  # a gitleaks rule

    @cached_property
    def rx(self) -> re.Pattern[str]:
        assert self.rule is not None
        return re.compile(self.rule.pattern)


def _ordered() -> list[_Compiled]:
    """Our PEM rules, gitleaks' specific rules, the rest of ours, then gitleaks' generic rule."""
    leaks, _skipped = load_rules()

    def ours(r: Rule) -> _Compiled:
        return _Compiled(r.kind, r.triggers, rule=r,
                         groups=tuple(g for g in ("v", "v2", "v3") if f"(?P<{g}>" in r.pattern))

    # PEM blocks first: gitleaks' private-key runs from a cut key's BEGIN line to the next key's
    # "KEY-----", leaving that key's body; ours stops at the first END line or the base64's end.
    out = [ours(r) for r in RULES if r.kind == "private-key"]
    out += [_Compiled(r.id, r.keywords, leak=r) for r in leaks if r.id != _GENERIC_ID]
    out += [ours(r) for r in RULES if r.kind != "private-key"]
    out += [_Compiled(r.id, r.keywords, leak=r) for r in leaks if r.id == _GENERIC_ID]
    return out




def _trie(words: list[str]) -> str:
    """A regex matching the longest of `words` starting at a position, factored as a prefix tree:
    the engine tries one branch per distinct first character instead of every word (3x faster
    than a flat `a|b|c`)."""
    tree: dict[str, Any] = {}
    for w in words:
        node = tree
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, Any]) -> str:
        kids = sorted((ch, child) for ch, child in node.items() if ch)
        if not kids:
            return ""
        alts = [re.escape(ch) + emit(child) for ch, child in kids]
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if "" in node else body  # a word ends here: longer if it can

    return emit(tree)


# The pre-check scans the lower-cased UTF-8 bytes once, reporting the longest keyword starting at
# every position (a look-ahead, so keywords inside keywords are seen: "ey" in "key"). Bytes keep
# the scan at one byte per character whatever the str's internal width (one emoji makes a str
# 4 bytes/char).
@dataclass(frozen=True)
class _Engine:
    rules: tuple[_Compiled, ...]
    keywords: frozenset[str]
    precheck: re.Pattern[bytes]


@lru_cache(maxsize=1)
def _engine() -> _Engine:
    """The rules in order and the pre-check, built at the first redaction (not at import: the API
    imports this module at every cold start, most of which never redact anything)."""
    rules = tuple(_ordered())
    keywords = sorted({k for c in rules for k in c.keywords} | {"<private"})
    return _Engine(rules, frozenset(keywords), re.compile(b"(?=(" + _trie(keywords).encode() + b"))"))


def kinds() -> tuple[str, ...]:
    """Every kind a redaction can be counted as (rule ids), in the order the rules run."""
    return (*dict.fromkeys(c.kind for c in _engine().rules), "private")


_MIN_LEN = 8  # nothing shorter can hold one of the shapes above


def _lowered(s: str) -> bytes:
    return s.encode("utf-8", "surrogatepass").lower()


@lru_cache(maxsize=4096)
def _prefixes(found: bytes) -> frozenset[str]:
    """The keywords a find stands for: itself and the keywords it starts with."""
    f = found.decode()
    words = _engine().keywords
    return frozenset(f[:i] for i in range(1, len(f) + 1) if f[:i] in words)


def _present(s: str) -> frozenset[str]:
    """The keywords (of every rule, and "<private") that occur in `s`, lower-cased."""
    if len(s) < _MIN_LEN:
        return frozenset()
    found = set(_engine().precheck.findall(_lowered(s)))
    if not found:
        return frozenset()
    return frozenset().union(*(_prefixes(f) for f in found))


def may_hold_secret(s: str) -> bool:
    """The pre-check alone: False means `redact(s)` would certainly change nothing."""
    return bool(_present(s))


@lru_cache(maxsize=2048)
def _rules_for(present: frozenset[str]) -> tuple[tuple[_Compiled, tuple[str, ...]], ...]:
    """The rules to run, in order, each with its keywords that occur."""
    out = []
    for c in _engine().rules:
        hit = tuple(k for k in c.keywords if k in present)
        if hit:
            out.append((c, hit))
    return tuple(out)


def _count(counts: dict[str, int], kind: str) -> None:
    counts[kind] = counts.get(kind, 0) + 1


def _replacer(rule: Rule, groups: tuple[str, ...], counts: dict[str, int]) -> Callable[[re.Match[str]], str]:
    marker = MARKER.format(kind=rule.kind)

    def repl(m: re.Match[str]) -> str:
        if rule.kind == "password" and "suffix" in m.re.groupindex and _PASSWORD_SETTING.match(m.group("suffix") or ""):
            return m.group(0)
        for g in groups:
            start = m.start(g)
            if start < 0:
                continue
            if m.group(g).startswith(_MARKER_PREFIX):
                return m.group(0)
            if rule.check is not None and not rule.check(m.group(g), g != "v3"):
                return m.group(0)
            _count(counts, rule.kind)
            base = m.start()
            whole = m.group(0)
            return whole[: start - base] + marker + whole[m.end(g) - base:]
        if rule.check is not None and not rule.check(m.group(0), False):
            return m.group(0)
        _count(counts, rule.kind)
        return marker

    return repl


_TOKEN_TAIL = re.compile(r"[A-Za-z0-9_-]+")


def _matches(rx: re.Pattern[str], s: str, anchors: list[int] | None) -> Iterator[re.Match[str]]:
    if anchors is None:
        yield from rx.finditer(s)
        return
    end = 0
    for p in anchors:
        if p >= end:
            m = rx.match(s, p)
            if m is not None:
                end = max(m.end(), p + 1)
                yield m


def _leak_sub(leak: GitleaksRule, s: str, counts: dict[str, int], anchors: list[int] | None = None) -> str:
    """Every finding of a gitleaks rule in `s`, its secret replaced by the marker (`anchors`: the
    only positions a match can start at, for an anchored rule)."""
    out: list[str] = []
    last = 0
    marker = MARKER.format(kind=leak.id)
    for m in _matches(leak.regex, s, anchors):
        span = leak.secret_span(m)
        if span is None or span[0] < last:
            continue
        start, end = span
        if leak.id == _GENERIC_ID and _GENERIC_ALLOW.match(s[start:end]):
            continue
        if s[start:end].startswith(_MARKER_PREFIX):
            continue
        if end == m.end() and end < len(s) and s[end - 1].isalnum():  # a rule of fixed length: take
            tail = _TOKEN_TAIL.match(s, end)  # the whole token, not its first n characters
            if tail:
                end = tail.end()
        out.append(s[last:start])
        out.append(marker)
        last = end
        _count(counts, leak.id)
    if not out:
        return s
    out.append(s[last:])
    return "".join(out)


def _starts(low: str, triggers: tuple[str, ...], back: int = 0) -> list[int]:
    """Where the triggers occur in `low` (minus `back`), in order."""
    starts: set[int] = set()
    for t in triggers:
        i = low.find(t)
        while i >= 0:
            if i >= back:
                starts.add(i - back)
            i = low.find(t, i + 1)
    return sorted(starts)


def _at_triggers(rx: re.Pattern[str], repl: Callable[[re.Match[str]], str], s: str, low: str,
                 triggers: tuple[str, ...], back: int = 0) -> str:
    """`rx.sub` for an anchored rule: try the regex only where a trigger starts (in `low`,
    the lower-cased `s` of the same length)."""
    out: list[str] = []
    last = 0
    for p in _starts(low, triggers, back):
        if p < last:
            continue
        m = rx.match(s, p)
        if m is None:
            continue
        out.append(s[last:p])
        out.append(repl(m))
        last = m.end()
    if not out:
        return s
    out.append(s[last:])
    return "".join(out)


def _private(s: str, counts: dict[str, int]) -> str:
    """`<private>...</private>` spans (any case, across lines, unclosed to the end) -> [PRIVATE]."""
    def repl(_m: re.Match[str]) -> str:
        _count(counts, "private")
        return PRIVATE_MARKER

    return _PRIVATE.sub(repl, s)


def _redact(s: str, counts: dict[str, int], within: frozenset[str] | None = None) -> str:
    """`s` redacted. `within`: the keywords present in a larger text that holds `s` (a message's
    strings joined), so only those are looked for here instead of scanning for all of them."""
    if len(s) < _MIN_LEN:
        return s
    if within is None:
        present = _present(s)
        low_str = s.lower() if present else ""
    else:
        low_str = s.lower()
        present = frozenset(k for k in within if k in low_str)
    if not present:  # the common case
        return s
    if "<private" in present:
        s = _private(s, counts)
        low_str = s.lower()
    for c, hit in _rules_for(present):
        before = s
        if c.leak is not None:
            anchors = _starts(low_str, hit) if c.leak.anchored and len(low_str) == len(s) else None
            s = _leak_sub(c.leak, s, counts, anchors)
        else:
            rule = c.rule
            assert rule is not None
            repl = _replacer(rule, c.groups, counts)
            if rule.anchored and low_str is not None and len(low_str) == len(s):  # positions kept (nearly always)
                s = _at_triggers(c.rx, repl, s, low_str, hit, rule.back)
            else:
                s = c.rx.sub(repl, s)
        if s is not before:
            low_str = s.lower()
    return s


def redact(text: str) -> tuple[str, dict[str, int]]:
    """Redact secrets in `text`; returns the new text and {kind: count}."""
    counts: dict[str, int] = {}
    return _redact(text, counts), counts


def _collect(obj: Any, out: list[str]) -> None:
    """Append every string inside `obj` (dict values, list/tuple items) to `out`."""
    if isinstance(obj, str):
        out.append(obj)
    elif isinstance(obj, dict):
        for v in obj.values():
            _collect(v, out)
    elif isinstance(obj, list | tuple):
        for v in obj:
            _collect(v, out)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _fix(obj: Any) -> Any:
    if isinstance(obj, str):
        return _SURROGATE.sub("\ufffd", obj)
    if isinstance(obj, dict):
        return {_fix(k): _fix(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(_fix(v) for v in obj)
    return obj


def _scrub_surrogates(msg: Message) -> None:
    """Replace lone surrogates (valid in JSON escapes, invalid in UTF-8 and in DynamoDB) by U+FFFD."""
    msg.text, msg.thinking = _fix(msg.text), _fix(msg.thinking)
    for call in msg.tool_calls:
        call.name, call.input = _fix(call.name), _fix(call.input)
    for res in msg.tool_results:
        res.text, res.data = _fix(res.text), _fix(res.data)
    msg.meta = _fix(msg.meta)


class Redactor:
    """Redacts strings and JSON-like values, accumulating `counts` ({kind: n}) across calls."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def text(self, s: str) -> str:
        """Redacted copy of `s` (the same object when nothing needed redacting)."""
        return _redact(s, self.counts)

    def value(self, obj: Any, within: frozenset[str] | None = None) -> Any:
        """Redact every string inside dicts/lists/tuples (keys are left alone); other values pass."""
        if isinstance(obj, str):
            return _redact(obj, self.counts, within)
        if isinstance(obj, dict):
            return {k: self.value(v, within) for k, v in obj.items()}
        if isinstance(obj, list | tuple):
            return type(obj)(self.value(v, within) for v in obj)
        return obj

    def message(self, msg: Message) -> Message:
        """Redact a message in place (text, thinking, tool inputs, results, data, meta); returns it.

        One pre-check over all of the message's strings first: most messages hold no trigger at
        all, and one scan of their joined text is much cheaper than one per string (an Edit
        result's patch alone is dozens of short strings)."""
        parts = [msg.text, msg.thinking]
        for call in msg.tool_calls:
            _collect(call.input, parts)
        for res in msg.tool_results:
            parts.append(res.text)
            if res.data:
                _collect(res.data, parts)
        if msg.meta:
            _collect(msg.meta, parts)
        joined = "\n".join(parts)
        try:
            joined.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate from a JSON "\ud83d" escape: not storable text
            _scrub_surrogates(msg)
            return self.message(msg)
        within = _present(joined)
        if not within:
            return msg
        counts = self.counts
        msg.text = _redact(msg.text, counts, within)
        if msg.thinking:
            msg.thinking = _redact(msg.thinking, counts, within)
        for call in msg.tool_calls:
            call.input = self.value(call.input, within)
        for res in msg.tool_results:
            res.text = _redact(res.text, counts, within)
            if res.data:
                res.data = self.value(res.data, within)
        if msg.meta:
            msg.meta = self.value(msg.meta, within)
        return msg


def redact_fields(body: dict[str, Any], fields: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """A copy of `body` with the named free-text fields redacted (strings, lists of strings,
    nested values; None and absent fields pass). Every user-typed field goes through this on
    write, so a secret typed into a title or a pin is stored as `[REDACTED:<kind>]` just as one
    in a transcript is, and never reaches a handoff or the knowledge base."""
    out = dict(body)
    r = Redactor()
    for f in fields:
        if out.get(f) is not None:
            out[f] = r.value(out[f])
    return out
