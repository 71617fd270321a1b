"""Create, update and delete the CloudFormation stack with boto3 (no aws CLI needed).

    python -m deploy.stack deploy  [--stack mso] [--region eu-west-1] [options]   # make deploy
    python -m deploy.stack destroy [--stack mso] [--delete-table] [--yes]         # make destroy
    python -m deploy.stack outputs | upload-ui | set-llm-key                      # helpers

`deploy` takes what `make package` wrote (build/package/sam.yaml + deployment.zip), uploads the zip
and the template to an artifacts bucket ("<stack>-artifacts-<account>-<region>", created once),
creates and executes a change set (CAPABILITY_IAM + AUTO_EXPAND for the SAM transform), uploads the
dashboard with the API base filled in, invalidates CloudFront and prints the dashboard URL.
Credentials and region come from the usual AWS environment (AWS_PROFILE, AWS_REGION, ...).
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import hashlib
import re
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_DIR = ROOT / "build" / "package"
DEFAULT_STACK = "mso"
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]
# Stack parameters (deploy/resources.yaml + the one deploy/package.py adds) and their CLI options.
PARAMETERS = {
    "LlmApiKeyParameter": "llm_key_parameter",
    "LlmProvider": "llm_provider",
    "LlmModel": "llm_model",
    "BedrockRegion": "bedrock_region",
    "ExistingTableName": "existing_table",
    "ApiThrottleRateLimit": "throttle_rate",
    "ApiThrottleBurstLimit": "throttle_burst",
    "HandoffWorkerReservedConcurrency": "worker_reserved_concurrency",
}
DEFAULT_LLM_KEY_PARAMETER = "/mso/llm-api-key"
MIN_UNRESERVED = 100  # Lambda keeps at least this much account concurrency unreserved
_STACK_NAME = re.compile(r"^[a-z][a-z0-9-]{0,22}[a-z0-9]$|^[a-z]$")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --- pure helpers (tested offline) ---------------------------------------------------------------


def validate_stack_name(name: str) -> str:
    """Lowercase letters, digits, '-', at most 24 characters: the name is part of S3 bucket names
    ("<stack>-uploads-<account>-<region>" must fit in 63) and of function names."""
    if not _STACK_NAME.match(name or "") or "--" in name:
        raise ValueError(f"stack name {name!r}: use 1-24 lowercase letters, digits and single '-', "
                         "starting with a letter")
    return name


def artifacts_bucket_name(stack: str, account: str, region: str) -> str:
    return f"{stack}-artifacts-{account}-{region}"


def with_code_location(template: dict[str, Any], bucket: str, key: str) -> dict[str, Any]:
    """The template with every function's CodeUri pointing at the uploaded zip."""
    import copy

    tpl = copy.deepcopy(template)
    for res in tpl["Resources"].values():
        if res.get("Type") == "AWS::Serverless::Function":
            res["Properties"]["CodeUri"] = {"Bucket": bucket, "Key": key}
    return tpl


def stack_parameters(values: dict[str, str | None], existing: set[str]) -> list[dict[str, Any]]:
    """CloudFormation Parameters: given values; on update, previous values for those not given.

    Never falling back to the template default on update matters: a stack pointed at a restored
    table (ExistingTableName) must not silently switch back to its own table on the next deploy.
    """
    out: list[dict[str, Any]] = []
    for key, value in values.items():
        if value is not None:
            out.append({"ParameterKey": key, "ParameterValue": str(value)})
        elif key in existing:
            out.append({"ParameterKey": key, "UsePreviousValue": True})
    return out


def reserved_concurrency_for(wanted: int, unreserved: int) -> int:
    """`wanted` if the account can reserve it (keeping 100 unreserved), else 0 (= none)."""
    return wanted if unreserved - wanted >= MIN_UNRESERVED else 0


