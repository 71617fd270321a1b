"""A small OpenAI-compatible chat-completions client on `requests`.

Why not the `openai` package: one POST is all we need, and owning it lets us honour the Hugging
Face router's quirks (503 "model is loading" with `estimated_time`), bound every wait by a total
deadline (a Lambda has a hard timeout), and guarantee the API key never leaks into a log line,
an exception message or a returned value.
"""

from __future__ import annotations

import email.utils
import logging
import math
import random
import re
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import requests

from chalicelib.llm.errors import (
    LLMAuthError,
    LLMBadResponse,
    LLMError,
    LLMRateLimited,
    LLMRequestRejected,
    LLMTimeout,
    LLMUnavailable,
)
from chalicelib.llm.settings import LLMSettings
from chalicelib.logs import event, get_logger

log = get_logger("llm")

# 429 is handled on its own (LLMRateLimited); these are transient server/gateway states.
RETRYABLE_STATUS = frozenset({408, 425, 500, 502, 503, 504})
MAX_SERVER_WAIT_S = 120.0  # never believe a Retry-After / estimated_time beyond this
REDACTED = "[REDACTED]"
_TOKENISH = re.compile(r"(?i)(bearer\s+)[^\s\"',;]+|\bhf_[A-Za-z0-9]{16,}\b|\bsk-[A-Za-z0-9_\-]{16,}\b")


def scrub_tokens(text: str) -> str:
    """Replace anything token-shaped (bearer values, hf_/sk- keys) in text we did not write."""
    return _TOKENISH.sub(lambda m: (m.group(1) + REDACTED) if m.group(1) else REDACTED, text)


