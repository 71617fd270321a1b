"""Regenerate chalicelib/pricing/prices.json from LiteLLM's maintained price table.

LiteLLM (MIT) keeps `model_prices_and_context_window.json`, the table ccusage and most cost tools
read. We vendor a slim copy (chat models of the providers coding agents use; four token prices and
the context size) so pricing works offline and the Lambda package stays small.

    pip download --no-deps "litellm==$(python scripts/update_prices.py --pinned)" -d /tmp/litellm
    python scripts/update_prices.py /tmp/litellm/litellm-*.whl

Raise PINNED_VERSION first to take a newer table; tests/unit/pricing fails while the vendored copy
is older than the pin.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import zipfile
from pathlib import Path

PINNED_VERSION = "1.110.2"
OUT = Path(__file__).resolve().parents[1] / "chalicelib" / "pricing" / "prices.json"
MEMBER = "litellm/model_prices_and_context_window_backup.json"
PROVIDERS = {
    "anthropic", "openai", "azure", "gemini", "vertex_ai-anthropic_models", "vertex_ai-language-models",
    "bedrock", "bedrock_converse", "deepseek", "mistral", "codestral", "xai", "groq", "moonshot", "zai",
    "dashscope", "together_ai", "fireworks_ai", "openrouter", "text-completion-openai",
}
FIELDS = (("input_cost_per_token", "input"), ("output_cost_per_token", "output"),
          ("cache_read_input_token_cost", "cache_read"), ("cache_creation_input_token_cost", "cache_write"),
          ("max_input_tokens", "context"))


def slim(table: dict) -> dict[str, dict]:
    """Chat models of PROVIDERS that have a token price, with only the fields pricing reads."""
    out: dict[str, dict] = {}
    for name, v in table.items():
        if not isinstance(v, dict) or name == "sample_spec" or v.get("litellm_provider") not in PROVIDERS:
            continue
        if v.get("mode") not in ("chat", "responses", "completion"):
            continue
        if not v.get("input_cost_per_token") and not v.get("output_cost_per_token"):
            continue
        e: dict = {"provider": v["litellm_provider"]}
        e.update({short: v[long] for long, short in FIELDS if isinstance(v.get(long), int | float)})
        out[name] = e
    return out


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("wheel", nargs="?", help="the litellm wheel of the pinned version")
    ap.add_argument("--pinned", action="store_true", help="print the pinned version and exit")
    args = ap.parse_args(argv)
    if args.pinned or not args.wheel:
        print(PINNED_VERSION)
        return 0
    wheel = Path(args.wheel)
    version = wheel.name.split("-")[1]
    if version != PINNED_VERSION:
        print(f"{wheel.name} is not the pinned version {PINNED_VERSION}", file=sys.stderr)
        return 2
    with zipfile.ZipFile(wheel) as z:
        table = json.loads(z.read(MEMBER))
    doc = {"_source": {"name": "LiteLLM model_prices_and_context_window.json", "package": "litellm",
                       "version": version, "license": "MIT (LICENSE.litellm.txt)",
                       "repository": "BerriAI/litellm", "vendored_on": dt.date.today().isoformat(),
                       "unit": "USD per token"},
           "models": slim(table)}
    OUT.write_text(json.dumps(doc, indent=0, sort_keys=True) + "\n")
    print(f"wrote {len(doc['models'])} models to {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