def template_default(template: dict[str, Any], name: str) -> Any:
    return template.get("Parameters", {}).get(name, {}).get("Default")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m deploy.stack", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--stack", default=DEFAULT_STACK, type=_stack_arg,
                       help=f"stack name (default {DEFAULT_STACK}; lowercase, <= 24 chars)")
        p.add_argument("--region", default=None, help="AWS region (default: from the AWS environment)")

    d = sub.add_parser("deploy", help="create or update the stack, upload the dashboard")
    common(d)
    d.add_argument("--package-dir", type=Path, default=PACKAGE_DIR, help="what `make package` wrote")
    d.add_argument("--llm-key-parameter", default=None,
                   help=f"SSM SecureString parameter NAME with the LLM key (default {DEFAULT_LLM_KEY_PARAMETER})")
    d.add_argument("--llm-provider", default=None, choices=("openai", "bedrock"),
                   help="who answers the LLM path (default openai); bedrock needs no key, see docs/deploy.md")
    d.add_argument("--llm-model", default=None,
                   help="model id; with bedrock a foundation model or inference profile id (the only one "
                        "the worker may invoke)")
    d.add_argument("--bedrock-region", default=None, help="region of the Bedrock calls ('' = the stack's)")
    d.add_argument("--existing-table", default=None,
                   help="use this table (e.g. a PITR restore) instead of the stack's own; '' = the stack's own")
    d.add_argument("--throttle-rate", type=int, default=None, help="API requests/s (default 50)")
    d.add_argument("--throttle-burst", type=int, default=None, help="API burst (default 100)")
    d.add_argument("--worker-reserved-concurrency", type=int, default=None,
                   help="reserved concurrency of the handoff worker; 0 = none (default: as packaged, "
                        "or 0 when the account's concurrency quota cannot spare it)")
    d.add_argument("--api-base", default="", help="API base URL for the dashboard ('' = same origin, default)")
    d.add_argument("--no-ui", action="store_true", help="skip uploading the dashboard")

    x = sub.add_parser("destroy", help="delete the stack (the table is kept unless --delete-table)")
    common(x)
    x.add_argument("--delete-table", action="store_true", help="also delete the (retained) DynamoDB table")
    x.add_argument("--delete-artifacts", action="store_true", help="also delete the artifacts bucket")
    x.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    for name, text in (("outputs", "print the stack outputs"), ("upload-ui", "upload the dashboard only")):
        p = sub.add_parser(name, help=text)
        common(p)
        if name == "upload-ui":
            p.add_argument("--api-base", default="", help="API base URL ('' = same origin)")

    k = sub.add_parser("set-llm-key", help="create or rotate the LLM key (read from stdin, never argv)")
    common(k)
    k.add_argument("--parameter", default=None, help="parameter name (default: the stack's)")
    return ap.parse_args(argv)


def _stack_arg(value: str) -> str:
    try:
        return validate_stack_name(value)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


# --- AWS -----------------------------------------------------------------------------------------


class Aws:
    """The boto3 clients one command uses, in one region."""

    def __init__(self, region: str | None) -> None:
        import boto3

        self.session = boto3.Session(region_name=region)
        self.region = self.session.region_name
        if not self.region:
            raise SystemExit("no AWS region: pass --region or set AWS_REGION / AWS_DEFAULT_REGION")
        self._clients: dict[str, Any] = {}

    def client(self, name: str) -> Any:
        if name not in self._clients:
            self._clients[name] = self.session.client(name)
        return self._clients[name]

    @property
    def account(self) -> str:
        return self.client("sts").get_caller_identity()["Account"]


def describe_stack(cfn: Any, stack: str) -> dict[str, Any] | None:
    from botocore.exceptions import ClientError

    try:
        return cfn.describe_stacks(StackName=stack)["Stacks"][0]
    except ClientError as e:
        if "does not exist" in str(e):
            return None
        raise


def outputs_of(stack: dict[str, Any] | None) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in (stack or {}).get("Outputs", [])}


def ensure_artifacts_bucket(s3: Any, name: str, region: str) -> None:
    from botocore.exceptions import ClientError

    try:
        s3.head_bucket(Bucket=name)
        return
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
            raise
    log(f"creating artifacts bucket {name}")
    kwargs: dict[str, Any] = {"Bucket": name}
    if region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**kwargs)
    s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    # No expiry: a failed update rolls the functions back to the previous zip, which must still exist.
    # Keys are content hashes, so an unchanged zip is not stored twice (~2 MB per changed deploy).


