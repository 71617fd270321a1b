"""gitleaks' default rules (vendored in rules/gitleaks.toml) as a small Python engine.

The ruleset is data maintained upstream (ids, regexes, keywords, entropy thresholds, allowlists);
this module loads it once, converts the few Go RE2 constructs Python's `re` reads differently, and
applies each rule the way gitleaks does:

1. keyword prefilter: a rule runs only when one of its keywords occurs in the lower-cased text
   (the caller does this test once for all rules; see `redact._present_rules`);
2. the regex; the secret is the longest non-empty unnamed group, else the whole match (gitleaks
   takes the first non-empty group; the longest is the same for every rule but `sonar-api-token`,
   whose first group is the word "token", and it keeps a redaction whole);
3. the entropy threshold (Shannon, bits per character) where the rule has one, and for
   `generic-*` rules a digit in the secret;
4. allowlists: the global one and the rule's own (regexes on the secret, the match or the line;
   stopwords on the secret; `condition = "AND"`). Allowlists that only name file paths never
   apply: a transcript is not a file tree.

Two deliberate departures, both widening what is found: a secret may also end at `.`, `,` or a
closing bracket (gitleaks stops at quotes, spaces and `;`, so "the key is dop_v1_<hex>." was
missed), and the secret of a fixed-length rule runs to the end of its token (a 99-character
Stripe key is not cut after 24).

Rules that only apply to a file path (`path = ...`: PKCS#12 files, `.tf`, `.php`, nuget.config,
Kubernetes YAML) are skipped for the same reason; `SKIPPED` lists them.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections import Counter
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

RULES_FILE = Path(__file__).with_name("rules") / "gitleaks.toml"
# The upstream commit the vendored file was taken from (rules/SOURCE.md says more); a unit test
# checks the file's sha256 so an edit by hand cannot pass for upstream data.
GITLEAKS_COMMIT = "009e025ad4106ab333aa0b9dc4f2a884390d134c"
GITLEAKS_SHA256 = "18c1cb4ec5ac24e4205768d826263a6677810136181e3a7f119716b1ac4ac83c"

# Rules without keywords run on every string; these give them the literal their regex needs.
_EXTRA_KEYWORDS = {"database-password": ("db_passw", "database_passw", "pwd")}

# The context prefix of gitleaks' "keyword ... = value" rules. It only widens the match to the left
# (the secret is a later group); scanning it costs Python's engine a 50-step try at every position,
# so it is dropped and the match start recomputed for `regexTarget = "match"` allowlists.
_CTX_PREFIXES = (
    (r"(?i)[\w.-]{0,50}?", "(?i)"),
    (r"[\w.-]{0,50}?(?i:[\w.-]{0,50}?", "(?i:"),
)
# Rules run at every position of a long string cost Python's engine a try at each one; these
# (whose keywords occur in most transcripts) start their match exactly at a keyword, so they are
# tried at the keyword's occurrences only. Context rules are checked for this at load time.
_ANCHORED_IDS = frozenset({"jwt", "vault-service-token", "twilio-api-key"})
_END = r"""(?:[\x60'"\s;]|\\[nr]|$)"""
_END_OURS = r"""(?:[\x60'"\s;.,)\]}>]|\\[nr]|$)"""
_WORD_LEFT = re.compile(r"[\w.-]{1,50}\Z", re.ASCII)


def go_to_python(pattern: str) -> str:
    """A Go RE2 pattern as Python `re` reads it: `\\z` -> `\\Z`, and a flag group such as `(?i)`
    after the start (RE2: "from here to the end of the enclosing group") -> a scoped `(?i:...)`."""
    pattern = pattern.replace(r"\z", r"\Z")
    out: list[str] = []
    i, n = 0, len(pattern)
    closers: list[int] = []  # per open group: how many scoped groups to close with it
    closers.append(0)
    in_class = False
    while i < n:
        c = pattern[i]
        if c == "\\":
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if in_class:
            if c == "]":
                in_class = False
            out.append(c)
            i += 1
            continue
        if c == "[":
            in_class = True
            out.append(c)
            i += 1
            if i < n and pattern[i] == "^":
                out.append("^")
                i += 1
            if i < n and pattern[i] == "]":  # a leading ] is a literal
                out.append("]")
                i += 1
            continue
        m = re.match(r"\(\?([a-zA-Z-]+)\)", pattern[i:])
        if m and i > 0:
            out.append(f"(?{m.group(1)}:")
            closers[-1] += 1
            i += m.end()
            continue
        if c == "(":
            closers.append(0)
        elif c == ")":
            out.append(")" * closers.pop())
        out.append(c)
        i += 1
    out.append(")" * closers.pop())
    return "".join(out)


def shannon_entropy(s: str) -> float:
    """Bits per character, as gitleaks computes it."""
    if not s:
        return 0.0
    n = len(s)
    return -sum(c / n * math.log2(c / n) for c in Counter(s).values())


@dataclass(frozen=True)
class Allowlist:
    """One allowlist: what it checks (`target`: secret, match or line) and with what."""

    regexes: tuple[re.Pattern[str], ...]
    stopwords: tuple[str, ...]
    target: str = "secret"
    require_all: bool = False  # condition = "AND"

    def allows(self, secret: str, match: str, line: str) -> bool:
        text = {"secret": secret, "match": match, "line": line}[self.target]
        checks = []
        if self.regexes:
            checks.append(any(rx.search(text) for rx in self.regexes))
        if self.stopwords:
            low = secret.lower()
            checks.append(any(w in low for w in self.stopwords))
        if not checks:
            return False
        return all(checks) if self.require_all else any(checks)


@dataclass(frozen=True)
class GitleaksRule:
    """One rule. Its regex is compiled on first use: most rules never run (their keywords never
    occur), and compiling all of them costs ~50 ms at every cold start."""

    id: str
    pattern: str  # Python syntax, context prefix dropped
    keywords: tuple[str, ...]
    entropy: float
    allowlist_specs: tuple[dict[str, Any], ...]
    context: bool  # the "keyword ... = value" shape whose left context was dropped

    @cached_property
    def regex(self) -> re.Pattern[str]:
        return re.compile(self.pattern, re.ASCII)

    @cached_property
    def groups(self) -> tuple[int, ...]:
        """Unnamed capture groups, candidates for the secret."""
        named = set(self.regex.groupindex.values())
        return tuple(g for g in range(1, self.regex.groups + 1) if g not in named)

    @cached_property
    def allowlists(self) -> tuple[Allowlist, ...]:
        return tuple(a for a in (_allowlist(s) for s in self.allowlist_specs) if a)

    @cached_property
    def anchored(self) -> bool:
        """Every match starts where one of its keywords does: try only there."""
        return self.id in _ANCHORED_IDS or (self.context and _keywords_lead(self.pattern, self.keywords))

    def secret_span(self, m: re.Match[str]) -> tuple[int, int] | None:
        """The secret's span in the string, or None when the rule's checks say it is not one."""
        best: tuple[int, int] | None = None
        for g in self.groups:
            s, e = m.span(g)
            if s >= 0 and e > s and (best is None or e - s > best[1] - best[0]):
                best = (s, e)
        if best is None:
            best = m.span()
        secret = m.string[best[0]:best[1]]
        if self.entropy and shannon_entropy(secret) <= self.entropy:
            return None
        if self.entropy and self.id.startswith("generic") and not any(ch.isdigit() for ch in secret):
            return None
        start = m.start()
        if self.context:
            left = _WORD_LEFT.search(m.string, max(0, start - 50), start)
            if left:
                start = left.start()
        match = m.string[start:m.end()]
        line_start = m.string.rfind("\n", 0, start) + 1
        line_end = m.string.find("\n", m.end())
        line = m.string[line_start:line_end if line_end >= 0 else len(m.string)]
        for al in (*_global_allowlists(), *self.allowlists):
            if al.allows(secret, match, line):
                return None
        return best


def _allowlist(spec: dict[str, Any]) -> Allowlist | None:
    if spec.get("paths") and (spec.get("condition") == "AND" or not (spec.get("regexes") or spec.get("stopwords"))):
        return None  # needs a file path to apply
    return Allowlist(
        regexes=tuple(re.compile(go_to_python(r), re.ASCII) for r in spec.get("regexes", ())),
        stopwords=tuple(w.lower() for w in spec.get("stopwords", ())),
        target=spec.get("regexTarget", "secret"),
        require_all=spec.get("condition") == "AND",
    )


@lru_cache(maxsize=1)
def load_config() -> dict[str, Any]:
    """The vendored gitleaks.toml, parsed."""
    with RULES_FILE.open("rb") as fh:
        return tomllib.load(fh)


@lru_cache(maxsize=1)
def _global_allowlists() -> tuple[Allowlist, ...]:
    al = _allowlist(load_config().get("allowlist", {}))
    return (al,) if al else ()


def _compile(rule: dict[str, Any]) -> GitleaksRule:
    pattern = rule["regex"]
    context = False
    for prefix, repl in _CTX_PREFIXES:
        if pattern.startswith(prefix):
            pattern, context = repl + pattern[len(prefix):], True
            break
    # gitleaks ends most rules at a quote, a space, ';' or the end; a secret closing a sentence or
    # a bracket ("... is dop_v1_<hex>.", "(sk_live_...)") is one too.
    pattern = pattern.replace(_END, _END_OURS)
    keywords = tuple(k.lower() for k in rule.get("keywords", ())) or _EXTRA_KEYWORDS.get(rule["id"], ())
    return GitleaksRule(id=rule["id"], pattern=go_to_python(pattern), keywords=keywords,
                        entropy=float(rule.get("entropy", 0)), allowlist_specs=tuple(rule.get("allowlists", ())),
                        context=context)


def _keywords_lead(pattern: str, keywords: tuple[str, ...]) -> bool:
    """True when a context rule's keyword group (what follows its dropped prefix) matches each of
    its keywords: then a match always starts at a keyword (not so for `lob-api-key`, whose keywords
    are `test_` and `live_` but whose context word is "lob")."""
    body = pattern[pattern.index("(?:"):] if "(?:" in pattern else ""  # (already Python syntax)
    depth, end = 0, 0
    for i, ch in enumerate(body):
        if ch == "(" and (i == 0 or body[i - 1] != "\\"):
            depth += 1
        elif ch == ")" and body[i - 1] != "\\":
            depth -= 1
            if depth == 0:
                end = i + 1
                break
    if not end:
        return False
    lead = re.compile("(?i)" + body[:end], re.ASCII)
    return all(lead.match(k) for k in keywords)


SKIPPED_REASON = "applies to a file path only"


@lru_cache(maxsize=1)
def load_rules() -> tuple[tuple[GitleaksRule, ...], dict[str, str]]:
    """(every usable rule in file order, {skipped rule id: why})."""
    rules, skipped = [], {}
    for rule in load_config()["rules"]:
        if "path" in rule or "regex" not in rule:
            skipped[rule["id"]] = SKIPPED_REASON
            continue
        compiled = _compile(rule)
        if not compiled.keywords:
            raise ValueError(f"gitleaks rule {rule['id']} has no keyword to prefilter on")
        rules.append(compiled)
    return tuple(rules), skipped
