"""One error tree: every named failure is an AppError with code, status, message and details."""

from __future__ import annotations

import pytest

from chalicelib.errors import AppError, BadRequest, NotFound
from chalicelib.llm.errors import LLMError, LLMNotConfigured, LLMRateLimited, LLMTimeout
from chalicelib.transcripts.errors import NumstatError, TranscriptInvalidJSON, TranscriptTooLarge


@pytest.mark.parametrize(("err", "code", "status"), [
    (BadRequest("bad"), "invalid_request", 400),
    (NotFound("gone"), "not_found", 404),
    (TranscriptInvalidJSON("bad json", line=3, offset=40, format="codex"), "transcript_invalid_json", 400),
    (TranscriptTooLarge("too big"), "transcript_too_large", 413),
    (NumstatError("Line 2 is not numstat", line=2), "invalid_numstat", 400),
    (LLMTimeout("slow", attempts=2), "llm_timeout", 504),
    (LLMRateLimited("busy", http_status=429), "llm_rate_limited", 503),
    (LLMNotConfigured("no key"), "llm_not_configured", 503),
])
def test_every_named_error_is_an_app_error(err: AppError, code: str, status: int) -> None:
    assert isinstance(err, AppError)
    assert (err.code, err.status, str(err)) == (code, status, err.message)
    body = err.to_dict()["error"]
    assert body["code"] == code and body["message"] == err.message
    assert {k: v for k, v in body.items() if k not in ("code", "message", "field")} == err.details


def test_places_and_upstream_status_are_kept() -> None:
    t = TranscriptInvalidJSON("bad json", line=3, offset=40, format="codex")
    assert (t.line, t.offset, t.format) == (3, 40, "codex")
    assert t.to_dict() == {"error": {"code": "transcript_invalid_json", "message": "bad json", "line": 3,
                                     "offset": 40, "format": "codex"}}
    assert NumstatError("Line 2 is not numstat", line=2).to_dict()["error"]["line"] == 2
    rate = LLMRateLimited("busy", http_status=429, attempts=3)
    assert isinstance(rate, LLMError) and (rate.http_status, rate.attempts, rate.status) == (429, 3, 503)
