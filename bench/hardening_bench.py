"""Hardening figures the tests do not assert: gzip bombs (time to 413, peak memory) and the database down.

Each scenario runs in a fresh process (so its peak RSS is its own) against the app through
chalice's test client on moto, with the real settings (64 MiB direct, 512 MiB through the upload
URL, 32 MiB per line). The bombs are built as the tests build them (tests/support/bombs.py): GiBs of
one letter, a few MB compressed; the JSON documents (parsed whole) are an export of prose and a
document of millions of tiny values. "Peak RSS" is the process's maximum resident set size minus what
it held before the request (the app imported, the bomb built).

    .venv/bin/python -m bench.hardening_bench [--write PATH]
    (`make bench` runs it with the other benchmarks)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# name: (what, path kind, uncompressed MiB, bomb keyword arguments)
SCENARIOS: dict[str, tuple[str, str, int, dict[str, Any]]] = {
    "direct-no-newline": ("PUT .../transcript: 2 GiB of 'a', no newline", "direct", 2048, {}),
    "direct-lines": ("PUT .../transcript: 2 GiB in 1 MiB lines", "direct", 2048, {"line": b"\n"}),
    "upload-no-newline": ("PUT /api/uploads/{id}: 8 GiB of 'a', no newline", "upload", 8192, {}),
    "upload-lines": ("PUT /api/uploads/{id}: 8 GiB in 1 MiB lines", "upload", 8192, {"line": b"\n"}),
    "s3-lines": ("S3 import: 8 GiB in 1 MiB lines", "s3", 8192, {"line": b"\n"}),
}


# One-JSON-document transcripts, parsed whole (through the upload URL): name: (what, shape, MiB of text)
DOCUMENTS: dict[str, tuple[str, str, int]] = {
    "doc-export-30": ("ChatGPT export, 30 MiB (prose, 20-message conversations)", "export", 30),
    "doc-export-60": ("ChatGPT export, 60 MiB", "export", 60),
    "doc-tiny-4": ("4 MiB of `[],` after one OpenAI message (inside the parse budget: the worst accepted)", "tiny", 4),
    "doc-tiny-16": ("16 MiB of `[],` after one OpenAI message", "tiny", 16),
    "doc-tiny-60": ("60 MiB of `[],` (the 200 KB gzip of issue 20)", "tiny", 60),
}


def document_gzip(shape: str, mib: int) -> bytes:
    """A gzip-compressed JSON document of about `mib` MiB of text, written piece by piece (the
    text is never whole in memory, so the measured peak is the server's)."""
    import gzip
    import io

    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=6) as gz:
        target, written = mib * 1024 * 1024, 0
        if shape == "tiny":
            head = b'{"messages":[{"role":"user","content":"hi"}'
            gz.write(head)
            piece = b",[]" * 65536
            written = len(head)
            while written < target:
                gz.write(piece)
                written += len(piece)
            gz.write(b"]}")
        else:
            _write_export(gz, target)
    return out.getvalue()


def _write_export(gz: Any, target: int) -> None:
    """A ChatGPT conversations.json of about `target` bytes: conversations of 20 messages of prose."""
    written = 0
    text = "Refactor the parser so that every branch is covered; run the tests and report what failed. " * 4
    gz.write(b"[")
    i = 0
    while written < target:
        mapping: dict[str, Any] = {}
        prev = None
        for j in range(20):
            nid = f"n{i}-{j}"
            mapping[nid] = {"id": nid, "parent": prev, "children": [], "message": {
                "id": nid, "author": {"role": "user" if j % 2 == 0 else "assistant"},
                "content": {"content_type": "text", "parts": [f"{i} {j} {text}"]}, "create_time": 1.7e9 + j}}
            if prev:
                mapping[prev]["children"].append(nid)
            prev = nid
        conv = json.dumps({"id": f"c{i}", "title": f"t{i}", "update_time": 1.7e9 + i, "current_node": prev,
                           "mapping": mapping}).encode()
        gz.write((b"," if i else b"") + conv)
        written += len(conv) + 1
        i += 1
    gz.write(b"]")


