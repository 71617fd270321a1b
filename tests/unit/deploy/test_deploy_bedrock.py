"""The Bedrock grant: only when the provider is bedrock, only bedrock:InvokeModel, only the configured
model (its foundation-model ARN, its inference-profile ARN, and foundation models only when reached
through that profile). The policy file is read through deploy/package.py's own Fn::Sub conversion,
without packaging; the packaged template's parameters and environment are checked in the
`packaging` suite."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from deploy import package
from tests.unit.deploy.iam_support import Stack, allows, as_list, role_policy, statements

ROOT = Path(__file__).resolve().parents[3]
PROFILE_ID = "us.anthropic.claude-sonnet-4-20250514-v1:0"
MODEL_ID = "anthropic.claude-sonnet-4-20250514-v1:0"
ACCOUNT = "123456789012"


def resources_yaml() -> dict[str, Any]:
    from chalice.package import YAMLTemplateSerializer

    return YAMLTemplateSerializer().load_template((ROOT / "deploy" / "resources.yaml").read_text())


def worker_policy(stack: Stack) -> dict[str, Any]:
    """.chalice/policy-prod-worker.json as the packaged template holds it, resolved for `stack`."""
    doc = json.loads((ROOT / ".chalice" / "policy-prod-worker.json").read_text())
    template = resources_yaml()
    known = set(template["Parameters"]) | set(template["Resources"]) | {"TableName"}
    return stack.resolve(package._sub_all(doc, known))


def bedrock_statements(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in statements(doc) if any(a.startswith("bedrock:") for a in as_list(s["Action"]))]


def test_no_bedrock_grant_with_the_openai_provider() -> None:
    doc = worker_policy(Stack(llm_provider="openai", llm_model=MODEL_ID))
    assert bedrock_statements(doc) == []
    assert not allows(doc, "bedrock:InvokeModel", f"arn:aws:bedrock:us-east-1::foundation-model/{MODEL_ID}")


def test_foundation_model_id_grants_that_model_in_the_stack_region_only() -> None:
    doc = worker_policy(Stack(llm_provider="bedrock", llm_model=MODEL_ID))
    grant, via_profile = bedrock_statements(doc)
    assert as_list(grant["Action"]) == ["bedrock:InvokeModel"]  # Converse is authorized as InvokeModel
    assert "Condition" not in grant
    assert allows({"Statement": [grant]}, "bedrock:InvokeModel",
                  f"arn:aws:bedrock:us-east-1::foundation-model/{MODEL_ID}")
    for other in ("arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
                  f"arn:aws:bedrock:us-west-2::foundation-model/{MODEL_ID}",
                  f"arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/us.meta.llama3-3-70b-instruct-v1:0"):
        assert not allows({"Statement": [grant]}, "bedrock:InvokeModel", other), other
    for action in ("bedrock:InvokeModelWithResponseStream", "bedrock:CreateModelCustomizationJob",
                   "bedrock:ListFoundationModels"):
        assert not allows(doc, action, f"arn:aws:bedrock:us-east-1::foundation-model/{MODEL_ID}")


def test_inference_profile_reaches_its_models_only_through_the_profile() -> None:
    doc = worker_policy(Stack(llm_provider="bedrock", llm_model=PROFILE_ID, bedrock_region="us-west-2"))
    grant, via_profile = bedrock_statements(doc)
    profile = f"arn:aws:bedrock:us-west-2:{ACCOUNT}:inference-profile/{PROFILE_ID}"
    assert profile in as_list(grant["Resource"])  # BedrockRegion overrides the stack's region
    assert not allows({"Statement": [grant]}, "bedrock:InvokeModel",
                      f"arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/{PROFILE_ID}")
    # The profile routes to its model in several regions; those calls are allowed only through it.
    assert as_list(via_profile["Action"]) == ["bedrock:InvokeModel"]
    assert via_profile["Resource"] == "arn:aws:bedrock:*::foundation-model/*"
    assert via_profile["Condition"] == {"StringEquals": {"bedrock:InferenceProfileArn": profile}}


@pytest.mark.parametrize("bad", ["*", "anthropic.*", "us.anthropic.claude?", "a b"])
def test_model_parameter_cannot_widen_the_grant(bad: str) -> None:
    import re

    pattern = resources_yaml()["Parameters"]["LlmModel"]["AllowedPattern"]
    assert re.fullmatch(pattern, MODEL_ID) and re.fullmatch(pattern, PROFILE_ID)
    assert re.fullmatch(pattern, "meta-llama/Llama-3.1-8B-Instruct")  # openai model names still fit
    assert not re.fullmatch(pattern, bad)


def test_packaged_worker_gets_the_provider_and_the_conditional_grant(packaged) -> None:
    tpl = packaged.template
    assert tpl["Parameters"]["LlmProvider"]["Default"] == "openai"
    assert tpl["Conditions"]["UseBedrock"] == {"Fn::Equals": [{"Ref": "LlmProvider"}, "bedrock"]}
    assert "BedrockNeedsAModel" in tpl["Rules"]
    env = packaged.resources["HandoffWorker"]["Properties"]["Environment"]["Variables"]
    stack = Stack(llm_provider="bedrock", llm_model=PROFILE_ID)
    from chalicelib.llm.settings import LLMSettings

    resolved = stack.resolve(env)
    settings = LLMSettings.from_env({**resolved, "AWS_REGION": "us-east-1"})
    assert settings.provider == "bedrock" and settings.model == PROFILE_ID and settings.region == "us-east-1"
    assert settings.configured
    for fn in ("APIHandler", "TranscriptUpload"):
        assert not bedrock_statements(role_policy(tpl, fn, stack))
    worker = role_policy(tpl, "HandoffWorker", stack)
    assert allows(worker, "bedrock:InvokeModel", f"arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/{PROFILE_ID}")
    assert not bedrock_statements(role_policy(tpl, "HandoffWorker", Stack()))
