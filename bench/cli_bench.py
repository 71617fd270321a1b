"""The `mso` CLI as agents run it: hook wall times and import time. `python -m bench.cli_bench`.

Starts the app with `chalice local` in this process on DynamoDB Local (moto when Java is
missing), gives a temporary HOME a real Claude Code transcript and a ready handoff made from it,
then runs the installed `mso` command as a subprocess, as Claude Code does:
- `mso hook claude session-start`: a new session each run, the handoff injected (server up);
  answered from the cache (server down: connection refused); and with a server that accepts
  the connection but never answers (the 3 s deadline);
- `mso hook claude session-end`: the time until the hook returns (the upload runs detached);
- a compaction: `pre-compact` (the transcript uploaded and the checkpoint cached, synchronously),
  `session-start` with source `compact` (this session's state: fresh, then from the cache with the
  server down) and `post-compact` (the summary spooled as a note);
- the CLI's import time (`python -c "import mso_cli.main, mso_cli.hooks"` minus `python -c pass`).
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TRANSCRIPT = ROOT / "tests" / "fixtures" / "real" / "claude-code" / "258c7280-ae70-4798-800f-63464d01a85d.jsonl.gz"
RUNS = 15


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _mso() -> str:
    exe = shutil.which("mso", path=str(Path(sys.executable).parent)) or shutil.which("mso")
    if not exe:
        raise SystemExit("the mso command is not installed: pip install -e ./cli")
    return exe


def _time(cmd: list[str], **kw: Any) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60, **kw)
    return time.perf_counter() - t0, r


def _p50(xs: list[float]) -> str:
    return f"{statistics.median(xs) * 1000:.0f} ms"


def _p90(xs: list[float]) -> str:
    return f"{sorted(xs)[int(len(xs) * 0.9) - 1] * 1000:.0f} ms"


def _database() -> tuple[str, Any]:
    from devtools import ddb

    if ddb.java_available():
        port = _free_port()
        proc = ddb.start(ddb.ensure_jar(ddb.default_install_dir()), port, db_path=None)
        os.environ["MSO_DYNAMODB_ENDPOINT"] = f"http://127.0.0.1:{port}"
        return "DynamoDB Local", lambda: ddb.stop(proc)
    from moto import mock_aws

    m = mock_aws()
    m.start()
    return "moto (no Java here)", m.stop


def local_table(name: str) -> tuple[str, Any]:
    """A fresh table `name` on DynamoDB Local (moto without Java), the app configured for it, jobs
    inline: (the backend's name, a function that stops it). The benches that drive the CLI share it."""
    os.environ.update({"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1",
                       "MSO_TABLE": name, "MSO_JOBS": "inline", "MSO_LOG_LEVEL": "WARNING"})
    backend, stop_db = _database()
    from chalicelib import config
    from chalicelib.storage.models import configure
    from chalicelib.storage.table import ensure_table

    config.reset()
    configure()
    ensure_table()
    return backend, stop_db


def run() -> str:
    backend, stop_db = local_table("bench-cli")
    from chalicelib import config
    from chalicelib.domain import handoffs, projects, sessions
    from chalicelib.domain.tenants import issue_token
    from devtools.local_gateway import LocalServer

    tmp = Path(tempfile.mkdtemp(prefix="mso-cli-bench-"))
    server = LocalServer(_free_port())
    try:
        token = issue_token("bench")
        home = tmp / "home"
        cwd = home / "work" / "spotter"
        cwd.mkdir(parents=True)
        mangled = re.sub(r"[^A-Za-z0-9]", "-", str(cwd))
        tdir = home / ".claude" / "projects" / mangled
        tdir.mkdir(parents=True)
        raw = gzip.decompress(TRANSCRIPT.read_bytes())
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MSO_", "XDG_"))}
        env.update(HOME=str(home), MSO_API_URL=f"http://127.0.0.1:{server.port}", MSO_TOKEN=token)
        # a project whose latest handoff is made from a real session (at most 9,500 characters)
        pid = projects.create("bench", {"name": "spotter"})["id"]
        sessions.create("bench", pid, {"external_id": "seed"})
        import io

        from chalicelib.domain import transcripts

        transcripts.import_transcript("bench", pid, 1, io.BytesIO(raw), fmt="claude-code")
        os.environ["MSO_JOBS"] = "sync"
        config.reset()
        sessions.update("bench", pid, 1, {"status": "completed", "handoff_mode": "rules"})
        handoffs.request("bench", pid, 1, mode="rules", session_status="completed")
        hand_chars = len(handoffs.latest("bench", pid)["markdown"])
        server.start()
        mso = _mso()

        def hook(event: str, sid: str, source: str = "startup") -> tuple[float, subprocess.CompletedProcess]:
            (tdir / f"{sid}.jsonl").write_bytes(raw)
            payload = {"session_id": sid, "transcript_path": str(tdir / f"{sid}.jsonl"), "cwd": str(cwd),
                       "hook_event_name": {"session-start": "SessionStart", "pre-compact": "PreCompact",
                                           "post-compact": "PostCompact"}.get(event, "SessionEnd"),
                       "source": source, "reason": "exit", "trigger": "auto",
                       "compact_summary": "Summary:\n1. Primary Request and Intent: annotations with message references"}
            return _time([mso, "hook", "claude", event], input=json.dumps(payload), env=env, cwd=cwd)

        up, chars = [], []
        hook("session-start", "warmup")
        for _ in range(RUNS):
            t, r = hook("session-start", str(uuid.uuid4()))
            up.append(t)
            chars.append(len(json.loads(r.stdout)["hookSpecificOutput"]["additionalContext"]))
        ends = []
        for _ in range(RUNS):
            sid = str(uuid.uuid4())
            t, _r = hook("session-end", sid)
            ends.append(t)
        compacting = str(uuid.uuid4())
        hook("session-start", compacting)
        pre, after, post = [], [], []
        for _ in range(RUNS):
            pre.append(hook("pre-compact", compacting)[0])
            t, r = hook("session-start", compacting, "compact")
            assert "this session's own state" in r.stdout, r
            after.append(t)
            post.append(hook("post-compact", compacting)[0])
        time.sleep(5)  # let the detached uploads finish before the server goes away
        server.stop()
        after_down = []
        for _ in range(RUNS):
            t, r = hook("session-start", compacting, "compact")
            assert "local cache" in r.stdout, r
            after_down.append(t)
        down = [hook("session-start", str(uuid.uuid4()))[0] for _ in range(RUNS)]
        down_ends = [hook("session-end", str(uuid.uuid4()))[0] for _ in range(RUNS)]
        # a server that takes the connection and never answers: the deadline decides
        hung = socket.socket()
        hung.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        hung.bind(("127.0.0.1", server.port))
        hung.listen(64)
        stuck = [hook("session-start", str(uuid.uuid4()))[0] for _ in range(3)]
        hung.close()
        base = [_time([sys.executable, "-c", "pass"])[0] for _ in range(RUNS)]
        imp = [_time([sys.executable, "-c", "import mso_cli.main, mso_cli.hooks, mso_cli.client, mso_cli.state, "
                                           "mso_cli.spool"])[0] for _ in range(RUNS)]
        imp_ms = (statistics.median(imp) - statistics.median(base)) * 1000
    finally:
        server.stop()
        stop_db()
        shutil.rmtree(tmp, ignore_errors=True)
    rows = [
        ("`mso hook claude session-start`, server up (new session + handoff injected)", _p50(up), _p90(up)),
        ("`mso hook claude session-start`, server down (refused: answered from the cache)", _p50(down), _p90(down)),
        ("`mso hook claude session-start`, server hung (accepts, never answers)", _p50(stuck), _p90(stuck)),
        ("`mso hook claude session-end` return, server up (upload runs detached)", _p50(ends), _p90(ends)),
        ("`mso hook claude session-end` return, server down (job spooled)", _p50(down_ends), _p90(down_ends)),
        ("`mso hook claude pre-compact`: transcript uploaded and checkpoint cached, synchronously", _p50(pre),
         _p90(pre)),
        ("`mso hook claude session-start`, source compact, server up (this session's checkpoint)", _p50(after),
         _p90(after)),
        ("`mso hook claude session-start`, source compact, server down (the cached checkpoint)", _p50(after_down),
         _p90(after_down)),
        ("`mso hook claude post-compact` return (the summary spooled as a note)", _p50(post), _p90(post)),
        ("CLI import (`mso_cli` modules a hook loads, over `python -c pass`)", f"{imp_ms:.0f} ms", "-"),
        ("Python start alone (`python -c pass`)", _p50(base), _p90(base)),
    ]
    lines = ["Command: `python -m bench.cli_bench`", "",
             f"{RUNS} runs each (3 for the hung server), wall time of the subprocess as the agent sees it; "
             f"backend {backend}; the injected handoff is made from a real 2.7 MB Claude Code session "
             f"({hand_chars:,} characters, cut to at most 9,500; injected: {min(chars):,}-{max(chars):,}).", "",
             "| What | p50 | p90 |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines)


def run_and_write(run_fn: Any) -> int:
    """The CLI benches' entry point: print the section, and write it where `--write PATH` says (make bench)."""
    sys.path.insert(0, str(ROOT))
    text = run_fn()
    print(text)
    if "--write" in sys.argv:
        Path(sys.argv[sys.argv.index("--write") + 1]).write_text(text + "\n")
    return 0


def main() -> int:
    return run_and_write(run)


if __name__ == "__main__":
    sys.exit(main())
