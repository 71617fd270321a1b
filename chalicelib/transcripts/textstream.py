"""Bytes in, strict UTF-8 text out: gunzip, binary detection, line streaming, precise errors.

`TextSource` reads the upload in chunks, so memory stays flat however large the transcript is.
It decodes the first ~64 KB eagerly (`head`) so format detection and the cheap up-front checks
(empty, binary, not UTF-8, wrong format) happen before any message is produced; iteration then
replays the head and continues with the rest of the stream. Lines are split on "\\n" only (not on
U+2028 and friends, which JSON allows inside strings).
"""

from __future__ import annotations

import codecs
import gzip
import io
import zlib
from collections.abc import Iterator
from typing import BinaryIO

from .errors import TranscriptBadGzip, TranscriptBinary, TranscriptNotUTF8, TranscriptTooLarge

HEAD_BYTES = 64 * 1024
CHUNK_BYTES = 256 * 1024
GZIP_MAGIC = b"\x1f\x8b"

# Bytes that never appear in text files (everything below 0x20 except \t \n \v \f \r, ESC; and DEL).
_CONTROL_BYTES = bytes([*range(0, 9), *range(14, 27), *range(28, 32), 127])

# Well-known binary signatures: what the upload is, and what to do instead.
_MAGIC_HINTS: tuple[tuple[bytes, str, str], ...] = (
    (b"PK\x03\x04", "a ZIP archive", "extract the transcript (e.g. conversations.json of a ChatGPT export) "
                                     "and upload that file, gzip-compressed if you like"),
    (b"SQLite format 3\x00", "an SQLite database", "export the chat to Markdown first (Cursor keeps chats in "
                                                  "SQLite; SpecStory exports them)"),
    (b"%PDF", "a PDF document", "upload the transcript file the tool wrote"),
    (b"\x89PNG", "a PNG image", "upload the transcript file the tool wrote"),
    (b"\xff\xd8\xff", "a JPEG image", "upload the transcript file the tool wrote"),
    (b"GIF8", "a GIF image", "upload the transcript file the tool wrote"),
    (b"BZh", "bzip2-compressed data", "decompress it, or compress with gzip (the only compression supported)"),
    (b"\xfd7zXZ\x00", "xz-compressed data", "decompress it, or compress with gzip (the only compression supported)"),
    (b"(\xb5/\xfd", "zstd-compressed data", "decompress it, or compress with gzip (the only compression supported)"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive", "extract the transcript and upload that file"),
)


class _Prefixed(io.RawIOBase):
    """A byte stream that first returns `prefix`, then the rest of `raw` (undo a peek)."""

    def __init__(self, prefix: bytes, raw: BinaryIO) -> None:
        self._prefix = prefix
        self._raw = raw

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if self._prefix:
            if n is None or n < 0:
                out, self._prefix = self._prefix + (self._raw.read() or b""), b""
                return out
            out, self._prefix = self._prefix[:n], self._prefix[n:]
            return out
        return self._raw.read(n) or b""

    def readinto(self, b: bytearray) -> int:  # type: ignore[override]
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)


def _read_full(stream: BinaryIO, n: int) -> bytes:
    """Read up to `n` bytes, looping over short reads (pipes, sockets, generator streams)."""
    parts: list[bytes] = []
    got = 0
    while got < n:
        data = stream.read(n - got)
        if not data:
            break
        if isinstance(data, str):
            raise TypeError("a transcript is read from a binary stream or bytes: open the file in 'rb' mode")
        parts.append(data)
        got += len(data)
    return b"".join(parts)


