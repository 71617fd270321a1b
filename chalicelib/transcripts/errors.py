"""Named errors for transcript import and numstat parsing, each with a stable `code` and an actionable `message`.

They are `AppError`s (chalicelib/errors.py), so the API answers them as they are: `status`, and
`to_dict()` for the JSON body. `line` (1-based) and `offset` (0-based byte offset into the
uncompressed upload) point at the problem when it has a place; they are also in `details`, so they
reach the client. Messages never quote transcript content beyond a short, harmless excerpt, since
the content may hold secrets.
"""

from __future__ import annotations

from typing import Any

from chalicelib.errors import AppError, BadRequest, PayloadTooLarge


class TranscriptError(AppError):
    """Base class: the upload cannot be imported as it is."""

    code = "transcript_error"
    status = 400

    def __init__(self, message: str, *, line: int | None = None, offset: int | None = None,
                 format: str | None = None, details: dict[str, Any] | None = None) -> None:
        place = {k: v for k, v in (("line", line), ("offset", offset), ("format", format or None)) if v is not None}
        super().__init__(message, details={**place, **(details or {})})
        self.line = line
        self.offset = offset
        self.format = format


class TranscriptEmpty(TranscriptError):
    """No bytes, only whitespace, or no message at all in an otherwise valid document."""

    code = "transcript_empty"


class TranscriptInvalidJSON(TranscriptError):
    """A JSON document or JSONL line does not parse (truncated upload, hand edits)."""

    code = "transcript_invalid_json"


class TranscriptInvalidStructure(TranscriptError):
    """Valid JSON, but not shaped like the format says (e.g. `mapping` is not an object)."""

    code = "transcript_invalid_structure"


class TranscriptNotUTF8(TranscriptError):
    """The (uncompressed) body is not valid UTF-8."""

    code = "transcript_not_utf8"


class TranscriptBinary(TranscriptError):
    """The body is binary data (an archive, an image, noise), not a text transcript."""

    code = "transcript_binary"


class TranscriptBadGzip(TranscriptError):
    """The body starts like gzip but does not decompress (truncated or corrupt)."""

    code = "transcript_bad_gzip"


class TranscriptTooLarge(TranscriptError):
    """The uncompressed body exceeds the caller's limit (protects against gzip bombs)."""

    code = "transcript_too_large"
    status = 413


class TranscriptWrongFormat(TranscriptError):
    """The body is not in the declared format (and maybe in another one we name)."""

    code = "transcript_wrong_format"


class TranscriptUnknownFormat(TranscriptError):
    """`format=` names a format we do not support."""

    code = "transcript_unknown_format"


class TranscriptConversationNotFound(TranscriptError):
    """`conversation=` matches no conversation of a multi-conversation export."""

    code = "transcript_conversation_not_found"


class NumstatError(BadRequest):
    """A line of `git diff --numstat` output does not parse; `line` is 1-based."""

    code = "invalid_numstat"

    def __init__(self, message: str, *, line: int | None = None) -> None:
        super().__init__(message, details={} if line is None else {"line": line})
        self.line = line


class TooManyFileChanges(PayloadTooLarge):
    """More file changes than a session keeps in one PUT (`limit` says how many)."""

    code = "too_many_files"

    def __init__(self, message: str, *, limit: int) -> None:
        super().__init__(message, details={"limit": limit})
        self.limit = limit
