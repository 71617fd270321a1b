"""Settings: defaults, overrides, key precedence, SSM (moto), and no key in any repr."""

from __future__ import annotations

import logging

import boto3
import pytest
from moto import mock_aws

from chalicelib.llm import ChatClient, LLMNotConfigured, LLMSettings, clear_ssm_cache
from chalicelib.llm.settings import PROMPT_OVERHEAD_TOKENS
from tests.support.fake_openai import FakeOpenAIServer, reply
from tests.support.llm_samples import API_KEY


def test_defaults_from_an_empty_environment() -> None:
    s = LLMSettings.from_env({})
    assert s.base_url == "https://router.huggingface.co/v1"
    assert s.model == "meta-llama/Llama-3.1-8B-Instruct"
    assert s.api_key is None and s.api_key_ssm is None and not s.configured
    assert s.timeout_s == 60.0 and s.deadline_s == 240.0
    assert s.context_tokens == 8192 and s.chars_per_token == 3.0
    with pytest.raises(LLMNotConfigured, match="MSO_LLM_API_KEY"):
        s.resolve_api_key()


def test_from_env_reads_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MSO_LLM_MODEL", "org/other-model")
    monkeypatch.setenv("MSO_LLM_API_KEY", "k-env")
    s = LLMSettings.from_env()
    assert s.model == "org/other-model" and s.resolve_api_key() == "k-env"


def test_environment_overrides() -> None:
    s = LLMSettings.from_env({
        "MSO_LLM_BASE_URL": "http://localhost:9000/v1/",
        "MSO_LLM_MODEL": "Qwen/Qwen2.5-7B-Instruct",
        "MSO_LLM_API_KEY": "k1",
        "MSO_LLM_TIMEOUT_S": "12.5",
        "MSO_LLM_DEADLINE_S": "90",
        "MSO_LLM_CONTEXT_TOKENS": "32768",
        "MSO_LLM_CHARS_PER_TOKEN": "3.5",
        "MSO_LLM_MAX_OUTPUT_TOKENS": "1024",
        "MSO_LLM_MAX_RETRIES": "2",
        "MSO_LLM_MAX_CALLS": "6",
    })
    assert s.base_url == "http://localhost:9000/v1"  # trailing slash dropped: we append /chat/completions
    assert s.model == "Qwen/Qwen2.5-7B-Instruct"
    assert (s.timeout_s, s.deadline_s, s.context_tokens, s.chars_per_token) == (12.5, 90.0, 32768, 3.5)
    assert (s.max_output_tokens, s.max_retries, s.max_calls) == (1024, 2, 6)
    assert s.resolve_api_key() == "k1"


def test_hf_token_is_the_fallback_key_and_explicit_key_wins() -> None:
    assert LLMSettings.from_env({"HF_TOKEN": "hf-1"}).resolve_api_key() == "hf-1"
    both = LLMSettings.from_env({"HF_TOKEN": "hf-1", "MSO_LLM_API_KEY": "mso-1"})
    assert both.resolve_api_key() == "mso-1"
    blank = LLMSettings.from_env({"MSO_LLM_API_KEY": "  ", "HF_TOKEN": "hf-2"})
    assert blank.resolve_api_key() == "hf-2"


def test_bad_numbers_keep_defaults_and_warn(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="mso.config")
    s = LLMSettings.from_env({"MSO_LLM_TIMEOUT_S": "soon", "MSO_LLM_CONTEXT_TOKENS": "-5",
                              "MSO_LLM_DEADLINE_S": "nan", "MSO_LLM_MAX_CALLS": "inf"})
    assert (s.timeout_s, s.context_tokens, s.deadline_s, s.max_calls) == (60.0, 8192, 240.0, 12)
    names = [r.fields["name"] for r in caplog.records if r.getMessage() == "settings.invalid"]
    assert sorted(names) == ["MSO_LLM_CONTEXT_TOKENS", "MSO_LLM_DEADLINE_S", "MSO_LLM_MAX_CALLS", "MSO_LLM_TIMEOUT_S"]


