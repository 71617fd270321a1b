"""Pricing: the vendored LiteLLM table, model-name matching, and dollars per token kind."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from chalicelib import pricing
from scripts import update_prices

ROOT = Path(__file__).resolve().parents[3]


def _version(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", v))


def test_vendored_table_is_not_older_than_the_pinned_version():
    src = pricing.source()
    assert src["package"] == "litellm" and src["license"].startswith("MIT")
    assert _version(src["version"]) >= _version(update_prices.PINNED_VERSION), (
        f"prices.json is litellm {src['version']}, older than the pin {update_prices.PINNED_VERSION}: "
        "run scripts/update_prices.py")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", src["vendored_on"])
    assert (ROOT / "chalicelib" / "pricing" / "LICENSE.litellm.txt").read_text().count("MIT") >= 1


def test_every_vendored_entry_has_sane_prices():
    models = json.loads((ROOT / "chalicelib" / "pricing" / "prices.json").read_text())["models"]
    assert len(models) > 500
    for name, e in models.items():
        assert e["provider"], name
        for k in ("input", "output", "cache_read", "cache_write"):
            if k in e:
                assert 0 <= e[k] < 0.01, (name, k)  # dollars per token: a cent a token is a unit mistake


def test_slim_keeps_only_priced_chat_models_of_known_providers():
    table = {
        "sample_spec": {"mode": "chat", "litellm_provider": "openai", "input_cost_per_token": 0.0},
        "m-chat": {"mode": "chat", "litellm_provider": "anthropic", "input_cost_per_token": 1e-6,
                   "output_cost_per_token": 5e-6, "cache_read_input_token_cost": 1e-7, "max_input_tokens": 1000,
                   "supports_vision": True},
        "m-embed": {"mode": "embedding", "litellm_provider": "openai", "input_cost_per_token": 1e-7},
        "m-free": {"mode": "chat", "litellm_provider": "openai", "input_cost_per_token": 0},
        "m-other": {"mode": "chat", "litellm_provider": "someone-else", "input_cost_per_token": 1e-6},
    }
    assert update_prices.slim(table) == {
        "m-chat": {"provider": "anthropic", "input": 1e-6, "output": 5e-6, "cache_read": 1e-7, "context": 1000}}


@pytest.mark.parametrize("written, key", [
    ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5-20250929"),
    ("claude-opus-4-6", "claude-opus-4-6"),
    ("claude-opus-4-6[1m]", "claude-opus-4-6"),
    ("anthropic/claude-sonnet-4-5", "claude-sonnet-4-5"),
    ("openrouter/openai/gpt-5", "gpt-5"),
    ("GPT-5-Codex", "gpt-5-codex"),
    ("gpt-5.1-2025-11-13", "gpt-5.1-2025-11-13"),
])
def test_model_names_as_agents_write_them(written, key):
    p = pricing.price_of(written)
    assert p is not None and p.model == key


@pytest.mark.parametrize("name", ["sonnet", "", None, "my-local-llama", "claude", 42])
def test_unknown_or_ambiguous_models_are_not_priced(name):
    assert pricing.price_of(name) is None
    assert pricing.cost_usd(name, {"input_tokens": 10}) is None


def test_cost_prices_each_token_kind_at_its_rate():
    p = pricing.price_of("claude-sonnet-4-5")
    t = {"input_tokens": 1000, "output_tokens": 200, "cache_read_tokens": 50_000, "cache_write_tokens": 3000}
    want = 1000 * p.input + 200 * p.output + 50_000 * p.cache_read + 3000 * p.cache_write
    assert pricing.cost_usd("claude-sonnet-4-5", t) == pytest.approx(want)
    assert p.cache_read < p.input < p.output  # cached reads are the discount that makes long sessions affordable
    assert pricing.cost_usd("claude-sonnet-4-5", {"input_tokens": -5, "output_tokens": None}) == 0


def test_session_cost_per_model_and_what_it_could_not_price():
    c = pricing.session_cost({"claude-opus-4-6": {"input_tokens": 100, "output_tokens": 10},
                              "sonnet": {"output_tokens": 99}}, None, {})
    assert set(c["by_model"]) == {"claude-opus-4-6"} and c["unpriced_models"] == ["sonnet"]
    assert c["usd"] == pytest.approx(pricing.cost_usd("claude-opus-4-6", {"input_tokens": 100, "output_tokens": 10}),
                                     abs=1e-6)
    assert c["price_table"] == pricing.source()["version"]


def test_session_cost_falls_back_to_the_session_model_and_says_none_when_nothing_is_priced():
    t = {"input_tokens": 1000, "output_tokens": 100}
    assert pricing.session_cost(None, "gpt-5", t)["usd"] == pytest.approx(pricing.cost_usd("gpt-5", t), abs=1e-6)
    assert pricing.session_cost(None, None, t) == {"usd": None, "by_model": {}, "unpriced_models": [],
                                                   "price_table": pricing.source()["version"]}
    assert pricing.session_cost(None, "gpt-5", {})["usd"] is None  # no tokens: no cost to state
