"""Timings the unit tests do not assert (wall clock depends on the machine): redaction and LLM fallbacks.

- Redaction of ~2.4 MB of plain code, without and with a trigger word (with one, every rule that
  could match runs): the precheck should keep both well under 2 s.
- The LLM client against a model that never answers in time: each request times out, is retried,
  and the client gives up within its deadline (real sleeps, real sockets, the fake OpenAI server).
- The LLM handoff writer with the same model: it falls back to the rule-based handoff within the
  client's deadline.

    .venv/bin/python -m bench.timings_bench [--repeat 3] [--write PATH]
    (`make bench` runs it with the other benchmarks)
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from chalicelib.transcripts.redact import redact  # noqa: E402

REDACT_TARGET_S = 2.0
CODE = ("def handler(event, context):\n    token_count = len(tokens)  # count them\n"
        "    return {'statusCode': 200, 'body': json.dumps(result)}\n") * 20_000
RISKY = CODE + "client_secret = load_secret()  # a trigger word: every rule that could match runs\n"


def best_of(repeat: int, fn: Callable[[], object]) -> float:
    """The fastest of `repeat` runs of `fn`, in seconds (the least disturbed by other load)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def llm_rows(repeat: int) -> list[tuple[str, float, float]]:
    """(what, seconds, deadline) for the client and the handoff writer against a model that stalls."""
    from chalicelib.handoff.llm_writer import generate_llm_handoff
    from chalicelib.llm import ChatClient, LLMSettings
    from chalicelib.llm.errors import LLMTimeout
    from chalicelib.transcripts.model import Message
    from tests.support.fake_openai import FakeOpenAIServer, delay, reply
    from tests.support.llm_samples import API_KEY, FACTS, GOOD_ANSWER, RULES_MD, FakeRulesDoc

    deadline = 2.0
    rows = []
    with FakeOpenAIServer(default=delay(2.5, then=reply(GOOD_ANSWER))) as server:
        settings = LLMSettings(base_url=server.base_url, model="bench-model", api_key=API_KEY,
                               timeout_s=0.3, deadline_s=deadline, backoff_base_s=0.1, backoff_max_s=0.5)

        def client_gives_up() -> None:
            try:
                ChatClient(settings).complete([{"role": "user", "content": "hi"}], max_tokens=5)
            except LLMTimeout:
                return
            raise AssertionError("the stalled model answered")

        def handoff_falls_back() -> None:
            result = generate_llm_handoff(
                rules_doc=FakeRulesDoc(markdown=RULES_MD, must_keep=[dict(f) for f in FACTS]),
                messages=[Message("user", "Fix the login."), Message("assistant", "Done.")],
                client=ChatClient(settings), project={"name": "Bench"}, session={"number": 1})
            assert result.method == "rules", result.reason

        limit = deadline + settings.timeout_s  # the last request's own timeout may straddle the deadline
        rows.append(("LLM client: stalled model, retried until the deadline", best_of(repeat, client_gives_up),
                     limit))
        rows.append(("LLM handoff: stalled model, falls back to rules", best_of(repeat, handoff_falls_back),
                     limit))
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3, help="timing runs per row (best is kept)")
    ap.add_argument("--write", metavar="PATH", help="also write the Markdown table to PATH")
    args = ap.parse_args()

    rows = [(f"redact: {len(CODE) / 1e6:.1f} MB of code, no trigger word", best_of(args.repeat, lambda: redact(CODE)),
             REDACT_TARGET_S),
            (f"redact: {len(RISKY) / 1e6:.1f} MB of code, one trigger word", best_of(args.repeat, lambda: redact(RISKY)),
             REDACT_TARGET_S)]
    rows += llm_rows(args.repeat)
    lines = [f"Command: `python -m bench.timings_bench --repeat {args.repeat}` (Python {platform.python_version()}, "
             f"{platform.machine()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the start). "
             "Wall seconds, best of the runs; the target is the most each may take.", "",
             "| what | seconds | target | |", "|---|---:|---:|---|"]
    for what, seconds, target in rows:
        lines.append(f"| {what} | {seconds:.3f} | <= {target:.2f} | {'ok' if seconds <= target else 'SLOW'} |")
    table = "\n".join(lines) + "\n"
    print(table)
    if args.write:
        Path(args.write).write_text(table, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
