"""Transcripts and file changes of a session: import (streamed, redacted), store, page, list.

An import claims the session (one import at a time: a concurrent one gets 409), writes its chunks
under a new upload id and swaps the session's pointer only when the whole body parsed: a bad
upload stores nothing, a re-upload replaces the old one atomically.
"""

from __future__ import annotations

import bisect
from datetime import UTC, datetime
from typing import Any, BinaryIO

from chalicelib.domain.common import page_json
from chalicelib.errors import BadRequest, Conflict
from chalicelib.logs import event, get_logger
from chalicelib.storage import files as file_store
from chalicelib.storage import transcripts as store
from chalicelib.storage.common import bad_cursor, new_id, pack_cursor, unpack_cursor
from chalicelib.storage.projects import get_project
from chalicelib.storage.sessions import get_session
from chalicelib.transcripts.errors import TranscriptError
from chalicelib.transcripts.redact import redact_fields

# A file change's path and summary come from the transcript or the client: a secret can hide in a
# path too (a token pasted as a file name, a URL with credentials), so both are redacted on write.
FILE_CHANGE_TEXT = ("path", "old_path", "summary")

log = get_logger("transcripts")


def import_transcript(tenant: str, project_id: str, number: int, raw: BinaryIO, *, fmt: str = "auto",
                      conversation: str | None = None, upload_id: str | None = None,
                      max_bytes: int | None = None, replace: bool = False) -> dict[str, Any]:
    """Import `raw` as session `number`'s transcript; returns the import summary.

    `max_bytes` caps the uncompressed size (default: the direct-upload limit); past it, or past the
    line and document limits, the import stops at once with a 413 and nothing is stored.
    A finished session's transcript is the record its handoff was made from: replacing it takes
    `replace` (409 otherwise), and marks that handoff as made from the older transcript."""
    from chalicelib.config import settings
    from chalicelib.storage.handoffs import mark_transcript_replaced
    from chalicelib.transcripts.importing import open_transcript

    upload_id = upload_id or new_id()
    # One import per session at a time: a concurrent one gets 409 before reading a byte (and a
    # missing session 404), so of racing uploads one wins whole and the others change nothing.
    store.claim_import(tenant, project_id, number, upload_id, replace=replace)
    writer = store.ChunkWriter(tenant, project_id, number, upload_id)
    s = settings()
    try:
        imp = open_transcript(raw, fmt, conversation=conversation, max_bytes=max_bytes or s.max_transcript_bytes,
                              max_line_bytes=s.max_line_bytes, max_document_bytes=s.max_document_bytes,
                              max_message_bytes=s.max_message_bytes)
        span = TranscriptSpan()
        for message in imp:
            span.see(message)
            writer.add(message.to_dict())
        writer.close()
        stats = imp.stats
        info = {
            "upload_id": upload_id, "chunks": writer.chunks, "format": imp.format, "index": writer.index,
            "messages": writer.count, "chars": int(stats.get("chars", 0)),
            "tool_calls": int(stats.get("tool_calls", 0)), "tool_errors": int(stats.get("tool_errors", 0)),
            "redactions": dict(stats.get("redactions") or {}), **token_counts(stats, imp.info),
            "usage_by_model": imp.info.get("usage_by_model"), "peak_context_tokens": imp.info.get("peak_context_tokens"),
            "started_at": span.first, "ended_at": span.last,
        }
    except BaseException as e:
        _give_up(tenant, project_id, number, upload_id, writer)
        if isinstance(e, TranscriptError):
            event(log, "transcript_rejected", project_id=project_id, number=number, code=e.code, line=e.line)
        raise  # a TranscriptError is an AppError: the API answers its status, code, line and offset
    try:
        _, rev, status = store.swap_transcript(tenant, project_id, number, info,
                                               **describe(span, imp.info))  # ends the claim
    except Conflict:  # the claim was lost (this import ran past the stale limit): nothing swapped
        _give_up(tenant, project_id, number, upload_id, writer)
        raise
    except Exception:
        # The swap may have committed although its answer was lost: then these chunks are live
        # and must stay. Only when the session provably points elsewhere are they deleted.
        live = store.live_upload(tenant, project_id, number)
        if live is None or live[0] != upload_id:
            if live is not None:
                _give_up(tenant, project_id, number, upload_id, writer)
            raise
        rev, status = live[1], get_session(tenant, project_id, number).status
    if status != "in_progress":  # uploaded after completion: the duration is the transcript's span
        set_real_duration(tenant, project_id, number)
        mark_transcript_replaced(tenant, project_id, number)  # its handoff (if any) read the older one
    changes = [fc.to_dict() for fc in (imp.file_changes or [])]
    for i, c in enumerate(changes):
        changes[i] = c = redact_fields(c, FILE_CHANGE_TEXT)
        c["source"] = "transcript"
    n_files = file_store.replace_session_files(tenant, project_id, number, changes, only_source="transcript",
                                               rev=rev)
    from chalicelib.search.service import queue_index

    queue_index(tenant, project_id, number)  # after the commit: the search index follows the table
    event(log, "transcript_imported", project_id=project_id, number=number, format=imp.format,
          messages=writer.count, chunks=writer.chunks, redactions=sum(info["redactions"].values()))
    return {"format": imp.format, "messages": writer.count, "chars": info["chars"],
            "tool_calls": info["tool_calls"], "tool_errors": info["tool_errors"], "tokens": info["tokens"],
            **{k: info[k] for k in TOKEN_KINDS}, "redactions": info["redactions"], "files": n_files, "upload_id": upload_id,
            "clipped_messages": imp.clipped, "warnings": list(imp.info.get("warnings") or [])}


