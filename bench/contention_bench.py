"""Contention benchmark: many concurrent session creations on one project, on DynamoDB Local.

Starts DynamoDB Local (in memory) and the app's local HTTP server, makes a project, then fires N
`POST /api/projects/{p}/sessions` at once from N threads and reports the latency of each
(p50, p99, worst) and whether the numbers came out exactly 1..N. One lone creation is timed
first, for comparison.

    .venv/bin/python -m bench.contention_bench [--n 100] [--rounds 3] [--write PATH]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, int(round(p / 100 * len(xs) + 0.5)) - 1))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100, help="concurrent creations per round")
    ap.add_argument("--rounds", type=int, default=3, help="rounds (a fresh project each)")
    ap.add_argument("--write", metavar="PATH", help="also write the Markdown report to PATH")
    args = ap.parse_args()

    from devtools import ddb

    emulator = ddb.ensure_jar(ddb.default_install_dir())
    port = ddb.free_port()
    proc = ddb.start(emulator, port, db_path=None)
    os.environ.update({"MSO_DYNAMODB_ENDPOINT": f"http://127.0.0.1:{port}", "MSO_TABLE": "mso-bench",
                       "MSO_JOBS": "inline", "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
                       "AWS_DEFAULT_REGION": "us-east-1", "MSO_DATA_DIR": tempfile.mkdtemp(prefix="mso-bench-")})
    try:
        import requests

        from chalicelib import config
        from chalicelib.domain.tenants import issue_token
        from chalicelib.storage.models import configure
        from chalicelib.storage.table import ensure_table
        from devtools.local_gateway import local_server

        config.reset()
        configure()
        ensure_table()
        http_port = ddb.free_port()
        server = local_server(http_port)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{http_port}/api"
        headers = {"Authorization": f"Bearer {issue_token('bench')}"}
        local = threading.local()

        def post(path: str, body: dict) -> tuple[float, dict]:
            s = getattr(local, "s", None) or requests.Session()
            local.s = s
            t0 = time.perf_counter()
            r = s.post(base + path, json=body, headers=headers, timeout=120)
            took = time.perf_counter() - t0
            assert r.status_code == 201, r.text
            return took, r.json()

        single = []
        for _ in range(5):
            pid = post("/projects", {"name": "solo"})[1]["id"]
            single.append(post(f"/projects/{pid}/sessions", {})[0])
        warm = post("/projects", {"name": "warm-up"})[1]["id"]  # JIT and connection pools, not counted
        with ThreadPoolExecutor(max_workers=20) as pool:
            list(pool.map(lambda _: post(f"/projects/{warm}/sessions", {}), range(20)))
        rows = []
        for _ in range(args.rounds):
            pid = post("/projects", {"name": "contended"})[1]["id"]
            with ThreadPoolExecutor(max_workers=args.n) as pool:
                t0 = time.perf_counter()
                path = f"/projects/{pid}/sessions"
                got = list(pool.map(lambda i, path=path: post(path, {"title": f"s{i}"}), range(args.n)))
                wall = time.perf_counter() - t0
            lat = [t for t, _ in got]
            numbers = sorted(b["number"] for _, b in got)
            rows.append((lat, wall, numbers == list(range(1, args.n + 1))))
        server.shutdown()
    finally:
        ddb.stop(proc)

    all_lat = [t for lat, _, _ in rows for t in lat]
    lines = [
        f"Command: `python -m bench.contention_bench --n {args.n} --rounds {args.rounds}` (Python "
        f"{platform.python_version()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end). "
        f"DynamoDB Local in memory, the app's local HTTP server, {args.n} threads each POSTing one session to "
        "the same project at once (after an uncounted warm-up round of 20); latency per request as the client saw it.",
        "",
        f"One creation alone: median {1000 * statistics.median(single):.0f} ms.",
        "",
        "| round | requests | p50 ms | p99 ms | worst ms | wall s | numbers exactly 1..N |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for i, (lat, wall, exact) in enumerate(rows, 1):
        lines.append(f"| {i} | {len(lat)} | {1000 * _pct(lat, 50):.0f} | {1000 * _pct(lat, 99):.0f} | "
                     f"{1000 * max(lat):.0f} | {wall:.2f} | {'yes' if exact else 'NO'} |")
    lines.append(f"| **all** | {len(all_lat)} | {1000 * _pct(all_lat, 50):.0f} | {1000 * _pct(all_lat, 99):.0f} | "
                 f"{1000 * max(all_lat):.0f} | | {'yes' if all(e for _, _, e in rows) else 'NO'} |")
    lines += ["", f"Target p99 < 2000 ms for {args.n} concurrent: "
                  f"{'meets' if _pct(all_lat, 99) < 2.0 else 'MISSES'}."]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        Path(args.write).write_text(text, encoding="utf-8")
    return 0 if all(e for _, _, e in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
