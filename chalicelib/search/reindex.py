"""Rebuild search indexes from the table: `python -m chalicelib.search.reindex --tenant T [--project P]`.

Runs against whatever the environment configures (MSO_TABLE, MSO_DYNAMODB_ENDPOINT, MSO_UPLOAD_BUCKET
or MSO_SEARCH_DIR). With `--queue` it only sends one `search_reindex` message per project to the
job queue (MSO_QUEUE_URL), for the worker Lambda to rebuild on AWS, where a long rebuild must not
run on an operator's laptop. `make reindex` (devtools/reindex.py) runs it against `make dev`'s data.
A tenant is named: the table has no list of tenants, and no request path scans it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from chalicelib.search import service


def reindex(tenant: str, project_id: str | None = None, *, queue: bool = False) -> list[dict[str, object]]:
    """Rebuild (or queue the rebuild of) one project or every project of `tenant`."""
    pids = [project_id] if project_id else service.all_projects(tenant)
    out: list[dict[str, object]] = []
    for pid in pids:
        t0 = time.monotonic()
        if queue:
            from chalicelib import aws
            from chalicelib.config import settings

            url = settings().queue_url
            if not url:
                raise SystemExit("--queue needs MSO_QUEUE_URL (the handoff job queue)")
            aws.sqs().send_message(QueueUrl=url, MessageBody=json.dumps(
                {"type": service.JOB_REINDEX, "tenant": tenant, "project_id": pid, "job_id": f"reindex-{pid}"}))
            out.append({"project_id": pid, "queued": True})
        else:
            counts = service.reindex_project(tenant, pid)
            out.append({"project_id": pid, **counts, "seconds": round(time.monotonic() - t0, 2)})
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m chalicelib.search.reindex", description=__doc__.splitlines()[0])
    ap.add_argument("--tenant", required=True)
    ap.add_argument("--project", help="one project id (default: every project of the tenant)")
    ap.add_argument("--queue", action="store_true", help="send search_reindex jobs to MSO_QUEUE_URL instead")
    args = ap.parse_args(argv)
    from chalicelib.storage.models import configure

    configure()
    rows = reindex(args.tenant, args.project, queue=args.queue)
    for row in rows:
        print(json.dumps(row))
    if not rows:
        print(f"tenant {args.tenant!r} has no projects: nothing to rebuild")
    return 0


if __name__ == "__main__":
    sys.exit(main())
