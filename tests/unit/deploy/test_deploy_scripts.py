"""The deploy scripts' logic, offline: template post-processing, zip slimming, the dashboard upload,
argument parsing, stack parameters, tokens; `deploy` itself against moto S3/SSM and a fake
CloudFormation (nothing here talks to AWS)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from deploy import package, stack, ui
from deploy import token as token_cli

ROOT = Path(__file__).resolve().parents[3]


# --- deploy/package.py -----------------------------------------------------------------------------


def test_placeholders_become_sub_ref_or_getatt():
    known = {"HandoffQueue", "LlmApiKeyParameter", "Table"}
    assert package.to_sub("plain", known) == "plain"
    assert package.to_sub("${HandoffQueue}", known) == {"Ref": "HandoffQueue"}
    assert package.to_sub("${HandoffQueue.Arn}", known) == {"Fn::GetAtt": ["HandoffQueue", "Arn"]}
    assert package.to_sub("${TableName}", known) == package.SUB_VARIABLES["TableName"]
    sub = package.to_sub("arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${TableName}", known)
    assert sub["Fn::Sub"][1] == {"TableName": package.SUB_VARIABLES["TableName"]}
    assert package.to_sub("${UploadBucketName}/uploads/*", known) == {
        "Fn::Sub": "${AWS::StackName}-uploads-${AWS::AccountId}-${AWS::Region}/uploads/*"}
    assert package.to_sub("arn:${AWS::Partition}:s3:::x", known) == {"Fn::Sub": "arn:${AWS::Partition}:s3:::x"}
    with pytest.raises(ValueError, match="Tabel"):
        package.to_sub("${Tabel}", known)
    with pytest.raises(ValueError, match="Nope"):
        package.to_sub("arn:${Nope.Arn}/x", known)


def _minimal_template() -> dict[str, Any]:
    return {
        "Resources": {
            "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {}},
            "HandoffQueue": {"Type": "AWS::SQS::Queue"},
            "Worker": {"Type": "AWS::Serverless::Function", "Properties": {
                "ReservedConcurrentExecutions": 3,
                "Environment": {"Variables": {"MSO_QUEUE_URL": "${HandoffQueue}", "MSO_JOBS": "sqs"}},
                "Events": {"Sqs": {"Type": "SQS", "Properties": {"Queue": {"Fn::Sub": "arn:...:mso-jobs"}}}}}},
            "WorkerLogGroup": {"Type": "AWS::Logs::LogGroup", "Properties": {
                "LogGroupName": {"Fn::Sub": "/aws/lambda/${worker}"}}},
            "Role": {"Type": "AWS::IAM::Role", "Properties": {"Policies": [{"PolicyDocument": {
                "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "${HandoffQueue.Arn}"}]}}]}},
        },
        "Metadata": {"MsoS3EventBuckets": ["mso-transcript-uploads"]},
    }


def test_postprocess_wires_what_chalice_cannot():
    from chalicelib.storage.table import table_definition

    out = package.postprocess(_minimal_template(), table_definition("t"))
    assert "Metadata" not in out
    worker = out["Resources"]["Worker"]["Properties"]
    assert worker["Environment"]["Variables"] == {"MSO_QUEUE_URL": {"Ref": "HandoffQueue"}, "MSO_JOBS": "sqs"}
    assert worker["Events"]["Sqs"]["Properties"]["Queue"] == {"Fn::GetAtt": ["HandoffQueue", "Arn"]}
    assert worker["Events"]["Sqs"]["Properties"]["ScalingConfig"] == {"MaximumConcurrency": 3}
    assert out["Parameters"]["WorkerReservedConcurrency"]["Default"] == 3
    assert worker["ReservedConcurrentExecutions"]["Fn::If"][0] == "WorkerHasReservedConcurrency"
    assert out["Resources"]["WorkerLogGroup"]["Properties"]["LogGroupName"] == {"Fn::Sub": "/aws/lambda/${Worker}"}
    st = out["Resources"]["Role"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"][0]
    assert st["Resource"] == {"Fn::GetAtt": ["HandoffQueue", "Arn"]}
    assert out["Resources"]["Table"]["Properties"]["KeySchema"] == table_definition("t")["KeySchema"]


def _zip(tmp_path: Path, names: list[str]) -> Path:
    path = tmp_path / "d.zip"
    with zipfile.ZipFile(path, "w") as z:
        for n in names:
            z.writestr(n, b"x" * 100)
    return path


def test_slim_zip_removes_only_the_runtime_sdk(tmp_path):
    names = ["app.py", "chalicelib/__init__.py", "botocore/__init__.py", "botocore/data/s3.json",
             "botocore-1.44.8.dist-info/METADATA", "boto3/__init__.py", "s3transfer/__init__.py",
             "jmespath/__init__.py", "jmespath-1.1.0.data/scripts/jp.py", "dateutil/tz.py",
             "python_dateutil-2.9.0.post0.dist-info/RECORD", "six.py", "six-1.17.0.dist-info/RECORD",
             "urllib3/__init__.py", "pynamodb/__init__.py", "sixpack/__init__.py", "botocore_extra.py"]
    path = _zip(tmp_path, names)
    removed = package.slim_zip(path)
    with zipfile.ZipFile(path) as z:
        left = sorted(z.namelist())
    assert left == sorted(["app.py", "chalicelib/__init__.py", "urllib3/__init__.py", "pynamodb/__init__.py",
                           "sixpack/__init__.py", "botocore_extra.py"])
    assert "botocore" in removed and "six.py" in removed
    report = package.zip_report(path)
    assert report["zip_bytes"] == path.stat().st_size and report["largest"][0]["name"]


def test_s3_notification_generator_refuses_a_second_bucket():
    from chalice.deploy import models

    fn = SimpleNamespace(resource_name="transcript_upload")
    template: dict[str, Any] = {"Resources": {}}
    res = SimpleNamespace(lambda_function=fn, bucket="a", events=["s3:ObjectCreated:*"], prefix="uploads/",
                          suffix=None)
    package._s3_notification(None, res, template)
    package._s3_notification(None, res, template)  # same bucket, second event: fine
    bucket = template["Resources"]["UploadBucket"]
    assert bucket["DependsOn"] == ["TranscriptUploadS3Permission"]
    assert len(bucket["Properties"]["NotificationConfiguration"]["LambdaConfigurations"]) == 2
    with pytest.raises(SystemExit):
        package._s3_notification(None, SimpleNamespace(**{**vars(res), "bucket": "b"}), template)
    assert models.S3BucketNotification  # the model this generator handles


def test_make_package_command_is_the_makefile_one(tmp_path):
    from tests.unit.deploy.conftest import make_package_command

    cmd = make_package_command(tmp_path)
    assert cmd[1:4] == ["-m", "deploy.package", "--stage"] and cmd[-1] == str(tmp_path)


# --- deploy/ui.py ----------------------------------------------------------------------------------


PAGE = '<head>\n  <meta charset="utf-8">\n  <meta name="mso-api-base" content="">\n</head>'


def test_set_api_base_rewrites_only_the_meta_tag():
    out = ui.set_api_base(PAGE, "https://abc.execute-api.eu-west-1.amazonaws.com/api/")
    assert ui.get_api_base(out) == "https://abc.execute-api.eu-west-1.amazonaws.com/api"
    assert out.replace(ui.get_api_base(out), "") == PAGE
    assert ui.set_api_base(out, "") == PAGE  # and back to same origin
    assert ui.set_api_base("<meta content='x' name='mso-api-base'/>", "") == "<meta content=\"\" name='mso-api-base'/>"
    assert ui.get_api_base(ui.set_api_base('<meta name="mso-api-base">', "https://h")) == "https://h"
    for bad in ("http://insecure.example", "javascript:alert(1)", 'https://x"><script>'):
        with pytest.raises(ValueError):
            ui.set_api_base(PAGE, bad)
    with pytest.raises(ValueError, match="no <meta"):
        ui.set_api_base("<head></head>", "")


def test_real_index_html_has_the_tag_and_same_origin_default():
    page = (ROOT / "ui" / "index.html").read_text()
    assert ui.get_api_base(page) == ""
    assert ui.get_api_base(ui.set_api_base(page, "https://api.example.com")) == "https://api.example.com"


def _ui_dir(tmp_path: Path, vendor: bool = True) -> Path:
    d = tmp_path / "ui"
    (d / "vendor").mkdir(parents=True)
    (d / "index.html").write_text(PAGE.replace("</head>", '<script src="/ui/vendor/lib.js"></script>'
                                                          '<link rel="stylesheet" href="/ui/app.css"></head>'))
    (d / "app.css").write_text("body{}")
    (d / "app.js").write_text("export {}")
    (d / "vendor" / ".installed").write_text("")
    if vendor:
        (d / "vendor" / "lib.js").write_text("/* lib */")
    return d


def test_ui_files_layout(tmp_path):
    files = ui.ui_files(_ui_dir(tmp_path))
    assert {f.key: f.content_type for f in files} == {
        "index.html": "text/html; charset=utf-8", "ui/app.css": "text/css; charset=utf-8",
        "ui/app.js": "text/javascript; charset=utf-8", "ui/vendor/lib.js": "text/javascript; charset=utf-8"}
    assert ui.missing_assets((tmp_path / "ui" / "index.html").read_text(), files) == []
    real = ui.ui_files()
    assert {"index.html", "ui/app.js", "ui/api.js"} <= {f.key for f in real}


def test_ui_upload_to_s3(aws, tmp_path):
    import boto3

    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="dash")
    s3.put_object(Bucket="dash", Key="ui/old.js", Body=b"stale")
    keys = ui.upload(s3, "dash", api_base="", ui_dir=_ui_dir(tmp_path))
    assert sorted(ui.list_keys(s3, "dash")) == sorted(keys)
    index = s3.get_object(Bucket="dash", Key="index.html")
    assert index["ContentType"].startswith("text/html") and index["CacheControl"] == "no-cache"
    assert ui.get_api_base(index["Body"].read().decode()) == ""
    with pytest.raises(SystemExit, match="ui-deps"):
        ui.upload(s3, "dash", ui_dir=_ui_dir(tmp_path / "novendor", vendor=False))


# --- deploy/stack.py --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["mso", "m", "team-a-prod", "a" * 24])
def test_valid_stack_names(name):
    assert stack.validate_stack_name(name) == name
    assert len(f"{name}-uploads-123456789012-ap-southeast-3") <= 63


@pytest.mark.parametrize("name", ["", "MSO", "1mso", "mso-", "a" * 25, "mso_prod", "a--b"])
def test_invalid_stack_names(name):
    with pytest.raises(ValueError):
        stack.validate_stack_name(name)


def test_parse_args():
    a = stack.parse_args(["deploy", "--stack", "demo", "--region", "eu-west-1", "--existing-table", "t2",
                          "--worker-reserved-concurrency", "0"])
    assert (a.command, a.stack, a.region, a.existing_table, a.worker_reserved_concurrency) == \
        ("deploy", "demo", "eu-west-1", "t2", 0)
    assert a.llm_key_parameter is None and a.api_base == "" and a.package_dir == stack.PACKAGE_DIR
    d = stack.parse_args(["destroy", "--yes", "--delete-table"])
    assert d.stack == "mso" and d.yes and d.delete_table and not d.delete_artifacts
    with pytest.raises(SystemExit):
        stack.parse_args(["deploy", "--stack", "Bad_Name"])
    with pytest.raises(SystemExit):
        stack.parse_args([])


def test_stack_parameters_keep_previous_values_on_update():
    values = {"LlmApiKeyParameter": None, "ExistingTableName": None, "ApiThrottleRateLimit": "20"}
    assert stack.stack_parameters(values, set()) == [{"ParameterKey": "ApiThrottleRateLimit", "ParameterValue": "20"}]
    assert stack.stack_parameters(values, {"ExistingTableName", "LlmApiKeyParameter"}) == [
        {"ParameterKey": "LlmApiKeyParameter", "UsePreviousValue": True},
        {"ParameterKey": "ExistingTableName", "UsePreviousValue": True},
        {"ParameterKey": "ApiThrottleRateLimit", "ParameterValue": "20"}]
    assert stack.stack_parameters({"ExistingTableName": ""}, {"ExistingTableName"}) == [
        {"ParameterKey": "ExistingTableName", "ParameterValue": ""}]  # back to the stack's own table


def test_parameters_named_by_the_cli_exist_in_the_template():
    from chalice.package import YAMLTemplateSerializer

    tpl = YAMLTemplateSerializer().load_template((ROOT / "deploy" / "resources.yaml").read_text())
    declared = set(tpl["Parameters"]) | {"HandoffWorkerReservedConcurrency"}  # added by deploy/package.py
    assert set(stack.PARAMETERS) == declared


def test_reserved_concurrency_for_new_accounts():
    assert stack.reserved_concurrency_for(5, 1000) == 5
    assert stack.reserved_concurrency_for(5, 105) == 5
    assert stack.reserved_concurrency_for(5, 104) == 0
    assert stack.reserved_concurrency_for(5, 10) == 0  # a new account's default quota


def test_code_location():
    tpl = {"Resources": {"F": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "./deployment.zip"}},
                         "Q": {"Type": "AWS::SQS::Queue"}}}
    out = stack.with_code_location(tpl, "b", "code/1.zip")
    assert out["Resources"]["F"]["Properties"]["CodeUri"] == {"Bucket": "b", "Key": "code/1.zip"}
    assert tpl["Resources"]["F"]["Properties"]["CodeUri"] == "./deployment.zip"


class FakeWaiter:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail

    def wait(self, **kw: Any) -> None:
        if self.fail:
            raise RuntimeError("Waiter ChangeSetCreateComplete failed")


class FakeCloudFormation:
    """Just enough CloudFormation for cmd_deploy: a stack appears when its change set executes."""

    def __init__(self, outputs: dict[str, str]) -> None:
        self.outputs, self.stack, self.change_sets = outputs, None, []
        self.no_changes = False

    def describe_stacks(self, StackName: str) -> dict[str, Any]:
        from botocore.exceptions import ClientError

        if self.stack is None:
            raise ClientError({"Error": {"Code": "ValidationError", "Message": f"Stack with id {StackName} does "
                                         "not exist"}}, "DescribeStacks")
        return {"Stacks": [self.stack]}

    def create_change_set(self, **kw: Any) -> None:
        self.change_sets.append(kw)

    def get_waiter(self, name: str) -> FakeWaiter:
        return FakeWaiter(fail=name == "change_set_create_complete" and self.no_changes)

    def describe_change_set(self, **kw: Any) -> dict[str, Any]:
        return {"StatusReason": "The submitted information didn't contain changes."}

    def delete_change_set(self, **kw: Any) -> None:
        self.change_sets[-1]["deleted"] = True

    def execute_change_set(self, **kw: Any) -> None:
        cs = self.change_sets[-1]
        self.stack = {"StackStatus": "CREATE_COMPLETE",
                      "Parameters": [{"ParameterKey": p["ParameterKey"]} for p in cs["Parameters"]],
                      "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in self.outputs.items()]}


def test_deploy_against_moto_and_a_fake_cloudformation(aws, tmp_path, monkeypatch, capsys):
    import boto3

    pkg = tmp_path / "package"
    pkg.mkdir()
    (pkg / "sam.yaml").write_text(yaml.safe_dump({
        "Parameters": {"HandoffWorkerReservedConcurrency": {"Type": "Number", "Default": 5}},
        "Resources": {"F": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "./deployment.zip"}}}}))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", "app = None\n")
    (pkg / "deployment.zip").write_bytes(buf.getvalue())
    boto3.client("s3").create_bucket(Bucket="dash")
    cfn = FakeCloudFormation({"DashboardBucketName": "dash", "DistributionId": "E123",
                              "DashboardURL": "https://d1.cloudfront.net/", "LlmApiKeyParameter": "/mso/llm-api-key"})
    fakes = {"cloudformation": cfn, "cloudfront": SimpleNamespace(create_invalidation=lambda **kw: None),
             "lambda": SimpleNamespace(get_account_settings=lambda: {"AccountLimit": {"UnreservedConcurrentExecutions": 10}})}
    real_client = stack.Aws.client
    monkeypatch.setattr(stack.Aws, "client", lambda self, name: fakes.get(name) or real_client(self, name))
    dashboard, real_upload = _ui_dir(tmp_path), ui.upload  # our own: the real one needs `make ui-deps`
    monkeypatch.setattr(ui, "upload", lambda s3, bucket, **kw: real_upload(s3, bucket, ui_dir=dashboard, **kw))

    assert stack.main(["deploy", "--stack", "demo", "--package-dir", str(pkg)]) == 0
    cs = cfn.change_sets[0]
    assert cs["ChangeSetType"] == "CREATE" and set(cs["Capabilities"]) == {"CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"}
    assert {"ParameterKey": "HandoffWorkerReservedConcurrency", "ParameterValue": "0"} in cs["Parameters"]
    bucket = "demo-artifacts-123456789012-us-east-1"
    assert cs["TemplateURL"].startswith(f"https://{bucket}.s3.us-east-1.amazonaws.com/templates/")
    s3 = boto3.client("s3")
    uploaded = yaml.safe_load(s3.get_object(Bucket=bucket, Key=cs["TemplateURL"].split(".com/", 1)[1])["Body"].read())
    code = uploaded["Resources"]["F"]["Properties"]["CodeUri"]
    assert s3.get_object(Bucket=code["Bucket"], Key=code["Key"])["Body"].read() == buf.getvalue()
    assert "index.html" in ui.list_keys(s3, "dash")
    out = capsys.readouterr()
    assert "https://d1.cloudfront.net/" in out.out and "make token-aws" in out.out
    assert "set-llm-key" in out.err  # no SSM parameter yet: says how to add one

    cfn.no_changes = True  # a second deploy with nothing new: no stack update, UI uploaded again
    assert stack.main(["deploy", "--stack", "demo", "--package-dir", str(pkg)]) == 0
    again = cfn.change_sets[1]
    assert again["ChangeSetType"] == "UPDATE" and again.get("deleted")
    assert {"ParameterKey": "HandoffWorkerReservedConcurrency", "UsePreviousValue": True} in again["Parameters"]


def test_set_llm_key_reads_stdin(aws, monkeypatch):
    import boto3

    monkeypatch.setattr("sys.stdin", io.StringIO("hf_secret\n"))
    assert stack.main(["set-llm-key", "--stack", "nostack", "--parameter", "/mso/test-key"]) == 0
    p = boto3.client("ssm").get_parameter(Name="/mso/test-key", WithDecryption=True)["Parameter"]
    assert p["Type"] == "SecureString" and p["Value"] == "hf_secret"


# --- deploy/token.py --------------------------------------------------------------------------------


def test_token_args():
    assert token_cli.parse_args(["acme"]).tenant == "acme"
    assert token_cli.parse_args(["--revoke", "mso_x", "--stack", "demo"]).revoke == "mso_x"
    for bad in ([], ["acme", "--revoke", "x"], ["--list", "a", "--revoke", "x"]):
        with pytest.raises(SystemExit):
            token_cli.parse_args(bad)


def test_token_issue_list_revoke_on_the_table(aws, capsys):
    from chalicelib.domain.tenants import forget_cached_tokens, tenant_for_token
    from chalicelib.errors import Unauthorized
    from chalicelib.storage.keys import token_hash

    assert token_cli.main(["globex", "--table", "mso-test", "--region", "us-east-1"]) == 0
    token = capsys.readouterr().out.strip()
    assert token.startswith("mso_") and tenant_for_token(token) == "globex"

    assert token_cli.main(["--list", "globex", "--table", "mso-test", "--region", "us-east-1"]) == 0
    listed = capsys.readouterr().out.strip().split("\n")
    assert len(listed) == 1 and listed[0].split("\t")[0] == token_hash(token)
    assert token_cli.token_hash_of(token) == token_cli.token_hash_of(token_hash(token)) == token_hash(token)

    assert token_cli.main(["--revoke", token_hash(token), "--table", "mso-test", "--region", "us-east-1"]) == 0
    forget_cached_tokens()
    with pytest.raises(Unauthorized):
        tenant_for_token(token)
    with pytest.raises(SystemExit, match="tenant must be"):
        token_cli.main(["bad tenant!", "--table", "mso-test", "--region", "us-east-1"])


def test_report_json_is_written_by_build(tmp_path, monkeypatch):
    """build() glue without chalice: fake the chalice step, keep the real post-processing."""
    from chalicelib.storage.table import table_definition

    def fake_chalice(out: Path, **kw: Any) -> Path:
        out.mkdir(parents=True)
        (out / "sam.yaml").write_text(yaml.safe_dump(_minimal_template()))
        with zipfile.ZipFile(out / "deployment.zip", "w") as z:
            z.writestr("app.py", "x = 1\n")
            z.writestr("botocore/__init__.py", "")
        return out / "sam.yaml"

    monkeypatch.setattr(package, "run_chalice_package", fake_chalice)
    monkeypatch.setattr(package, "prune_chalice_cache", lambda: None)
    report = package.build(tmp_path / "out", verify=False)
    assert report["removed"] == ["botocore"]
    assert json.loads((tmp_path / "out" / "package-report.json").read_text())["zip_bytes"] == report["zip_bytes"]
    text = (tmp_path / "out" / "sam.yaml").read_text()
    assert text.startswith("# Generated by `make package`")
    assert yaml.safe_load(text)["Resources"]["Table"]["Properties"]["KeySchema"] == table_definition("x")["KeySchema"]


def test_existing_table_gets_pitr_and_ttl(aws):
    import boto3

    from chalicelib.storage.table import TTL_ATTRIBUTE, table_definition

    ddb = boto3.client("dynamodb")
    ddb.create_table(**table_definition("mso-restored"))
    stack.prepare_existing_table(ddb, "mso-restored")
    stack.prepare_existing_table(ddb, "mso-restored")  # again: nothing to do, no error
    pitr = ddb.describe_continuous_backups(TableName="mso-restored")["ContinuousBackupsDescription"]
    assert pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    ttl = ddb.describe_time_to_live(TableName="mso-restored")["TimeToLiveDescription"]
    assert ttl["TimeToLiveStatus"] == "ENABLED" and ttl["AttributeName"] == TTL_ATTRIBUTE
