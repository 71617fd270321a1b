"""Money per session: tokens by kind priced per model from LiteLLM's maintained price table.

The table is vendored (prices.json, written by scripts/update_prices.py from a pinned litellm
release; MIT, LICENSE.litellm.txt) so pricing needs no network and no extra package. A model the
table does not know is reported as unpriced rather than guessed: a wrong dollar figure is worse
than none. Cache reads and writes are priced at their own rates; where the table has no cache rate,
the input rate applies (what the providers bill when they have no discount).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

_TABLE = Path(__file__).with_name("prices.json")
TOKEN_KINDS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
# Prefixes routers and clouds put before a vendor's model name (tried after the exact name).
_PREFIX = re.compile(r"^(?:[a-z0-9_-]+/)+|^(?:(?:us|eu|apac|global|jp|au)\.)?(?:anthropic|openai|meta|mistral)\.")
_DATE = re.compile(r"-(?:20\d{6}|20\d\d-\d\d-\d\d)$")
_VERSION = re.compile(r"-v\d+(?::\d+)?$")


@dataclass(frozen=True)
class Price:
    """USD per token for one model; `context` is its input window in tokens (None when unknown)."""

    model: str
    provider: str
    input: float
    output: float
    cache_read: float
    cache_write: float
    context: int | None


@cache
def _table() -> dict[str, Any]:
    return json.loads(_TABLE.read_text())


def source() -> dict[str, Any]:
    """Where the vendored table comes from: package, version, the day it was vendored, license."""
    return dict(_table()["_source"])


@cache
def _by_lower() -> dict[str, str]:
    return {k.lower(): k for k in _table()["models"]}


def _candidates(name: str) -> list[str]:
    """The model name as written, then without a router/cloud prefix, a date suffix or a version."""
    n = name.strip().lower()
    n = re.sub(r"\[[^\]]*\]$", "", n)  # Claude Code's "claude-opus-4-6[1m]" context tag
    out = [n]
    bare = _PREFIX.sub("", n)
    out.append(bare)
    for base in (n, bare):
        out.append(_VERSION.sub("", base))
        out.append(_DATE.sub("", _VERSION.sub("", base)))
    return list(dict.fromkeys(c for c in out if c))


@cache
def price_of(model: str | None) -> Price | None:
    """The price of `model`, or None when the table does not know it (never a near miss)."""
    if not model or not isinstance(model, str):
        return None
    models, lower = _table()["models"], _by_lower()
    for cand in _candidates(model):
        key = lower.get(cand)
        if key is None:
            continue
        e = models[key]
        inp = float(e.get("input", 0.0))
        return Price(model=key, provider=e.get("provider", ""), input=inp, output=float(e.get("output", 0.0)),
                     cache_read=float(e.get("cache_read", inp)), cache_write=float(e.get("cache_write", inp)),
                     context=int(e["context"]) if e.get("context") else None)
    return None


def cost_usd(model: str | None, tokens: Mapping[str, Any]) -> float | None:
    """Dollars for `tokens` (the four TOKEN_KINDS; fresh input excludes cache reads and writes)."""
    p = price_of(model)
    if p is None:
        return None
    n = {k: max(0, int(tokens.get(k) or 0)) for k in TOKEN_KINDS}
    return (n["input_tokens"] * p.input + n["output_tokens"] * p.output
            + n["cache_read_tokens"] * p.cache_read + n["cache_write_tokens"] * p.cache_write)


def session_cost(usage_by_model: Mapping[str, Mapping[str, Any]] | None, fallback_model: str | None,
                 tokens: Mapping[str, Any]) -> dict[str, Any]:
    """A session's cost: per model when the transcript says which model spent what, else all tokens
    at the session's model. `usd` is None when nothing could be priced, and `unpriced_models` names
    what was left out, so a partial sum is never shown as the whole."""
    parts = dict(usage_by_model or {})
    if not parts and fallback_model and any(int(tokens.get(k) or 0) for k in TOKEN_KINDS):
        parts = {fallback_model: tokens}
    by_model: dict[str, float] = {}
    unpriced: list[str] = []
    for model, t in parts.items():
        c = cost_usd(model, t)
        if c is None:
            unpriced.append(model)
        else:
            by_model[model] = round(c, 6)
    return {"usd": round(sum(by_model.values()), 6) if by_model else None, "by_model": by_model,
            "unpriced_models": sorted(unpriced), "price_table": source()["version"]}
