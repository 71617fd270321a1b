"""The vendored gitleaks ruleset: the file is upstream's, byte for byte; every rule compiles in
Python; and each rule finds an example written from its own regex, which redaction then removes."""

from __future__ import annotations

import hashlib
import random
import re
import re._constants as C  # noqa: N812
import re._parser as P  # noqa: N812
import tomllib
import warnings
import zlib

import pytest

from chalicelib.transcripts import ruleset
from chalicelib.transcripts.redact import redact


def test_the_vendored_file_is_upstreams_at_the_recorded_commit():
    data = ruleset.RULES_FILE.read_bytes()
    assert hashlib.sha256(data).hexdigest() == ruleset.GITLEAKS_SHA256
    sources = (ruleset.RULES_FILE.parent / "SOURCE.md").read_text()
    assert ruleset.GITLEAKS_COMMIT in sources and "MIT" in sources
    assert (ruleset.RULES_FILE.parent / "LICENSE.gitleaks.txt").read_text().startswith("MIT License")


def test_every_rule_is_loaded_or_skipped_for_a_reason():
    config = tomllib.loads(ruleset.RULES_FILE.read_text())
    rules, skipped = ruleset.load_rules()
    assert len(config["rules"]) >= 200
    assert len(rules) + len(skipped) == len(config["rules"])
    assert set(skipped) == {r["id"] for r in config["rules"] if "path" in r}
    assert all(r.keywords for r in rules)


def test_every_pattern_compiles_without_warnings():
    config = tomllib.loads(ruleset.RULES_FILE.read_text())
    patterns = [r["regex"] for r in config["rules"] if "regex" in r]
    patterns += [x for r in config["rules"] for a in r.get("allowlists", ()) for x in a.get("regexes", ())]
    patterns += config["allowlist"]["regexes"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for p in patterns:
            re.compile(ruleset.go_to_python(p), re.ASCII)


@pytest.mark.parametrize(("go", "py"), [
    (r"\b(p8e-(?i)[a-z0-9]{32})", r"\b(p8e-(?i:[a-z0-9]{32}))"),
    (r"dp\.pt\.(?i)[a-z0-9]{43}", r"dp\.pt\.(?i:[a-z0-9]{43})"),
    (r"(?i)abc", r"(?i)abc"),
    (r"x(?:\s|\z)", r"x(?:\s|\Z)"),
    (r"[^]]+(?i)a", r"[^]]+(?i:a)"),
])
def test_go_flags_and_anchors_become_python(go, py):
    assert ruleset.go_to_python(go) == py


def test_entropy():
    assert ruleset.shannon_entropy("aaaa") == 0
    assert ruleset.shannon_entropy("abcd") == 2
    assert ruleset.shannon_entropy("") == 0


# -- an example per rule, written from its regex ------------------------------------------------

_DIGITS, _WORD = "0123456789", "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"


def _chars(items, flags: int) -> list[str]:
    """The characters an `IN` set allows (ASCII), or, negated, some it does not."""
    out: set[str] = set()
    neg = False
    for op, av in items:
        if op is C.NEGATE:
            neg = True
        elif op is C.LITERAL:
            out.add(chr(av))
        elif op is C.RANGE:
            out.update(chr(c) for c in range(av[0], av[1] + 1) if c < 128)
        elif op is C.CATEGORY:
            out.update({C.CATEGORY_DIGIT: _DIGITS, C.CATEGORY_WORD: _WORD, C.CATEGORY_SPACE: " "}.get(av, ""))
    if neg:
        out = set(_WORD + " .,;:/") - out
    return sorted(out)


class _Writer:
    """A string the pattern matches: the first branch of each alternation, each repeat its minimum
    (at least 24 for open-ended ones), each character set cycled in a shuffled order so the value
    has the variety (entropy, a digit) a real key has."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.orders: dict[tuple[str, ...], list[str]] = {}
        self.i = 0

    def pick(self, chars: list[str]) -> str:
        key = tuple(chars)
        if key not in self.orders:
            order = list(chars)
            self.rng.shuffle(order)
            self.orders[key] = order
        self.i += 1
        return self.orders[key][self.i % len(key)]

    def write(self, items, flags: int = 0) -> str:
        out = []
        for op, av in items:
            if op is C.LITERAL:
                out.append(chr(av))
            elif op is C.NOT_LITERAL:
                out.append("x" if chr(av) != "x" else "y")
            elif op is C.ANY:
                out.append(".")  # an unescaped dot in a host name (hooks.slack.com) stands for one
            elif op is C.IN:
                out.append(self.pick(_chars(av, flags)))
            elif op is C.BRANCH:
                out.append(self.write(av[1][0], flags))
            elif op is C.SUBPATTERN:
                out.append(self.write(av[3], flags))
            elif op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
                lo, hi, sub = av
                n = lo if (hi != C.MAXREPEAT and hi <= 200) or lo >= 24 else max(lo, 24)
                if lo == 0 and hi <= 3:
                    n = 0
                out.append("".join(self.write(sub, flags) for _ in range(n)))
            elif op is C.CATEGORY:
                out.append({C.CATEGORY_DIGIT: "7", C.CATEGORY_SPACE: " "}.get(av, "k"))
        return "".join(out)


def _example(rule: ruleset.GitleaksRule) -> str:
    return _Writer(zlib.crc32(rule.id.encode())).write(P.parse(rule.regex.pattern, rule.regex.flags))


# Rules whose first branch cannot make a finding by construction (the example the writer makes is
# allowlisted or too uniform); each has an example of its own below.
_OWN_EXAMPLES = {
    "curl-auth-header": 'curl -H "Authorization: Bearer Zx81kPq2Lm7Rt5Vb3Nc9" https://api.example.org',
    "curl-auth-user": "curl --user deployer:Rk83nFq2Lv https://ci.example.org",
    "generic-api-key": "credential = 'Zq8Lm2Rt5Vb7Nc3Xp9Kd'",
    "database-password": "DB_PASSWORD=Rk83nFq2Lv9x",  # the writer's one-character value is allowlisted
    "facebook-access-token": "facebook token 123456789012345|Ab3dE5gH7jK9mN1pQ2sT4vW6yZ8aB3",  # keyword
}


@pytest.mark.parametrize("rule", ruleset.load_rules()[0], ids=lambda r: r.id)
def test_each_rule_finds_an_example_of_its_own_and_redaction_removes_it(rule):
    text = _OWN_EXAMPLES.get(rule.id) or _example(rule)
    found = [span for m in rule.regex.finditer(text) if (span := rule.secret_span(m))]
    assert found, f"{rule.id}: no finding in {text!r}"
    secret = text[found[0][0]:found[0][1]]
    padded = f"value: {text}\n"
    assert any(k in padded.lower() for k in rule.keywords), "the keyword prefilter would skip it"
    out, counts = redact(padded)
    assert secret not in out, (rule.id, out, counts)
    assert counts, rule.id
