"""The one place that picks the LLM client from the settings (`MSO_LLM_PROVIDER`).

Everything else (the handoff writer, the domain) asks `make_client()` and uses the common
surface both clients share, so nothing outside this module knows which provider runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.llm.bedrock import BedrockClient
from chalicelib.llm.client import ChatClient
from chalicelib.llm.errors import LLMNotConfigured
from chalicelib.llm.settings import PROVIDER_BEDROCK, PROVIDER_OPENAI, PROVIDERS, LLMSettings

LLMClient = ChatClient | BedrockClient


def make_client(settings: LLMSettings | None = None, *, env: Mapping[str, str] | None = None,
                **kwargs: Any) -> LLMClient:
    """The client for `settings` (default: read from `env` / the environment).

    `kwargs` (sleep, clock, rng, and `session` for openai or `client` for bedrock) go to the
    client. An unknown provider raises LLMNotConfigured rather than silently calling another.
    """
    s = settings or LLMSettings.from_env(env)
    if s.provider == PROVIDER_BEDROCK:
        return BedrockClient(s, **kwargs)
    if s.provider == PROVIDER_OPENAI:
        return ChatClient(s, **kwargs)
    raise LLMNotConfigured(f"unknown LLM provider {s.provider[:40]!r}: MSO_LLM_PROVIDER must be one of "
                           f"{', '.join(PROVIDERS)}")
