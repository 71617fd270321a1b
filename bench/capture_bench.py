"""Capture without SessionEnd: the Stop hook's time and session-start with an orphan sweep.
`python -m bench.capture_bench`.

The app runs with `chalice local` in this process on DynamoDB Local (moto without Java); a
temporary HOME holds a real 2.7 MB Claude Code transcript; the installed `mso` runs as a
subprocess, as Claude Code runs it:
- `mso hook claude stop` when a snapshot is due (a new session: the job is spooled and the
  detached uploader started) and when it is throttled (the same session a turn later);
- `mso hook claude session-start` of a new session while an earlier session in the same
  directory never ran its SessionEnd: the hook's own time, and the time until the detached flush
  has swept the orphan and the server shows it completed with its transcript.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.cli_bench import TRANSCRIPT, _free_port, _mso, _time, local_table, run_and_write

RUNS = 20
SWEEPS = 8


def _pct(xs: list[float], q: float) -> str:
    s = sorted(xs)
    return f"{s[min(len(s) - 1, round(q * (len(s) - 1)))] * 1000:.0f} ms"


def run() -> str:
    import gzip
    import re

    backend, stop_db = local_table("bench-capture")
    from chalicelib.domain import projects, sessions
    from chalicelib.domain.tenants import issue_token
    from devtools.local_gateway import LocalServer

    tmp = Path(tempfile.mkdtemp(prefix="mso-capture-bench-"))
    server = LocalServer(_free_port())
    raw = gzip.decompress(TRANSCRIPT.read_bytes())
    try:
        tenant = "bench" + uuid.uuid4().hex[:6]
        token = issue_token(tenant)
        home = tmp / "home"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MSO_", "XDG_"))}
        env.update(HOME=str(home), MSO_API_URL=f"http://127.0.0.1:{server.port}", MSO_TOKEN=token)
        server.start()
        mso = _mso()

        def hook(event: str, sid: str, cwd: Path, *, write: bool = True) -> float:
            tdir = home / ".claude" / "projects" / re.sub(r"[^A-Za-z0-9]", "-", str(cwd))
            tdir.mkdir(parents=True, exist_ok=True)
            if write:
                (tdir / f"{sid}.jsonl").write_bytes(raw)
            payload = {"session_id": sid, "transcript_path": str(tdir / f"{sid}.jsonl"), "cwd": str(cwd),
                       "hook_event_name": {"stop": "Stop", "session-start": "SessionStart"}[event],
                       "source": "startup", "stop_hook_active": False}
            cwd.mkdir(parents=True, exist_ok=True)
            t, r = _time([mso, "hook", "claude", event], input=json.dumps(payload), env=env, cwd=cwd)
            assert r.returncode == 0, r
            return t

        # Stop: the hook makes no request (the upload is detached); the server is down here so the
        # 20 detached uploaders fail fast instead of loading the machine while we measure
        down_env_url = f"http://127.0.0.1:{_free_port()}"
        env["MSO_API_URL"], up_url = down_env_url, env["MSO_API_URL"]
        work = home / "work"
        hook("stop", "warmup", work / "stop")
        due = [hook("stop", str(uuid.uuid4()), work / "stop") for _ in range(RUNS)]
        sid = str(uuid.uuid4())
        hook("stop", sid, work / "stop")
        throttled = [hook("stop", sid, work / "stop", write=False) for _ in range(RUNS)]
        shutil.rmtree(home / ".local" / "state" / "mso", ignore_errors=True)  # the spooled jobs: not for the sweep

        env["MSO_API_URL"] = up_url
        starts, recovered = [], []
        for i in range(SWEEPS):
            cwd = work / f"sweep{i}"
            a, b = str(uuid.uuid4()), str(uuid.uuid4())
            hook("session-start", a, cwd)  # a runs, then is killed: no SessionEnd
            time.sleep(0.3)
            t0 = time.perf_counter()
            starts.append(hook("session-start", b, cwd))
            pid = next(p["id"] for p in projects.list_page(tenant, limit=100, cursor=None)["items"]
                       if p["name"] == cwd.name)
            while True:
                s = next(x for x in sessions.list_page(tenant, pid, limit=10, cursor=None)["items"]
                         if x["external_id"] == a)
                if s["status"] == "completed":
                    break
                if time.perf_counter() - t0 > 120:
                    raise SystemExit(f"the orphan {a} was not completed in 120 s")
                time.sleep(0.05)
            recovered.append(time.perf_counter() - t0)
    finally:
        server.stop()
        stop_db()
        shutil.rmtree(tmp, ignore_errors=True)
    rows = [
        (f"`mso hook claude stop`, snapshot due (job spooled, uploader started), {RUNS} runs", due),
        (f"`mso hook claude stop`, throttled (the next turn), {RUNS} runs", throttled),
        (f"`mso hook claude session-start` with an orphan in the directory (sweep started), {SWEEPS} runs", starts),
        (f"from that start until the server shows the orphan completed (detached: sweep, 2.7 MB upload, "
         f"complete), {SWEEPS} runs", recovered),
    ]
    lines = ["Command: `python -m bench.capture_bench`", "",
             f"Wall time of the `mso` subprocess as the agent sees it; backend {backend}; a real 2.7 MB Claude "
             "Code transcript. Stop is measured with the server down (the hook itself makes no request; "
             "its upload runs detached).", "",
             "| What | p50 | p95 |", "|---|---|---|"]
    lines += [f"| {what} | {_pct(xs, 0.5)} | {_pct(xs, 0.95)} |" for what, xs in rows]
    lines += ["", f"Mean of the hook figures: stop due {statistics.mean(due) * 1000:.0f} ms, throttled "
              f"{statistics.mean(throttled) * 1000:.0f} ms, session-start {statistics.mean(starts) * 1000:.0f} ms."]
    return "\n".join(lines)


def main() -> int:
    return run_and_write(run)


if __name__ == "__main__":
    sys.exit(main())
