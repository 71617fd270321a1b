"""The compaction checkpoint alone, server side: `python -m bench.checkpoint_bench`.

Issue 18 asks for the state a running session gets back after a compaction to be built
synchronously, by rules only, in about 2,500 characters, with p50 <= 2 s for a 3 MB transcript.
The hook figures in bench.cli_bench include the upload and the CLI; this measures the checkpoint
by itself, on a running session whose transcript is already imported:
- the domain function `handoffs.checkpoint` in this process, split into loading the inputs from
  the table (`build_inputs`) and building + fitting the document;
- the HTTP GET `/api/projects/{id}/sessions/{n}/checkpoint?format=json&max_chars=2500` (the
  request `mso hook ... pre-compact` makes) through `chalice local` on the same database;
- pre-compact's whole server side: the gzipped transcript PUT (`replace=true`, as the CLI sends a
  running session's snapshot), then that GET.

The 3 MB transcript: the first lines of the real Claude Code session 258c7280 (which ran just
before it in the same project), their `sessionId` rewritten, then the real session 8463c716
(2,939,976 bytes, 1,593 lines) whole, as many lines of the first as make the file 3 MiB
(3,145,728 bytes): one session in time order that did a little of the earlier work first, so its
state and "current work" come from 8463c716's end. Both are tests/fixtures/real/claude-code.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.cli_bench import ROOT, _free_port, local_table, run_and_write

FIXTURES = ROOT / "tests" / "fixtures" / "real" / "claude-code"
BASE = FIXTURES / "8463c716-a2ea-4c14-9efa-87158ebd9f20.jsonl.gz"
EARLIER = FIXTURES / "258c7280-ae70-4798-800f-63464d01a85d.jsonl.gz"
TARGET_BYTES = 3 * 1024 * 1024
RUNS = 15
BUDGET = 2_500


def three_mb_transcript() -> tuple[bytes, int]:
    """The 3 MiB transcript described in the module docstring, and how many lines were put first."""
    base = gzip.decompress(BASE.read_bytes())
    sid = json.loads(base.splitlines()[0]).get("sessionId") or "8463c716-a2ea-4c14-9efa-87158ebd9f20"
    head, size = [], len(base)
    for line in gzip.decompress(EARLIER.read_bytes()).splitlines():
        if size >= TARGET_BYTES:
            break
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict) and "sessionId" in obj:
            obj["sessionId"] = sid
        enc = json.dumps(obj, ensure_ascii=False).encode()
        head.append(enc)
        size += len(enc) + 1
    return b"\n".join(head) + b"\n" + base, len(head)


def _pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def _ms(x: float) -> str:
    return f"{x * 1000:,.0f} ms"


def run() -> str:
    import requests

    backend, stop_db = local_table("bench-checkpoint")
    from chalicelib.domain import handoffs, projects, sessions, transcripts
    from chalicelib.domain.tenants import issue_token
    from chalicelib.handoff.render import render_layout
    from chalicelib.handoff.rules import build_handoff
    from devtools.local_gateway import LocalServer

    raw, earlier = three_mb_transcript()
    tmp = Path(tempfile.mkdtemp(prefix="mso-checkpoint-bench-"))
    server = LocalServer(_free_port())
    try:
        tenant = "bench" + uuid.uuid4().hex[:6]
        token = issue_token(tenant)
        pid = projects.create(tenant, {"name": "spotter"})["id"]
        n = sessions.create(tenant, pid, {"external_id": "running"})["number"]
        t0 = time.perf_counter()
        summary = transcripts.import_transcript(tenant, pid, n, io.BytesIO(raw), fmt="claude-code")
        import_s = time.perf_counter() - t0
        assert sessions.get(tenant, pid, n)["status"] == "in_progress"

        handoffs.checkpoint(tenant, pid, n)  # warm: imports, the token and table caches
        load, build, total, chars = [], [], [], []
        for _ in range(RUNS):
            t0 = time.perf_counter()
            doc = handoffs.checkpoint(tenant, pid, n, max_chars=BUDGET)
            total.append(time.perf_counter() - t0)
            chars.append(doc["chars"])
            # the same work split in two: the table read, then the rules and the fitting
            t0 = time.perf_counter()
            inputs = handoffs.build_inputs(tenant, pid, n)
            t1 = time.perf_counter()
            d = build_handoff(project=inputs["project"], session=inputs["session"], messages=inputs["messages"],
                              file_changes=inputs["file_changes"], previous=inputs["previous"],
                              pins=inputs["pins"], generated_at="2026-12-06T00:00:00Z")
            render_layout(d.layout, BUDGET)
            load.append(t1 - t0)
            build.append(time.perf_counter() - t1)
        messages = doc["messages"]
        markdown = doc["markdown"]

        server.start()
        url = f"http://127.0.0.1:{server.port}/api/projects/{pid}/sessions/{n}/checkpoint"
        http = requests.Session()
        http.headers["Authorization"] = f"Bearer {token}"
        q = {"format": "json", "max_chars": BUDGET}
        assert http.get(url, params=q, timeout=60).status_code == 200  # warm
        gets, http_chars = [], []
        for _ in range(RUNS):
            t0 = time.perf_counter()
            r = http.get(url, params=q, timeout=60)
            gets.append(time.perf_counter() - t0)
            r.raise_for_status()
            http_chars.append(r.json()["chars"])
        default = http.get(url, params={"format": "json"}, timeout=60).json()["chars"]
        # what pre-compact asks of the server: the transcript so far (gzip, as `mso` sends it), then the state
        body = gzip.compress(raw)
        put = f"http://127.0.0.1:{server.port}/api/projects/{pid}/sessions/{n}/transcript"
        both = []
        for _ in range(RUNS):
            t0 = time.perf_counter()
            r = http.put(put, params={"format": "claude-code", "replace": "true"}, data=body, timeout=60,
                         headers={"Content-Type": "application/octet-stream"})
            r.raise_for_status()
            http.get(url, params=q, timeout=60).raise_for_status()
            both.append(time.perf_counter() - t0)
    finally:
        server.stop()
        stop_db()
        shutil.rmtree(tmp, ignore_errors=True)
    load_avg = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    rows = [
        ("`handoffs.checkpoint` (domain, in process): whole", total),
        ("of which loading the inputs from the table (`build_inputs`)", load),
        ("of which the rules and fitting to 2,500 characters (`build_handoff` + `render_layout`)", build),
        ("`GET .../sessions/{n}/checkpoint?format=json&max_chars=2500` over HTTP (`chalice local`)", gets),
        ("pre-compact's two requests: `PUT .../transcript?replace=true` (the 3 MiB gzipped, "
         f"{len(body) / 1e6:.2f} MB) then the GET", both),
    ]
    verdict = "meets" if max(statistics.median(xs) for _, xs in rows) <= 2.0 else "misses"
    lines = ["Command: `python -m bench.checkpoint_bench`", "",
             f"A running session (no SessionEnd, no handoff job) whose transcript is a 3 MiB real Claude Code "
             f"session ({len(raw):,} bytes: the first {earlier} lines of 258c7280, which ran just before it, with "
             f"the sessionId rewritten, then 8463c716 whole; {summary.get('messages', messages):,} messages imported in "
             f"{import_s:.1f} s, not counted below); backend {backend}; {RUNS} runs each after one warm-up; "
             f"load average when the bench ended: {load_avg}.", "",
             "| What | p50 | p95 | mean |", "|---|---|---|---|"]
    lines += [f"| {what} | {_ms(statistics.median(xs))} | {_ms(_pct(xs, 0.95))} | {_ms(statistics.mean(xs))} |"
              for what, xs in rows]
    lines += ["", f"Size of the state: {min(chars):,}-{max(chars):,} characters in process and "
              f"{min(http_chars):,}-{max(http_chars):,} over HTTP against the budget of {BUDGET:,} "
              f"(without `max_chars` the server's default gives {default:,}); the {messages:,} messages read.",
              "", f"Target p50 <= 2 s for a 3 MB transcript, rules only: {verdict}.",
              "", "The state as built (the HTTP answer's `markdown`):", "", "```markdown", markdown.strip(), "```"]
    return "\n".join(lines)


def main() -> int:
    return run_and_write(run)


if __name__ == "__main__":
    sys.exit(main())
