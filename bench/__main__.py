"""`make bench`: run every benchmark and write docs/benchmarks.md (figures + the commands)."""

from __future__ import annotations

import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SECTIONS = [
    ("DynamoDB requests per endpoint",
     "Counted with a botocore `before-call.dynamodb` hook while each endpoint runs once (warm token cache; "
     "a cold token adds one GetItem). The same figures are asserted by `tests/unit/api/test_request_costs.py`.",
     "bench.request_costs"),
    ("Transcript import", "Throughput and peak memory of the whole import pipeline (decode, parse, redact, "
     "file changes) on the real recorded sessions (Claude Code, SWE-agent, aider) and on a 50 MB Claude Code file.",
     "bench.import_bench"),
    ("Handoff quality and speed", "Our rule-based handoff against Claude Code's own compaction summary for the "
     "same input (each real session cut at its compact_boundary), and the generator's speed.",
     "bench.handoff_bench"),
    ("Redaction and LLM fallback timings", "Wall-clock figures the unit tests do not assert: the redactor on "
     "megabytes of code, and how long the LLM client and the LLM handoff take to give up on a stalled model.",
     "bench.timings_bench"),
    ("Secret redaction", "Recall on the fresh secret corpus (110 kinds, alone and in every transcript format) and "
     "the older one, false positives on 33 harmless look-alikes, the redactor's throughput on the real "
     "transcripts, and every redaction made on them with the ids that must survive.", "bench.redaction_bench"),
    ("LLM handoff: calls and cost per model", "The production LLM path on real sessions with a counting client in "
     "place of the model: how many calls each context window needs, the prompt sizes, and dollars per handoff "
     "from the vendored price table (quality needs blind judges: benchmarks-handoff-qa.md).", "bench.llm_models"),
    ("Contention", "100 concurrent session creations on one project (DynamoDB Local, over HTTP): latency p50/p99 "
     "and whether the numbers came out exactly 1..100.", "bench.contention_bench"),
    ("CLI and hooks", "The `mso` command as Claude Code runs it: `session-start` wall time with the server up, "
     "down and hung, `session-end` return time, a compaction (`pre-compact` synchronous upload and checkpoint, "
     "`session-start` after it, fresh and cached, `post-compact`), and the CLI's import time.", "bench.cli_bench"),
    ("Compaction checkpoint, server side", "The state a running session gets back after a compaction, "
     "built alone (no upload, no CLI): the domain function and the HTTP GET on a 3 MiB real Claude Code "
     "transcript, and its size against the 2,500-character budget (issue 18: rules only, p50 <= 2 s).",
     "bench.checkpoint_bench"),
    ("Capture without SessionEnd", "Capture that does not depend on SessionEnd: the `stop` hook's time when a snapshot is due and when it is throttled, and `session-start` when an earlier session in the directory never ran its SessionEnd (the hook's time, and until the detached sweep has the orphan completed on the server).", "bench.capture_bench"),
    ("File events at scale", "A Claude Code session writing up to 100,000 files (two thirds new, a third edits) "
     "with a numstat list of the same files: import and handoff time, which must grow linearly.",
     "bench.file_events_bench"),
    ("Search", "1,000 sessions synthesized from the real transcripts into one project's SQLite FTS5 index: "
     "warm and cold query latency, indexing one 3 MB transcript, index size (design: docs/search.md).",
     "bench.search_bench"),
    ("Hardening: gzip bombs and the database down", "Time to the 413 and peak memory for decompression bombs on "
     "every import path (direct, upload URL, S3), and time to the 503 when DynamoDB is unreachable.",
     "bench.hardening_bench"),
]


def main() -> int:
    out = ["# Benchmarks", "",
           f"Written by `make bench` on {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} "
           f"({platform.machine()}, {platform.python_implementation()} {platform.python_version()}, "
           f"{_cpus()} CPUs) at commit {_commit()}. Each section names the command that produced it.", ""]
    failed = 0
    for title, about, module in SECTIONS:
        with tempfile.NamedTemporaryFile(suffix=".md", delete=False) as tmp:
            path = tmp.name
        cmd = [sys.executable, "-m", module, "--write", path]
        t0 = time.monotonic()
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        took = time.monotonic() - t0
        out += [f"## {title}", "", about, ""]
        text = Path(path).read_text().strip() if Path(path).exists() else ""
        if not text.startswith("Command:"):
            out += [f"Command: `python -m {module}`", ""]
        out += [f"_(ran in {took:.0f} s)_", ""]
        if proc.returncode != 0 or not text:
            failed += 1
            out += ["**Failed:**", "", "```", (proc.stdout + proc.stderr)[-2000:], "```", ""]
            print(f"{module} failed:\n{proc.stdout}\n{proc.stderr}", file=sys.stderr)
        else:
            out += [text, ""]
        print(f"{module}: {'ok' if proc.returncode == 0 else 'FAILED'} in {took:.0f} s")
    # figures that cannot be measured offline here, written with the command that produced them:
    # `make package` runs (benchmarks-deploy.md), the blind handoff QA (benchmarks-handoff-qa.md);
    # their headings go one level down
    for extra in sorted((ROOT / "docs").glob("benchmarks-*.md")):
        lines = extra.read_text().strip().splitlines()
        out += [("#" + ln) if ln.startswith("#") else ln for ln in lines] + [""]
    (ROOT / "docs" / "benchmarks.md").write_text("\n".join(out).rstrip() + "\n")
    print("wrote docs/benchmarks.md")
    return 1 if failed else 0


def _commit() -> str:
    """The commit measured (with `+changes` when the work tree differs from it)."""
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                             timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return (sha or "unknown") + (" +changes" if dirty else "")


def _cpus() -> int:
    import os

    return os.cpu_count() or 1


if __name__ == "__main__":
    sys.exit(main())