def prepare_existing_table(dynamodb: Any, table: str) -> None:
    """A restored table has neither point-in-time recovery nor TTL: switch both on (idempotent)."""
    from chalicelib.storage.table import TTL_ATTRIBUTE

    desc = dynamodb.describe_table(TableName=table)["Table"]
    if desc["TableStatus"] != "ACTIVE":
        raise SystemExit(f"table {table} is {desc['TableStatus']}: wait until it is ACTIVE")
    pitr = dynamodb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
    if pitr.get("PointInTimeRecoveryDescription", {}).get("PointInTimeRecoveryStatus") != "ENABLED":
        dynamodb.update_continuous_backups(TableName=table, PointInTimeRecoverySpecification={
            "PointInTimeRecoveryEnabled": True})
        log(f"{table}: point-in-time recovery enabled")
    ttl = dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    if ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
        dynamodb.update_time_to_live(TableName=table, TimeToLiveSpecification={
            "Enabled": True, "AttributeName": TTL_ATTRIBUTE})
        log(f"{table}: TTL on {TTL_ATTRIBUTE} enabled")


def upload_artifact(s3: Any, bucket: str, prefix: str, body: bytes, suffix: str) -> str:
    """Content-addressed upload (skipped when already there). Returns the key."""
    from botocore.exceptions import ClientError

    key = f"{prefix}/{hashlib.sha256(body).hexdigest()}{suffix}"
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError:
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    return key


def print_failures(cfn: Any, stack: str, since: dt.datetime) -> None:
    try:
        events = cfn.describe_stack_events(StackName=stack)["StackEvents"]
    except Exception:  # noqa: BLE001 - best effort diagnostics
        return
    for e in reversed(events):
        if e["Timestamp"] >= since and e["ResourceStatus"].endswith("FAILED"):
            log(f"  {e['LogicalResourceId']}: {e['ResourceStatus']}: {e.get('ResourceStatusReason', '')}")


def wait(cfn: Any, waiter: str, stack: str, started: dt.datetime, **kw: Any) -> None:
    from botocore.exceptions import WaiterError

    try:
        cfn.get_waiter(waiter).wait(StackName=stack, WaiterConfig={"Delay": 10, "MaxAttempts": 360}, **kw)
    except WaiterError as e:
        log(f"{waiter} failed: {e}")
        print_failures(cfn, stack, started)
        raise SystemExit(1) from None


# --- commands ------------------------------------------------------------------------------------


