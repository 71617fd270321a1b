"""Bearer tokens on the deployed table (`make token-aws TENANT=name [STACK=mso]`).

    python -m deploy.token TENANT [--label L]          # issue: prints the token (shown once)
    python -m deploy.token --revoke TOKEN_OR_SHA256    # delete one token's hash item
    python -m deploy.token --list TENANT               # hashes, labels, dates (an admin Scan)

Uses the app's own code (chalicelib.domain.tenants.issue_token, chalicelib.storage.tokens) with
MSO_TABLE set to the stack's table, so tokens are hashed and stored exactly as the API reads them.
Revocation takes effect at once for new containers and within MSO_AUTH_CACHE_S (60 s) for warm ones.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from typing import Any

from deploy.stack import DEFAULT_STACK, Aws, _stack_arg, describe_stack, friendly_aws_errors, outputs_of

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m deploy.token", description=__doc__.split("\n\n")[0])
    ap.add_argument("tenant", nargs="?", help="tenant to issue a token for")
    ap.add_argument("--label", default="deploy.token", help="label stored with the token hash")
    ap.add_argument("--revoke", metavar="TOKEN_OR_SHA256", help="delete this token (or token hash)")
    ap.add_argument("--list", metavar="TENANT", dest="list_tenant", help="list a tenant's token hashes")
    ap.add_argument("--stack", default=DEFAULT_STACK, type=_stack_arg)
    ap.add_argument("--region", default=None)
    ap.add_argument("--table", default=None, help="table name (default: the stack's TableName output)")
    args = ap.parse_args(argv)
    if sum(bool(x) for x in (args.tenant, args.revoke, args.list_tenant)) != 1:
        ap.error("give exactly one of: TENANT, --revoke TOKEN, --list TENANT")
    return args


def token_hash_of(value: str) -> str:
    """A token's SHA-256 as stored in the table; a 64-hex-digit value is taken as the hash itself."""
    from chalicelib.storage.keys import token_hash

    value = value.strip()
    return value if _SHA256.match(value) else token_hash(value)


def use_table(table: str, region: str) -> None:
    """Point chalicelib at the deployed table (the same settings the Lambda functions get)."""
    os.environ["MSO_TABLE"] = table
    os.environ["AWS_REGION"] = region
    os.environ.pop("MSO_DYNAMODB_ENDPOINT", None)
    from chalicelib import config
    from chalicelib.storage.models import configure

    config.reset()
    configure()


def list_tokens(dynamodb: Any, table: str, tenant: str) -> list[dict[str, str]]:
    """Token items of a tenant. A Scan: an operator tool, never on a request path."""
    out = []
    kwargs: dict[str, Any] = {
        "TableName": table, "FilterExpression": "SK = :sk AND tenant = :t",
        "ExpressionAttributeValues": {":sk": {"S": "TOKEN"}, ":t": {"S": tenant}},
        "ProjectionExpression": "PK, label, created_at"}
    while True:
        page = dynamodb.scan(**kwargs)
        for it in page.get("Items", []):
            out.append({"sha256": it["PK"]["S"].removeprefix("TOKEN#"), "label": it.get("label", {}).get("S", ""),
                        "created_at": it.get("created_at", {}).get("S", "")})
        if "LastEvaluatedKey" not in page:
            return sorted(out, key=lambda t: t["created_at"])
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return friendly_aws_errors(run, args)


def run(args: argparse.Namespace) -> int:
    aws = Aws(args.region)
    table = args.table or outputs_of(describe_stack(aws.client("cloudformation"), args.stack)).get("TableName")
    if not table:
        raise SystemExit(f"no stack {args.stack} in {aws.region} (or no TableName output): `make deploy` first")
    if args.list_tenant:
        for t in list_tokens(aws.client("dynamodb"), table, args.list_tenant):
            print(f"{t['sha256']}\t{t['created_at']}\t{t['label']}")
        return 0
    use_table(table, aws.region)
    if args.revoke:
        from chalicelib.storage import tokens

        h = token_hash_of(args.revoke)
        tokens.delete_token(h)
        print(f"revoked {h[:12]}... on {table} (warm API containers may accept it for up to 60 s more)",
              file=sys.stderr)
        return 0
    from chalicelib.domain.tenants import issue_token
    from chalicelib.errors import AppError

    try:
        token = issue_token(args.tenant, args.label)
    except AppError as e:
        raise SystemExit(f"{args.tenant!r}: {e}") from None
    print(f"token for tenant {args.tenant} on {table} (shown once; paste it in the dashboard's Settings):",
          file=sys.stderr)
    print(token)
    return 0


if __name__ == "__main__":
    sys.exit(main())
