"""Secret redaction benchmark: recall, false positives and throughput.

Recall: every kind of the fresh corpus (tests/fixtures/secret_corpus_v2.py, 110 kinds) and of the
older one (tests/fixtures/secret_corpus.py) is redacted alone, and inside a transcript of every
format the importer reads (as a request, a tool call and its output); a kind counts as found when
its secret (and its first 24 characters) is gone. The same corpora through every typed API field,
external_id, file paths and the handoff are asserted by tests/unit/api/test_redaction_api.py.

False positives: the corpus's harmless look-alikes (commit hashes, UUIDs, digests, paths, settings
about passwords) must come out unchanged; and every redaction on the real transcripts in
tests/fixtures/real is listed by kind with the 40 characters before it (the value itself is
never shown), for a person to judge, with the ids of each file (commit hashes, UUIDs, tool and
message ids) counted before and after: all must survive.

Throughput: `Redactor.message` over the messages of the real transcripts (imported once without
redaction), in MB of message strings per second, best of --repeat runs.

    .venv/bin/python -m bench.redaction_bench [--repeat N] [--write PATH]
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TRANSCRIPTS = ROOT / "tests" / "fixtures" / "real"

from chalicelib.transcripts import redact as R  # noqa: E402
from chalicelib.transcripts.importing import open_transcript  # noqa: E402
from chalicelib.transcripts.ruleset import GITLEAKS_COMMIT, load_rules  # noqa: E402
from tests.fixtures import secret_corpus, secret_corpus_v2  # noqa: E402

_IDS = re.compile(r"(?<![0-9a-f])[0-9a-f]{40}(?![0-9a-f])|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
                  r"|\b(?:toolu|msg|call)_[A-Za-z0-9]{20,}\b")
_MARKER = re.compile(r"\[REDACTED:([\w-]+)\]")


def _gone(secret: str, text: str) -> bool:
    forms = {secret, json.dumps(secret)[1:-1]}
    forms |= {f[:24] for f in forms if len(f) >= 24}
    return not any(f in text for f in forms)


def recall() -> list[tuple[str, int, int, list[str]]]:
    """(where, kinds, found, missed kinds) for each corpus alone and for the fresh one per format."""
    rows = []
    for name, items in (("fresh corpus, each kind alone", [(s.kind, s.text, s.secret) for s in secret_corpus_v2.SECRETS]),
                        ("older corpus, each sample alone", [(s.name, s.text, s.secret) for s in secret_corpus.SAMPLES])):
        missed = [k for k, text, secret in items if not _gone(secret, R.redact(text)[0])]
        rows.append((name, len(items), len(items) - len(missed), missed))
    texts = [s.text for s in secret_corpus_v2.SECRETS]
    for fmt, build in sorted(secret_corpus_v2.TRANSCRIPT_BUILDERS.items()):
        imp = open_transcript(build(texts), fmt)
        dumped = json.dumps([m.to_dict() for m in imp], ensure_ascii=False)
        missed = [s.kind for s in secret_corpus_v2.SECRETS if not _gone(s.secret, dumped)]
        rows.append((f"fresh corpus in a {fmt} transcript", len(texts), len(texts) - len(missed), missed))
    return rows


def false_positives() -> tuple[int, list[str]]:
    changed = [x.name for x in secret_corpus_v2.LOOKALIKES if R.redact(x.text) != (x.text, {})]
    return len(secret_corpus_v2.LOOKALIKES), changed


def _files() -> list[Path]:
    return sorted(p for p in TRANSCRIPTS.rglob("*") if p.is_file() and p.suffix in (".gz", ".jsonl", ".traj", ".md")
                  and not p.name.startswith(("README", "LICENSE", "SOURCES")))


def _plain(path: Path) -> list:
    keep = R.Redactor.message
    R.Redactor.message = lambda self, msg: msg  # type: ignore[method-assign]
    try:
        with path.open("rb") as fh:
            return list(open_transcript(fh, "auto"))
    finally:
        R.Redactor.message = keep  # type: ignore[method-assign]


def _strings(msgs: list) -> list[str]:
    out: list[str] = []
    for m in msgs:
        parts = [m.text, m.thinking]
        for c in m.tool_calls:
            R._collect(c.input, parts)
        for r in m.tool_results:
            parts.append(r.text)
            if r.data:
                R._collect(r.data, parts)
        if m.meta:
            R._collect(m.meta, parts)
        out += [p for p in parts if p]
    return out


def real_files() -> list[dict]:
    rows = []
    for path in _files():
        plain = _plain(path)
        before = json.dumps([m.to_dict() for m in plain], ensure_ascii=False)
        r = R.Redactor()
        redacted = copy.deepcopy(plain)
        for m in redacted:
            r.message(m)
        after = "\n".join(_strings(redacted))
        seen = sorted({(m.group(1), " ".join(after[max(0, m.start() - 40):m.start()].split())[-40:])
                       for m in _MARKER.finditer(after)})
        dumped = json.dumps([m.to_dict() for m in redacted], ensure_ascii=False)
        ids = set(_IDS.findall(before))
        rows.append({"file": f"{path.parent.name}/{path.name}", "counts": r.counts, "seen": seen, "ids": len(ids),
                     "kept": sum(1 for i in ids if i in dumped)})
    return rows


def throughput(repeat: int) -> tuple[float, float, int]:
    """(MB of message strings, best seconds, messages) for Redactor.message over the real files."""
    msgs = [m for p in _files() for m in _plain(p)]
    size = sum(len(s.encode("utf-8", "surrogatepass")) for s in _strings(msgs)) / 1e6
    best = float("inf")
    for _ in range(repeat):
        batch = copy.deepcopy(msgs)
        r = R.Redactor()
        t0 = time.perf_counter()
        for m in batch:
            r.message(m)
        best = min(best, time.perf_counter() - t0)
    return size, best, len(msgs)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5, help="throughput runs (best is kept)")
    ap.add_argument("--write", metavar="PATH", help="also write the Markdown report to PATH")
    args = ap.parse_args()
    rules, skipped = load_rules()
    lines = [
        f"Command: `python -m bench.redaction_bench`. Rules: gitleaks' default config at commit "
        f"`{GITLEAKS_COMMIT[:7]}` ({len(rules)} rules run, {len(skipped)} path-only rules skipped) and "
        f"{len(R.RULES)} of ours; {len(R.kinds())} kinds in all.",
        "",
        "| where | kinds | redacted | recall |",
        "|---|---:|---:|---:|",
    ]
    all_found = True
    missed_notes = []
    for where, n, found, missed in recall():
        lines.append(f"| {where} | {n} | {found} | {100 * found / n:.1f}% |")
        all_found &= not missed
        if missed:
            missed_notes.append(f"Missed ({where}): {', '.join(missed)}")
    n, changed = false_positives()
    lines += ["", *missed_notes, "", f"Harmless look-alikes changed: {len(changed)} of {n}"
              + (f" ({', '.join(changed)})" if changed else "") + ".", ""]
    size, secs, n_msgs = throughput(args.repeat)
    lines += [f"Throughput: `Redactor.message` over the {n_msgs} messages of tests/fixtures/real "
              f"({size:.2f} MB of message strings): {secs:.3f} s, **{size / secs:.1f} MB/s** (best of {args.repeat}).",
              "", "Redactions on the real transcripts (kind and the 40 characters before each; the value is never "
              "shown), and the ids (commit hashes, UUIDs, tool/message ids) that survive:", "",
              "| file | redactions per kind | ids kept | what came before each |", "|---|---|---:|---|"]
    ids_ok = True
    for row in real_files():
        kinds = ", ".join(f"{k}: {v}" for k, v in sorted(row["counts"].items())) or "none"
        what = "; ".join(f"{k} after `{c.replace('|', '/').replace('`', '')}`" for k, c in row["seen"]) or "-"
        lines.append(f"| {row['file']} | {kinds} | {row['kept']}/{row['ids']} | {what} |")
        ids_ok &= row["kept"] == row["ids"]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        Path(args.write).write_text(text, encoding="utf-8")
    return 0 if all_found and not changed and ids_ok else 1


if __name__ == "__main__":
    sys.exit(main())