def cmd_deploy(args: argparse.Namespace) -> int:
    import yaml

    from deploy.package import TEMPLATE_NAME, ZIP_NAME, dump_yaml

    template_path, zip_path = args.package_dir / TEMPLATE_NAME, args.package_dir / ZIP_NAME
    if not template_path.is_file() or not zip_path.is_file():
        raise SystemExit(f"{args.package_dir} has no {TEMPLATE_NAME}/{ZIP_NAME}: run `make package` first")
    template = yaml.safe_load(template_path.read_text())
    aws = Aws(args.region)
    cfn, s3 = aws.client("cloudformation"), aws.client("s3")
    account = aws.account
    log(f"account {account}, region {aws.region}, stack {args.stack}")

    bucket = artifacts_bucket_name(args.stack, account, aws.region)
    ensure_artifacts_bucket(s3, bucket, aws.region)
    code_key = upload_artifact(s3, bucket, "code", zip_path.read_bytes(), ".zip")
    final = with_code_location(template, bucket, code_key)
    tmp = args.package_dir / "sam.deploy.yaml"
    dump_yaml(final, tmp)
    template_key = upload_artifact(s3, bucket, "templates", tmp.read_bytes(), ".yaml")
    template_url = f"https://{bucket}.s3.{aws.region}.amazonaws.com/{template_key}"

    existing = describe_stack(cfn, args.stack)
    if existing and existing["StackStatus"] == "REVIEW_IN_PROGRESS":
        existing = None  # a CREATE change set that never executed: create again
    if existing and existing["StackStatus"] == "ROLLBACK_COMPLETE":
        raise SystemExit(f"stack {args.stack} is ROLLBACK_COMPLETE (its creation failed; the reasons are in its "
                         f"events): `make destroy STACK={args.stack}`, fix the cause, deploy again")
    if args.existing_table:
        prepare_existing_table(aws.client("dynamodb"), args.existing_table)
    previous = {p["ParameterKey"] for p in (existing or {}).get("Parameters", [])}
    values = {key: getattr(args, attr) for key, attr in PARAMETERS.items()}
    if existing is None and values["HandoffWorkerReservedConcurrency"] is None:
        wanted = int(template_default(template, "HandoffWorkerReservedConcurrency") or 0)
        unreserved = aws.client("lambda").get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"]
        chosen = reserved_concurrency_for(wanted, unreserved)
        if chosen != wanted:
            log(f"the account has {unreserved} unreserved concurrency: not reserving {wanted} for the worker "
                "(its SQS MaximumConcurrency still caps LLM calls); ask AWS for a higher Lambda quota")
        values["HandoffWorkerReservedConcurrency"] = str(chosen)
    params = stack_parameters(values, previous)

    started = dt.datetime.now(dt.UTC)
    change_set = f"deploy-{started:%Y%m%d%H%M%S}"
    kind = "UPDATE" if existing else "CREATE"
    log(f"{kind.lower()} change set {change_set}")
    cfn.create_change_set(StackName=args.stack, ChangeSetName=change_set, ChangeSetType=kind,
                          TemplateURL=template_url, Parameters=params, Capabilities=CAPABILITIES,
                          Tags=[{"Key": "app", "Value": "mso"}])
    try:
        cfn.get_waiter("change_set_create_complete").wait(
            StackName=args.stack, ChangeSetName=change_set, WaiterConfig={"Delay": 5, "MaxAttempts": 120})
    except Exception:  # noqa: BLE001 - a change set with no changes "fails" too
        desc = cfn.describe_change_set(StackName=args.stack, ChangeSetName=change_set)
        reason = desc.get("StatusReason", "")
        if "didn't contain changes" in reason or "No updates" in reason:
            log("no infrastructure changes")
            cfn.delete_change_set(StackName=args.stack, ChangeSetName=change_set)
        else:
            raise SystemExit(f"change set failed: {reason}") from None
    else:
        cfn.execute_change_set(StackName=args.stack, ChangeSetName=change_set)
        log("executing (a new stack takes ~5-10 minutes, CloudFront most of it)")
        wait(cfn, "stack_create_complete" if kind == "CREATE" else "stack_update_complete", args.stack, started)

    outputs = outputs_of(describe_stack(cfn, args.stack))
    if not args.no_ui:
        _upload_ui(aws, outputs, args.api_base)
    if outputs.get("LlmProvider") == "bedrock":  # no key to check: the worker's role signs the calls
        log("LLM: Amazon Bedrock (no key; the worker may invoke the configured model only)")
    else:
        _check_llm_key(aws, outputs.get("LlmApiKeyParameter", DEFAULT_LLM_KEY_PARAMETER), args.stack)
    print(f"\nDashboard: {outputs.get('DashboardURL')}")
    print(f"API:       {outputs.get('DashboardURL', '').rstrip('/')}/api/health")
    print(f"First token: make token-aws STACK={args.stack} TENANT=<your-name>   (paste it in Settings)")
    return 0


def _upload_ui(aws: Aws, outputs: dict[str, str], api_base: str) -> None:
    from deploy import ui

    keys = ui.upload(aws.client("s3"), outputs["DashboardBucketName"], api_base=api_base)
    log(f"dashboard: {len(keys)} files uploaded to {outputs['DashboardBucketName']}")
    aws.client("cloudfront").create_invalidation(
        DistributionId=outputs["DistributionId"],
        InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": str(time.time())})


def _check_llm_key(aws: Aws, name: str, stack: str) -> None:
    from botocore.exceptions import ClientError

    try:
        aws.client("ssm").describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])["Parameters"][0]
    except (ClientError, IndexError):
        log(f"\nNo SSM parameter {name}: handoffs use the rule-based generator. To enable the LLM:\n"
            f"  python -m deploy.stack set-llm-key --stack {stack}   (reads the key from stdin)")


