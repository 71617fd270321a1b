"""Secret redaction benchmark: recall on the secret corpus, redactions per kind on real transcripts.

Recall: every sample of tests/fixtures/secret_corpus.py (one per secret shape, each in its usual
context) is redacted alone, and again inside a Claude Code transcript (in a user message, a Bash
tool input and a tool result); a sample counts as found when its secret is gone and it was
counted as its kind. The same corpus through every free-text API field is asserted by
tests/unit/api/test_redaction_api.py.

False positives: every real transcript in ../shared/data/transcripts is imported and each
redaction is listed by kind with a short context in which the matched value is masked (so this
report never repeats what it hides), for a person to judge; the ids of the file (commit hashes,
UUIDs, tool and message ids) are counted with and without redaction, and must all survive.

    .venv/bin/python -m bench.redaction_bench [--write PATH]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TRANSCRIPTS = ROOT / "tests" / "fixtures" / "real"

from chalicelib.transcripts import redact as R  # noqa: E402
from chalicelib.transcripts.importing import open_transcript  # noqa: E402
from tests.fixtures.secret_corpus import KINDS, SAMPLES  # noqa: E402

_IDS = re.compile(r"(?<![0-9a-f])[0-9a-f]{40}(?![0-9a-f])|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
                  r"|\b(?:toolu|msg|call)_[A-Za-z0-9]{20,}\b")


def corpus_recall() -> tuple[int, int, list[str]]:
    """(found alone, found through an import, names missed)."""
    missed: list[str] = []
    alone = 0
    for s in SAMPLES:
        out, counts = R.redact(s.text)
        if s.secret not in out and counts == {s.kind: 1}:
            alone += 1
        else:
            missed.append(s.name)
    lines = []
    for i, s in enumerate(SAMPLES):
        base = {"sessionId": "s", "cwd": "/p", "timestamp": "2026-01-01T00:00:00Z"}
        lines.append({**base, "type": "user", "uuid": f"u{i}", "message": {"role": "user", "content": s.text}})
        lines.append({**base, "type": "assistant", "uuid": f"a{i}", "message": {
            "id": f"m{i}", "role": "assistant",
            "content": [{"type": "tool_use", "id": f"t{i}", "name": "Bash", "input": {"command": s.text}}]}})
        lines.append({**base, "type": "user", "uuid": f"r{i}", "message": {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": f"t{i}", "content": s.text}]}})
    imp = open_transcript(("\n".join(json.dumps(x) for x in lines) + "\n").encode(), "claude-code")
    dumped = json.dumps([m.to_dict() for m in imp], ensure_ascii=False)
    through = sum(1 for s in SAMPLES if s.secret not in dumped and json.dumps(s.secret)[1:-1] not in dumped)
    counted = imp.stats["redactions"]
    want = Counter(s.kind for s in SAMPLES)
    if any(counted.get(k, 0) != 3 * n for k, n in want.items()):
        through = min(through, sum(1 for s in SAMPLES if counted.get(s.kind, 0) == 3 * want[s.kind]))
    return alone, through, missed


def _masked(rule: R.Rule, m: re.Match[str]) -> str:
    """The match with its value masked, whitespace folded, for the report."""
    groups = [g for g in ("v", "v2", "v3") if f"(?P<{g}>" in rule.pattern and m.start(g) >= 0]
    whole = m.group(0)
    if groups:
        g = groups[0]
        whole = whole[: m.start(g) - m.start()] + "<value>" + whole[m.end(g) - m.start():]
    else:
        whole = whole[:12] + "<value>"
    return " ".join(whole.split())[:60].replace("|", "\\|").replace("`", "'")


def real_file(path: Path) -> dict:
    """Import `path`, recording each redaction (kind, masked context) and the ids before/after."""
    seen: list[tuple[str, str]] = []
    orig = R._replacer

    def spy(rule, groups, counts):
        inner = orig(rule, groups, counts)

        def repl(m):
            out = inner(m)
            if out != m.group(0):
                seen.append((rule.kind, _masked(rule, m)))
            return out
        return repl

    R._replacer = spy
    R._rules_for.cache_clear()
    try:
        t0 = time.perf_counter()
        with path.open("rb") as fh:
            imp = open_transcript(fh, "auto")
            redacted = json.dumps([m.to_dict() for m in imp], ensure_ascii=False)
        took = time.perf_counter() - t0
    finally:
        R._replacer = orig
    keep = R.Redactor.message
    R.Redactor.message = lambda self, msg: msg  # type: ignore[method-assign]
    try:
        with path.open("rb") as fh:
            plain = json.dumps([m.to_dict() for m in open_transcript(fh, "auto")], ensure_ascii=False)
    finally:
        R.Redactor.message = keep  # type: ignore[method-assign]
    ids = set(_IDS.findall(plain))
    return {"counts": dict(imp.stats["redactions"]), "seen": seen, "ids": len(ids),
            "ids_lost": sum(1 for i in ids if i not in redacted), "messages": imp.stats.get("messages", 0),
            "seconds": took}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--write", metavar="PATH", help="also write the Markdown report to PATH")
    args = ap.parse_args()
    alone, through, missed = corpus_recall()
    n = len(SAMPLES)
    lines = [
        "Command: `python -m bench.redaction_bench`. The corpus is tests/fixtures/secret_corpus.py: "
        f"{n} samples of {len(KINDS)} kinds ({sum(s.issue12 for s in SAMPLES)} of them the shapes issue 12 "
        "found stored verbatim).",
        "",
        "| corpus | samples | found | recall |",
        "|---|---:|---:|---:|",
        f"| each sample alone (`redact`) | {n} | {alone} | {100 * alone / n:.1f}% |",
        f"| in a transcript (text, tool input, tool result) | {n} | {through} | {100 * through / n:.1f}% |",
        "",
    ]
    if missed:
        lines += [f"Missed: {', '.join(missed)}", ""]
    if not TRANSCRIPTS.is_dir():
        lines += [f"(real transcripts not found at {TRANSCRIPTS})"]
    else:
        files = sorted(p for p in TRANSCRIPTS.glob("*/*") if p.suffix in (".gz", ".jsonl", ".traj", ".md")
                       and not p.name.startswith(("README", "LICENSE", "SOURCES")))
        lines += ["Redactions on the real transcripts (every one listed, value masked, for a person to judge "
                  "true or false positive), and the ids (commit hashes, UUIDs, tool/message ids) that survive:",
                  "", "| file | redactions per kind | ids kept | what was redacted |", "|---|---|---:|---|"]
        for p in files:
            r = real_file(p)
            kinds = ", ".join(f"{k}: {v}" for k, v in sorted(r["counts"].items())) or "none"
            what = "; ".join(f"{k} `{c}`" for k, c in sorted(set(r["seen"]))) or "-"
            lines.append(f"| {p.parent.name}/{p.name} | {kinds} | {r['ids'] - r['ids_lost']}/{r['ids']} | {what} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        Path(args.write).write_text(text, encoding="utf-8")
    return 0 if not missed and through == n else 1


if __name__ == "__main__":
    sys.exit(main())