def test_input_budget_leaves_room_for_the_reply() -> None:
    s = LLMSettings(context_tokens=8192, chars_per_token=3.0)
    assert s.input_chars(2048) == (8192 - 2048 - PROMPT_OVERHEAD_TOKENS) * 3
    assert s.input_chars(10_000) == 0
    assert s.tokens_for_chars(3001) == 1001


def test_key_is_not_in_any_repr() -> None:
    s = LLMSettings.from_env({"MSO_LLM_API_KEY": API_KEY})
    client = ChatClient(s)
    assert API_KEY not in repr(s) and API_KEY not in str(s)
    assert API_KEY not in repr(client)


@pytest.fixture
def ssm(monkeypatch: pytest.MonkeyPatch):
    for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                 "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield boto3.client("ssm", region_name="us-east-1")


def test_ssm_parameter_is_fetched_once_and_cached(ssm) -> None:
    ssm.put_parameter(Name="/mso/llm-key", Value="ssm-secret-1", Type="SecureString")
    s = LLMSettings.from_env({"MSO_LLM_API_KEY_SSM": "/mso/llm-key", "HF_TOKEN": "hf-ambient"})
    assert s.api_key is None and s.api_key_ssm == "/mso/llm-key" and s.configured
    assert s.resolve_api_key() == "ssm-secret-1"  # SSM beats the ambient HF_TOKEN
    ssm.delete_parameter(Name="/mso/llm-key")
    assert s.resolve_api_key() == "ssm-secret-1"  # cached for the process: no second call
    clear_ssm_cache()
    with pytest.raises(LLMNotConfigured, match="ParameterNotFound") as exc:
        s.resolve_api_key()
    assert "ssm-secret-1" not in str(exc.value)


def test_explicit_key_beats_ssm(ssm) -> None:
    s = LLMSettings.from_env({"MSO_LLM_API_KEY_SSM": "/mso/missing", "MSO_LLM_API_KEY": "direct"})
    assert s.api_key_ssm is None and s.resolve_api_key() == "direct"


def test_client_sends_the_ssm_key_as_bearer(ssm, fake_openai: FakeOpenAIServer) -> None:
    ssm.put_parameter(Name="/mso/llm-key", Value="ssm-secret-2", Type="SecureString")
    fake_openai.script(reply("hello"))
    client = ChatClient.from_env({"MSO_LLM_API_KEY_SSM": "/mso/llm-key", "MSO_LLM_BASE_URL": fake_openai.base_url})
    assert client.complete([{"role": "user", "content": "hi"}], max_tokens=8) == "hello"
    assert fake_openai.chat_requests[0].headers["Authorization"] == "Bearer ssm-secret-2"
    assert "ssm-secret-2" not in repr(client)


def test_a_model_named_alone_gets_its_real_window_from_the_price_table():
    """docs/deploy.md recommends a model by name; without MSO_LLM_CONTEXT_TOKENS it must not be held
    to the 8k default (which cuts every real session into map-reduce calls)."""
    from chalicelib.llm.settings import DEFAULT_CONTEXT_TOKENS, MAX_DEFAULT_CONTEXT_TOKENS, LLMSettings

    sonnet = LLMSettings.from_env({"MSO_LLM_PROVIDER": "bedrock",
                                   "MSO_LLM_MODEL": "us.anthropic.claude-sonnet-4-5-20250929-v1:0"})
    assert sonnet.context_tokens == 200_000
    assert LLMSettings.from_env({"MSO_LLM_MODEL": "gpt-4.1-mini"}).context_tokens == MAX_DEFAULT_CONTEXT_TOKENS
    assert LLMSettings.from_env({"MSO_LLM_MODEL": "gpt-4.1-mini", "MSO_LLM_CONTEXT_TOKENS": "32000"}
                                ).context_tokens == 32_000  # an explicit setting wins
    assert LLMSettings.from_env({"MSO_LLM_MODEL": "my-own-finetune"}).context_tokens == DEFAULT_CONTEXT_TOKENS
    assert LLMSettings.from_env({}).context_tokens == DEFAULT_CONTEXT_TOKENS  # the shipped default model
