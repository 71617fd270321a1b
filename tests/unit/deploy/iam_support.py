"""Read IAM out of the packaged template: resolve intrinsics for one imagined stack, check calls.

`Stack` stands for a deployed stack (account 123456789012, us-east-1, as moto uses) so that the
policies' Fn::Sub/Ref/GetAtt become concrete ARNs; `required()` says which IAM action on which
resource an AWS API call needs; `allows()` evaluates a policy document (Allow statements, wildcards
as IAM matches them, conditions ignored: the KMS and the Bedrock inference-profile statements have
one, and their tests check it themselves).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

ACCOUNT, REGION, PARTITION = "123456789012", "us-east-1", "aws"
NO_VALUE = object()  # what {"Ref": "AWS::NoValue"} resolves to: the item is dropped


@dataclass
class Stack:
    table: str = "mso-test"
    queue_arn: str = f"arn:aws:sqs:{REGION}:{ACCOUNT}:mso-jobs"
    queue_url: str = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/mso-jobs"
    llm_parameter: str = "/mso/llm-api-key"
    stack_name: str = "mso"
    existing_table: str = ""
    llm_provider: str = "openai"
    llm_model: str = ""
    bedrock_region: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def values(self) -> dict[str, str]:
        return {"AWS::Partition": PARTITION, "AWS::Region": REGION, "AWS::AccountId": ACCOUNT,
                "AWS::StackName": self.stack_name, "AWS::URLSuffix": "amazonaws.com",
                "Table": self.table, "ExistingTableName": self.existing_table,
                "HandoffQueue": self.queue_url, "HandoffQueue.Arn": self.queue_arn,
                "LlmApiKeyParameter": self.llm_parameter, "LlmProvider": self.llm_provider,
                "LlmModel": self.llm_model, "BedrockRegion": self.bedrock_region, **self.extra}

    @property
    def conditions(self) -> dict[str, bool]:
        return {"UseExistingTable": bool(self.existing_table), "CreateTable": not self.existing_table,
                "UseBedrock": self.llm_provider == "bedrock", "BedrockRegionGiven": bool(self.bedrock_region)}

    @property
    def upload_bucket(self) -> str:
        return f"{self.stack_name}-uploads-{ACCOUNT}-{REGION}"

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):  # an Fn::If that chose AWS::NoValue leaves no list item
            return [r for r in (self.resolve(v) for v in value) if r is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if set(value) == {"Ref"}:
            return NO_VALUE if value["Ref"] == "AWS::NoValue" else self.values[value["Ref"]]
        if set(value) == {"Fn::GetAtt"}:
            return self.values[".".join(value["Fn::GetAtt"])]
        if set(value) == {"Fn::If"}:
            cond, yes, no = value["Fn::If"]
            return self.resolve(yes if self.conditions[cond] else no)
        if set(value) == {"Fn::Sub"}:
            sub = value["Fn::Sub"]
            text, variables = (sub, {}) if isinstance(sub, str) else (sub[0], sub[1])
            local = {**self.values, **{k: self.resolve(v) for k, v in variables.items()}}
            return re.sub(r"\$\{([^}]+)\}", lambda m: local[m.group(1)], text)
        return {k: self.resolve(v) for k, v in value.items()}


def statements(doc: dict[str, Any]) -> list[dict[str, Any]]:
    st = doc["Statement"]
    return st if isinstance(st, list) else [st]


def as_list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else [v]


def allows(doc: dict[str, Any], action: str, resource: str) -> bool:
    for st in statements(doc):
        if st.get("Effect") != "Allow":
            continue
        if any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in as_list(st.get("Action", []))) and \
                any(fnmatch.fnmatchcase(resource, r) for r in as_list(st.get("Resource", []))):
            return True
    return False


def role_policy(template: dict[str, Any], function: str, stack: Stack) -> dict[str, Any]:
    """The (resolved) inline policy of a function's role; exactly one policy per role."""
    role = template["Resources"][function]["Properties"]["Role"]["Fn::GetAtt"][0]
    policies = template["Resources"][role]["Properties"]["Policies"]
    assert len(policies) == 1, policies
    return stack.resolve(policies[0]["PolicyDocument"])


_TX_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}


def required(service: str, op: str, params: dict[str, Any]) -> list[tuple[str, str]]:
    """(IAM action, resource ARN) pairs an API call needs."""
    def table_arn(name: str, index: str | None = None) -> str:
        arn = f"arn:{PARTITION}:dynamodb:{REGION}:{ACCOUNT}:table/{name}"
        return f"{arn}/index/{index}" if index else arn

    if service == "dynamodb":
        if op == "TransactWriteItems":
            out = []
            for item in params["TransactItems"]:
                (kind, body), = item.items()
                out.append((f"dynamodb:{_TX_ACTIONS[kind]}", table_arn(body["TableName"])))
            return out
        if op in ("BatchWriteItem", "BatchGetItem"):
            return [(f"dynamodb:{op}", table_arn(t)) for t in params["RequestItems"]]
        if op == "TransactGetItems":
            return [("dynamodb:GetItem", table_arn(i["Get"]["TableName"])) for i in params["TransactItems"]]
        return [(f"dynamodb:{op}", table_arn(params["TableName"], params.get("IndexName")))]
    if service == "s3":
        key = params.get("Key")
        if op in ("ListObjectsV2", "ListObjects"):  # IAM's name for listing is s3:ListBucket, on the bucket
            return [("s3:ListBucket", f"arn:{PARTITION}:s3:::{params['Bucket']}")]
        action = "GetObject" if op == "HeadObject" else op  # a HEAD is authorized as a GET
        return [(f"s3:{action}", f"arn:{PARTITION}:s3:::{params['Bucket']}" + (f"/{key}" if key else ""))]
    if service == "sqs":
        name = params["QueueUrl"].rstrip("/").rsplit("/", 1)[-1]
        return [(f"sqs:{op}", f"arn:{PARTITION}:sqs:{REGION}:{ACCOUNT}:{name}")]
    if service == "ssm":
        return [(f"ssm:{op}", f"arn:{PARTITION}:ssm:{REGION}:{ACCOUNT}:parameter{params['Name']}")]
    raise AssertionError(f"no IAM mapping for {service}:{op}")


@contextmanager
def recording_calls() -> Iterator[list[tuple[str, str, dict[str, Any]]]]:
    """Record every botocore API call (service, operation, params) made inside the block."""
    import botocore.client

    calls: list[tuple[str, str, dict[str, Any]]] = []
    original = botocore.client.BaseClient._make_api_call

    def record(self: Any, operation: str, params: dict[str, Any]) -> Any:
        calls.append((self.meta.service_model.service_name, operation, params))
        return original(self, operation, params)

    botocore.client.BaseClient._make_api_call = record
    try:
        yield calls
    finally:
        botocore.client.BaseClient._make_api_call = original


def denied(doc: dict[str, Any], calls: list[tuple[str, str, dict[str, Any]]]) -> list[str]:
    """Calls the policy would refuse, as readable 'action on resource' strings."""
    out = []
    for service, op, params in calls:
        for action, resource in required(service, op, params):
            if not allows(doc, action, resource):
                out.append(f"{action} on {resource}")
    return sorted(set(out))
