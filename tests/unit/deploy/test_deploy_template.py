"""`make package`: the template passes cfn-lint and holds what the deployment needs; the zip is lean.

One package build per test session (the `packaged` fixture, ~10-60 s); everything else reads it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.unit.deploy.iam_support import Stack, allows, as_list, role_policy, statements

ROOT = Path(__file__).resolve().parents[3]
CONFIG = json.loads((ROOT / ".chalice" / "config.json").read_text())
PROD = CONFIG["stages"]["prod"]
FUNCTIONS = {"APIHandler": "api_handler", "HandoffWorker": "handoff_worker", "TranscriptUpload": "transcript_upload"}


def cfn_lint(path: Path) -> subprocess.CompletedProcess:
    # Errors and warnings are on by default; informational checks too: the template is clean of all.
    exe = Path(sys.executable).parent / "cfn-lint"
    return subprocess.run([str(exe), "--include-checks", "I", "--", str(path)],
                          capture_output=True, text=True, timeout=300)


def test_cfn_lint_clean(packaged):
    r = cfn_lint(packaged.template_path)
    assert r.returncode == 0 and not r.stdout.strip(), r.stdout + r.stderr


def test_sam_transform_and_cfn_lint_of_the_result(transformed, tmp_path):
    """What CloudFormation deploys after the SAM transform is valid too (no cycles, no bad refs)."""
    types = {r["Type"] for r in transformed["Resources"].values()}
    assert not any(t.startswith("AWS::Serverless::") for t in types)
    path = tmp_path / "transformed.json"
    path.write_text(json.dumps(transformed))
    r = cfn_lint(path)
    assert r.returncode == 0 and not r.stdout.strip(), r.stdout + r.stderr


def test_no_yaml_aliases_and_template_fits_s3_deploy(packaged):
    text = packaged.template_path.read_text()
    assert not re.search(r"(^|\s)[&*]id\d+", text), "CloudFormation rejects YAML anchors/aliases"
    assert len(text.encode()) < 1_000_000  # TemplateURL limit (deploy/stack.py uploads it to S3)


# --- data ------------------------------------------------------------------------------------------


def test_table_matches_table_definition(packaged):
    from chalicelib.storage.table import TTL_ATTRIBUTE, table_definition

    table = packaged.resources["Table"]
    props = table["Properties"]
    want = table_definition("x")
    for key in ("BillingMode", "AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes"):
        assert props[key] == want[key], key
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["TimeToLiveSpecification"] == {"AttributeName": TTL_ATTRIBUTE, "Enabled": True}
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"
    assert table["Condition"] == "CreateTable"


def test_queue_has_dead_letter_queue_and_long_enough_visibility(packaged):
    queue = packaged.resources["HandoffQueue"]["Properties"]
    dlq = packaged.resources["HandoffDeadLetterQueue"]["Properties"]
    worker_timeout = packaged.resources["HandoffWorker"]["Properties"]["Timeout"]
    assert queue["VisibilityTimeout"] >= 6 * worker_timeout
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["HandoffDeadLetterQueue", "Arn"]}
    assert 3 <= queue["RedrivePolicy"]["maxReceiveCount"] <= 10
    assert queue["SqsManagedSseEnabled"] and dlq["SqsManagedSseEnabled"]
    assert dlq["MessageRetentionPeriod"] > queue["MessageRetentionPeriod"]


def test_buckets_private_encrypted_and_upload_bucket_rules(packaged):
    for name in ("DashboardBucket", "UploadBucket"):
        props = packaged.resources[name]["Properties"]
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
        sse = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
        assert sse["SSEAlgorithm"] in ("AES256", "aws:kms")
    up = packaged.resources["UploadBucket"]["Properties"]
    rule, = up["LifecycleConfiguration"]["Rules"]
    assert rule["Status"] == "Enabled" and rule["Prefix"] == "uploads/" and 1 <= rule["ExpirationInDays"] <= 2
    cors, = up["CorsConfiguration"]["CorsRules"]
    assert cors["AllowedMethods"] == ["PUT"]
    assert cors["AllowedOrigins"] == [{"Fn::Sub": "https://${Distribution.DomainName}"}]


def test_upload_bucket_notifies_the_importer(packaged):
    bucket = packaged.resources["UploadBucket"]
    cfg, = bucket["Properties"]["NotificationConfiguration"]["LambdaConfigurations"]
    assert cfg["Function"] == {"Fn::GetAtt": ["TranscriptUpload", "Arn"]}
    assert cfg["Event"] == "s3:ObjectCreated:*"
    assert cfg["Filter"]["S3Key"]["Rules"] == [{"Name": "prefix", "Value": "uploads/"}]
    perm = packaged.resources["TranscriptUploadS3Permission"]
    assert perm["Type"] == "AWS::Lambda::Permission" and perm["Properties"]["Principal"] == "s3.amazonaws.com"
    assert "TranscriptUploadS3Permission" in bucket["DependsOn"]
    stack = Stack()
    name = stack.resolve(bucket["Properties"]["BucketName"])
    assert name == stack.upload_bucket and len(name) <= 63
    assert stack.resolve(perm["Properties"]["SourceArn"]) == f"arn:aws:s3:::{name}"


# --- dashboard and API -----------------------------------------------------------------------------


def test_cloudfront_serves_dashboard_with_oac_and_routes_api(packaged):
    dist = packaged.resources["Distribution"]["Properties"]["DistributionConfig"]
    origins = {o["Id"]: o for o in dist["Origins"]}
    s3o = origins[dist["DefaultCacheBehavior"]["TargetOriginId"]]
    assert s3o["OriginAccessControlId"] == {"Fn::GetAtt": ["DashboardOriginAccessControl", "Id"]}
    assert s3o["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    assert dist["DefaultRootObject"] == "index.html"
    assert dist["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    api, = [b for b in dist["CacheBehaviors"] if b["PathPattern"] == "/api/*"]
    api_origin = origins[api["TargetOriginId"]]
    # CloudFront /api/health -> stage URL /<stage>/api/health -> the app's route /api/health
    assert api_origin["OriginPath"] == "/" + PROD["api_gateway_stage"]
    assert api_origin["DomainName"] == {"Fn::Sub": "${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}"}
    assert api["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # CachingDisabled
    assert api["OriginRequestPolicyId"] == "b689b0a8-53d0-40ab-baf2-68738e2966ac"  # AllViewerExceptHostHeader
    assert {"POST", "PUT", "PATCH", "DELETE"} <= set(api["AllowedMethods"])
    policy = packaged.resources["DashboardBucketPolicy"]["Properties"]["PolicyDocument"]
    allow, = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"} and allow["Action"] == "s3:GetObject"
    assert "AWS:SourceArn" in allow["Condition"]["StringEquals"]


def test_dashboard_csp_allows_presigned_uploads(packaged):
    csp = packaged.resources["DashboardHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"][
        "SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    text = Stack().resolve(csp)
    connect = re.search(r"connect-src ([^;]+);", text).group(1).split()
    assert "'self'" in connect and f"https://{Stack().upload_bucket}.s3.us-east-1.amazonaws.com" in connect


def test_gateway_responses_are_json_errors(packaged):
    from devtools.local_gateway import NOT_FOUND_BODY

    api = packaged.resources["RestAPI"]["Properties"]
    assert api["EndpointConfiguration"] == "REGIONAL"
    responses = api["GatewayResponses"]
    missing = responses["MISSING_AUTHENTICATION_TOKEN"]
    assert missing["StatusCode"] == "404"
    assert json.loads(missing["ResponseTemplates"]["application/json"]) == json.loads(NOT_FOUND_BODY)
    for name in ("DEFAULT_4XX", "DEFAULT_5XX", "THROTTLED", "REQUEST_TOO_LARGE", "INTEGRATION_TIMEOUT"):
        body = responses[name]["ResponseTemplates"]["application/json"]
        # $context.error.messageString is a quoted JSON string once API Gateway fills it in.
        filled = body.replace("$context.error.messageString", '"Forbidden"').replace("$context.requestId", "r-1")
        err = json.loads(filled)["error"]
        assert err["code"] and err["message"], name
    for name, response in responses.items():  # API Gateway's own answers say nosniff, as the app's do
        assert response["ResponseParameters"]["Headers"]["X-Content-Type-Options"] == "'nosniff'", name
        assert response["ResponseParameters"]["Headers"]["Cache-Control"] == "'no-store'", name


def test_stage_throttling(packaged):
    setting, = packaged.resources["RestAPI"]["Properties"]["MethodSettings"]
    assert setting["ResourcePath"] == "/*" and setting["HttpMethod"] == "*"
    params = packaged.template["Parameters"]
    rate, burst = setting["ThrottlingRateLimit"]["Ref"], setting["ThrottlingBurstLimit"]["Ref"]
    assert 0 < params[rate]["Default"] <= params[burst]["Default"]


# --- functions ------------------------------------------------------------------------------------


@pytest.mark.parametrize("logical,name", FUNCTIONS.items())
def test_function_sizing_from_chalice_config(packaged, logical, name):
    props = packaged.resources[logical]["Properties"]
    cfg = PROD["lambda_functions"][name]
    assert props["MemorySize"] == cfg["lambda_memory_size"]
    assert props["Timeout"] == cfg["lambda_timeout"]
    assert props["Runtime"] == "python3.11"
    assert props["Handler"] == ("app.app" if name == "api_handler" else f"app.{name}")
    log_group = packaged.resources[{"APIHandler": "ApiHandlerLogGroup"}.get(logical, logical + "LogGroup")]
    assert log_group["Properties"]["LogGroupName"] == {"Fn::Sub": "/aws/lambda/${" + logical + "}"}
    log_group = log_group["Properties"]
    assert log_group["RetentionInDays"] == PROD["log_retention_in_days"]


def test_api_timeout_fits_api_gateway(packaged):
    assert packaged.resources["APIHandler"]["Properties"]["Timeout"] <= 29


def test_worker_concurrency_is_bounded(packaged):
    props = packaged.resources["HandoffWorker"]["Properties"]
    reserved = PROD["lambda_functions"]["handoff_worker"]["reserved_concurrency"]
    assert props["ReservedConcurrentExecutions"] == {"Fn::If": [
        "HandoffWorkerHasReservedConcurrency", {"Ref": "HandoffWorkerReservedConcurrency"}, {"Ref": "AWS::NoValue"}]}
    assert packaged.template["Parameters"]["HandoffWorkerReservedConcurrency"]["Default"] == reserved
    event, = props["Events"].values()
    assert event["Type"] == "SQS"
    assert event["Properties"]["Queue"] == {"Fn::GetAtt": ["HandoffQueue", "Arn"]}
    assert event["Properties"]["BatchSize"] == 1
    assert event["Properties"]["ScalingConfig"]["MaximumConcurrency"] == max(2, reserved)


def test_environment_for_aws(packaged):
    stack = Stack()
    env = {k: stack.resolve(v["Properties"]["Environment"]["Variables"]) for k, v in
           ((k, packaged.resources[k]) for k in FUNCTIONS)}
    for variables in env.values():
        assert variables["MSO_JOBS"] == "sqs" and variables["MSO_TABLE"] == stack.table
        assert variables.get("MSO_SERVE_UI") == "0"
        assert all("${" not in v for v in variables.values()), variables
    assert env["APIHandler"]["MSO_QUEUE_URL"] == stack.queue_url
    assert env["HandoffWorker"]["MSO_QUEUE_URL"] == stack.queue_url  # to schedule retries of failed jobs
    assert env["APIHandler"]["MSO_UPLOAD_BUCKET"] == stack.upload_bucket
    assert env["HandoffWorker"]["MSO_LLM_API_KEY_SSM"] == stack.llm_parameter
    assert "MSO_LLM_API_KEY_SSM" not in env["APIHandler"] and "MSO_LLM_API_KEY_SSM" not in env["TranscriptUpload"]
    assert not any(k in v for v in env.values() for k in ("MSO_LLM_API_KEY", "HF_TOKEN"))  # no key in plain text
    from chalicelib.llm.settings import LLMSettings

    worker = LLMSettings.from_env(env["HandoffWorker"])
    assert worker.api_key_ssm == stack.llm_parameter and worker.deadline_s < 300
    # An existing (restored) table replaces the stack's own everywhere.
    restored = Stack(existing_table="mso-restored")
    assert restored.resolve(packaged.resources["APIHandler"]["Properties"]["Environment"]["Variables"][
        "MSO_TABLE"]) == "mso-restored"


# --- IAM --------------------------------------------------------------------------------------------


def test_each_function_has_its_own_role(packaged):
    roles = [packaged.resources[f]["Properties"]["Role"]["Fn::GetAtt"][0] for f in FUNCTIONS]
    assert len(set(roles)) == 3
    for role in roles:
        assert packaged.resources[role]["Type"] == "AWS::IAM::Role"
        assert "ManagedPolicyArns" not in packaged.resources[role]["Properties"]
        assert "RoleName" not in packaged.resources[role]["Properties"]  # CAPABILITY_IAM is enough


def test_no_wildcards_for_data_services(packaged):
    for name, role in packaged.of_type("AWS::IAM::Role").items():
        for policy in role["Properties"]["Policies"]:
            for st in statements(Stack().resolve(policy["PolicyDocument"])):
                actions = as_list(st["Action"])
                assert "NotAction" not in st and "NotResource" not in st
                for a in actions:
                    assert a != "*" and not a.endswith(":*"), (name, a)
                services = {a.split(":")[0] for a in actions}
                if services & {"dynamodb", "s3", "sqs", "ssm", "logs"}:
                    for r in as_list(st["Resource"]):
                        assert r != "*" and not r.endswith(":*:*"), (name, r)
                        assert "table/*" not in r and ":::*" not in r, (name, r)


def test_roles_allow_only_what_each_function_does(packaged):
    stack = Stack()
    table = f"arn:aws:dynamodb:us-east-1:123456789012:table/{stack.table}"
    index = f"{table}/index/GSI1"
    uploads = f"arn:aws:s3:::{stack.upload_bucket}/uploads/abc"
    param = f"arn:aws:ssm:us-east-1:123456789012:parameter{stack.llm_parameter}"
    api, worker, importer = (role_policy(packaged.template, f, stack) for f in FUNCTIONS)

    assert allows(api, "sqs:SendMessage", stack.queue_arn)
    # the worker and the importer queue the search-index job of what they just wrote
    assert allows(worker, "sqs:SendMessage", stack.queue_arn) and allows(importer, "sqs:SendMessage", stack.queue_arn)
    assert not allows(worker, "sqs:SendMessage", stack.queue_arn.replace("mso-jobs", "other-queue"))
    for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"):
        assert allows(worker, action, stack.queue_arn)
        assert not allows(api, action, stack.queue_arn) and not allows(importer, action, stack.queue_arn)

    assert allows(api, "s3:PutObject", uploads)
    assert not allows(api, "s3:PutObject", f"arn:aws:s3:::{stack.upload_bucket}/other/abc")
    assert not allows(api, "s3:GetObject", uploads) and not allows(worker, "s3:GetObject", uploads)
    assert allows(importer, "s3:GetObject", uploads) and allows(importer, "s3:DeleteObject", uploads)
    assert not allows(importer, "s3:PutObject", uploads)

    assert allows(worker, "ssm:GetParameter", param)
    assert not allows(worker, "ssm:GetParameter", param + "-other")
    assert not allows(api, "ssm:GetParameter", param) and not allows(importer, "ssm:GetParameter", param)

    for policy in (api, worker, importer):
        assert allows(policy, "dynamodb:GetItem", table)
        assert not allows(policy, "dynamodb:GetItem", table + "-other")
        for action in ("dynamodb:Scan", "dynamodb:DeleteTable", "dynamodb:CreateTable"):
            assert not allows(policy, action, table)
    assert allows(api, "dynamodb:Query", index)

    for logical, policy in zip(FUNCTIONS, (api, worker, importer), strict=True):
        name = stack.resolve(packaged.resources[logical]["Properties"]["FunctionName"])
        assert allows(policy, "logs:PutLogEvents", f"arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/{name}:log-stream:x")
        assert not allows(policy, "logs:PutLogEvents", "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/other:log-stream:x")


def test_kms_decrypt_only_through_ssm_for_the_parameter(packaged):
    stack = Stack()
    worker = role_policy(packaged.template, "HandoffWorker", stack)
    kms, = [s for s in statements(worker) if "kms:Decrypt" in as_list(s["Action"])]
    cond = kms["Condition"]["StringEquals"]
    assert cond["kms:ViaService"] == "ssm.us-east-1.amazonaws.com"
    assert cond["kms:EncryptionContext:PARAMETER_ARN"] == \
        f"arn:aws:ssm:us-east-1:123456789012:parameter{stack.llm_parameter}"


# --- the zip ---------------------------------------------------------------------------------------


def test_zip_is_small_and_has_no_sdk(packaged):
    report = packaged.report
    assert packaged.zip_path.stat().st_size == report["zip_bytes"] < 20 * 1024 * 1024
    with zipfile.ZipFile(packaged.zip_path) as z:
        names = z.namelist()
    tops = {n.split("/", 1)[0] for n in names}
    for sdk in ("boto3", "botocore", "s3transfer"):
        assert not any(t == sdk or t.startswith(sdk + "-") for t in tops), sdk
    assert "app.py" in names and "chalicelib/storage/table.py" in names
    assert {"pynamodb", "fastjsonschema", "requests", "chalice"} <= tops
    assert not any(n.startswith(("tests/", "deploy/", "devtools/", "ui/")) for n in names)


def test_zip_ships_fresh_bytecode(packaged):
    """/var/task is read-only: without .pyc in the zip every cold start compiles what it imports."""
    with zipfile.ZipFile(packaged.zip_path) as z:
        names = set(z.namelist())
        pycs = [n for n in names if n.endswith(".pyc")]
        header = z.read("chalicelib/__pycache__/config.cpython-311.pyc")[:16]
    assert "app.py" in names and "__pycache__/app.cpython-311.pyc" in names
    assert packaged.report["pyc_files"] == len(pycs) > 100
    for pyc in pycs:  # each next to its source, none stale from the work tree
        folder, _, file = pyc.rpartition("__pycache__/")
        assert folder + file.split(".")[0] + ".py" in names, pyc
    assert int.from_bytes(header[4:8], "little") == 0b01  # PEP 552: hash-based, source never checked


def test_zip_is_reproducible(packaged, tmp_path):
    """Same sources, same bytes: an unchanged app gives deploy the same content-addressed zip, so
    CloudFormation sees no change and leaves the functions alone."""
    import shutil

    from deploy.package import compile_zip

    copy = tmp_path / "again.zip"
    shutil.copy(packaged.zip_path, copy)
    assert compile_zip(copy, "python3.11") == packaged.report["pyc_files"]
    assert copy.read_bytes() == packaged.zip_path.read_bytes()


def test_zip_imports_with_only_the_runtime_boto3(packaged):
    """make package already checked this; say so, and re-run it here against the same zip."""
    from deploy.package import check_zip_imports

    assert packaged.report["import_check"].startswith("ok")
    out = check_zip_imports(packaged.zip_path)
    assert out.startswith("ok") and "/runtime/botocore" in out


def test_presigned_upload_urls_are_sigv4_on_the_regional_host(packaged):
    """The app's S3 client (chalicelib/aws.py, run from the zip) presigns with SigV4 on
    bucket.s3.<region>.amazonaws.com: SigV2 on the global host fails in newer regions and is
    redirected (no CORS) for fresh buckets."""
    from deploy.package import check_zip_imports

    code = ("from chalicelib import aws\n"
            "print(aws.s3().generate_presigned_url('put_object', "
            "Params={'Bucket': 'mso-uploads-1-eu-central-1', 'Key': 'uploads/x'}, ExpiresIn=60))")
    url = check_zip_imports(packaged.zip_path, code, env={
        "AWS_REGION": "eu-central-1", "AWS_DEFAULT_REGION": "eu-central-1", "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "token"})
    assert url.startswith("https://mso-uploads-1-eu-central-1.s3.eu-central-1.amazonaws.com/uploads/x?")
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url and "X-Amz-Security-Token" in url


def test_package_report_names_the_largest_packages(packaged):
    largest = packaged.report["largest"]
    assert largest and largest == sorted(largest, key=lambda p: -p["zipped_bytes"])
    assert "botocore" in packaged.report["removed"]