def run_document(name: str) -> dict[str, Any]:
    _what, shape, mib = DOCUMENTS[name]
    client, token, pid = _setup()
    body = document_gzip(shape, mib)
    auth = {"Authorization": f"Bearer {token}"}
    r = client.http.post(f"/api/projects/{pid}/sessions/1/transcript-upload", headers=auth, body=b"")
    slot = json.loads(r.body)["upload_id"]
    base = _rss_mb()
    t0 = time.perf_counter()
    r = client.http.put(f"/api/uploads/{slot}", body=body, headers={"Content-Type": "application/gzip"})
    err = json.loads(r.body).get("error") or {}
    return {"status": r.status_code, "code": err.get("code") or "imported", "seconds": round(time.perf_counter() - t0, 3),
            "peak_rss_mb": round(_rss_mb() - base, 1), "compressed_kb": len(body) // 1024}


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _setup() -> tuple[Any, str, str]:
    """moto + the app's table, a tenant's token, a project with session 1: (client, token, project id)."""
    for k, v in {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1",
                 "MSO_TABLE": "mso-bench", "MSO_JOBS": "sync", "MSO_UPLOAD_BUCKET": "bench-uploads"}.items():
        os.environ[k] = v
    os.environ.pop("MSO_DYNAMODB_ENDPOINT", None)
    from moto import mock_aws

    mock_aws().start()
    from chalice.test import Client

    import app as app_module
    from chalicelib import aws, config
    from chalicelib.domain.tenants import issue_token
    from chalicelib.storage.models import configure
    from chalicelib.storage.table import ensure_table
    from devtools.local_gateway import install

    config.reset()
    aws.reset()
    configure()
    ensure_table()
    aws.s3().create_bucket(Bucket="bench-uploads")
    install()
    client = Client(app_module.app, stage_name="bench", project_dir=str(ROOT))
    token = issue_token("bench")
    h = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    pid = json.loads(client.http.post("/api/projects", headers=h, body=b'{"name": "bench"}').body)["id"]
    client.http.post(f"/api/projects/{pid}/sessions", headers=h, body=b"{}")
    return client, token, pid


def run_scenario(name: str) -> dict[str, Any]:
    from tests.support.bombs import gzip_bomb

    _what, kind, mib, kw = SCENARIOS[name]
    client, token, pid = _setup()
    bomb = gzip_bomb(mib, **kw)
    auth = {"Authorization": f"Bearer {token}"}
    slot = None
    if kind != "direct":
        r = client.http.post(f"/api/projects/{pid}/sessions/1/transcript-upload", headers=auth, body=b"")
        slot = json.loads(r.body)["upload_id"]
    base = _rss_mb()
    t0 = time.perf_counter()
    if kind == "direct":
        r = client.http.put(f"/api/projects/{pid}/sessions/1/transcript", body=bomb,
                            headers={**auth, "Content-Type": "application/gzip"})
        status, body = r.status_code, json.loads(r.body)
    elif kind == "upload":
        r = client.http.put(f"/api/uploads/{slot}", body=bomb, headers={"Content-Type": "application/gzip"})
        status, body = r.status_code, json.loads(r.body)
    else:
        from chalicelib import aws
        from chalicelib.domain import uploads

        key = uploads.S3_PREFIX + slot
        aws.s3().put_object(Bucket="bench-uploads", Key=key, Body=bomb)
        base = _rss_mb()
        t0 = time.perf_counter()
        outcome = uploads.handle_s3_object("bench-uploads", key)
        r = client.http.get(f"/api/uploads/{slot}", headers=auth)
        result = json.loads(r.body)["result"] or {}
        status, body = (413 if result.get("code") == "transcript_too_large" else 0), {"error": result,
                                                                                       "outcome": outcome}
    seconds = time.perf_counter() - t0
    stored = json.loads(client.http.get(f"/api/projects/{pid}/sessions/1", headers=auth).body)["transcript"]
    limit = (body.get("error") or {}).get("limit_bytes")
    return {"status": status, "code": (body.get("error") or {}).get("code"), "seconds": round(seconds, 3),
            "cap": f"{limit // (1024 * 1024)} MiB" if limit else "?",
            "peak_rss_mb": round(_rss_mb() - base, 1), "compressed_mb": round(len(bomb) / 1e6, 2),
            "stored": stored is not None}


def database_down() -> dict[str, Any]:
    """Time to the 503 with the database on a closed port: a request, and the deep health check."""
    os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                       "AWS_DEFAULT_REGION": "us-east-1", "MSO_TABLE": "mso-bench"})
    from chalice.test import Client

    import app as app_module
    from chalicelib import config
    from chalicelib.storage.models import configure
    from devtools import ddb

    os.environ["MSO_DYNAMODB_ENDPOINT"] = f"http://127.0.0.1:{ddb.free_port()}"
    config.reset()
    configure()
    client = Client(app_module.app, stage_name="bench", project_dir=str(ROOT))
    out = {}
    for what, path in (("GET /api/projects", "/api/projects"), ("GET /api/health?deep=1", "/api/health?deep=1")):
        t0 = time.perf_counter()
        r = client.http.get(path, headers={"Authorization": "Bearer mso_bench"})
        out[what] = {"status": r.status_code, "seconds": round(time.perf_counter() - t0, 3),
                     "retry_after": r.headers.get("Retry-After")}
    return out


