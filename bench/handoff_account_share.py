"""What the agent's account displaces: the rules-only handoff next to the one the account leads.

For each case this builds the rule-based document twice, without and with the agent's account, the
way `bench.handoff_cases` does, and prints the account's share (its sections and the check's
findings, with their headings) and, per section of the rules-only document, whether it survives
and how many of its lines. No judge is needed: the rule (docs/handoff.md, "With the agent's
account") is that every section survives and the account's share stays bounded.

The account is Claude Code's own summary where the case is cut at a compaction (sent as a
`compact_summary`, as the PostCompact hook does), else `<case_id>.md` from `--accounts` (a note).

Run:  .venv/bin/python -m bench.handoff_account_share --cases bench/cases/compaction-2026-12-05.json
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.handoff_cases import case_input  # noqa: E402
from chalicelib.handoff import DEFAULT_BUDGET, build_handoff  # noqa: E402
from chalicelib.transcripts.importing import import_all  # noqa: E402

RENAMED = {"Current work as the transcript shows it": "Current work",
           "Next action from the transcript": "Next action"}


def sections(md: str) -> dict[str, list[str]]:
    """Section title -> its lines (without the '… and N more' notes); renamed titles as in rules-only."""
    out: dict[str, list[str]] = {}
    for part in re.split(r"(?m)^## ", md)[1:]:
        title, _, body = part.partition("\n")
        out[RENAMED.get(title.strip(), title.strip())] = [
            ln for ln in body.splitlines() if ln.strip() and not ln.startswith(("- … and", "_Also"))]
    return out


def is_account(title: str) -> bool:
    return "(the agent's" in title or title.startswith("The account checked")


def compare(case: dict[str, Any], budget: int, accounts: Path | None) -> dict[str, Any] | None:
    raw, fmt, summary = case_input(case)
    note = accounts / f"{case['case_id']}.md" if accounts else None
    text, source = (summary, "compact_summary") if summary else (
        (note.read_text(), "note") if note and note.exists() else (None, ""))
    if text is None:
        return None
    messages, _stats, changes = import_all(raw, fmt)
    docs = {}
    for name, account in (("rules", None), ("led", {"text": text, "source": source})):
        session: dict[str, Any] = {"number": int(case.get("session_n") or 1), "status": "completed"}
        if account:
            session["account"] = account
        docs[name] = build_handoff(project={"name": case.get("project") or "project"}, session=session,
                                   messages=messages, file_changes=list(changes), previous=None, pins=[],
                                   budget_chars=budget, generated_at="eval", fmt=fmt).markdown
    rules, led = sections(docs["rules"]), sections(docs["led"])
    rows = []
    for title, lines in rules.items():
        kept = [ln for ln in lines if ln in led.get(title, [])]
        rows.append({"section": title, "survives": title in led, "lines": len(lines), "kept": len(kept),
                     "chars_lost": sum(len(ln) + 1 for ln in lines if ln not in kept)})
    share = sum(len(t) + 4 + sum(len(ln) + 1 for ln in ls) for t, ls in led.items() if is_account(t))
    return {"case_id": case["case_id"], "source": source, "account_chars": len(text),
            "rules_chars": len(docs["rules"]), "led_chars": len(docs["led"]), "account_share": share,
            "account_sections": sum(1 for t in led if is_account(t)), "sections": rows}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=Path, required=True)
    ap.add_argument("--budget", type=int, default=DEFAULT_BUDGET)
    ap.add_argument("--accounts", type=Path, default=None, help="folder of agents' notes, <case_id>.md")
    ap.add_argument("--json", action="store_true", help="print one JSON object a case")
    args = ap.parse_args(argv)
    missing = 0
    for case in json.loads(args.cases.read_text()):
        got = compare(case, args.budget, args.accounts)
        if got is None:
            continue
        if args.json:
            print(json.dumps(got))
            continue
        lost = [r["section"] for r in got["sections"] if not r["survives"]]
        missing += len(lost)
        print(f"{got['case_id']} ({got['source']}, {got['account_chars']:,} chars): rules {got['rules_chars']:,}, "
              f"led {got['led_chars']:,}, account share {got['account_share']:,} in {got['account_sections']} "
              f"sections, {len(got['sections']) - len(lost)}/{len(got['sections'])} rules sections survive")
        for r in got["sections"]:
            if r["kept"] < r["lines"]:
                state = f"{r['kept']}/{r['lines']} lines" if r["survives"] else "MISSING"
                print(f"    {r['section'][:70]}: {state}, {r['chars_lost']:,} chars lost")
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
