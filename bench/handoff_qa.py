"""Blind question-answering evaluation of the handoff: prepares what the judges see.

Scoring a handoff by what the next session needed (not by which names it mentions) takes two
fresh LLM judges per document, which cannot run offline in `make bench`. This script makes their
inputs reproducible: for every Claude Code session in the data folder that has a question list,

- `<id>.doc-A.md`: our rule-based handoff, cut at the session's `compact_boundary` exactly as
  `bench/handoff_bench.py` does (no session record beyond what a user would type);
- `<id>.doc-B.md`: Claude Code's own compaction summary of the same input (the `isCompactSummary`
  record after the cut);
- `<id>.questions.txt`: the questions without their reference answers;
- `key.json`: which document is which, for whoever assembles the scores (not for the judges).

Then, per document: judge 1 answers the questions from the document alone ("not in the
document" where it is not); judge 2 scores those answers 0/1/2 against the references with their
evidence and lists statements the evidence contradicts. Results go to docs/benchmarks.md with
the commit that produced the documents.

Run:  .venv/bin/python -m bench.handoff_qa --out /tmp/qa [--budget 9500]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.handoff_bench import DEFAULT_DATA, _raw_lines, _result_text, to_messages  # noqa: E402
from chalicelib.handoff import DEFAULT_BUDGET, build_handoff  # noqa: E402

DEFAULT_QA = ROOT.parent / "shared" / "eval" / "handoff-qa"


def prepare(data: Path, qa: Path, out: Path, budget: int) -> dict[str, dict[str, object]]:
    out.mkdir(parents=True, exist_ok=True)
    key: dict[str, dict[str, object]] = {}
    for path in sorted(data.glob("*.jsonl.gz")):
        sid = path.name[:8]
        qfile = qa / f"{sid}.questions.md"
        if not qfile.exists():
            continue
        lines = _raw_lines(path)
        records = [json.loads(x) for x in lines]
        cut = next(i for i, r in enumerate(records)
                   if r.get("type") == "system" and r.get("subtype") == "compact_boundary")
        summary = next(r for r in records[cut + 1:] if r.get("isCompactSummary"))
        cwd = next((r.get("cwd") for r in records[:cut] if r.get("cwd")), "") or ""
        messages, _loader = to_messages(lines[:cut])
        doc = build_handoff(project={"name": cwd.rsplit("/", 1)[-1] or "project"},
                            session={"number": 1, "status": "in_progress"}, messages=messages, file_changes=[],
                            previous=None, pins=[], budget_chars=budget, generated_at="bench")
        claude = _result_text((summary.get("message") or {}).get("content"))
        (out / f"{sid}.doc-A.md").write_text(doc.markdown, encoding="utf-8")
        (out / f"{sid}.doc-B.md").write_text(claude, encoding="utf-8")
        questions = [ln for ln in qfile.read_text(encoding="utf-8").splitlines() if re.match(r"^### Q\d+\.", ln)]
        (out / f"{sid}.questions.txt").write_text("\n".join(questions) + "\n", encoding="utf-8")
        key[sid] = {"doc-A": "rule-based handoff (ours)", "doc-B": "Claude Code compact summary",
                    "chars": {"doc-A": len(doc.markdown), "doc-B": len(claude)}, "questions": len(questions)}
    (out / "key.json").write_text(json.dumps(key, indent=2) + "\n", encoding="utf-8")
    return key


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--qa", type=Path, default=DEFAULT_QA, help="folder with <id>.questions.md")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--budget", type=int, default=DEFAULT_BUDGET)
    args = ap.parse_args(argv)
    key = prepare(args.data, args.qa, args.out, args.budget)
    for sid, info in key.items():
        print(sid, info["chars"])
    return 0 if key else 2


if __name__ == "__main__":
    raise SystemExit(main())
