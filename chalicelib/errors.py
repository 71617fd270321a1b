"""Errors as named exception types: one tree under `AppError`.

Domain, storage, the transcript importers, numstat parsing and the LLM client raise these; the HTTP
layer (`endpoint()`) catches `AppError` alone and answers `{"error": {"code", "message", "field",
**details}}` with `status`. The `code` is stable (clients may branch on it); the message is a
sentence a person can act on; `details` are extra JSON fields (a line, an offset).
"""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    """Base of every named failure: `code`, `status` (the HTTP answer), `message`, `details`."""

    status = 500
    code = "internal_error"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None,
                 details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.field = field
        self.details = details or {}

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, Any]:
        err: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field:
            err["field"] = self.field
        if self.details:
            err.update(self.details)
        return {"error": err}


class BadRequest(AppError):
    status = 400
    code = "invalid_request"


class Unauthorized(AppError):
    status = 401
    code = "unauthorized"


class NotFound(AppError):
    status = 404
    code = "not_found"


class Conflict(AppError):
    status = 409
    code = "conflict"


class PayloadTooLarge(AppError):
    status = 413
    code = "payload_too_large"


class ServiceUnavailable(AppError):
    status = 503
    code = "service_unavailable"
