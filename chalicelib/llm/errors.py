"""Named LLM failures.

The handoff engine treats every one of these as "no usable answer, fall back to the rules
document", but callers (logs, the job record, tests) need to tell a rate limit from a bad key.
Messages never contain the API key: the client scrubs server text before building them.
"""

from __future__ import annotations


class LLMError(Exception):
    """Base of every failure of the LLM path; `status` is the HTTP status when there was one."""

    def __init__(self, message: str, *, status: int | None = None, attempts: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.attempts = attempts

    def __str__(self) -> str:
        return self.message


class LLMNotConfigured(LLMError):
    """No API key (env, HF_TOKEN or SSM): the LLM path is off, not broken."""


class LLMAuthError(LLMError):
    """401/403: the key is wrong or lacks access; retrying cannot help."""


class LLMRequestRejected(LLMError):
    """400/404/413/422 and other non-retryable 4xx: the request itself is wrong."""


class LLMTimeout(LLMError):
    """The request timed out or the total deadline ran out."""


class LLMRateLimited(LLMError):
    """429 that did not clear within the retries / deadline."""


class LLMUnavailable(LLMError):
    """5xx (model loading, gateway errors) or connection failures that did not clear."""


class LLMBadResponse(LLMError):
    """A 2xx whose body is not a usable completion: malformed JSON, no choices, empty content."""


__all__ = [
    "LLMAuthError",
    "LLMBadResponse",
    "LLMError",
    "LLMNotConfigured",
    "LLMRateLimited",
    "LLMRequestRejected",
    "LLMTimeout",
    "LLMUnavailable",
]
