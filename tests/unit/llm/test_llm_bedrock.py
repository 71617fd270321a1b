"""The Amazon Bedrock provider against botocore's Stubber (or a local fake): no live call anywhere.

Covers the Converse request shape, retries (throttling, ModelNotReady, socket timeouts), the named
errors, the shared deadline, that no credential reaches a message or a log, the factory choosing
the provider, the writer running on Bedrock unchanged, and GET /api/llm/status.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import NoCredentialsError, ReadTimeoutError
from botocore.stub import ANY, Stubber

from chalicelib import config
from chalicelib.handoff.llm_writer import generate_llm_handoff
from chalicelib.llm import (
    BedrockClient,
    ChatClient,
    LLMAuthError,
    LLMBadResponse,
    LLMNotConfigured,
    LLMRateLimited,
    LLMRequestRejected,
    LLMSettings,
    LLMTimeout,
    LLMUnavailable,
    make_client,
)
from tests.support.clock import FakeClock
from tests.support.llm_samples import FACTS, GOOD_ANSWER, RULES_MD, FakeRulesDoc
from tests.unit.llm.test_llm_handoff import PROJECT, SESSION, short_transcript

MODEL = "us.anthropic.claude-sonnet-4-20250514-v1:0"
HI = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]
# Shaped like credentials, to prove they never leave in a message or a log line.
FAKE_KEY_ID = "AKIA" + "Z7QXW3RT5YUP9KLM"
FAKE_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
ANY_REQUEST = {"modelId": ANY, "messages": ANY, "system": ANY, "inferenceConfig": ANY}


def converse_answer(text: str, stop: str = "end_turn") -> dict[str, Any]:
    return {"output": {"message": {"role": "assistant", "content": [{"text": text}]}}, "stopReason": stop,
            "usage": {"inputTokens": 12, "outputTokens": 5, "totalTokens": 17},
            "metrics": {"latencyMs": 40}}


@pytest.fixture
def runtime() -> Iterator[tuple[Any, Stubber]]:
    """A real bedrock-runtime client with dummy credentials, every call answered by the Stubber."""
    client = boto3.client("bedrock-runtime", region_name="us-east-1", aws_access_key_id="testing",
                          aws_secret_access_key="testing")  # noqa: S106 - dummy, the Stubber never sends
    with Stubber(client) as stub:
        yield client, stub
        stub.assert_no_pending_responses()


@pytest.fixture
def bedrock_settings() -> LLMSettings:
    return LLMSettings(provider="bedrock", model=MODEL, region="us-east-1", timeout_s=5.0, deadline_s=30.0,
                       backoff_base_s=0.5, backoff_max_s=4.0)


@pytest.fixture
def make_bedrock(bedrock_settings: LLMSettings, fake_clock: FakeClock,
                 runtime: tuple[Any, Stubber]) -> Callable[..., BedrockClient]:
    def make(client: Any = None, **overrides: Any) -> BedrockClient:
        return BedrockClient(bedrock_settings.with_(**overrides), client=client or runtime[0],
                             sleep=fake_clock.sleep, clock=fake_clock, rng=random.Random(7))

    return make


def test_good_answer_sends_a_converse_request(make_bedrock, runtime, fake_clock: FakeClock) -> None:
    _, stub = runtime
    messages = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"},
                {"role": "user", "content": "and more"}]
    stub.add_response("converse", converse_answer("Hello there"), {
        "modelId": MODEL, "system": [{"text": "be brief"}],
        "messages": [{"role": "user", "content": [{"text": "hi\n\nand more"}]}],  # same-role turns joined
        "inferenceConfig": {"maxTokens": 50, "temperature": 0.0},
    })
    client = make_bedrock()
    assert client.complete(messages, max_tokens=50) == "Hello there"
    assert fake_clock.sleeps == [] and client.requests_sent == 1
    assert client.last_finish_reason == "stop"
    assert client.last_usage["prompt_tokens"] == 12 and client.last_usage["completion_tokens"] == 5


def test_cut_off_answer_reports_length(make_bedrock, runtime) -> None:
    runtime[1].add_response("converse", converse_answer("Hello th", stop="max_tokens"), ANY_REQUEST)
    client = make_bedrock()
    assert client.complete(HI, max_tokens=3) == "Hello th"
    assert client.last_finish_reason == "length"  # what the writer checks for a truncated answer


def test_throttling_then_success_backs_off(make_bedrock, runtime, fake_clock: FakeClock, caplog) -> None:
    _, stub = runtime
    stub.add_client_error("converse", "ThrottlingException", "Too many requests, please wait", 429)
    stub.add_client_error("converse", "ModelNotReadyException", "Model is not ready", 429)
    stub.add_response("converse", converse_answer("ok"), ANY_REQUEST)
    caplog.set_level(logging.DEBUG)
    client = make_bedrock()
    assert client.complete(HI, max_tokens=5) == "ok"
    assert client.requests_sent == 3
    assert len(fake_clock.sleeps) == 2
    assert 0.25 <= fake_clock.sleeps[0] <= 0.5 and 0.5 <= fake_clock.sleeps[1] <= 1.0  # exponential, jittered
    assert "llm.retry" in caplog.text


def test_throttling_that_never_clears_is_rate_limited(make_bedrock, runtime) -> None:
    _, stub = runtime
    for _ in range(3):
        stub.add_client_error("converse", "ThrottlingException", "Too many requests", 429)
    with pytest.raises(LLMRateLimited) as exc:
        make_bedrock(max_retries=2).complete(HI, max_tokens=5)
    assert exc.value.http_status == 429 and exc.value.attempts == 3 and "gave up after 3" in exc.value.message


def test_access_denied_is_an_auth_error_and_leaks_nothing(make_bedrock, runtime, fake_clock: FakeClock,
                                                          caplog) -> None:
    _, stub = runtime
    stub.add_client_error(
        "converse", "AccessDeniedException",
        f"User with key {FAKE_KEY_ID} (secret_access_key={FAKE_SECRET}) is not authorized to perform "
        "bedrock:InvokeModel", 403)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(LLMAuthError) as exc:
        make_bedrock().complete(HI, max_tokens=5)
    assert exc.value.http_status == 403 and exc.value.attempts == 1 and fake_clock.sleeps == []  # no retry
    assert "AccessDeniedException" in exc.value.message and "bedrock:InvokeModel" in exc.value.message
    for secret in (FAKE_KEY_ID, FAKE_SECRET):
        assert secret not in exc.value.message and secret not in caplog.text


def test_validation_error_is_rejected_without_retry(make_bedrock, runtime, fake_clock: FakeClock) -> None:
    runtime[1].add_client_error("converse", "ValidationException",
                                "The provided model identifier is invalid.", 400)
    with pytest.raises(LLMRequestRejected) as exc:
        make_bedrock().complete(HI, max_tokens=5)
    assert exc.value.http_status == 400 and "ValidationException" in exc.value.message
    assert fake_clock.sleeps == []


def test_empty_answer_is_a_bad_response(make_bedrock, runtime) -> None:
    runtime[1].add_response("converse", converse_answer("   "), ANY_REQUEST)
    with pytest.raises(LLMBadResponse):
        make_bedrock().complete(HI, max_tokens=5)


def test_deadline_stops_the_retries(make_bedrock, runtime, fake_clock: FakeClock) -> None:
    _, stub = runtime
    stub.add_client_error("converse", "ServiceUnavailableException", "busy", 503)
    stub.add_client_error("converse", "ServiceUnavailableException", "busy", 503)
    # backoff base 4 s: the 2nd retry would wait 4-8 s, past a 6 s deadline
    client = make_bedrock(deadline_s=6.0, backoff_base_s=4.0, backoff_max_s=8.0)
    with pytest.raises(LLMUnavailable) as exc:
        client.complete(HI, max_tokens=5)
    assert "would pass the deadline" in exc.value.message and exc.value.attempts == 2
    assert len(fake_clock.sleeps) == 1


def test_a_passed_shared_deadline_sends_nothing(make_bedrock, fake_clock: FakeClock) -> None:
    client = make_bedrock()
    with pytest.raises(LLMTimeout):
        client.complete(HI, max_tokens=5, deadline=fake_clock() - 1)
    assert client.requests_sent == 0


class FakeRuntime:
    """A local stand-in for the bedrock-runtime client: raises or answers from a script."""

    def __init__(self, *script: Any) -> None:
        self.script = list(script)
        self.calls: list[dict[str, Any]] = []

    def converse(self, **request: Any) -> dict[str, Any]:
        self.calls.append(request)
        item = self.script.pop(0)
        if isinstance(item, Exception):
            raise item
        return item


def test_socket_timeout_is_retried_then_named(make_bedrock) -> None:
    fake = FakeRuntime(ReadTimeoutError(endpoint_url="https://bedrock-runtime.us-east-1.amazonaws.com"),
                       converse_answer("late but fine"))
    assert make_bedrock(client=fake).complete(HI, max_tokens=5) == "late but fine"
    fake = FakeRuntime(*[ReadTimeoutError(endpoint_url="https://x") for _ in range(2)])
    with pytest.raises(LLMTimeout):
        make_bedrock(client=fake, max_retries=1).complete(HI, max_tokens=5)
    assert len(fake.calls) == 2


def test_no_aws_credentials_is_not_configured(make_bedrock) -> None:
    with pytest.raises(LLMNotConfigured):
        make_bedrock(client=FakeRuntime(NoCredentialsError())).complete(HI, max_tokens=5)


def test_a_conversation_must_start_with_the_user(make_bedrock) -> None:
    with pytest.raises(LLMRequestRejected):
        make_bedrock(client=FakeRuntime()).complete([{"role": "assistant", "content": "hi"}], max_tokens=5)


# ---------------------------------------------------------------- settings and the factory


def test_bedrock_settings_need_a_model_not_a_key() -> None:
    s = LLMSettings.from_env({"MSO_LLM_PROVIDER": "Bedrock", "AWS_REGION": "eu-west-1"})
    assert s.provider == "bedrock" and s.model == "" and s.region == "eu-west-1" and not s.configured
    assert "MSO_LLM_MODEL" in s.not_configured_hint()
    s = LLMSettings.from_env({"MSO_LLM_PROVIDER": "bedrock", "MSO_LLM_MODEL": MODEL, "AWS_REGION": "eu-west-1",
                              "MSO_BEDROCK_REGION": "us-west-2"})
    assert s.configured and s.model == MODEL and s.region == "us-west-2" and s.api_key is None


def test_openai_stays_the_default() -> None:
    s = LLMSettings.from_env({"AWS_REGION": "eu-west-1"})
    assert s.provider == "openai" and s.region is None and not s.configured  # no key
    assert LLMSettings.from_env({"MSO_LLM_API_KEY": "k"}).configured


def test_factory_picks_the_provider() -> None:
    assert isinstance(make_client(env={}), ChatClient)
    assert isinstance(make_client(env={"MSO_LLM_PROVIDER": "openai"}), ChatClient)
    bedrock = make_client(env={"MSO_LLM_PROVIDER": "bedrock", "MSO_LLM_MODEL": MODEL, "AWS_REGION": "us-east-1"})
    assert isinstance(bedrock, BedrockClient) and bedrock.configured and bedrock.model == MODEL
    with pytest.raises(LLMNotConfigured, match="MSO_LLM_PROVIDER"):
        make_client(env={"MSO_LLM_PROVIDER": "vertex"})
    assert not LLMSettings.from_env({"MSO_LLM_PROVIDER": "vertex", "MSO_LLM_API_KEY": "k"}).configured


def test_the_writer_runs_on_bedrock_unchanged(make_bedrock, runtime) -> None:
    runtime[1].add_response("converse", converse_answer("Here it is:\n\n" + GOOD_ANSWER), ANY_REQUEST)
    doc = FakeRulesDoc(markdown=RULES_MD, must_keep=[dict(f) for f in FACTS])
    result = generate_llm_handoff(rules_doc=doc, messages=short_transcript(), client=make_bedrock(),
                                  project=PROJECT, session=SESSION)  # type: ignore[arg-type]
    assert result.method == "llm" and result.model == MODEL and result.llm_calls == 1
    assert "the token refresh in src/auth/token.py was the cause" in result.markdown


def test_writer_falls_back_to_rules_on_access_denied(make_bedrock, runtime) -> None:
    runtime[1].add_client_error("converse", "AccessDeniedException", "not authorized", 403)
    doc = FakeRulesDoc(markdown="# Handoff\n\n## Next steps\n1. x\n", must_keep=[])
    result = generate_llm_handoff(rules_doc=doc, messages=short_transcript(), client=make_bedrock(),
                                  project=PROJECT, session=SESSION)  # type: ignore[arg-type]
    assert result.method == "rules" and result.reason.startswith("LLM refused the API key: Bedrock refused access")


# ---------------------------------------------------------------- GET /api/llm/status and the handoff


@pytest.fixture
def bedrock_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for k, v in {"MSO_JOBS": "sync", "MSO_LLM_PROVIDER": "bedrock", "MSO_BEDROCK_REGION": "eu-central-1"}.items():
        monkeypatch.setenv(k, v)
    config.reset()
    yield
    config.reset()


def test_status_shows_provider_model_and_region(api, bedrock_env, monkeypatch) -> None:
    s = api.get("/api/llm/status").json_body
    assert s["provider"] == "bedrock" and s["configured"] is False and s["model"] is None
    assert s["region"] == "eu-central-1" and s["key_source"] is None
    monkeypatch.setenv("MSO_LLM_MODEL", MODEL)
    s = api.get("/api/llm/status").json_body
    assert s["configured"] is True and s["model"] == MODEL
    assert s["endpoint_host"] == "bedrock-runtime.eu-central-1.amazonaws.com"


def test_status_of_the_default_provider(api, sync_jobs) -> None:
    s = api.get("/api/llm/status").json_body
    assert s["provider"] == "openai" and s["region"] is None and s["endpoint_host"] == "router.huggingface.co"


def test_handoff_without_a_bedrock_model_says_what_to_set(api, bedrock_env) -> None:
    pid = api.post("/api/projects", {"name": "Billing", "goal": "Ship invoicing v2"}).json_body["id"]
    api.post(f"/api/projects/{pid}/sessions", {"title": "tax rules"})
    api.post(f"/api/projects/{pid}/sessions/1/complete", {"handoff_mode": "llm"})
    h = api.get(f"/api/projects/{pid}/sessions/1/handoff").json_body
    assert h["method"] == "rules" and h["reason"].startswith("LLM not configured (set MSO_LLM_MODEL")


def test_the_handoff_job_calls_bedrock_through_the_factory(api, bedrock_env, monkeypatch, runtime) -> None:
    """MSO_LLM_PROVIDER=bedrock end to end: the domain asks the factory, the factory builds a
    BedrockClient, its boto3 client is the stubbed one; status then shows the Bedrock success."""
    client, stub = runtime
    monkeypatch.setenv("MSO_LLM_MODEL", MODEL)
    real_client = boto3.client
    made: list[tuple[str, str | None]] = []

    def fake_boto3_client(service: str, *args: Any, **kwargs: Any) -> Any:
        if service == "bedrock-runtime":
            made.append((service, kwargs.get("region_name")))
            return client
        return real_client(service, *args, **kwargs)

    monkeypatch.setattr(boto3, "client", fake_boto3_client)
    stub.add_response("converse", converse_answer(
        "# Handoff\n\n## Summary of session 1\nTax rules were started.\n\n## Next steps\n1. Add VAT.\n"), ANY_REQUEST)
    pid = api.post("/api/projects", {"name": "Billing", "goal": "Ship invoicing v2"}).json_body["id"]
    api.post(f"/api/projects/{pid}/sessions", {"title": "tax rules"})
    api.post(f"/api/projects/{pid}/sessions/1/complete", {"handoff_mode": "llm", "next_steps": ["Add VAT"]})
    h = api.get(f"/api/projects/{pid}/sessions/1/handoff").json_body
    assert made == [("bedrock-runtime", "eu-central-1")]
    assert h["method"] in ("llm", "llm+rules"), h["reason"]
    assert "Tax rules were started." in h["markdown"]
    s = api.get("/api/llm/status").json_body
    assert s["last_success"]["model"] == MODEL and s["provider"] == "bedrock"


def test_the_real_sdk_client_is_built_with_our_timeouts_and_no_sdk_retries() -> None:
    settings = LLMSettings(provider="bedrock", model=MODEL, region="eu-west-1", timeout_s=7.5)
    runtime = BedrockClient(settings)._runtime(7.5)
    assert runtime.meta.region_name == "eu-west-1"
    assert runtime.meta.config.read_timeout == 8  # rounded up to a whole second
    assert runtime.meta.config.retries["total_max_attempts"] == 1
