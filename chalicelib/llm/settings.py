"""LLM settings, read from the environment.

One place decides which provider answers (`openai`: an OpenAI-compatible endpoint; `bedrock`:
Amazon Bedrock's Converse API), where the endpoint is, which model, how long we may wait and
how much text fits in the model's window, so the client and the handoff engine agree on budgets.
The API key is resolved lazily (`resolve_api_key`): on AWS it lives in an SSM SecureString
parameter and is fetched once per process, so a cold start that never calls the LLM pays nothing.
"""

from __future__ import annotations

import logging
import math
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from chalicelib.config import env_number
from chalicelib.llm.errors import LLMNotConfigured

log = logging.getLogger("mso.llm")

PROVIDER_OPENAI = "openai"
PROVIDER_BEDROCK = "bedrock"
PROVIDERS = (PROVIDER_OPENAI, PROVIDER_BEDROCK)
DEFAULT_PROVIDER = PROVIDER_OPENAI
DEFAULT_BASE_URL = "https://router.huggingface.co/v1"
DEFAULT_MODEL = "meta-llama/Llama-3.1-8B-Instruct"
DEFAULT_TIMEOUT_S = 60.0
DEFAULT_DEADLINE_S = 240.0
DEFAULT_CONTEXT_TOKENS = 8192
# Llama-3 tokenizer: ~4 chars/token on English prose, ~3-3.5 on code, paths and logs.
# Budgets use the pessimistic end so a prompt never overflows the window.
DEFAULT_CHARS_PER_TOKEN = 3.0
DEFAULT_MAX_OUTPUT_TOKENS = 2048
DEFAULT_MAP_OUTPUT_TOKENS = 512
DEFAULT_MAX_RETRIES = 4
DEFAULT_MAX_CALLS = 12
# Chat template + role markers + the reply's priming, per request (tokens).
PROMPT_OVERHEAD_TOKENS = 64


@dataclass(frozen=True)
class LLMSettings:
    """Everything the LLM path is configured with; build it with `LLMSettings.from_env()`.

    `api_key` is excluded from repr so a logged settings object never shows it.
    """

    provider: str = DEFAULT_PROVIDER  # "openai" or "bedrock" (anything else: not configured)
    base_url: str = DEFAULT_BASE_URL  # openai only
    model: str = DEFAULT_MODEL  # bedrock: a model id or inference profile id, no default
    region: str | None = None  # bedrock only: MSO_BEDROCK_REGION, else the function's AWS region
    api_key: str | None = field(default=None, repr=False, compare=False)
    api_key_ssm: str | None = None  # SSM parameter name (SecureString) holding the key
    timeout_s: float = DEFAULT_TIMEOUT_S  # one HTTP request
    deadline_s: float = DEFAULT_DEADLINE_S  # everything: retries, backoff, map-reduce calls
    context_tokens: int = DEFAULT_CONTEXT_TOKENS
    chars_per_token: float = DEFAULT_CHARS_PER_TOKEN
    max_output_tokens: int = DEFAULT_MAX_OUTPUT_TOKENS  # the final handoff answer
    map_output_tokens: int = DEFAULT_MAP_OUTPUT_TOKENS  # notes per transcript chunk
    max_retries: int = DEFAULT_MAX_RETRIES  # retries after the first attempt, per call
    max_calls: int = DEFAULT_MAX_CALLS  # chat calls one handoff may make (map + reduce)
    backoff_base_s: float = 0.5
    backoff_max_s: float = 8.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> LLMSettings:
        """Read `MSO_LLM_*` (and `HF_TOKEN`) from `env` (default: `os.environ`).

        `MSO_LLM_PROVIDER=bedrock` reads the model from `MSO_LLM_MODEL` with no default (a Bedrock
        model must be chosen and enabled in the account) and the region from `MSO_BEDROCK_REGION`,
        then `AWS_REGION` / `AWS_DEFAULT_REGION` (Lambda sets `AWS_REGION`); it needs no key.
        Key precedence: `MSO_LLM_API_KEY`, then the SSM parameter named by `MSO_LLM_API_KEY_SSM`,
        then `HF_TOKEN`. A malformed number logs a warning and keeps the default: a typo in an
        optional tuning knob must not take the handoff service down.
        """
        e = os.environ if env is None else env
        explicit = (e.get("MSO_LLM_API_KEY") or "").strip() or None
        ssm = (e.get("MSO_LLM_API_KEY_SSM") or "").strip() or None
        hf = (e.get("HF_TOKEN") or "").strip() or None
        key = explicit or (None if ssm else hf)
        provider = (e.get("MSO_LLM_PROVIDER") or "").strip().lower() or DEFAULT_PROVIDER
        if provider not in PROVIDERS:
            log.warning("llm.settings.unknown_provider", extra={"fields": {"provider": provider[:40]}})
        model = (e.get("MSO_LLM_MODEL") or "").strip()
        region = None
        if provider == PROVIDER_BEDROCK:
            region = next((v.strip() for v in (e.get("MSO_BEDROCK_REGION"), e.get("AWS_REGION"),
                                                e.get("AWS_DEFAULT_REGION")) if v and v.strip()), None)
        return cls(
            provider=provider,
            base_url=((e.get("MSO_LLM_BASE_URL") or "").strip() or DEFAULT_BASE_URL).rstrip("/"),
            model=model or ("" if provider == PROVIDER_BEDROCK else DEFAULT_MODEL),
            region=region,
            api_key=key,
            api_key_ssm=None if explicit else ssm,
            timeout_s=env_number(e, "MSO_LLM_TIMEOUT_S", DEFAULT_TIMEOUT_S, minimum=0.01),
            deadline_s=env_number(e, "MSO_LLM_DEADLINE_S", DEFAULT_DEADLINE_S, minimum=0.01),
            context_tokens=env_number(e, "MSO_LLM_CONTEXT_TOKENS", known_window(model), minimum=256),
            chars_per_token=env_number(e, "MSO_LLM_CHARS_PER_TOKEN", DEFAULT_CHARS_PER_TOKEN, minimum=1.0),
            max_output_tokens=env_number(e, "MSO_LLM_MAX_OUTPUT_TOKENS", DEFAULT_MAX_OUTPUT_TOKENS, minimum=64),
            map_output_tokens=env_number(e, "MSO_LLM_MAP_OUTPUT_TOKENS", DEFAULT_MAP_OUTPUT_TOKENS, minimum=32),
            max_retries=env_number(e, "MSO_LLM_MAX_RETRIES", DEFAULT_MAX_RETRIES, minimum=0),
            max_calls=env_number(e, "MSO_LLM_MAX_CALLS", DEFAULT_MAX_CALLS, minimum=1),
        )

    def with_(self, **changes: Any) -> LLMSettings:
        """A copy with some fields changed (tests, per-job overrides)."""
        return replace(self, **changes)

    @property
    def configured(self) -> bool:
        """True when the provider can be called: openai needs a key (env or SSM, not fetched
        here); bedrock needs only a model, since the function's role is its credential."""
        if self.provider == PROVIDER_BEDROCK:
            return bool(self.model)
        if self.provider == PROVIDER_OPENAI:
            return bool(self.api_key or self.api_key_ssm)
        return False

    def not_configured_hint(self) -> str:
        """What to set to turn the LLM path on, for this provider (names only, never values)."""
        if self.provider == PROVIDER_BEDROCK:
            return "set MSO_LLM_MODEL to a Bedrock model or inference profile id"
        if self.provider == PROVIDER_OPENAI:
            return "set MSO_LLM_API_KEY or HF_TOKEN, or MSO_LLM_API_KEY_SSM on AWS"
        return f"MSO_LLM_PROVIDER must be one of {', '.join(PROVIDERS)}"

    def input_chars(self, max_tokens: int) -> int:
        """Prompt characters that fit in the window beside a reply of `max_tokens` tokens."""
        tokens = self.context_tokens - max_tokens - PROMPT_OVERHEAD_TOKENS
        return max(0, int(tokens * self.chars_per_token))

    def tokens_for_chars(self, chars: int) -> int:
        """Pessimistic token estimate for `chars` characters of text."""
        return math.ceil(chars / self.chars_per_token)

    def resolve_api_key(self) -> str:
        """The key to send: from the environment, or fetched (once per process) from SSM.

        Raises LLMNotConfigured when there is none; the message names where we looked, never a
        value.
        """
        if self.api_key:
            return self.api_key
        if self.api_key_ssm:
            return fetch_ssm_parameter(self.api_key_ssm)
        raise LLMNotConfigured(
            "no LLM API key: set MSO_LLM_API_KEY or HF_TOKEN, or MSO_LLM_API_KEY_SSM on AWS"
        )


