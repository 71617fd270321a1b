"""`make dev`: DynamoDB Local (persistent, under $MSO_DATA_DIR) + `chalice local` serving API and UI.

Ctrl-C stops both. The dev token is created once, kept in $MSO_DATA_DIR/dev-token, and reused.
Without Java, an in-process moto server stands in and data is NOT kept (said plainly).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from pathlib import Path

from devtools import ddb

DEV_TENANT = "dev"


def _banner(lines: list[str]) -> None:
    width = max(len(s) for s in lines) + 4
    print("=" * width)
    for s in lines:
        print(f"  {s}")
    print("=" * width, flush=True)


def start_database(data_dir: Path) -> tuple[str, object | None, bool]:
    """Return (endpoint, handle to stop, persistent?)."""
    port = int(os.environ.get("MSO_DYNAMODB_PORT", "8100"))
    endpoint = f"http://127.0.0.1:{port}"
    if ddb.port_open(port):
        if ddb.is_dynamodb(endpoint):
            print(f"DynamoDB already answering on {endpoint}: using it", flush=True)
            return endpoint, None, True
        sys.exit(f"port {port} is taken by something that is not DynamoDB; set MSO_DYNAMODB_PORT")
    if ddb.java_available():
        emulator = ddb.ensure_jar(ddb.default_install_dir())
        proc = ddb.start(emulator, port, db_path=data_dir / "db", log_path=data_dir / "dynamodb-local.log")
        (data_dir / "dynamodb.pid").write_text(f"{proc.pid}\n")
        print(f"DynamoDB Local on {endpoint}, data in {data_dir / 'db'}", flush=True)
        return endpoint, proc, True
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    _banner(["WARNING: Java was not found, so DynamoDB Local cannot run.",
             "Using an in-memory moto server instead: DATA WILL NOT BE KEPT after Ctrl-C.",
             "Install Java 17 (e.g. apt-get install openjdk-17-jre-headless) to keep data."])
    return endpoint, server, False


def claim_database(data_dir: Path, endpoint: str) -> None:
    """Make sure the database holds this data folder's data: a DynamoDB Local left running by a
    `make dev` with another MSO_DATA_DIR must not be used silently. Its owner is one item."""
    from chalicelib.config import settings
    from chalicelib.storage import keys
    from chalicelib.storage.models import client

    c, table = client(), settings().table_name
    key = {"PK": {"S": keys.DEV_OWNER_PK}, "SK": {"S": keys.DEV_OWNER_SK}}
    owner = c.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item", {}).get("data_dir", {}).get("S")
    if owner and owner != str(data_dir):
        sys.exit(f"The DynamoDB Local on {endpoint} holds the data of MSO_DATA_DIR={owner}, not {data_dir}.\n"
                 f"Stop that `make dev` (or its DynamoDB Local), or give this one its own port: "
                 f"MSO_DYNAMODB_PORT=<free port> make dev")
    if owner is None:
        c.put_item(TableName=table, Item={**key, "data_dir": {"S": str(data_dir)}})


def _stop_on_signals() -> None:
    """Ctrl-C and `kill` both stop the server and the database (a shell script may have
    started us with SIGINT ignored; SIGTERM would otherwise skip the cleanup)."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, interrupt)


def resume_interrupted_jobs() -> int:
    """Restart handoff jobs left pending or running by a previous `make dev` (its threads died with it),
    and those failed because the database was out of reach (`retryable`) longer than the inline retries.

    On AWS, SQS redelivers such jobs; locally nothing would, so the dev server looks for them once at
    start. A Scan is fine here: it is a local start-up step, never a request path.
    """
    from chalicelib import jobs
    from chalicelib.domain.handoffs import run_job
    from chalicelib.storage.models import HandoffItem

    n = 0
    unfinished = HandoffItem.status.is_in("pending", "running") | (
        (HandoffItem.status == "failed") & (HandoffItem.retryable == True))  # noqa: E712 - a condition, not a test
    for h in HandoffItem.scan(HandoffItem.SK.startswith("HANDOFF#") & unfinished):
        _, tenant, _, project_id = h.PK.split("#", 3)
        jobs.enqueue({"tenant": tenant, "project_id": project_id, "number": int(h.number), "job_id": h.job_id},
                     run_job)
        n += 1
    return n


def main() -> None:
    _stop_on_signals()
    data_dir = Path(os.environ.get("MSO_DATA_DIR", ".data")).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    port = int(os.environ.get("PORT", "8000"))
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    endpoint, handle, persistent = start_database(data_dir)
    os.environ.update({"MSO_DYNAMODB_ENDPOINT": endpoint, "MSO_DATA_DIR": str(data_dir), "MSO_SERVE_UI": "1",
                       "MSO_JOBS": "inline"})
    os.environ.setdefault("MSO_PUBLIC_URL", f"http://127.0.0.1:{port}")  # behind a proxy: set it to the proxy's
    (data_dir / "dynamodb.endpoint").write_text(endpoint)
    try:
        from chalicelib import config
        from chalicelib.domain.tenants import register_token
        from chalicelib.storage.models import configure
        from chalicelib.storage.table import ensure_table

        config.reset()
        configure()
        if ensure_table():
            print(f"created table {config.settings().table_name}", flush=True)
        claim_database(data_dir, endpoint)
        token_file = data_dir / "dev-token"
        if token_file.is_file():
            token = token_file.read_text().strip()
        else:
            import secrets

            token = "mso_dev_" + secrets.token_urlsafe(24)
            token_file.write_text(token + "\n")
            token_file.chmod(0o600)
        register_token(token, DEV_TENANT, "make dev")
        resumed = resume_interrupted_jobs()
        if resumed:
            print(f"resuming {resumed} handoff job(s) interrupted when the server last stopped", flush=True)
        _banner([f"Dashboard:  http://127.0.0.1:{port}/#token={token}",
                 f"API:        http://127.0.0.1:{port}/api/health",
                 f"Token:      {token_file} (tenant '{DEV_TENANT}')",
                 "Data:       " + (str(data_dir / 'db') if persistent else "in memory (not kept)"),
                 "Ctrl-C stops the server and the database."])
        from devtools.local_gateway import install

        install()
        from chalice.cli import cli as chalice_cli

        # standalone_mode=False: on Ctrl-C click raises Abort instead of printing "Aborted!" and
        # exiting 1 (which made `make` report an error); main() turns it into a clean exit.
        chalice_cli.main(["local", "--host", "127.0.0.1", "--port", str(port), "--stage", "dev",
                          "--no-autoreload"], prog_name="chalice", obj={}, standalone_mode=False)
    finally:
        if handle is not None:
            if hasattr(handle, "terminate"):
                ddb.stop(handle)  # type: ignore[arg-type]
            else:
                handle.stop()  # type: ignore[attr-defined]
        print("stopped", flush=True)


def run() -> int:
    """`make dev`: Ctrl-C (or `kill`) is how a user stops it, so it exits 0 with a "stopped" line,
    the database stopped, and no "Aborted!" or traceback (make would report an error)."""
    import click

    with contextlib.suppress(KeyboardInterrupt, click.exceptions.Abort):
        main()
    return 0


if __name__ == "__main__":
    sys.exit(run())