TOKEN_KINDS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
TITLE_CHARS = 80


class TranscriptSpan:
    """What a transcript says about its session as it streams by: when it really started and ended
    (first and last timestamp the agent wrote) and its title (the first request a person typed).

    A hook creates the session when the agent starts and completes it when the agent stops, so
    the API's own clock would measure two API calls, not the work."""

    def __init__(self) -> None:
        self.first: str | None = None
        self.last: str | None = None
        self._first_dt: datetime | None = None
        self._last_dt: datetime | None = None
        self.title: str | None = None

    def see(self, m: Any) -> None:
        ts = _when(m.timestamp)
        if ts is not None:
            if self._first_dt is None or ts < self._first_dt:
                self._first_dt, self.first = ts, ts.isoformat().replace("+00:00", "Z")
            if self._last_dt is None or ts > self._last_dt:
                self._last_dt, self.last = ts, ts.isoformat().replace("+00:00", "Z")
        if self.title is None and m.role == "user" and not m.injected and not m.tool_results:
            text = " ".join((m.text or "").split())
            if text and not text.startswith("<"):
                self.title = text if len(text) <= TITLE_CHARS else text[:TITLE_CHARS - 1].rsplit(" ", 1)[0] + "…"


def _when(ts: Any) -> datetime | None:
    """An aware UTC datetime from an ISO 8601 timestamp; None for anything else (never raises)."""
    if not isinstance(ts, str) or len(ts) < 10:
        return None
    try:
        d = datetime.fromisoformat(ts.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if d.tzinfo is None:
        d = d.replace(tzinfo=UTC)
    return d.astimezone(UTC) if 1990 < d.year < 2200 else None


def describe(span: TranscriptSpan, info: dict[str, Any]) -> dict[str, str | None]:
    """The title and model a session takes from its transcript where nobody typed one."""
    model = info.get("model")
    ok = isinstance(model, str) and bool(model) and not model.startswith("<")
    return {"title": redact_fields({"title": span.title}, ("title",))["title"] if span.title else None,
            "model": model[:200] if ok else None}


def set_real_duration(tenant: str, project_id: str, number: int) -> None:
    """A finished session's duration from its transcript's span (best effort: the import is stored)."""
    from chalicelib.storage.sessions import transcript_duration, update_session

    def apply(cur: Any) -> None:
        span = transcript_duration(cur)
        if span is not None:
            cur.duration_s = span

    try:
        update_session(tenant, project_id, number, apply)
    except Exception as e:  # noqa: BLE001 - a duration is not worth failing an import that is stored
        event(log, "set_real_duration_failed", project_id=project_id, number=number, error=type(e).__name__)


def token_counts(stats: dict[str, Any], info: dict[str, Any]) -> dict[str, int]:
    """Tokens as four kinds: fresh input, output, cache read, cache write.

    Tools report cached prompt tokens inside the input (Claude Code re-reads its whole context from
    the cache on every turn), so one sum of everything reads as millions of tokens for an ordinary
    session. `tokens` is input + output without the cache; the cache counts are beside it.
    """
    cache_read = int(info.get("cache_read_input_tokens") or 0)
    cache_write = int(info.get("cache_creation_input_tokens") or 0)
    fresh_in = max(0, int(stats.get("input_tokens", 0)) - cache_read - cache_write)
    out = int(stats.get("output_tokens", 0))
    return {"tokens": fresh_in + out, "input_tokens": fresh_in, "output_tokens": out,
            "cache_read_tokens": cache_read, "cache_write_tokens": cache_write}


def _give_up(tenant: str, project_id: str, number: int, upload_id: str, writer: Any) -> None:
    """A failed import stores nothing: delete its chunks and end its claim (best effort: when the
    database is out of reach too, orphan chunks stay and the claim expires)."""
    try:
        writer.discard()
        store.release_import(tenant, project_id, number, upload_id)
    except Exception as e:  # noqa: BLE001 - the original error is what the caller reports
        event(log, "import_cleanup_failed", project_id=project_id, number=number, error=type(e).__name__)


def _cursor(upload_id: str, offset: int) -> str:
    return pack_cursor({"u": upload_id, "o": offset})


def _uncursor(cursor: str) -> tuple[str, int]:
    """(upload id, offset) of a `_cursor`; a forged one (offset NaN, Infinity, 1.5, -1, "3") is a 400."""
    d = unpack_cursor(cursor)
    upload, offset = d.get("u"), d.get("o")
    if set(d) != {"u", "o"} or not isinstance(upload, str) or type(offset) is not int or offset < 0:
        raise bad_cursor()
    return upload, offset


def page_messages(tenant: str, project_id: str, number: int, *, limit: int, cursor: str | None) -> dict[str, Any]:
    """One page of the normalized, redacted messages: 1 GetItem (session) + 1-2 GetItem (chunks)."""
    session = get_session(tenant, project_id, number)
    t = session.transcript
    if t is None:
        if cursor:
            raise Conflict("the transcript was removed; start again without a cursor", code="transcript_replaced")
        return {"items": [], "next_cursor": None, "total": 0}
    offset = 0
    if cursor:
        upload, offset = _uncursor(cursor)
        if upload != t.upload_id:
            raise Conflict("the transcript was replaced since this cursor was made; start again without it",
                           code="transcript_replaced")
    total = int(t.messages)
    if offset > total:  # no page ever ends past the last message
        raise bad_cursor()
    index = [int(x) for x in (t.index or [0])]
    items: list[dict[str, Any]] = []
    chunk = max(0, bisect.bisect_right(index, offset) - 1)
    while len(items) < limit and offset < total and chunk < int(t.chunks):
        msgs = store.decode_chunk(store.get_chunk(tenant, project_id, number, t.upload_id, chunk))
        start = offset - index[chunk]
        take = msgs[start:start + (limit - len(items))]
        for i, m in enumerate(take):
            m["index"] = offset + i
        items += take
        offset += len(take)
        chunk += 1
    return {"items": items, "next_cursor": _cursor(t.upload_id, offset) if offset < total else None,
            "total": total}


def file_json(f: Any) -> dict[str, Any]:
    return {"session": int(f.number), "path": f.path, "kind": f.kind,
            "lines_added": None if f.lines_added is None else int(f.lines_added),
            "lines_removed": None if f.lines_removed is None else int(f.lines_removed),
            "summary": f.summary or "", "old_path": f.old_path, "source": f.source}


MAX_LINES = 1_000_000_000  # as the JSON schema's lines_added: DynamoDB keeps 38 digits, nobody edits more


def parse_numstat_body(body: bytes) -> list[dict[str, Any]]:
    """`git diff --numstat` output (UTF-8 bytes) as file-change dicts; bad input is a 400 with its line."""
    from chalicelib.transcripts.filechanges import NumstatError, parse_numstat

    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise NumstatError("git diff --numstat output must be UTF-8 text") from None
    changes = [c.to_dict() for c in parse_numstat(text)]  # a bad line: NumstatError, 400 with the line
    for c in changes:
        for key in ("lines_added", "lines_removed"):
            if c.get(key) is not None and c[key] > MAX_LINES:
                raise BadRequest(f"{c['path']}: {key} is {c[key]}; counts are limited to {MAX_LINES:,}",
                                 code=NumstatError.code, field=key)
    return changes


def put_files(tenant: str, project_id: str, number: int, changes: list[dict[str, Any]], source: str) -> dict[str, Any]:
    merged: dict[str, dict[str, Any]] = {}
    for c in changes:
        c = {**redact_fields(c, FILE_CHANGE_TEXT), "source": source}  # user-typed: redacted on write
        merged[c["path"]] = c  # the last statement about a path wins
    n = file_store.replace_session_files(tenant, project_id, number, list(merged.values()))
    return {"files": n}


def list_files(tenant: str, project_id: str, number: int, *, limit: int, cursor: str | None) -> dict[str, Any]:
    items, nxt = file_store.list_session_files(tenant, project_id, number, limit=limit, cursor=cursor)
    return page_json(items, nxt, cursor=cursor, render=file_json,
                     parent=lambda: get_session(tenant, project_id, number))


def file_history(tenant: str, project_id: str, path: str, *, limit: int, cursor: str | None) -> dict[str, Any]:
    items, nxt = file_store.file_history(tenant, project_id, path, limit=limit, cursor=cursor)
    return page_json(items, nxt, cursor=cursor, render=file_json, parent=lambda: get_project(tenant, project_id))
