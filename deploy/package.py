"""`make package`: the CloudFormation template and the Lambda zip for the `prod` stage, offline.

    python -m deploy.package [--stage prod] [--out build/package]

Steps (no AWS credentials or AWS calls; pip reaches PyPI for the Lambda wheels):

1. `chalice package --stage prod --merge-template deploy/resources.yaml OUT`, run in-process so that
   `@app.on_s3_event` can be packaged: Chalice refuses it for CloudFormation ("cannot modify the
   notifications of existing buckets"), but our bucket is created by the same template, so the
   patched generator writes the notification onto the `UploadBucket` resource plus the
   `AWS::Lambda::Permission` S3 needs (`_s3_notification`).
2. Post-process the merged template (`postprocess`), for what `.chalice/config.json` cannot hold:
   - `${...}` placeholders in environment variables and in `.chalice/policy-prod-*.json` become
     `Fn::Sub` (so policies name exactly this stack's table, queue, bucket and parameter);
   - the table's keys and index come from `chalicelib.storage.table.table_definition()`;
   - the worker's SQS event source points at the `HandoffQueue` of this template (Chalice builds an
     ARN from the queue *name*), with `ScalingConfig.MaximumConcurrency` = its reserved concurrency;
   - a function's `reserved_concurrency` becomes a stack parameter (0 = none), because new AWS
     accounts (concurrency quota 10) cannot reserve any.
3. Remove what the Lambda runtime already has (boto3/botocore and their dependencies) from the zip,
   compile every module to bytecode (the
   task directory is read-only on Lambda: without .pyc each cold start compiles all it imports),
   check the zip is under 20 MB and that `app` (and the worker/importer code paths) import from
   the zip contents plus the runtime's boto3 alone.

Writes OUT/sam.yaml, OUT/deployment.zip and OUT/package-report.json.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "build" / "package"
MERGE_TEMPLATE = ROOT / "deploy" / "resources.yaml"
TEMPLATE_NAME = "sam.yaml"
ZIP_NAME = "deployment.zip"
REPORT_NAME = "package-report.json"
MAX_ZIP_BYTES = 20 * 1024 * 1024
# botocore settings for the functions (S3 presigning: SigV4, regional host); see the file.
LAMBDA_TASK_ROOT = "/var/task"  # where Lambda unpacks the zip

# In the Lambda Python runtime already (boto3 and its dependency closure). pynamodb requires
# botocore, so pip puts these in the zip; a second botocore only costs size and cold start.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six")
_RUNTIME_DISTS = {"boto3", "botocore", "s3transfer", "jmespath", "python_dateutil", "six"}

# Logical ids of resources defined in deploy/resources.yaml that this script wires things to.
UPLOAD_BUCKET = "UploadBucket"
HANDOFF_QUEUE = "HandoffQueue"
TABLE = "Table"
# The upload bucket's name is computed, never `Ref`'d: the bucket's notification depends on the
# importer function, whose role names the bucket; a Ref would make that a circular dependency.
UPLOAD_BUCKET_NAME = "${AWS::StackName}-uploads-${AWS::AccountId}-${AWS::Region}"
# Placeholders that are not a parameter or resource of the template, with what they stand for.
SUB_VARIABLES: dict[str, Any] = {
    "TableName": {"Fn::If": ["UseExistingTable", {"Ref": "ExistingTableName"}, {"Ref": TABLE}]},
    # Where the worker calls Bedrock (its IAM ARNs): the BedrockRegion parameter, else the stack's region.
    "BedrockRegionName": {"Fn::If": ["BedrockRegionGiven", {"Ref": "BedrockRegion"}, {"Ref": "AWS::Region"}]},
}
TEXT_PLACEHOLDERS = {"${UploadBucketName}": UPLOAD_BUCKET_NAME}
_PLACEHOLDER = re.compile(r"\$\{([^}!][^}]*)\}")


# --- 1. chalice package, with S3 event sources -------------------------------------------------


def _s3_notification(generator: Any, resource: Any, template: dict[str, Any]) -> None:
    """Replacement for SAMTemplateGenerator._generate_s3bucketnotification (see module doc)."""
    from chalice.utils import to_cfn_resource_name

    resources = template["Resources"]
    fn = to_cfn_resource_name(resource.lambda_function.resource_name)
    seen = template.setdefault("Metadata", {}).setdefault("MsoS3EventBuckets", [])
    if resource.bucket not in seen:
        seen.append(resource.bucket)
    if len(seen) > 1:
        raise SystemExit(f"only one S3 event bucket is supported (the upload bucket), got {seen}")
    permission = f"{fn}S3Permission"
    resources[permission] = {
        "Type": "AWS::Lambda::Permission",
        "Properties": {
            "FunctionName": {"Ref": fn},
            "Action": "lambda:InvokeFunction",
            "Principal": "s3.amazonaws.com",
            "SourceAccount": {"Ref": "AWS::AccountId"},
            "SourceArn": {"Fn::Sub": "arn:${AWS::Partition}:s3:::" + UPLOAD_BUCKET_NAME},
        },
    }
    rules = [{"Name": k, "Value": v} for k, v in (("prefix", resource.prefix), ("suffix", resource.suffix)) if v]
    bucket = resources.setdefault(UPLOAD_BUCKET, {"Type": "AWS::S3::Bucket"})
    depends = bucket.setdefault("DependsOn", [])
    if permission not in depends:
        depends.append(permission)
    configs = bucket.setdefault("Properties", {}).setdefault("NotificationConfiguration", {}).setdefault(
        "LambdaConfigurations", [])
    for ev in resource.events:
        cfg: dict[str, Any] = {"Event": ev, "Function": {"Fn::GetAtt": [fn, "Arn"]}}
        if rules:
            cfg["Filter"] = {"S3Key": {"Rules": rules}}
        configs.append(cfg)


def run_chalice_package(out_dir: Path, *, stage: str = "prod", merge_template: Path = MERGE_TEMPLATE,
                        project_dir: Path = ROOT) -> Path:
    """`chalice package` into out_dir (in-process, S3 events patched in). Returns the template path."""
    from chalice import package as chalice_package
    from chalice.cli import cli

    # The template is region-agnostic (pseudo parameters); Chalice only wants a region for its
    # botocore session. No credentials are needed or used.
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    chalice_package.SAMTemplateGenerator._generate_s3bucketnotification = _s3_notification
    args = ["--project-dir", str(project_dir), "package", "--stage", stage,
            "--merge-template", str(merge_template), str(out_dir)]
    try:
        cli.main(args=args, prog_name="chalice", standalone_mode=False, obj={})
    except SystemExit as e:  # click may still exit on usage errors
        if e.code:
            raise
    template = out_dir / TEMPLATE_NAME
    if not template.is_file():
        raise SystemExit(f"chalice package wrote no {TEMPLATE_NAME} in {out_dir}")
    return template


def prune_chalice_cache(keep: int = 2, project_dir: Path = ROOT) -> None:
    """Chalice keeps a ~19 MB zip per distinct source tree in .chalice/deployments; keep the newest."""
    cache = project_dir / ".chalice" / "deployments"
    zips = sorted(cache.glob("*.zip"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in zips[keep:]:
        old.unlink(missing_ok=True)


# --- 2. post-processing ------------------------------------------------------------------------


def to_sub(value: Any, known: set[str]) -> Any:
    """A string with `${...}` placeholders -> Fn::Sub (with a variable map when needed).

    `known` are the template's parameters and resources; `${Res.Attr}` and `${AWS::...}` are
    resolved by CloudFormation itself. An unknown placeholder is an error at package time.
    """
    if not isinstance(value, str) or "${" not in value:
        return value
    for text, replacement in TEXT_PLACEHOLDERS.items():
        value = value.replace(text, replacement)
    whole = _PLACEHOLDER.fullmatch(value)
    if whole and not whole.group(1).startswith("AWS::"):  # "${X}" alone: a plain Ref / GetAtt
        name = whole.group(1)
        if name in SUB_VARIABLES:
            return copy.deepcopy(SUB_VARIABLES[name])
        if name.split(".", 1)[0] not in known:
            raise ValueError(f"unknown placeholder ${{{name}}}")
        return {"Fn::GetAtt": name.split(".", 1)} if "." in name else {"Ref": name}
    variables: dict[str, Any] = {}
    for name in _PLACEHOLDER.findall(value):
        if name in SUB_VARIABLES:
            variables[name] = copy.deepcopy(SUB_VARIABLES[name])
        elif not (name.startswith("AWS::") or name.split(".", 1)[0] in known):
            raise ValueError(f"unknown placeholder ${{{name}}} in {value!r}")
    return {"Fn::Sub": [value, variables]} if variables else {"Fn::Sub": value}


def _sub_all(obj: Any, known: set[str]) -> Any:
    if isinstance(obj, dict):
        return {k: _sub_all(v, known) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_sub_all(v, known) for v in obj]
    return to_sub(obj, known)


def functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r.get("Type") == "AWS::Serverless::Function"}


def postprocess(template: dict[str, Any], table_definition: dict[str, Any]) -> dict[str, Any]:
    """Finish the merged template (see module doc). Returns a new template."""
    tpl = copy.deepcopy(template)
    tpl.get("Metadata", {}).pop("MsoS3EventBuckets", None)
    if not tpl.get("Metadata"):
        tpl.pop("Metadata", None)
    resources = tpl["Resources"]
    known = set(resources) | set(tpl.get("Parameters", {}))

    table = resources[TABLE]["Properties"]
    for key in ("BillingMode", "AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes"):
        table[key] = copy.deepcopy(table_definition[key])

    lower = {name.lower(): name for name in resources}
    for res in resources.values():
        if res.get("Type") == "AWS::Logs::LogGroup":
            # Chalice names the API function "APIHandler" but its log group Subs "${ApiHandler}".
            props = res["Properties"]
            sub = props.get("LogGroupName", {}).get("Fn::Sub")
            m = re.fullmatch(r"/aws/lambda/\$\{(\w+)\}", sub or "")
            if m and m.group(1) not in resources and m.group(1).lower() in lower:
                props["LogGroupName"] = {"Fn::Sub": "/aws/lambda/${" + lower[m.group(1).lower()] + "}"}
        if res.get("Type") == "AWS::IAM::Role":
            for policy in res["Properties"].get("Policies", []):
                policy["PolicyDocument"] = _sub_all(policy["PolicyDocument"], known)

    for name, fn in functions(tpl).items():
        props = fn["Properties"]
        env = props.get("Environment", {}).get("Variables", {})
        for key, value in env.items():
            env[key] = to_sub(value, known)
        reserved = props.get("ReservedConcurrentExecutions")
        if isinstance(reserved, int):
            _reserved_concurrency_parameter(tpl, name, reserved)
        for event in props.get("Events", {}).values():
            if event.get("Type") == "SQS":
                event["Properties"]["Queue"] = {"Fn::GetAtt": [HANDOFF_QUEUE, "Arn"]}
                if isinstance(reserved, int):  # never more pollers than the function may run
                    event["Properties"]["ScalingConfig"] = {"MaximumConcurrency": max(2, reserved)}
    return tpl


def _reserved_concurrency_parameter(tpl: dict[str, Any], fn: str, default: int) -> None:
    param, cond = f"{fn}ReservedConcurrency", f"{fn}HasReservedConcurrency"
    tpl.setdefault("Parameters", {})[param] = {
        "Type": "Number", "Default": default, "MinValue": 0,
        "Description": (f"Reserved concurrency of {fn} (from .chalice/config.json). 0 = reserve none: "
                        "accounts whose Lambda concurrency quota is below 100 + this value cannot "
                        "reserve (new accounts start at 10)."),
    }
    tpl.setdefault("Conditions", {})[cond] = {"Fn::Not": [{"Fn::Equals": [{"Ref": param}, "0"]}]}
    tpl["Resources"][fn]["Properties"]["ReservedConcurrentExecutions"] = {
        "Fn::If": [cond, {"Ref": param}, {"Ref": "AWS::NoValue"}]}


# --- 3. the zip ----------------------------------------------------------------------------------


def _top_level(name: str) -> str:
    top = name.split("/", 1)[0]
    return top[:-3] if top.endswith(".py") else top


def _is_runtime_provided(name: str, drop: Iterable[str] = RUNTIME_PROVIDED) -> bool:
    top = name.split("/", 1)[0]
    if top.endswith((".dist-info", ".egg-info", ".data")):
        dist = re.split(r"-\d", top, maxsplit=1)[0].replace("-", "_").lower()
        return dist in _RUNTIME_DISTS or dist in set(drop)
    return _top_level(name) in set(drop)


def slim_zip(path: Path, drop: Iterable[str] = RUNTIME_PROVIDED) -> list[str]:
    """Rewrite the zip without the runtime-provided packages. Returns the top-level names removed."""
    drop = tuple(drop)
    removed: set[str] = set()
    tmp = path.with_suffix(".tmp.zip")
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zout:
        for info in zin.infolist():
            if _is_runtime_provided(info.filename, drop):
                removed.add(info.filename.split("/", 1)[0])
                continue
            zout.writestr(info, zin.read(info), compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    tmp.replace(path)
    return sorted(removed)


_COMPILE_ALL = """
import importlib.util, py_compile, sys
from pathlib import Path
root, task_root = Path(sys.argv[1]), sys.argv[2]
for src in sorted(root.rglob("*.py")):
    rel = src.relative_to(root).as_posix()
    try:  # the recorded path is Lambda's (/var/task/...), not this temporary directory
        py_compile.compile(str(src), cfile=importlib.util.cache_from_source(str(src)), dfile=f"{task_root}/{rel}",
                           doraise=True, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    except py_compile.PyCompileError as e:  # e.g. a Python 2 file in a wheel: ship it as source only
        print(f"not compiled: {rel}: {e.exc_type_name}", file=sys.stderr)
"""


def compile_zip(path: Path, runtime: str | None) -> int:
    """Ship bytecode: /var/task is read-only, so without .pyc files in the zip every cold start
    compiles every imported module again. Stale __pycache__ that Chalice copied from the work
    tree is dropped; fresh .pyc are written with PEP 552 "unchecked-hash" invalidation, valid
    whatever the file times in the zip. Only when this interpreter is the runtime's version.
    Returns the number of .pyc files (0 = skipped)."""
    if runtime != f"python{sys.version_info[0]}.{sys.version_info[1]}":
        print(f"warning: packaging with Python {sys.version.split()[0]} for {runtime}: no bytecode shipped",
              file=sys.stderr)
        return 0
    with tempfile.TemporaryDirectory(prefix="mso-pyc-") as tmp:
        root = Path(tmp)
        modes: dict[str, int] = {}
        with zipfile.ZipFile(path) as z:
            for info in z.infolist():
                if "__pycache__/" in info.filename or info.filename.endswith(".pyc"):
                    continue
                z.extract(info, root)
                modes[info.filename] = (info.external_attr >> 16) & 0o777 or 0o644
        # A fresh interpreter compiling in sorted order: marshal output depends on the process's
        # state (interned strings' reference counts), so this is what makes builds reproducible.
        subprocess.run([sys.executable, "-I", "-c", _COMPILE_ALL, str(root), LAMBDA_TASK_ROOT], check=True)
        files = sorted(p for p in root.rglob("*") if p.is_file())
        count = 0
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
            for f in files:
                name = f.relative_to(root).as_posix()
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                info.external_attr = (modes.get(name, 0o644) | 0o444) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info, f.read_bytes(), compresslevel=9)
                count += name.endswith(".pyc")
    return count


def zip_report(path: Path, top: int = 12) -> dict[str, Any]:
    """Size of the zip and of its largest top-level packages (compressed bytes)."""
    sizes: dict[str, list[int]] = {}
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            key = _top_level(info.filename)
            if key.endswith((".dist-info", ".egg-info")):
                key = "*.dist-info"
            s = sizes.setdefault(key, [0, 0])
            s[0] += info.compress_size
            s[1] += info.file_size
    largest = sorted(sizes.items(), key=lambda kv: -kv[1][0])[:top]
    return {
        "zip_bytes": path.stat().st_size,
        "unzipped_bytes": sum(v[1] for v in sizes.values()),
        "largest": [{"name": k, "zipped_bytes": v[0], "unzipped_bytes": v[1]} for k, v in largest],
    }


# What each function imports on its first event; checked from the zip alone (plus runtime boto3).
IMPORT_CHECK = """
import importlib, sys
import app
lazy = sorted(({m.split(".")[0] for m in sys.modules} & {"requests", "detect_secrets", "yaml"})
              | ({"chalicelib.llm.client", "chalicelib.llm.bedrock", "chalicelib.handoff.llm_writer"}
                 & set(sys.modules)))
assert not lazy, f"`import app` (every cold start) should not import {lazy}"
for name in ("chalicelib.domain.handoffs", "chalicelib.handoff.rules", "chalicelib.handoff.llm_writer",
             "chalicelib.llm.client", "chalicelib.llm.factory", "chalicelib.domain.uploads", "requests"):
    importlib.import_module(name)
import botocore
print("ok: botocore from", botocore.__file__)
"""


def runtime_site(dest: Path) -> Path:
    """A directory standing in for the Lambda runtime's boto3 (links to this venv's copies)."""
    import importlib.util

    dest.mkdir(parents=True, exist_ok=True)
    for name in RUNTIME_PROVIDED:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            continue
        src = Path(spec.origin)
        src = src.parent if src.name == "__init__.py" else src
        link = dest / src.name
        if not link.exists():
            link.symlink_to(src, target_is_directory=src.is_dir())
    return dest


def check_zip_imports(zip_path: Path, code: str = IMPORT_CHECK, env: dict[str, str] | None = None) -> str:
    """Run `code` (default: import the app) as Lambda would: from the extracted zip at /var/task's
    place, no site-packages (python -S) but the runtime's boto3. `env` adds variables; the text
    "{task}" in their values is replaced by the extraction directory."""
    with tempfile.TemporaryDirectory(prefix="mso-zip-") as tmp:
        task = Path(tmp) / "task"
        with zipfile.ZipFile(zip_path) as z:
            z.extractall(task)
        runtime = runtime_site(Path(tmp) / "runtime")
        env = {"PATH": os.environ.get("PATH", ""), "AWS_DEFAULT_REGION": "us-east-1", "MSO_TABLE": "mso",
               "MSO_JOBS": "sqs", "PYTHONDONTWRITEBYTECODE": "1",
               **{k: v.replace("{task}", str(task)) for k, v in (env or {}).items()}}
        prog = f"import sys; sys.path[:0] = [{str(task)!r}, {str(runtime)!r}]\n" + code
        proc = subprocess.run([sys.executable, "-S", "-c", prog], cwd=task, env=env, capture_output=True,
                              text=True, timeout=120)
        if proc.returncode != 0:
            raise SystemExit(f"the packaged app does not import:\n{proc.stderr[-3000:]}")
        return proc.stdout.strip()


# --- main ----------------------------------------------------------------------------------------


def load_yaml(path: Path) -> dict[str, Any]:
    import yaml

    return yaml.safe_load(path.read_text())


def dump_yaml(data: dict[str, Any], path: Path) -> None:
    import yaml

    header = ("# Generated by `make package` (python -m deploy.package) from .chalice/config.json,\n"
              "# .chalice/policy-prod-*.json and deploy/resources.yaml. Do not edit: change those.\n")

    class NoAliases(yaml.SafeDumper):  # CloudFormation rejects YAML anchors/aliases
        def ignore_aliases(self, data: Any) -> bool:
            return True

    path.write_text(header + yaml.dump(data, Dumper=NoAliases, sort_keys=False, allow_unicode=True, width=120))


def build(out: Path = DEFAULT_OUT, *, stage: str = "prod", verify: bool = True) -> dict[str, Any]:
    from chalicelib.storage.table import table_definition

    out = out.resolve()
    if out.exists():
        shutil.rmtree(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    template_path = run_chalice_package(out, stage=stage)
    prune_chalice_cache()
    template = postprocess(load_yaml(template_path), table_definition("unused"))
    dump_yaml(template, template_path)
    zip_path = out / ZIP_NAME
    before = zip_path.stat().st_size
    removed = slim_zip(zip_path)
    runtimes = {fn["Properties"].get("Runtime") for fn in functions(template).values()}
    pyc = compile_zip(zip_path, runtimes.pop()) if len(runtimes) == 1 else 0
    report = {"stage": stage, "template": str(template_path), "zip": str(zip_path),
              "zip_bytes_before_slimming": before, "removed": removed, "pyc_files": pyc, **zip_report(zip_path)}
    if report["zip_bytes"] > MAX_ZIP_BYTES:
        raise SystemExit(f"{zip_path} is {report['zip_bytes']:,} bytes, over the {MAX_ZIP_BYTES:,} budget")
    if verify:
        report["import_check"] = check_zip_imports(zip_path)
    (out / REPORT_NAME).write_text(json.dumps(report, indent=2) + "\n")
    return report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m deploy.package", description=__doc__.split("\n\n")[0])
    ap.add_argument("--stage", default="prod", help="Chalice stage (default: prod)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory (default: build/package)")
    ap.add_argument("--no-verify", action="store_true", help="skip importing the app from the zip")
    args = ap.parse_args(argv)
    report = build(args.out, stage=args.stage, verify=not args.no_verify)
    mb = report["zip_bytes"] / 1024 / 1024
    print(f"template: {report['template']}")
    print(f"zip:      {report['zip']} ({mb:.2f} MB; removed, the runtime has them: {', '.join(report['removed'])})")
    for p in report["largest"][:6]:
        print(f"          {p['name']:<24} {p['zipped_bytes'] / 1024:8.0f} KB zipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
