"""The one entry point for importing a transcript: bytes in, redacted messages out.

    imp = open_transcript(body, "auto")        # checks what it can up front (may raise)
    for msg in imp:                             # streams redacted Messages (may raise mid-way)
        store(msg)
    imp.stats, imp.file_changes, imp.info       # complete once iteration has finished

`open_transcript` gunzips transparently (gzip magic bytes, not the file name), decodes UTF-8
strictly, refuses binary and empty bodies, detects the format from content (or checks the
declared one against it) and returns a `TranscriptImport`. Nothing is buffered beyond the
current message (for JSONL, Markdown and text formats; JSON documents are parsed whole), so a
caller can store messages in batches; since errors can surface mid-way (a malformed line 9000),
it should treat the import as done only when iteration completes without raising.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

from .errors import (
    TranscriptEmpty,
    TranscriptError,
    TranscriptInvalidStructure,
    TranscriptUnknownFormat,
    TranscriptWrongFormat,
)
from .filechanges import FileChangeTracker
from .importers import IMPORTERS, detect, sniff
from .importers.base import sanitize
from .limits import MAX_MESSAGE_BYTES, MessageClipper
from .model import FileChange, Message
from .redact import Redactor
from .textstream import TextSource

FORMATS: tuple[str, ...] = ("auto", "claude-code", "codex", "chatgpt", "openai", "sharegpt", "swe-agent", "aider",
                            "markdown", "text")
_LINE_FORMATS = frozenset({"claude-code", "codex", "aider", "markdown", "text"})  # read line by line
STATS_KEYS: tuple[str, ...] = ("format", "messages", "chars", "tool_calls", "tool_errors", "tokens", "input_tokens",
                               "output_tokens", "redactions", "bytes")


class TranscriptImport:
    """One import in progress: iterate it once for redacted messages; read `stats` any time,
    `file_changes` (and the final `stats`) once iteration has completed."""

    def __init__(self, source: TextSource, fmt: str, *, detected: bool, conversation: str | None = None,
                 max_message_bytes: int = MAX_MESSAGE_BYTES) -> None:
        self.format = fmt
        self.detected = detected  # True when the format came from auto-detection
        self._source = source
        self._importer = IMPORTERS[fmt](conversation=conversation)
        self._importer.max_message_chars = max_message_bytes  # line-buffering importers stop there
        self._clipper = MessageClipper(max_message_bytes)
        self._redactor = Redactor()
        self._tracker = FileChangeTracker(fmt)
        self._started = False
        self.complete = False
        self._file_changes: list[FileChange] | None = None
        self._n = self._chars = self._calls = self._errors = self._in = self._out = 0

    @property
    def clipped(self) -> int:
        """Messages cut to the per-message limit so far (each ends with a marker saying how much)."""
        return self._clipper.clipped

    @property
    def info(self) -> dict[str, Any]:
        """What the importer learned besides messages: cwd, session_id, model, title, ..."""
        return self._importer.info

    @property
    def stats(self) -> dict[str, Any]:
        """Totals so far (final once iteration completed); keys are STATS_KEYS. `tokens` is input +
        output as the tool reported them; `redactions` is {kind: count}; `bytes` is uncompressed."""
        return {
            "format": self.format,
            "messages": self._n,
            "chars": self._chars,
            "tool_calls": self._calls,
            "tool_errors": self._errors,
            "tokens": self._in + self._out,
            "input_tokens": self._in,
            "output_tokens": self._out,
            "redactions": dict(self._redactor.counts),
            "bytes": self._source.bytes_read,
        }

    @property
    def file_changes(self) -> list[FileChange]:
        """Per-file changes derived from the transcript (merged per path, paths relative to the
        session's cwd when it is known); RuntimeError until iteration has completed."""
        if self._file_changes is None:
            raise RuntimeError("file_changes are known only after the import has been iterated to the end")
        return self._file_changes

    def __iter__(self) -> Iterator[Message]:
        if self._started:
            raise RuntimeError("a TranscriptImport can be iterated only once")
        self._started = True
        return self._run()

    def _mark_where(self, msg: Message) -> None:
        """Put the session's cwd / git branch (when the format states them) into the first
        message's meta, so that the stored transcript keeps them (Claude Code marks its own)."""
        if "cwd" in msg.meta:
            return
        for key in ("cwd", "git_branch"):
            value = self.info.get(key)
            if isinstance(value, str) and value:
                msg.meta[key] = value

    def _messages(self) -> Iterator[Message]:
        """The importer's messages, with any unexpected failure on odd input (a field of the
        wrong type deep in a record) turned into a TranscriptInvalidStructure: bad input is a
        4xx for the caller, never a crash."""
        try:
            for msg in self._importer.parse(self._source):
                yield sanitize(msg)
        except TranscriptError:
            raise
        except (KeyError, TypeError, AttributeError, IndexError, ValueError, RecursionError) as e:
            line = self._source.line_no or None
            where = f" near line {line}" if line and self.format in _LINE_FORMATS else ""
            raise TranscriptInvalidStructure(
                f"The {self.format} transcript has an unexpected structure{where} ({type(e).__name__}); "
                "upload the file the tool wrote, unmodified.", line=line if where else None,
                format=self.format) from e

    def _run(self) -> Iterator[Message]:
        observe = self._tracker.observe
        redact = self._redactor.message
        precut, cut = self._clipper.precut, self._clipper.cut
        first = True
        for msg in self._messages():
            if first:
                first = False
                self._mark_where(msg)
            observe(msg)  # before redaction: exact line counts; the tracker keeps no content
            precut(msg)  # a huge message: drop what is never kept before the redactor scans it
            redact(msg)
            cut(msg)  # then cut to the limit, after redaction, with a marker saying how much
            self._n += 1
            self._chars += msg.chars()
            if msg.tool_calls:
                self._calls += len(msg.tool_calls)
            if msg.tool_results:
                self._errors += sum(1 for r in msg.tool_results if r.is_error)
            if msg.usage is not None:
                self._in += msg.usage.input_tokens
                self._out += msg.usage.output_tokens
            yield msg
        if self._n == 0:
            raise TranscriptEmpty(f"No messages found in this {self.format} transcript.", format=self.format)
        cwd = self.info.get("cwd")
        self._file_changes = self._tracker.result(cwd if isinstance(cwd, str) else None)
        self.complete = True


def open_transcript(raw: BinaryIO | bytes, fmt: str = "auto", *, conversation: str | None = None,
                    max_bytes: int | None = None, max_line_bytes: int | None = None,
                    max_document_bytes: int | None = None,
                    max_message_bytes: int = MAX_MESSAGE_BYTES) -> TranscriptImport:
    """Start importing `raw` (a binary stream or bytes; gzip or not) as `fmt` (one of FORMATS).

    Raises up front what the first 64 KB can tell: TranscriptUnknownFormat, TranscriptEmpty,
    TranscriptBinary, TranscriptNotUTF8, TranscriptBadGzip, TranscriptWrongFormat (declared format
    contradicted by the content). `conversation` selects one conversation in multi-conversation
    exports (chatgpt: id or title; sharegpt: id or index). `max_bytes` caps the uncompressed size
    (TranscriptTooLarge, 413: a gzip bomb stops there), `max_line_bytes` one line of a line format,
    `max_document_bytes` a whole-document (JSON) format; messages are cut to `max_message_bytes`.
    """
    fmt = (fmt or "auto").strip().lower()
    if fmt not in FORMATS:
        raise TranscriptUnknownFormat(
            f"Unknown transcript format {fmt!r}; use one of: {', '.join(FORMATS)}.", details={"formats": list(FORMATS)})
    source = TextSource(raw, max_bytes=max_bytes, max_line_bytes=max_line_bytes,
                        max_document_bytes=max_document_bytes)
    if not source.head.strip() and source.at_eof:
        raise TranscriptEmpty("The transcript is empty: the upload has no content"
                              + (" after decompression." if source.compressed else "."))
    detected = detect(source.head)
    if fmt == "auto":
        return TranscriptImport(source, detected, detected=True, conversation=conversation,
                                max_message_bytes=max_message_bytes)
    if fmt != "text" and sniff(fmt, source.head) <= 0:
        hint = f"; it looks like {detected}" if detected != "text" else ""
        raise TranscriptWrongFormat(
            f"The upload is not in the {fmt} format{hint}. Upload it with format={detected if hint else 'auto'}, "
            "or upload the file the tool wrote unmodified.", format=fmt, details={"detected": detected})
    return TranscriptImport(source, fmt, detected=False, conversation=conversation,
                            max_message_bytes=max_message_bytes)


def import_all(raw: BinaryIO | bytes, fmt: str = "auto", *, conversation: str | None = None,
               max_bytes: int | None = None) -> tuple[list[Message], dict[str, Any], list[FileChange]]:
    """Convenience: the whole import in memory -> (messages, stats, file_changes)."""
    imp = open_transcript(raw, fmt, conversation=conversation, max_bytes=max_bytes)
    messages = list(imp)
    return messages, imp.stats, imp.file_changes
