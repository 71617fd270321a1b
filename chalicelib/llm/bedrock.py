"""The Amazon Bedrock chat client: the Converse API through boto3, with ChatClient's interface.

Why a second client and not an OpenAI-compatible gateway in front of Bedrock: on AWS the function's
role is the credential, so there is no key to create, store in SSM or leak. The handoff writer
sees the same surface as `ChatClient` (`complete`, `settings`, `clock`, `configured`, `scrub`,
`last_finish_reason`, `close`) and the same named errors, so it never knows which provider runs;
`chalicelib.llm.factory.make_client` is the one place that picks.

botocore's own retries are switched off: retries, backoff and the total deadline are ours, as in
`ChatClient`, so a Lambda never waits past its budget inside the SDK. boto3 is imported on the
first call only.
"""

from __future__ import annotations

import logging
import math
import random
import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from chalicelib.llm.client import REDACTED, backoff_delay, scrub_tokens
from chalicelib.llm.errors import (
    LLMAuthError,
    LLMBadResponse,
    LLMError,
    LLMNotConfigured,
    LLMRateLimited,
    LLMRequestRejected,
    LLMTimeout,
    LLMUnavailable,
)
from chalicelib.llm.settings import PROVIDER_BEDROCK, LLMSettings
from chalicelib.logs import event, get_logger

log = get_logger("llm")

# Bedrock error codes (ClientError `Error.Code`) by what they mean for us.
AUTH_CODES = frozenset({
    "AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException",
    "ExpiredTokenException", "IncompleteSignature", "MissingAuthenticationTokenException",
})
THROTTLE_CODES = frozenset({"ThrottlingException", "TooManyRequestsException", "ServiceQuotaExceededException"})
UNAVAILABLE_CODES = frozenset({
    "ServiceUnavailableException", "ModelNotReadyException", "InternalServerException",
    "ModelErrorException", "InternalFailure", "ServiceUnavailable",
})
TIMEOUT_CODES = frozenset({"ModelTimeoutException", "RequestTimeout", "RequestTimeoutException"})
# Converse stopReason -> the OpenAI finish_reason the writer looks at ("length" = cut off).
_STOP_REASONS = {"max_tokens": "length", "end_turn": "stop", "stop_sequence": "stop",
                 "model_context_window_exceeded": "length"}
# AWS access key ids and anything named like a secret in an error text (defence in depth).
_AWS_SECRETISH = re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b|(?i:(secret|session|security)[_-]?(?:access[_-]?)?"
                            r"(?:key|token)\s*[=:]\s*)[^\s\"',;]+")


