"""`make reindex [TENANT=dev] [PROJECT=id]`: rebuild the search indexes of `make dev`'s data from the table.

Works while `make dev` runs (same DynamoDB Local, same MSO_DATA_DIR/search) and when it does not
(starts DynamoDB Local briefly, as `make token` does).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from devtools import ddb


def main(argv: list[str]) -> int:
    tenant = (argv[0] if argv else "") or "dev"
    project = argv[1] if len(argv) > 1 and argv[1] else None
    data_dir = Path(os.environ.get("MSO_DATA_DIR", ".data")).resolve()
    port = int(os.environ.get("MSO_DYNAMODB_PORT", "8100"))
    endpoint = f"http://127.0.0.1:{port}"
    for k, v in (("AWS_ACCESS_KEY_ID", "local"), ("AWS_SECRET_ACCESS_KEY", "local"), ("AWS_DEFAULT_REGION", "us-east-1")):
        os.environ.setdefault(k, v)
    proc = None
    if not ddb.is_dynamodb(endpoint):
        if not ddb.java_available():
            print("DynamoDB Local is not running and Java is missing: start `make dev` first", file=sys.stderr)
            return 1
        proc = ddb.start(ddb.ensure_jar(ddb.default_install_dir()), port, db_path=data_dir / "db",
                         log_path=data_dir / "dynamodb-local.log")
    os.environ["MSO_DYNAMODB_ENDPOINT"] = endpoint
    os.environ["MSO_DATA_DIR"] = str(data_dir)
    try:
        from chalicelib import config
        from chalicelib.search.reindex import main as reindex_main
        from chalicelib.storage.models import configure
        from chalicelib.storage.table import ensure_table

        config.reset()
        configure()
        ensure_table()  # a data folder `make dev` never ran on: an empty table, nothing to rebuild
        return reindex_main(["--tenant", tenant] + (["--project", project] if project else []))
    finally:
        if proc is not None:
            ddb.stop(proc)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
