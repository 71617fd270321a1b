"""Named LLM failures, `AppError`s (chalicelib/errors.py) like every other named error.

The handoff engine treats every one of these as "no usable answer, fall back to the rules
document", but callers (logs, the job record, tests) need to tell a rate limit from a bad key.
`status` is what our API would answer (the model is our upstream: 502/503/504); `http_status` is
what the model's server answered, when it answered. Messages never contain the API key: the
client scrubs server text before building them.
"""

from __future__ import annotations

from chalicelib.errors import AppError


class LLMError(AppError):
    """Base of every failure of the LLM path; `http_status` is the model server's HTTP status, if any."""

    status = 502
    code = "llm_error"

    def __init__(self, message: str, *, http_status: int | None = None, attempts: int = 0) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.attempts = attempts


class LLMNotConfigured(LLMError):
    """No API key (env, HF_TOKEN or SSM): the LLM path is off, not broken."""

    code = "llm_not_configured"
    status = 503


class LLMAuthError(LLMError):
    """401/403: the key is wrong or lacks access; retrying cannot help."""

    code = "llm_auth"
    status = 502


class LLMRequestRejected(LLMError):
    """400/404/413/422 and other non-retryable 4xx: the request itself is wrong."""

    code = "llm_request_rejected"
    status = 502


class LLMTimeout(LLMError):
    """The request timed out or the total deadline ran out."""

    code = "llm_timeout"
    status = 504


class LLMRateLimited(LLMError):
    """429 that did not clear within the retries / deadline."""

    code = "llm_rate_limited"
    status = 503


class LLMUnavailable(LLMError):
    """5xx (model loading, gateway errors) or connection failures that did not clear."""

    code = "llm_unavailable"
    status = 503


class LLMBadResponse(LLMError):
    """A 2xx whose body is not a usable completion: malformed JSON, no choices, empty content."""

    code = "llm_bad_response"
    status = 502

