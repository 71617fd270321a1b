"""Cold-start import cost of the Lambda handler module: `python -X importtime -c "import app"`.

    python -m deploy.importtime [--runs 15] [--zip build/package/deployment.zip] [--top 15]

Runs the import in fresh interpreters and prints the median cumulative time of `app` and of the
heaviest modules. Source mode: bytecode cached in __pycache__ (a warm dev machine). --zip: imports
from the extracted package with no site-packages except the runtime's boto3 (`python -S`) and
nothing written (PYTHONDONTWRITEBYTECODE, as /var/task is read-only): what a Lambda cold start
does; --strip-pyc removes the zip's bytecode to see what Lambda would do without it.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)$")


def parse(stderr: str) -> dict[str, tuple[int, int, int]]:
    """module -> (self us, cumulative us, depth) from -X importtime output."""
    out: dict[str, tuple[int, int, int]] = {}
    for line in stderr.splitlines():
        m = _LINE.match(line)
        if m:
            out[m.group(4)] = (int(m.group(1)), int(m.group(2)), (len(m.group(3)) - 1) // 2)
    return out


def measure(runs: int, *, cwd: Path, python_args: list[str], env: dict[str, str]) -> list[dict[str, tuple]]:
    code = "import app"
    if "-S" in python_args:  # no site: put the task dir (and runtime dir, via env) first
        code = f"import sys; sys.path[:0] = {env.pop('_PATHS').split(os.pathsep)!r}; import app"
    cmd = [sys.executable, *python_args, "-X", "importtime", "-c", code]
    subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, check=True)  # warm the OS file cache
    return [parse(subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=True).stderr)
            for _ in range(runs)]


def summarize(samples: list[dict[str, tuple]], top: int) -> tuple[float, list[tuple[str, float, float]]]:
    app_ms = statistics.median(s["app"][1] for s in samples) / 1000
    names = set.intersection(*(set(s) for s in samples))
    rows = [(n, statistics.median(s[n][1] for s in samples) / 1000,
             statistics.median(s[n][0] for s in samples) / 1000) for n in names]
    rows.sort(key=lambda r: -r[1])
    return app_ms, rows[:top]


def compare_bytecode(zip_path: Path, runs: int) -> tuple[float, float]:
    """Median `import app` ms from the zip with and without its bytecode, runs interleaved (a
    busy machine slows both alike)."""
    from deploy.package import runtime_site

    with tempfile.TemporaryDirectory() as tmp:
        runtime = runtime_site(Path(tmp) / "runtime")
        dirs = {}
        for label in ("pyc", "source"):
            task = dirs[label] = Path(tmp) / label
            with zipfile.ZipFile(zip_path) as z:
                z.extractall(task)
            if label == "source":
                for pyc in task.rglob("*.pyc"):
                    pyc.unlink()
        env = {"PATH": os.environ.get("PATH", ""), "MSO_TABLE": "mso", "MSO_JOBS": "sqs",
               "AWS_DEFAULT_REGION": "us-east-1", "PYTHONDONTWRITEBYTECODE": "1"}
        times: dict[str, list[int]] = {"pyc": [], "source": []}
        for i in range(runs + 1):
            for label, task in dirs.items():
                code = f"import sys; sys.path[:0] = {[str(task), str(runtime)]!r}; import app"
                r = subprocess.run([sys.executable, "-S", "-X", "importtime", "-c", code], cwd=task, env=env,
                                   capture_output=True, text=True, check=True)
                if i:  # the first round only warms the OS file cache
                    times[label].append(parse(r.stderr)["app"][1])
    return statistics.median(times["pyc"]) / 1000, statistics.median(times["source"]) / 1000


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m deploy.importtime", description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--zip", type=Path, default=None, help="measure the packaged app (make package) instead")
    ap.add_argument("--strip-pyc", action="store_true", help="with --zip: drop the shipped bytecode first")
    ap.add_argument("--compare-bytecode", action="store_true",
                    help="with --zip: interleave runs with and without the shipped bytecode")
    args = ap.parse_args(argv)
    if args.compare_bytecode:
        if not args.zip:
            ap.error("--compare-bytecode needs --zip")
        with_pyc, without = compare_bytecode(args.zip, args.runs)
        print(f"import app from the zip: {with_pyc:.0f} ms with its bytecode, {without:.0f} ms compiling "
              f"(median of {args.runs} interleaved runs each)")
        return 0
    env = {"PATH": os.environ.get("PATH", ""), "MSO_TABLE": "mso", "MSO_JOBS": "sqs", "AWS_DEFAULT_REGION": "us-east-1"}
    with tempfile.TemporaryDirectory() as tmp:
        if args.zip:
            from deploy.package import runtime_site

            task = Path(tmp) / "task"
            with zipfile.ZipFile(args.zip) as z:
                z.extractall(task)
            if args.strip_pyc:
                for pyc in task.rglob("*.pyc"):
                    pyc.unlink()
            env["PYTHONDONTWRITEBYTECODE"] = "1"
            runtime = runtime_site(Path(tmp) / "runtime")
            env["_PATHS"] = os.pathsep.join([str(task), str(runtime)])
            samples = measure(args.runs, cwd=task, python_args=["-S"], env=env)
        else:
            samples = measure(args.runs, cwd=ROOT, python_args=[], env=env)
    app_ms, rows = summarize(samples, args.top)
    mode = "source tree" if not args.zip else "zip, no bytecode" if args.strip_pyc else "zip"
    print(f"import app: {app_ms:.0f} ms (median cumulative of {args.runs} runs, {mode})")
    print(f"{'module':<40} {'cumulative ms':>14} {'self ms':>9}")
    for name, cum, own in rows:
        print(f"{name:<40} {cum:>14.1f} {own:>9.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
