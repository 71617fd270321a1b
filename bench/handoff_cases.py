"""Blind handoff evaluation on held-out cases: writes the documents the judges read.

A case is a point in a real project's history: the handoff is made from what came before it and
judged on questions a fresh helper wrote from what came after, before any document was read
(docs/benchmarks-handoff-qa.md has the protocol). Cases come as JSON:

    [{"case_id", "agent": "aider" | "claude-code" | "swe-agent", "source_file" (under tests/fixtures/real),
      "start_line_n", "start_line_next" (aider: the session's lines, 1-based, end excluded),
      "cut_record" (claude-code: the handoff is made from records [0, cut_record)),
      "cut_step" (swe-agent: the handoff is made from the trajectory's first cut_step steps),
      "questions": [{"q", ...}]}, ...]

For each case this writes `<case>.rules.md` (the rule-based handoff, made the way the product makes
it: the real importer, its file changes, no session record beyond the transcript),
`<case>.summary.md` where the cut is a Claude Code compaction (Claude Code's own summary of the
same input, the peer to beat), `<case>.account.md` when `--accounts DIR` holds an agent's note
`<case>.md` (the handoff built with that note as the agent's account) or the cut is a compaction (the
summary as the account, sent as a compaction summary the way the post-compact hook sends it), and `<case>.questions.txt`
(the questions alone). Nothing here calls a model: the judges are people or fresh LLM helpers.

Run:  .venv/bin/python -m bench.handoff_cases --cases cases.json --out /tmp/cases [--budget 9500]
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from chalicelib.handoff import DEFAULT_BUDGET, build_handoff  # noqa: E402
from chalicelib.transcripts.importing import import_all  # noqa: E402

DATA = ROOT / "tests" / "fixtures" / "real"


def case_input(case: dict[str, Any], data: Path = DATA) -> tuple[bytes, str, str | None]:
    """The bytes the handoff is made from, their format, and Claude Code's summary at that cut (if any)."""
    src = Path(case["source_file"])  # absolute, from the repository root, or under the real-transcripts folder
    path = next((p for p in (src, ROOT / src, data / src) if p.is_file()), data / src)
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    if case["agent"] == "aider":
        lines = raw.splitlines(keepends=True)
        return b"".join(lines[case["start_line_n"] - 1:case["start_line_next"] - 1]), "aider", None
    if case["agent"] == "swe-agent":
        return _swe_agent_cut(json.loads(raw), int(case["cut_step"])), "swe-agent", None
    lines = [ln for ln in raw.splitlines() if ln.strip()]
    cut = int(case["cut_record"])
    summary = None
    rest = [json.loads(x) for x in lines[cut:cut + 3]]
    if rest and rest[0].get("subtype") == "compact_boundary":
        rec = next((r for r in rest if r.get("isCompactSummary")), None)
        content = (rec or {}).get("message", {}).get("content")
        summary = content if isinstance(content, str) else "\n".join(
            b.get("text", "") for b in content or [] if isinstance(b, dict) and b.get("type") == "text")
    return b"\n".join(lines[:cut]) + b"\n", "claude-code", summary


def _swe_agent_cut(doc: dict[str, Any], steps: int) -> bytes:
    """The run as it stood after its first `steps` actions: no outcome yet, the history cut to match.

    The history is what the importer reads: the messages before the first action (system prompt,
    demonstration, issue), then one assistant action and one observation per step.
    """
    history = doc.get("history") or []
    first = next((i for i, h in enumerate(history) if h.get("role") == "assistant"), len(history))
    cut = dict(doc, trajectory=doc["trajectory"][:steps], history=history[:first + 2 * steps], info={})
    return json.dumps(cut).encode()


def make_documents(case: dict[str, Any], out: Path, budget: int, accounts: Path | None = None) -> dict[str, int]:
    raw, fmt, summary = case_input(case)
    messages, _stats, changes = import_all(raw, fmt)
    sizes: dict[str, int] = {}
    note = accounts / f"{case['case_id']}.md" if accounts else None
    # The account as the product receives it: the agent's note, else (at a compaction) the summary Claude
    # Code wrote, which reaches the server as a compaction summary (the post-compact hook), not a note.
    account_in = ((note.read_text(), "note") if note and note.exists() else
                  (summary, "compact_summary") if summary else None)
    variants = [("rules", None)] + ([("account", account_in)] if account_in else [])
    for name, account in variants:
        # an aider case is a whole session, ended; a Claude Code cut is a session still running
        status = "completed" if case["agent"] == "aider" else "in_progress"
        session: dict[str, Any] = {"number": int(case.get("session_n") or 1), "status": status}
        if account is not None:
            session["account"] = {"text": account[0], "source": account[1]}
        doc = build_handoff(project={"name": case.get("project") or "project"}, session=session,
                            messages=messages, file_changes=list(changes), previous=None, pins=[],
                            budget_chars=budget, generated_at="eval", fmt=fmt)
        (out / f"{case['case_id']}.{name}.md").write_text(doc.markdown, encoding="utf-8")
        sizes[name] = len(doc.markdown)
    if summary:
        (out / f"{case['case_id']}.summary.md").write_text(summary, encoding="utf-8")
        sizes["summary"] = len(summary)
    qs = "\n".join(f"Q{i}. {q['q']}" for i, q in enumerate(case["questions"], 1))
    (out / f"{case['case_id']}.questions.txt").write_text(qs + "\n", encoding="utf-8")
    return sizes


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--budget", type=int, default=DEFAULT_BUDGET)
    ap.add_argument("--accounts", type=Path, default=None, help="folder of agents' notes, <case_id>.md")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    cases = json.loads(args.cases.read_text())
    for case in cases:
        print(case["case_id"], make_documents(case, args.out, args.budget, args.accounts))
    return 0 if cases else 2


if __name__ == "__main__":
    raise SystemExit(main())