class BedrockClient:
    """`complete()` through Bedrock's Converse API with retries, backoff and a total deadline.

    `client` is an injectable `bedrock-runtime` boto3 client (tests pass one wrapped in botocore's
    Stubber); otherwise one is built lazily, per whole-second read timeout, with SDK retries off.
    `sleep` and `clock` are injectable as in `ChatClient`.
    """

    def __init__(
        self,
        settings: LLMSettings | None = None,
        *,
        client: Any = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings or LLMSettings.from_env()
        self.sleep = sleep
        self.clock = clock
        self._rng = rng or random.Random()
        self._injected = client
        self._clients: dict[int, Any] = {}
        self.requests_sent = 0
        self.last_finish_reason: str | None = None
        self.last_usage: dict[str, Any] | None = None

    def __repr__(self) -> str:
        return f"BedrockClient(region={self.settings.region!r}, model={self.settings.model!r})"

    @property
    def model(self) -> str:
        return self.settings.model

    @property
    def configured(self) -> bool:
        """True when a model is set: the AWS credentials are the environment's (a role on Lambda)."""
        return self.settings.provider == PROVIDER_BEDROCK and bool(self.settings.model)

    def close(self) -> None:
        """Nothing to release beyond what boto3 pools itself; kept for the common interface."""
        self._clients.clear()

    def scrub(self, text: str) -> str:
        """Remove anything credential-shaped from text we did not write (AWS error messages)."""
        if not text:
            return text
        text = _AWS_SECRETISH.sub(_redact_match, text)
        return scrub_tokens(text)

    def complete(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        max_tokens: int,
        temperature: float = 0.0,
        deadline: float | None = None,
    ) -> str:
        """The assistant's reply text for `messages` ([{"role", "content"}, ...]), as ChatClient's.

        System messages become Converse's `system` blocks; consecutive turns of one role are joined
        (Converse wants user/assistant alternating, starting with the user). Retries throttling,
        ServiceUnavailable / ModelNotReady / internal errors, model and socket timeouts with
        exponential backoff + jitter, never sleeping past the deadline; raises an LLMError otherwise.
        """
        s = self.settings
        if not self.configured:
            raise LLMNotConfigured(f"Bedrock not configured: {s.not_configured_hint()}")
        request = self._request(messages, max_tokens=max_tokens, temperature=temperature)
        prompt_chars = sum(len(str(m["content"])) for m in messages)
        if deadline is None:
            deadline = self.clock() + s.deadline_s

        attempt = 0
        while True:
            attempt += 1
            remaining = deadline - self.clock()
            if remaining <= 0:
                raise LLMTimeout(f"LLM deadline passed after {attempt - 1} attempt(s)", attempts=attempt - 1)
            timeout = min(s.timeout_s, remaining)
            event(log, "llm.request", logging.DEBUG, provider="bedrock", attempt=attempt, model=s.model,
                  prompt_chars=prompt_chars, max_tokens=int(max_tokens), timeout_s=round(timeout, 3))
            started = self.clock()
            try:
                runtime = self._runtime(timeout)
                self.requests_sent += 1
                resp = runtime.converse(**request)
            except Exception as exc:  # noqa: BLE001 - every SDK failure becomes a named LLMError below
                failure, retry = self._failure(exc, attempt=attempt, timeout=timeout)
                if not retry:
                    raise failure from None
            else:
                return self._parse(resp, attempt=attempt, elapsed_ms=int((self.clock() - started) * 1000))

            if attempt > s.max_retries:
                failure.message = f"{failure.message} (gave up after {attempt} attempts)"
                event(log, "llm.give_up", logging.WARNING, reason=type(failure).__name__, attempts=attempt)
                raise failure
            delay = backoff_delay(s, attempt, self._rng)  # Bedrock sends no Retry-After
            remaining = deadline - self.clock()
            if delay >= remaining:
                failure.message = (f"{failure.message} (next retry in {delay:.1f}s would pass the deadline, "
                                   f"{max(remaining, 0.0):.1f}s left)")
                event(log, "llm.give_up", logging.WARNING, reason=type(failure).__name__, attempts=attempt,
                      delay_s=round(delay, 3), remaining_s=round(max(remaining, 0.0), 3))
                raise failure
            event(log, "llm.retry", logging.INFO, reason=type(failure).__name__, attempt=attempt,
                  delay_s=round(delay, 3), server_hint=False)
            self.sleep(delay)

    def _request(self, messages: Sequence[Mapping[str, Any]], *, max_tokens: int,
                 temperature: float) -> dict[str, Any]:
        system: list[dict[str, str]] = []
        turns: list[dict[str, Any]] = []
        for m in messages:
            text = str(m["content"])
            if m["role"] == "system":
                if text.strip():
                    system.append({"text": text})
                continue
            role = "assistant" if m["role"] == "assistant" else "user"
            if turns and turns[-1]["role"] == role:
                turns[-1]["content"][0]["text"] += "\n\n" + text
            else:
                turns.append({"role": role, "content": [{"text": text}]})
        if not turns or turns[0]["role"] != "user":
            raise LLMRequestRejected("a Bedrock conversation must start with a user message")
        request: dict[str, Any] = {
            "modelId": self.settings.model,
            "messages": turns,
            "inferenceConfig": {"maxTokens": int(max_tokens), "temperature": float(temperature)},
        }
        if system:
            request["system"] = system
        return request

    def _runtime(self, timeout: float) -> Any:
        """The bedrock-runtime client whose read timeout is `timeout`, rounded up to a second."""
        if self._injected is not None:
            return self._injected
        key = max(1, math.ceil(timeout))
        runtime = self._clients.get(key)
        if runtime is None:
            import boto3  # lazy: only the handoff worker, and only when it asks Bedrock
            from botocore.config import Config

            config = Config(connect_timeout=min(10, key), read_timeout=key,
                            retries={"total_max_attempts": 1, "mode": "standard"})
            runtime = boto3.client("bedrock-runtime", region_name=self.settings.region, config=config)
            self._clients[key] = runtime
        return runtime

    def _failure(self, exc: Exception, *, attempt: int, timeout: float) -> tuple[LLMError, bool]:
        """The named error for an SDK exception, and whether another attempt may help."""
        from botocore import exceptions as bx

        if isinstance(exc, bx.ClientError):
            err = exc.response.get("Error", {}) if isinstance(exc.response, dict) else {}
            code = str(err.get("Code") or "ClientError")
            status = (exc.response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
            detail = " ".join(self.scrub(str(err.get("Message") or "")).split())[:200] or "no detail"
            event(log, "llm.http_error", logging.INFO, provider="bedrock", code=code, status=status,
                  attempt=attempt, detail=detail)
            kw = {"http_status": status, "attempts": attempt}
            if code in AUTH_CODES:
                return LLMAuthError(f"Bedrock refused access ({code}): {detail}", **kw), False
            if code in THROTTLE_CODES:
                return LLMRateLimited(f"Bedrock throttled the request ({code}): {detail}", **kw), True
            if code in TIMEOUT_CODES:
                return LLMTimeout(f"Bedrock timed out ({code}): {detail}", **kw), True
            if code in UNAVAILABLE_CODES or (isinstance(status, int) and status >= 500):
                return LLMUnavailable(f"Bedrock unavailable ({code}): {detail}", **kw), True
            return LLMRequestRejected(f"Bedrock rejected the request ({code}): {detail}", **kw), False
        if isinstance(exc, bx.ReadTimeoutError | bx.ConnectTimeoutError):
            return LLMTimeout(f"no answer from Bedrock within {timeout:.1f}s", attempts=attempt), True
        if isinstance(exc, bx.NoCredentialsError | bx.PartialCredentialsError):
            return LLMNotConfigured("no AWS credentials for Bedrock (a role on AWS, a profile locally)",
                                    attempts=attempt), False
        if isinstance(exc, bx.NoRegionError):
            return LLMNotConfigured("no AWS region for Bedrock: set MSO_BEDROCK_REGION or AWS_REGION",
                                    attempts=attempt), False
        if isinstance(exc, bx.EndpointConnectionError | bx.ConnectionClosedError):
            return LLMUnavailable(f"cannot connect to Bedrock ({type(exc).__name__})", attempts=attempt), True
        if isinstance(exc, bx.ParamValidationError):
            return LLMRequestRejected("Bedrock request failed validation in the SDK", attempts=attempt), False
        return LLMUnavailable(f"Bedrock request failed ({type(exc).__name__})", attempts=attempt), False

    def _parse(self, resp: Any, *, attempt: int, elapsed_ms: int) -> str:
        status = ((resp or {}).get("ResponseMetadata") or {}).get("HTTPStatusCode") if isinstance(resp, dict) else None
        message = ((resp.get("output") or {}).get("message") or {}) if isinstance(resp, dict) else {}
        parts = message.get("content") if isinstance(message, dict) else None
        if not isinstance(parts, list):
            raise LLMBadResponse("Bedrock answer has no message content", http_status=status, attempts=attempt)
        content = "".join(str(p["text"]) for p in parts if isinstance(p, dict) and isinstance(p.get("text"), str))
        if not content.strip():
            raise LLMBadResponse("Bedrock answer is empty", http_status=status, attempts=attempt)
        stop = resp.get("stopReason")
        self.last_finish_reason = _STOP_REASONS.get(stop, stop) if isinstance(stop, str) else None
        usage = resp.get("usage") if isinstance(resp.get("usage"), dict) else None
        self.last_usage = None if usage is None else {
            **usage, "prompt_tokens": usage.get("inputTokens"), "completion_tokens": usage.get("outputTokens")}
        event(log, "llm.response", logging.INFO, provider="bedrock", attempt=attempt, elapsed_ms=elapsed_ms,
              content_chars=len(content), finish_reason=self.last_finish_reason,
              prompt_tokens=(usage or {}).get("inputTokens"), completion_tokens=(usage or {}).get("outputTokens"))
        return content


def _redact_match(m: re.Match[str]) -> str:
    """Keep a `secret_key=` label, replace only its value; a bare key id is replaced whole."""
    label = m.group(1)
    if not label:
        return REDACTED
    head = m.group(0)
    cut = re.match(r"(?i).*?[=:]\s*", head)
    return (cut.group(0) if cut else "") + REDACTED