_ssm_cache: dict[str, str] = {}
_ssm_lock = threading.Lock()


def fetch_ssm_parameter(name: str) -> str:
    """Read a SecureString parameter once per process (boto3 imported only here).

    Lambda containers are reused, so caching saves an SSM round trip on every warm handoff.
    """
    with _ssm_lock:
        cached = _ssm_cache.get(name)
        if cached is not None:
            return cached
        try:
            import boto3  # lazy: keeps the cold start of functions that never call the LLM light
            from botocore.exceptions import BotoCoreError, ClientError
        except ImportError as exc:  # pragma: no cover - boto3 is always there on Lambda
            raise LLMNotConfigured(f"boto3 missing, cannot read SSM parameter {name}") from exc
        try:
            resp = boto3.client("ssm").get_parameter(Name=name, WithDecryption=True)
            value = str(resp["Parameter"]["Value"]).strip()
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "ClientError")
            raise LLMNotConfigured(f"cannot read LLM API key from SSM parameter {name}: {code}") from None
        except (BotoCoreError, KeyError) as exc:
            raise LLMNotConfigured(
                f"cannot read LLM API key from SSM parameter {name}: {type(exc).__name__}"
            ) from None
        if not value:
            raise LLMNotConfigured(f"SSM parameter {name} is empty")
        _ssm_cache[name] = value
        log.info("llm.ssm.loaded", extra={"fields": {"parameter": name}})
        return value


def clear_ssm_cache() -> None:
    """Forget fetched keys (tests; a rotated key in a long-lived process)."""
    with _ssm_lock:
        _ssm_cache.clear()


# A prompt larger than this costs more than it adds (the largest real session's prompt is ~28k tokens).
MAX_DEFAULT_CONTEXT_TOKENS = 200_000


def known_window(model: str) -> int:
    """The model's input window from the vendored price table, capped, when `MSO_LLM_CONTEXT_TOKENS`
    is not set: a Bedrock or OpenAI model named alone then gets its real window (one call, no
    map-reduce) instead of the 8k default. A model the table does not know keeps the default."""
    from chalicelib.pricing import price_of  # the table loads on first use only

    price = price_of(model) if model else None
    if price is None or not price.context:
        return DEFAULT_CONTEXT_TOKENS
    return max(DEFAULT_CONTEXT_TOKENS, min(int(price.context), MAX_DEFAULT_CONTEXT_TOKENS))