def backoff_delay(settings: LLMSettings, attempt: int, rng: random.Random) -> float:
    """Exponential backoff with "equal jitter" (half fixed, half random), capped: both clients'."""
    base = min(settings.backoff_max_s, settings.backoff_base_s * (2 ** (attempt - 1)))
    return base * (0.5 + 0.5 * rng.random())


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP-date; None if absent/bad."""
    if value is None or not value.strip():
        return None
    raw = value.strip()
    try:
        secs = float(raw)
    except ValueError:
        pass
    else:
        return max(0.0, secs) if math.isfinite(secs) else None
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:  # pragma: no cover - older Pythons returned None
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now or datetime.now(UTC)
    return max(0.0, (when - current).total_seconds())


class ChatClient:
    """POST `{base_url}/chat/completions` with retries, backoff and a total deadline.

    `sleep` and `clock` are injectable so tests run retries without waiting; `clock` must be
    monotonic seconds. The key is resolved on the first call (SSM only then).
    """

    def __init__(
        self,
        settings: LLMSettings | None = None,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings or LLMSettings.from_env()
        self.sleep = sleep
        self.clock = clock
        self._session = session or requests.Session()
        self._rng = rng or random.Random()
        self._key: str | None = None
        self.requests_sent = 0
        self.last_finish_reason: str | None = None
        self.last_usage: dict[str, Any] | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **kwargs: Any) -> ChatClient:
        """Client configured from `MSO_LLM_*` variables."""
        return cls(LLMSettings.from_env(env), **kwargs)

    def __repr__(self) -> str:
        return f"ChatClient(base_url={self.settings.base_url!r}, model={self.settings.model!r})"

    @property
    def model(self) -> str:
        return self.settings.model

    @property
    def configured(self) -> bool:
        """True when a key is set or can be fetched (no network)."""
        return bool(self._key) or self.settings.configured

    def close(self) -> None:
        self._session.close()

    def scrub(self, text: str) -> str:
        """Remove the API key (and anything token-shaped) from text we did not write."""
        if not text:
            return text
        for secret in (self._key, self.settings.api_key):
            if secret:
                text = text.replace(secret, REDACTED)
        return scrub_tokens(text)

    def complete(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        max_tokens: int,
        temperature: float = 0.0,
        deadline: float | None = None,
    ) -> str:
        """The assistant's reply text for `messages` ([{"role", "content"}, ...]).

        `deadline` is an absolute `clock()` time shared by several calls (map-reduce); default is
        now + `deadline_s`. Retries 429, 408/425/5xx, timeouts and connection errors with
        exponential backoff + jitter, or exactly the server's Retry-After / estimated loading
        time, and never sleeps past the deadline. Raises an LLMError subclass otherwise.
        """
        s = self.settings
        if self._key is None:
            self._key = s.resolve_api_key()
        url = f"{s.base_url}/chat/completions"
        payload = {
            "model": s.model,
            "messages": [{"role": m["role"], "content": m["content"]} for m in messages],
            "max_tokens": int(max_tokens),
            "temperature": temperature,
            "stream": False,
        }
        headers = {"Authorization": f"Bearer {self._key}", "Content-Type": "application/json"}
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
            event(
                log, "llm.request", logging.DEBUG, attempt=attempt, model=s.model, prompt_chars=prompt_chars,
                max_tokens=int(max_tokens), timeout_s=round(timeout, 3),
            )
            started = self.clock()
            wait: float | None = None
            failure: LLMError
            try:
                self.requests_sent += 1
                resp = self._session.post(url, json=payload, headers=headers, timeout=timeout)
            except requests.Timeout:
                failure = LLMTimeout(f"no answer from the LLM within {timeout:.1f}s", attempts=attempt)
            except requests.ConnectionError as exc:
                failure = LLMUnavailable(f"cannot connect to the LLM endpoint ({type(exc).__name__})",
                                         attempts=attempt)
            except requests.RequestException as exc:
                raise LLMUnavailable(f"LLM request failed ({type(exc).__name__})", attempts=attempt) from None
            else:
                status = resp.status_code
                elapsed_ms = int((self.clock() - started) * 1000)
                if 200 <= status < 300:
                    return self._parse(resp, attempt=attempt, elapsed_ms=elapsed_ms)
                detail, estimated = self._error_detail(resp)
                retry_after = parse_retry_after(resp.headers.get("Retry-After"))
                event(log, "llm.http_error", logging.INFO, status=status, attempt=attempt,
                          elapsed_ms=elapsed_ms, retry_after=retry_after, estimated_time=estimated,
                          detail=detail)
                if status in (401, 403):
                    raise LLMAuthError(f"LLM endpoint refused the API key (HTTP {status}): {detail}",
                                       http_status=status, attempts=attempt)
                if status == 429:
                    failure = LLMRateLimited(f"LLM rate limited (HTTP 429): {detail}", http_status=status,
                                             attempts=attempt)
                    wait = retry_after
                elif status in RETRYABLE_STATUS:
                    failure = LLMUnavailable(f"LLM unavailable (HTTP {status}): {detail}", http_status=status,
                                             attempts=attempt)
                    waits = [w for w in (retry_after, estimated) if w is not None]
                    wait = max(waits) if waits else None
                else:
                    raise LLMRequestRejected(f"LLM rejected the request (HTTP {status}): {detail}",
                                             http_status=status, attempts=attempt)
                if wait is not None:
                    wait = min(wait, MAX_SERVER_WAIT_S)

            if attempt > s.max_retries:
                failure.message = f"{failure.message} (gave up after {attempt} attempts)"
                event(log, "llm.give_up", logging.WARNING, reason=type(failure).__name__, attempts=attempt)
                raise failure
            delay = wait if wait is not None else backoff_delay(s, attempt, self._rng)
            remaining = deadline - self.clock()
            if delay >= remaining:
                failure.message = (
                    f"{failure.message} (next retry in {delay:.1f}s would pass the deadline, "
                    f"{max(remaining, 0.0):.1f}s left)"
                )
                event(log, "llm.give_up", logging.WARNING, reason=type(failure).__name__, attempts=attempt,
                          delay_s=round(delay, 3), remaining_s=round(max(remaining, 0.0), 3))
                raise failure
            event(log, "llm.retry", logging.INFO, reason=type(failure).__name__, attempt=attempt,
                      delay_s=round(delay, 3), server_hint=wait is not None)
            self.sleep(delay)

    def _error_detail(self, resp: requests.Response) -> tuple[str, float | None]:
        """A short, scrubbed description of an error body, and HF's `estimated_time` if any."""
        estimated: float | None = None
        text = ""
        try:
            body = resp.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            est = body.get("estimated_time")
            if isinstance(est, int | float) and not isinstance(est, bool) and math.isfinite(est) and est >= 0:
                estimated = float(est)
            err = body.get("error")
            if isinstance(err, dict):
                text = str(err.get("message") or err.get("type") or "")
            elif err:
                text = str(err)
            else:
                text = str(body.get("message") or body.get("detail") or "")
        if not text:
            text = (resp.text or "").strip() or resp.reason or ""
        text = " ".join(self.scrub(text).split())
        if len(text) > 200:
            text = text[:200] + "..."
        return text or "no detail", estimated

    def _parse(self, resp: requests.Response, *, attempt: int, elapsed_ms: int) -> str:
        try:
            body = resp.json()
        except ValueError:
            raise LLMBadResponse("LLM answer is not valid JSON", http_status=resp.status_code,
                                 attempts=attempt) from None
        if not isinstance(body, dict):
            raise LLMBadResponse("LLM answer is not a JSON object", http_status=resp.status_code, attempts=attempt)
        choices = body.get("choices")
        if not isinstance(choices, list) or not choices:
            detail = ""
            if body.get("error"):
                detail = ": " + " ".join(self.scrub(str(body["error"])).split())[:200]
            raise LLMBadResponse(f"LLM answer has no choices{detail}", http_status=resp.status_code,
                                 attempts=attempt)
        choice = choices[0] if isinstance(choices[0], dict) else {}
        message = choice.get("message") if isinstance(choice.get("message"), dict) else {}
        content = message.get("content")
        if isinstance(content, list):  # content parts: [{"type": "text", "text": "..."}]
            content = "".join(
                str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type", "text") == "text"
            )
        if not isinstance(content, str) or not content.strip():
            raise LLMBadResponse("LLM answer is empty", http_status=resp.status_code, attempts=attempt)
        self.last_finish_reason = choice.get("finish_reason")
        usage = body.get("usage")
        self.last_usage = usage if isinstance(usage, dict) else None
        event(log, "llm.response", logging.INFO, status=resp.status_code, attempt=attempt, elapsed_ms=elapsed_ms,
                  content_chars=len(content), finish_reason=self.last_finish_reason,
                  prompt_tokens=(self.last_usage or {}).get("prompt_tokens"),
                  completion_tokens=(self.last_usage or {}).get("completion_tokens"))
        return content