def _child(arg: str) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-m", "bench.hardening_bench", "--scenario", arg], cwd=ROOT,
                          capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(f"{arg} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--write", metavar="PATH", help="also write the Markdown to PATH")
    ap.add_argument("--scenario", help=argparse.SUPPRESS)  # one scenario, in this (child) process
    args = ap.parse_args()
    if args.scenario:
        result = (database_down() if args.scenario == "database-down" else
                  run_document(args.scenario) if args.scenario in DOCUMENTS else run_scenario(args.scenario))
        print(json.dumps(result))
        return 0
    lines = [f"Command: `python -m bench.hardening_bench` (Python {platform.python_version()}, {platform.machine()}, "
             f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the start). Each row is a fresh "
             "process on moto; caps as shipped (64 MiB direct, 512 MiB through the upload URL, 32 MiB a line).",
             "", "| bomb | compressed | answer | cap reached | time to answer (s) | peak RSS growth (MB) | stored |",
             "|---|---:|---|---:|---:|---:|---|"]
    for name, (what, *_rest) in SCENARIOS.items():
        r = _child(name)
        lines.append(f"| {what} | {r['compressed_mb']} MB | {r['status']} {r['code']} | {r['cap']} | {r['seconds']:.2f} | "
                     f"{r['peak_rss_mb']:.0f} | {'yes' if r['stored'] else 'nothing'} |")
    lines += ["", "One-JSON-document transcripts (parsed whole) through the upload URL: capped at 32 MiB of text "
              "and at about 5 times that once parsed (MSO_MAX_DOCUMENT_BYTES).", "",
              "| document | compressed | answer | time to answer (s) | peak RSS growth (MB) |", "|---|---:|---|---:|---:|"]
    for name, (what, *_rest) in DOCUMENTS.items():
        r = _child(name)
        lines.append(f"| {what} | {r['compressed_kb']} KB | {r['status']} {r['code']} | {r['seconds']:.2f} | "
                     f"{r['peak_rss_mb']:.0f} |")
    down = _child("database-down")
    lines += ["", "Database unreachable (a closed port): time to the answer.", "",
              "| request | answer | Retry-After | seconds |", "|---|---|---|---:|"]
    for what, r in down.items():
        lines.append(f"| {what} | {r['status']} | {r['retry_after']} | {r['seconds']:.2f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        Path(args.write).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