def _check_binary(head: bytes) -> None:
    """Refuse obvious non-text up front: known signatures, UTF-16/32, NULs, many control bytes."""
    for magic, what, advice in _MAGIC_HINTS:
        if head.startswith(magic):
            raise TranscriptBinary(f"The upload is {what}, not a text transcript: {advice}.", offset=0)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise TranscriptNotUTF8("The upload is UTF-16 text; save or convert it as UTF-8 and upload again.",
                                offset=0, line=1)
    nul = head.find(b"\x00")
    if nul >= 0:
        raise TranscriptBinary(
            f"The upload contains NUL bytes (first at byte offset {nul}): it is binary data, not a text "
            "transcript. Upload the JSON, JSONL, Markdown or text file the tool wrote (optionally "
            "gzip-compressed).", offset=nul)
    if not head:
        return
    ctrl = len(head) - len(head.translate(None, _CONTROL_BYTES))
    # Invalid UTF-8 in quantity (not one stray byte) also means binary; one stray byte is reported
    # precisely by the strict decoder later.
    bad = head.decode("utf-8", "replace").count("\ufffd") - head.decode("utf-8", "ignore").count("\ufffd")
    if (ctrl + bad) > max(8, len(head) // 20):
        raise TranscriptBinary(
            f"The upload looks like binary data ({ctrl + bad} control or undecodable bytes in the first "
            f"{len(head)}): upload the text transcript the tool wrote (optionally gzip-compressed).")


# A JSON document in memory after json.loads, per item of its text (CPython 3.11, 64-bit): a list or
# dict ~72 bytes with its slot, a str ~56 plus its text, an int or float ~32 with its slot. "[]," is
# 3 bytes of text and 64 of memory; a gzip of 200 KB can hold 60 MiB of it.
_CONTAINER_B, _STRING_B, _VALUE_B = 72, 56, 32
PARSE_FACTOR = 5  # the parsed form may take this many times the document cap (32 MiB: 160 MiB)


def parsed_size(text: str) -> int:
    """An upper estimate of the memory json.loads would take for `text`, in bytes, from counts of its
    brackets, quotes and commas (C-speed str.count; characters inside strings are counted too, so it
    errs high, by little for prose). What bounds the peak is this, not the length of the text."""
    containers = text.count("[") + text.count("{")
    return (len(text) + _CONTAINER_B * containers + _STRING_B * (text.count('"') // 2)
            + _VALUE_B * text.count(","))


def _size(n: int) -> str:
    """A byte limit as people write it: 64 MiB, 256 KiB, 1,000 bytes."""
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size and n % size == 0:
            return f"{n // size:,} {unit}"
    return f"{n:,} bytes"


class TextSource:
    """Strict UTF-8 text over a (possibly gzip-compressed) byte stream.

    Use `head` (first ~64 KB of text) for sniffing, then EITHER iterate lines (each ends with
    "\\n" except possibly the last) OR call `read()` once for whole-document formats.
    `bytes_read` counts uncompressed bytes consumed so far; `line_no` the lines handed out.
    """

    def __init__(self, raw: BinaryIO | bytes, *, max_bytes: int | None = None, max_line_bytes: int | None = None,
                 max_document_bytes: int | None = None, head_bytes: int = HEAD_BYTES,
                 chunk_bytes: int = CHUNK_BYTES) -> None:
        if isinstance(raw, bytes | bytearray | memoryview):
            raw = io.BytesIO(bytes(raw))
        self.max_bytes = max_bytes
        self.max_line_bytes = max_line_bytes  # one line, when iterated (JSONL, Markdown, text)
        self.max_document_bytes = max_document_bytes  # the whole text, when read() at once (JSON documents)
        self.chunk_bytes = chunk_bytes
        self.bytes_read = 0
        self.line_no = 0
        self.compressed = False
        self._eof = False
        self._consumed = False
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self._newlines_decoded = 0  # newlines in all text decoded so far (for error positions)

        magic = _read_full(raw, 2)  # peek only: a gzip upload must stay a stream too
        if magic == GZIP_MAGIC:
            self.compressed = True
            self._stream: BinaryIO = gzip.GzipFile(fileobj=_Prefixed(magic, raw), mode="rb")  # type: ignore[assignment]
            first = self._read(head_bytes)
        else:
            self._stream = raw
            first = magic + _read_full(raw, head_bytes - len(magic)) if len(magic) == 2 else magic
            self._account(len(first))
            if len(first) < head_bytes:
                self._eof = True
        _check_binary(first)
        text = self._decode(first, final=self._eof)
        if text.startswith("\ufeff"):
            text = text[1:]
        self.head = text
        self._pending = text  # the head, replayed by the first read()/iteration

    @property
    def at_eof(self) -> bool:
        """True once the whole upload has been read (for a small upload: right after the head)."""
        return self._eof

    # -- bytes ---------------------------------------------------------------------------------
    def _account(self, n: int) -> None:
        self.bytes_read += n
        if self.max_bytes is not None and self.bytes_read > self.max_bytes:
            raise TranscriptTooLarge(
                f"The transcript is larger than {_size(self.max_bytes)} uncompressed (the limit on this path); "
                "split it, upload a shorter session, or use the upload URL (POST .../transcript-upload), which "
                "takes more.", details={"limit_bytes": self.max_bytes})

    def _read(self, n: int) -> bytes:
        try:
            data = _read_full(self._stream, n)
        except (OSError, EOFError, zlib.error) as e:
            if not self.compressed:
                raise
            raise TranscriptBadGzip(
                f"The gzip data is corrupt or truncated (failed after {self.bytes_read} uncompressed bytes: "
                f"{type(e).__name__}); upload the complete file again.", offset=self.bytes_read) from None
        self._account(len(data))
        if len(data) < n:
            self._eof = True
        return data

    # -- text ----------------------------------------------------------------------------------
    def _decode(self, data: bytes, *, final: bool) -> str:
        pending = self._decoder.getstate()[0]
        start_offset = self.bytes_read - len(data) - len(pending)
        try:
            text = self._decoder.decode(data, final)
        except UnicodeDecodeError as e:
            buf = pending + data
            line = self._newlines_decoded + buf[: e.start].count(b"\n") + 1
            offset = start_offset + e.start
            raise TranscriptNotUTF8(
                f"The transcript is not valid UTF-8: byte 0x{buf[e.start]:02x} at byte offset {offset} "
                f"(line {line}) {e.reason}. Save the file as UTF-8 and upload again.",
                line=line, offset=offset) from None
        self._newlines_decoded += text.count("\n")
        return text

    def _next_text(self) -> str:
        """Decode the next chunk ("" at the end)."""
        if self._eof:
            return ""
        data = self._read(self.chunk_bytes)
        return self._decode(data, final=self._eof)

    def _take_pending(self) -> str:
        if self._consumed:
            raise RuntimeError("a TextSource can be read only once")
        self._consumed = True
        text, self._pending = self._pending, ""
        return text

    def read(self) -> str:
        """The whole remaining text (whole-document formats only: memory grows with the file, up to
        `max_document_bytes`)."""
        parts = [self._take_pending()]
        while not self._eof:
            parts.append(self._next_text())
            if self.max_document_bytes is not None and self.bytes_read > self.max_document_bytes:
                raise TranscriptTooLarge(
                    f"This {_size(self.max_document_bytes)}+ transcript is one JSON document, which is parsed "
                    f"whole: such files are limited to {_size(self.max_document_bytes)} uncompressed. Split the "
                    "export, or upload a JSONL format.", details={"limit_bytes": self.max_document_bytes})
        text = "".join(parts)
        del parts
        if self.max_document_bytes is not None:
            cost = parsed_size(text)
            if cost > PARSE_FACTOR * self.max_document_bytes:
                raise TranscriptTooLarge(
                    f"This transcript is one JSON document of {_size(len(text))} whose parsed form would take "
                    f"about {_size(cost)} of memory (it holds millions of tiny values): documents are parsed "
                    f"whole and limited to about {_size(PARSE_FACTOR * self.max_document_bytes)} once parsed. "
                    "Split the export, or upload a JSONL format.",
                    details={"limit_bytes": self.max_document_bytes})
        self.line_no = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
        return text

    def _line_too_long(self) -> TranscriptTooLarge:
        limit = self.max_line_bytes or 0
        return TranscriptTooLarge(
            f"Line {self.line_no + 1} of the transcript is longer than {_size(limit)} (no line break): "
            "this is not a transcript a tool wrote.", line=self.line_no + 1, details={"limit_bytes": limit})

    def __iter__(self) -> Iterator[str]:
        text = self._take_pending()
        carry: list[str] = []
        carried = 0
        max_line = self.max_line_bytes
        while True:
            if text:
                if "\n" not in text:
                    carry.append(text)
                    carried += len(text)
                    if max_line is not None and carried > max_line:
                        raise self._line_too_long()
                else:
                    parts = text.split("\n")
                    if carry:
                        carry.append(parts[0])
                        parts[0] = "".join(carry)
                        carry = []
                    last = parts.pop()
                    carried = len(last)
                    if last:
                        carry.append(last)
                    for p in parts:
                        self.line_no += 1
                        yield p + "\n"
            if self._eof:
                break
            text = self._next_text()
        if carry:
            self.line_no += 1
            yield "".join(carry)