def cmd_destroy(args: argparse.Namespace) -> int:
    aws = Aws(args.region)
    cfn, s3 = aws.client("cloudformation"), aws.client("s3")
    stack = describe_stack(cfn, args.stack)
    if stack is None:
        log(f"no stack {args.stack} in {aws.region}")
    else:
        outputs = outputs_of(stack)
        table = outputs.get("TableName")
        what = f"stack {args.stack} in {aws.region}" + (f" AND table {table}" if args.delete_table else "")
        if not args.yes and not _confirm(f"Delete {what}? Type the stack name to confirm: ", args.stack):
            log("cancelled")
            return 1
        for key in ("DashboardBucketName", "UploadBucketName"):
            if outputs.get(key):
                _empty_bucket(s3, outputs[key])
        started = dt.datetime.now(dt.UTC)
        cfn.delete_stack(StackName=args.stack)
        log("deleting (CloudFront takes a few minutes)")
        wait(cfn, "stack_delete_complete", args.stack, started)
        if table and args.delete_table:
            aws.client("dynamodb").delete_table(TableName=table)
            log(f"table {table} deleted")
        elif table:
            log(f"table {table} kept (DeletionPolicy Retain); delete it with --delete-table or:\n"
                f"  aws dynamodb delete-table --table-name {table}")
    if args.delete_artifacts:
        bucket = artifacts_bucket_name(args.stack, aws.account, aws.region)
        _empty_bucket(s3, bucket)
        s3.delete_bucket(Bucket=bucket)
        log(f"artifacts bucket {bucket} deleted")
    return 0


def _confirm(prompt: str, expected: str) -> bool:
    try:
        return input(prompt).strip() == expected
    except EOFError:
        return False


def _empty_bucket(s3: Any, bucket: str) -> None:
    from botocore.exceptions import ClientError

    from deploy.ui import list_keys

    try:
        keys = list_keys(s3, bucket)
    except ClientError as e:
        if "NoSuchBucket" in str(e):
            return
        raise
    for i in range(0, len(keys), 1000):
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys[i:i + 1000]], "Quiet": True})
    log(f"emptied {bucket} ({len(keys)} objects)")


def cmd_outputs(args: argparse.Namespace) -> int:
    aws = Aws(args.region)
    stack = describe_stack(aws.client("cloudformation"), args.stack)
    if stack is None:
        raise SystemExit(f"no stack {args.stack} in {aws.region}")
    for k, v in sorted(outputs_of(stack).items()):
        print(f"{k}\t{v}")
    return 0


def cmd_upload_ui(args: argparse.Namespace) -> int:
    aws = Aws(args.region)
    outputs = outputs_of(describe_stack(aws.client("cloudformation"), args.stack))
    if not outputs:
        raise SystemExit(f"no stack {args.stack} in {aws.region}: `make deploy` first")
    _upload_ui(aws, outputs, args.api_base)
    print(outputs["DashboardURL"])
    return 0


def cmd_set_llm_key(args: argparse.Namespace) -> int:
    """Write the key as a SecureString, then make the worker start fresh containers.

    The worker caches the key for the life of each container; changing the function's
    description is a configuration update, after which new invocations get new containers.
    """
    aws = Aws(args.region)
    outputs = outputs_of(describe_stack(aws.client("cloudformation"), args.stack))
    name = args.parameter or outputs.get("LlmApiKeyParameter") or DEFAULT_LLM_KEY_PARAMETER
    key = getpass.getpass(f"LLM API key for {name}: ") if sys.stdin.isatty() else sys.stdin.readline()
    key = key.strip()
    if not key:
        raise SystemExit("empty key: nothing written")
    aws.client("ssm").put_parameter(Name=name, Value=key, Type="SecureString", Overwrite=True,
                                    Description="LLM API key for the MSO handoff worker")
    log(f"{name} written (SecureString)")
    if outputs:
        fn = f"{args.stack}-handoff-worker"
        aws.client("lambda").update_function_configuration(
            FunctionName=fn, Description=f"Builds handoffs from SQS jobs; key rotated {dt.datetime.now(dt.UTC):%Y-%m-%dT%H:%MZ}")
        log(f"{fn}: configuration touched, new invocations load the new key")
    return 0


COMMANDS = {"deploy": cmd_deploy, "destroy": cmd_destroy, "outputs": cmd_outputs, "upload-ui": cmd_upload_ui,
            "set-llm-key": cmd_set_llm_key}


def friendly_aws_errors(fn: Any, *args: Any) -> int:
    """Run a command; missing credentials end with a sentence, not a traceback."""
    from botocore.exceptions import NoCredentialsError, NoRegionError

    try:
        return fn(*args)
    except NoCredentialsError:
        raise SystemExit("no AWS credentials: set AWS_PROFILE (or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), "
                         "see docs/deploy.md") from None
    except NoRegionError:
        raise SystemExit("no AWS region: pass --region or set AWS_REGION") from None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return friendly_aws_errors(COMMANDS[args.command], args)


if __name__ == "__main__":
    sys.exit(main())
