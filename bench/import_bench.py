"""Transcript import benchmark: throughput and peak memory of the full import pipeline.

For every real transcript in ../shared/data/transcripts and for a ~50 MB Claude Code JSONL built
by repeating the two real sessions (written to a temp dir), it runs `open_transcript` end to end
(gunzip + strict UTF-8 decode + parse + redact + file changes), consuming the iterator without
keeping messages, and reports MB/s of raw uncompressed input and peak memory: the tracemalloc
peak of the import (Python allocations) and the child process's ru_maxrss (everything,
interpreter included). Each file runs in a fresh subprocess so one file's memory does not hide
another's.

    .venv/bin/python -m bench.import_bench [--size-mb 50] [--repeat 3] [--write docs/benchmarks-import.md]
    (or .venv/bin/python bench/import_bench.py ...; `make bench` runs it with the other benchmarks)

Targets: >= 20 MB/s, and peak memory independent of file size (the 50 MB row's tracemalloc
peak should be close to the real sessions').
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRANSCRIPTS = ROOT / "tests" / "fixtures" / "real"
TARGET_MB_S = 20.0


def _raw_size(path: Path) -> int:
    if path.suffix == ".gz":
        with gzip.open(path, "rb") as f:
            return sum(len(chunk) for chunk in iter(lambda: f.read(1 << 20), b""))
    return path.stat().st_size


def _run_once(path: Path) -> tuple[int, float, float, str, int]:
    from chalicelib.transcripts.importing import open_transcript

    t0, c0 = time.perf_counter(), time.process_time()
    with path.open("rb") as fh:
        imp = open_transcript(fh)
        n = 0
        for _ in imp:
            n += 1
        changes = imp.file_changes
    return n, time.perf_counter() - t0, time.process_time() - c0, imp.format, len(changes)


def worker(path: Path, repeat: int) -> dict[str, object]:
    """Runs in a child process: best-of-`repeat` timing, then one tracemalloc run."""
    sys.path.insert(0, str(ROOT))
    best = best_cpu = float("inf")
    n = files = 0
    fmt = ""
    for _ in range(repeat):
        n, secs, cpu, fmt, files = _run_once(path)
        best, best_cpu = min(best, secs), min(best_cpu, cpu)
    tracemalloc.start()
    _run_once(path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"messages": n, "seconds": best, "cpu_seconds": best_cpu, "format": fmt, "file_changes": files,
            "peak_mb": peak / 1e6, "maxrss_mb": rss_kb / 1024}


def build_big(dest: Path, sources: list[Path], size_mb: float) -> Path:
    """Concatenate the real Claude Code sessions (uncompressed) until the file reaches size_mb."""
    blobs = []
    for s in sources:
        with gzip.open(s, "rb") as f:
            data = f.read()
        blobs.append(data if data.endswith(b"\n") else data + b"\n")
    out = dest / f"claude-code-{int(size_mb)}mb.jsonl"
    written = 0
    with out.open("wb") as f:
        while written < size_mb * 1e6:
            for b in blobs:
                f.write(b)
                written += len(b)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mb", type=float, default=50.0, help="size of the synthetic Claude Code file")
    ap.add_argument("--repeat", type=int, default=3, help="timing runs per file (best is kept)")
    ap.add_argument("--write", metavar="PATH", help="also write the Markdown table to PATH")
    ap.add_argument("--worker", metavar="FILE", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.worker:
        print(json.dumps(worker(Path(args.worker), args.repeat)))
        return 0

    if not TRANSCRIPTS.is_dir():
        print(f"shared transcripts not found at {TRANSCRIPTS}", file=sys.stderr)
        return 2
    files = sorted(p for p in TRANSCRIPTS.glob("*/*")
                   if p.suffix in (".gz", ".jsonl", ".traj", ".md", ".json") and not p.name.startswith(("README", "LICENSE")))
    sessions = [p for p in files if p.name.endswith(".jsonl.gz")]

    rows = []
    with tempfile.TemporaryDirectory(prefix="import-bench-") as tmp:
        big = build_big(Path(tmp), sessions, args.size_mb)
        for path in [*files, big]:
            size = _raw_size(path)
            proc = subprocess.run([sys.executable, __file__, "--worker", str(path), "--repeat",
                                   str(args.repeat if size < 20e6 else min(args.repeat, 2))],
                                  capture_output=True, text=True, check=True, cwd=ROOT)
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            label = f"{path.parent.name}/{path.name}" if path != big else f"(synthetic) {path.name}"
            rows.append((label, size / 1e6, r))

    total_mb = sum(mb for _, mb, _ in rows)
    total_s = sum(r["seconds"] for _, _, r in rows)
    shown = [a for i, a in enumerate(sys.argv[1:]) if a != "--write" and (i == 0 or sys.argv[i] != "--write")]
    cmd = " ".join(["python -m bench.import_bench", *shown])
    lines = [
        f"Command: `{cmd}` (Python {platform.python_version()}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the start). Full pipeline: gunzip + "
        "UTF-8 decode + parse + redact + file changes, messages consumed and dropped. `seconds` is wall "
        "time, `cpu s` process CPU time (steadier on a busy machine), each the best of the timing runs; "
        "MB/s = uncompressed MB / wall seconds (`cpu MB/s` per CPU second); `peak MB` is the tracemalloc "
        "peak of one import, "
        "`maxrss MB` the whole benchmark child process (interpreter included).",
        "",
        "| file | format | size MB | messages | seconds | cpu s | MB/s | cpu MB/s | peak MB | maxrss MB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, mb, r in rows:
        lines.append(f"| {label} | {r['format']} | {mb:.2f} | {r['messages']} | {r['seconds']:.3f} | "
                     f"{r['cpu_seconds']:.3f} | {mb / r['seconds']:.1f} | {mb / r['cpu_seconds']:.1f} | "
                     f"{r['peak_mb']:.1f} | "
                     f"{r['maxrss_mb']:.0f} |")
    total_cpu = sum(r["cpu_seconds"] for _, _, r in rows)
    lines.append(f"| **all** | | {total_mb:.2f} | | {total_s:.3f} | {total_cpu:.3f} | {total_mb / total_s:.1f} | "
                 f"{total_mb / total_cpu:.1f} | | |")
    big_rate = rows[-1][1] / rows[-1][2]["seconds"]
    verdict = "meets" if big_rate >= TARGET_MB_S and total_mb / total_s >= TARGET_MB_S else "MISSES"
    lines += ["", f"Target >= {TARGET_MB_S:.0f} MB/s: {verdict} (large file {big_rate:.1f} MB/s, "
                  f"overall {total_mb / total_s:.1f} MB/s)."]
    table = "\n".join(lines) + "\n"
    print(table)
    if args.write:
        out = Path(args.write)
        if not out.is_absolute():
            out = ROOT / out
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(table, encoding="utf-8")
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
