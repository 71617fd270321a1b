"""Fixtures for the LLM path: a real fake OpenAI server, an instant-sleep clock, clients, a rules doc."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from chalicelib.llm import ChatClient, LLMSettings, clear_ssm_cache
from tests.support.clock import FakeClock
from tests.support.fake_openai import FakeOpenAIServer
from tests.support.llm_samples import API_KEY, FACTS, RULES_MD, FakeRulesDoc

LLM_ENV = (
    "MSO_LLM_BASE_URL", "MSO_LLM_MODEL", "MSO_LLM_API_KEY", "MSO_LLM_API_KEY_SSM", "HF_TOKEN",
    "MSO_LLM_TIMEOUT_S", "MSO_LLM_DEADLINE_S", "MSO_LLM_CONTEXT_TOKENS", "MSO_LLM_CHARS_PER_TOKEN",
    "MSO_LLM_MAX_OUTPUT_TOKENS", "MSO_LLM_MAP_OUTPUT_TOKENS", "MSO_LLM_MAX_RETRIES", "MSO_LLM_MAX_CALLS",
    "MSO_LLM_PROVIDER", "MSO_BEDROCK_REGION",
)


@pytest.fixture(autouse=True)
def _clean_llm_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test sees the developer's real key or settings; the SSM cache starts empty."""
    for name in LLM_ENV:
        monkeypatch.delenv(name, raising=False)
    clear_ssm_cache()
    yield
    clear_ssm_cache()


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def llm_settings(fake_openai: FakeOpenAIServer) -> LLMSettings:
    """Settings pointing at the fake server, with timeouts small enough for a fast suite."""
    return LLMSettings(
        base_url=fake_openai.base_url, model="test-model", api_key=API_KEY,
        timeout_s=0.3, deadline_s=5.0, backoff_base_s=0.5, backoff_max_s=4.0,
    )


@pytest.fixture
def make_client(llm_settings: LLMSettings, fake_clock: FakeClock) -> Callable[..., ChatClient]:
    def make(**overrides: Any) -> ChatClient:
        return ChatClient(llm_settings.with_(**overrides), sleep=fake_clock.sleep, clock=fake_clock,
                          rng=random.Random(7))

    return make


@pytest.fixture
def rules_doc() -> FakeRulesDoc:
    return FakeRulesDoc(markdown=RULES_MD, must_keep=[dict(f) for f in FACTS])
