"""Score the LLM handoff path without a network: a person (or a fresh LLM helper) is the model.

`--dump` runs `generate_llm_handoff` on a held-out case (bench/handoff_cases.py's format) and writes
the exact prompt it sends (system and user message) instead of calling a model. Give that prompt,
and nothing else, to the stand-in model; save its reply. `--answer FILE` runs the same function
again with that reply as the model's answer, so the sanity check and the repair step (must-keep
facts put back, contradiction notes among them) run exactly as in production. Report results
made this way as such: the model was a stand-in, not the configured provider.

    python -m bench.llm_offline --cases cases.json --case cc-258c7280-compact --dump /tmp/prompt.md
    python -m bench.llm_offline --cases cases.json --case cc-258c7280-compact --answer reply.md --out doc.md
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.handoff_cases import case_input  # noqa: E402
from chalicelib.handoff import build_handoff  # noqa: E402
from chalicelib.handoff.llm_writer import generate_llm_handoff  # noqa: E402
from chalicelib.llm.errors import LLMUnavailable  # noqa: E402
from chalicelib.llm.settings import LLMSettings  # noqa: E402
from chalicelib.transcripts.importing import import_all  # noqa: E402

# A frontier model's window: the whole prompt goes in one call, as with such a model in production.
STAND_IN = LLMSettings(model="stand-in", api_key="offline", context_tokens=200_000, chars_per_token=3.5,
                       max_output_tokens=8_000, deadline_s=3600, timeout_s=3600)


class StandIn:
    """The client interface generate_llm_handoff uses, answered from a file or recording the prompt."""

    def __init__(self, answer: str | None, dump: Path | None) -> None:
        self.settings = STAND_IN
        self.configured = True
        self.clock = time.monotonic
        self.last_finish_reason = "stop"
        self.answer, self.dump = answer, dump

    def complete(self, messages: list[dict[str, Any]], **_: Any) -> str:
        if self.answer is None:
            text = "\n\n".join(f"=== {m['role']} message ===\n{m['content']}" for m in messages)
            if self.dump is not None:
                self.dump.write_text(text, encoding="utf-8")
            raise LLMUnavailable("prompt dumped; no model here")
        return self.answer

    def scrub(self, text: str) -> str:
        return text

    def close(self) -> None:
        pass


def run(case: dict[str, Any], *, answer: str | None, dump: Path | None, budget: int,
        account: str | None) -> Any:
    raw, fmt, summary = case_input(case)
    messages, _stats, changes = import_all(raw, fmt)
    session: dict[str, Any] = {"number": int(case.get("session_n") or 1), "status": "completed"}
    text = account if account is not None else summary
    if text:
        session["account"] = {"text": text, "source": "note" if account is not None else "compact_summary"}
    project = {"name": case.get("project") or "project"}
    rules = build_handoff(project=project, session=session, messages=messages, file_changes=list(changes),
                          previous=None, pins=[], budget_chars=budget, generated_at="eval", fmt=fmt)
    return generate_llm_handoff(rules_doc=rules, messages=messages, client=StandIn(answer, dump), project=project,
                                session=session, budget_chars=budget)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=Path, required=True)
    ap.add_argument("--case", required=True)
    ap.add_argument("--dump", type=Path)
    ap.add_argument("--answer", type=Path)
    ap.add_argument("--account", type=Path, help="the agent's note to use as the account")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--budget", type=int, default=9500)
    args = ap.parse_args(argv)
    case = next(c for c in json.loads(args.cases.read_text()) if c["case_id"] == args.case)
    account = args.account.read_text() if args.account else None
    result = run(case, answer=args.answer.read_text() if args.answer else None, dump=args.dump,
                 budget=args.budget, account=account)
    if args.out:
        args.out.write_text(result.markdown, encoding="utf-8")
    print(json.dumps({"method": result.method, "reason": result.reason, "restored": len(result.restored),
                      "chars": len(result.markdown)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
