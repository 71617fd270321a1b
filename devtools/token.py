"""`make token TENANT=name`: print a new bearer token for a tenant of the local database.

Works while `make dev` runs (same DynamoDB Local) and when it does not (starts it briefly).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from devtools import ddb


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0]:
        print("usage: make token TENANT=<name>", file=sys.stderr)
        return 2
    tenant = argv[0]
    data_dir = Path(os.environ.get("MSO_DATA_DIR", ".data")).resolve()
    port = int(os.environ.get("MSO_DYNAMODB_PORT", "8100"))
    endpoint = f"http://127.0.0.1:{port}"
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    proc = None
    if not ddb.is_dynamodb(endpoint):
        if not ddb.java_available():
            print("DynamoDB Local is not running and Java is missing: start `make dev` first", file=sys.stderr)
            return 1
        proc = ddb.start(ddb.ensure_jar(ddb.default_install_dir()), port, db_path=data_dir / "db",
                         log_path=data_dir / "dynamodb-local.log")
    os.environ["MSO_DYNAMODB_ENDPOINT"] = endpoint
    try:
        from chalicelib import config
        from chalicelib.domain.tenants import issue_token
        from chalicelib.storage.models import configure
        from chalicelib.storage.table import ensure_table

        config.reset()
        configure()
        ensure_table()
        print(issue_token(tenant, "make token"))
    finally:
        if proc is not None:
            ddb.stop(proc)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
