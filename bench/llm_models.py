"""What an LLM handoff costs on real sessions, per candidate model: calls, tokens and dollars.

Runs the production path (`generate_llm_handoff`) on real sessions with a counting client instead of
a model: each call is answered with well-formed text (the rules document for the final call, short
notes for map and merge calls), so the number of calls, the prompt sizes and the fall-backs are the
ones a real model of that window would cause. Dollars come from the vendored price table
(chalicelib/pricing), tokens from the characters at `--chars-per-token`. Quality is not measured
here: it needs a model and blind judges (docs/benchmarks-handoff-qa.md).

Run:  .venv/bin/python -m bench.llm_models [--cases FILE ...] [--markdown]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.handoff_cases import case_input  # noqa: E402
from chalicelib.handoff import DEFAULT_BUDGET, build_handoff  # noqa: E402
from chalicelib.handoff.llm_writer import generate_llm_handoff  # noqa: E402
from chalicelib.llm.settings import LLMSettings  # noqa: E402
from chalicelib.pricing import price_of  # noqa: E402
from chalicelib.transcripts.importing import import_all  # noqa: E402

CASES = [ROOT / "bench" / "cases" / "heldout-2026-12-05.json", ROOT / "bench" / "cases" / "compaction-2026-12-05.json"]
# (label, model id the price table knows, context window in tokens, max output tokens)
MODELS: tuple[tuple[str, str, int, int], ...] = (
    ("an 8B Llama, 8k window (the shipped default; priced as Bedrock's Llama 3 8B)",
     "bedrock/us-east-1/meta.llama3-8b-instruct-v1:0",
     8_192, 2_048),
    ("Amazon Nova Pro (Bedrock)", "amazon.nova-pro-v1:0", 300_000, 4_096),
    ("Claude Haiku 4.5 (Bedrock)", "anthropic.claude-haiku-4-5-20251001-v1:0", 200_000, 4_096),
    ("Claude Sonnet 4.5 (Bedrock, us. profile)", "us.anthropic.claude-sonnet-4-5-20250929-v1:0", 200_000, 4_096),
    ("Claude Opus 4.5 (Bedrock)", "anthropic.claude-opus-4-5-20251101-v1:0", 200_000, 4_096),
    ("GPT-4.1 mini (OpenAI-compatible)", "gpt-4.1-mini", 1_047_576, 4_096),
)


class CountingClient:
    """The client interface generate_llm_handoff uses; answers every call with well-formed text."""

    def __init__(self, settings: LLMSettings, final_answer: str) -> None:
        self.settings = settings
        self.configured = True
        self.clock = time.monotonic
        self.last_finish_reason = "stop"
        self.final_answer = final_answer
        self.calls: list[tuple[int, int]] = []  # (prompt chars, answer chars)

    def complete(self, messages: list[dict[str, Any]], **_: Any) -> str:
        prompt = sum(len(m.get("content") or "") for m in messages)
        system = next((m["content"] for m in messages if m.get("role") == "system"), "")
        notes = "notes" in system[:200].lower() and "handoff to the next session" in system
        answer = ("- Done: the part's work.\n- Files: `a.py`.\n" if notes or system.startswith("Merge")
                  else self.final_answer)
        self.calls.append((prompt, len(answer)))
        return answer

    def scrub(self, text: str) -> str:
        return text

    def close(self) -> None:
        pass


def measure(case: dict[str, Any], window: int, max_out: int, cpt: float) -> dict[str, Any]:
    raw, fmt, _summary = case_input(case)
    messages, _stats, changes = import_all(raw, fmt)
    session: dict[str, Any] = {"number": int(case.get("session_n") or 1), "status": "completed"}
    project = {"name": case.get("project") or "project"}
    rules = build_handoff(project=project, session=session, messages=messages, file_changes=list(changes),
                          previous=None, pins=[], budget_chars=DEFAULT_BUDGET, generated_at="eval", fmt=fmt)
    settings = replace(LLMSettings(), model="counting", api_key="offline", context_tokens=window,
                       chars_per_token=cpt, max_output_tokens=max_out, deadline_s=3600, timeout_s=3600)
    client = CountingClient(settings, rules.markdown)
    result = generate_llm_handoff(rules_doc=rules, messages=messages, client=client, project=project,
                                  session=session, budget_chars=DEFAULT_BUDGET)
    return {"calls": len(client.calls), "in_chars": sum(p for p, _ in client.calls),
            "out_chars": sum(a for _, a in client.calls), "method": result.method,
            "transcript_chars": len(raw)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=Path, nargs="*", default=CASES)
    ap.add_argument("--chars-per-token", type=float, default=3.5)
    ap.add_argument("--markdown", action="store_true", help="print the table for docs/benchmarks.md")
    ap.add_argument("--write", type=Path, help="write the section for docs/benchmarks.md (make bench)")
    args = ap.parse_args(argv)
    cases = [c for f in args.cases for c in json.loads(f.read_text())]
    rows = []
    for label, model, window, max_out in MODELS:
        price = price_of(model)
        runs = [measure(c, window, max_out, args.chars_per_token) for c in cases]
        costs = [(r["in_chars"] * price.input + r["out_chars"] * price.output) / args.chars_per_token
                 for r in runs] if price else []
        rows.append({
            "model": label, "id": model, "window": window, "cases": len(runs),
            "one_call": sum(r["calls"] == 1 for r in runs),
            "calls_max": max(r["calls"] for r in runs),
            "fell_back": sum(r["method"] == "rules" for r in runs),
            "in_tokens_median": round(statistics.median(r["in_chars"] for r in runs) / args.chars_per_token),
            "in_tokens_max": round(max(r["in_chars"] for r in runs) / args.chars_per_token),
            "usd_median": round(statistics.median(costs), 4) if costs else None,
            "usd_max": round(max(costs), 4) if costs else None,
        })
    if args.markdown or args.write:
        lines = [f"Command: `python -m bench.llm_models` ({len(cases)} real sessions: the retired held-out cases "
                 f"and the two compactions; tokens at {args.chars_per_token} characters each; prices from "
                 "the vendored table). A counting client stands in for the model, so this measures the calls, "
                 "prompt sizes and cost a model of each window causes, not the quality.", "",
                 "| model | window | whole prompt in one call | most calls | fell back to rules "
                 "| input tokens median / max | $ per handoff median / max |",
                 "|---|---:|---:|---:|---:|---:|---:|"]
        for r in rows:
            usd = f"{r['usd_median']:.4f} / {r['usd_max']:.4f}" if r["usd_median"] is not None else "not in the table"
            lines.append(f"| {r['model']} | {r['window']:,} | {r['one_call']}/{r['cases']} | {r['calls_max']} | "
                         f"{r['fell_back']}/{r['cases']} | {r['in_tokens_median']:,} / {r['in_tokens_max']:,} | {usd} |")
        text = "\n".join(lines) + "\n"
        if args.write:
            args.write.write_text(text)
        else:
            print(text)
    else:
        print(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
