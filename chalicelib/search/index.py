"""The index file: SQLite with an FTS5 table over a plain `rows` table (external content).

Why this shape:
- `rows` holds each document once (kind, session, message index, time, text) with an index on
  (part, owner), so replacing one session's rows is an indexed DELETE, not a scan of the FTS table;
  triggers keep the FTS5 index in step (the documented external-content pattern).
- Tokenizer `porter unicode61 remove_diacritics 2`: unicode61 splits code and prose on
  punctuation (`session_count` is the phrase "session count", a path is its segments), folds
  case and accents; porter makes "failing tests" find "test failed". No prefix indexes: they
  made the file about a quarter bigger for no measurable gain (`term*` is a range scan).
- The FTS5 table has two columns: `text` (what the user's words match) and `kind`, so a kind filter
  is a second phrase intersected inside FTS5, not a row lookup per match; ranking is bm25 on the
  text alone (the `rank` option `bm25(1.0, 0.0)`); the score returned is -bm25 (higher is better).
- journal_mode DELETE: the file is uploaded whole, so it must be one self-contained file.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from chalicelib.errors import BadRequest
from chalicelib.search.documents import Row

SCHEMA_VERSION = "2"  # 2: `kind` is an FTS5 column (1, the first layout's files: only `text`)
# A query its schema allows but nothing can be searched for (only punctuation, too many words): not
# "invalid_query", which says the request broke the published schema.
UNSEARCHABLE = "unsearchable_query"
MAX_QUERY_CHARS = 500
MAX_TERMS = 32
SNIPPET_TOKENS = 24
_OPEN, _CLOSE = "\x02", "\x03"
_WORD = re.compile(r"\w")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_QUERY_ERRORS = ("fts5", "syntax", "unterminated", "match", "no such column", "unknown special query")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v TEXT);
CREATE TABLE IF NOT EXISTS rows(
  id INTEGER PRIMARY KEY, part TEXT NOT NULL, owner INTEGER NOT NULL,
  kind TEXT NOT NULL, session INTEGER, msg INTEGER, at TEXT, ref TEXT, text TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS rows_owner ON rows(part, owner);
CREATE INDEX IF NOT EXISTS rows_message ON rows(session, msg);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(
  text, kind, content='rows', content_rowid='id',
  tokenize='porter unicode61 remove_diacritics 2');
CREATE TRIGGER IF NOT EXISTS rows_ai AFTER INSERT ON rows BEGIN
  INSERT INTO fts(rowid, text, kind) VALUES (new.id, new.text, new.kind);
END;
CREATE TRIGGER IF NOT EXISTS rows_ad AFTER DELETE ON rows BEGIN
  INSERT INTO fts(fts, rowid, text, kind) VALUES ('delete', old.id, old.text, old.kind);
END;
"""


def open_write(path: str) -> sqlite3.Connection:
    """A connection that may change the file (only ever a private copy: see store.writing)."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=DELETE")
    conn.execute("PRAGMA synchronous=OFF")  # a crash loses the private copy, never the stored index
    conn.executescript(_SCHEMA)
    if conn.execute("INSERT OR IGNORE INTO meta(k, v) VALUES ('schema', ?)", (SCHEMA_VERSION,)).rowcount:
        # a new file: rank by the text alone (the kind column only filters; its weight 0 keeps scores
        # comparable across shards whose kinds are not equally frequent)
        conn.execute("INSERT INTO fts(fts, rank) VALUES ('rank', 'bm25(1.0, 0.0)')")
    return conn


def open_read(path: str) -> sqlite3.Connection:
    """A read-only connection to a cached copy (immutable: the cache replaces files, never edits them)."""
    return sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True, check_same_thread=False)


def replace_part(conn: sqlite3.Connection, part: str, owner: int, rows: Iterable[Row]) -> int:
    """Replace every row of one part (`messages`, `notes`, `handoff` of session `owner`, or the
    project's `knowledge` / `open_items` with owner 0) in one transaction; returns the rows written."""
    n = 0
    conn.execute("BEGIN")
    try:
        conn.execute("DELETE FROM rows WHERE part = ? AND owner = ?", (part, owner))
        for r in rows:
            if not r.text:
                continue
            conn.execute("INSERT INTO rows(part, owner, kind, session, msg, at, ref, text) VALUES (?,?,?,?,?,?,?,?)",
                         (part, owner, r.kind, r.session, r.message, r.at, r.ref, r.text))
            n += 1
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return n


def clear(conn: sqlite3.Connection) -> None:
    conn.execute("DELETE FROM rows")
    conn.execute("INSERT INTO fts(fts) VALUES ('rebuild')")


def optimize(conn: sqlite3.Connection) -> None:
    """Merge the FTS5 segments (after a full rebuild: smaller file, faster queries)."""
    conn.execute("INSERT INTO fts(fts) VALUES ('optimize')")
    conn.execute("VACUUM")


def to_match(q: str) -> str:
    """The user's words as a safe FTS5 query: every term a quoted string (so AND, OR, NEAR, -, :,
    ^, parentheses and quotes are literal text), all terms required; a trailing * keeps its meaning
    (prefix). Raises BadRequest when nothing searchable is left."""
    q = _CONTROL.sub(" ", q or "").strip()  # a NUL would end the FTS5 string early
    if not q:
        raise BadRequest("q is empty: pass the words to look for", code=UNSEARCHABLE, field="q")
    if len(q) > MAX_QUERY_CHARS:
        raise BadRequest(f"q is {len(q)} characters; at most {MAX_QUERY_CHARS}", code=UNSEARCHABLE, field="q")
    terms = []
    for raw in q.split():
        core = raw.rstrip("*")
        if not _WORD.search(core):
            continue
        quoted = '"' + core.replace('"', '""') + '"'
        terms.append(quoted + "*" if raw.endswith("*") else quoted)
    if not terms:
        raise BadRequest("q has no words to search for (only punctuation)", code=UNSEARCHABLE, field="q")
    if len(terms) > MAX_TERMS:
        raise BadRequest(f"q has {len(terms)} words; at most {MAX_TERMS}", code=UNSEARCHABLE, field="q")
    return " ".join(terms)


@dataclass
class Hit:
    id: int
    session: int | None
    message: int | None
    kind: str
    at: str | None
    ref: str | None
    chars: int
    score: float
    snippet: str
    highlights: list[list[int]]


def split_marks(marked: str) -> tuple[str, list[list[int]]]:
    """A snippet with FTS5's markers -> (plain snippet, [[start, end], ...] of the matched terms)."""
    out: list[str] = []
    spans: list[list[int]] = []
    pos, start = 0, None
    for ch in marked:
        if ch == _OPEN:
            start = pos
        elif ch == _CLOSE:
            if start is not None and pos > start:
                spans.append([start, pos])
            start = None
        else:
            out.append(ch)
            pos += 1
    return "".join(out), spans


@dataclass(frozen=True)
class Ranked:
    """A match's place in the ranking, before its snippet is made (only the page's matches get one)."""

    rowid: int
    score: float  # -bm25, unrounded: shards are merged on it
    session: int | None
    message: int | None


def _search_errors(e: sqlite3.OperationalError) -> None:
    """An FTS5 error (which to_match should make impossible) is a 400, never a 500."""
    if any(w in str(e).lower() for w in _QUERY_ERRORS):
        raise BadRequest(f"q cannot be searched: {e}", code=UNSEARCHABLE, field="q") from None


def _expr(conn: sqlite3.Connection, match: str, kind: str | None) -> tuple[str, str, list[Any]]:
    """The MATCH expression and any extra SQL condition for `match` (to_match's output) and a kind.

    The user's words match the text column only; a kind is a second FTS5 phrase on the kind column,
    so the filter is an intersection of two term lists inside FTS5 (no row lookup per match). A
    first-layout file (schema 1) has no kind column: there the kind is checked on each match's row."""
    if get_meta(conn, "schema") == "1":
        if kind:
            return match, " AND (SELECT kind FROM rows WHERE rows.id = fts.rowid) = ?", [kind]
        return match, "", []
    expr = f"text : ({match})"
    if kind:
        expr += ' AND kind : "' + kind.replace('"', '""') + '"'
    return expr, "", []


def rank(conn: sqlite3.Connection, match: str, *, kind: str | None, limit: int,
         budget: int | None = None) -> tuple[list[Ranked], int]:
    """The best `limit` matches by bm25, and how many matches were ranked.

    With a `budget`, only the newest `budget` matches (by rowid: the most recently indexed rows) are
    ranked: a word in most rows of the file would otherwise cost a bm25 score for every one of them.
    Finding the newest N walks the term's list in rowid order without scoring anything (cheap); a
    word with fewer matches than the budget is ranked whole, exactly as without one."""
    used, floor = 0, None
    try:
        expr, extra, extra_args = _expr(conn, match, kind)
        cond, args = "fts MATCH ?" + extra, [expr, *extra_args]
        if budget is not None:
            n, floor = conn.execute(f"SELECT count(*), min(r) FROM (SELECT fts.rowid AS r FROM fts WHERE {cond} "
                                    "ORDER BY fts.rowid DESC LIMIT ?)", [*args, budget]).fetchone()
            if not n:
                return [], 0
            used = int(n)
            if n < budget:
                floor = None  # every match fits the budget: rank them all
        bound = " AND fts.rowid >= ?" if floor is not None else ""
        top = conn.execute(
            "SELECT t.rowid, t.rank, rows.session, rows.msg FROM (SELECT fts.rowid AS rowid, fts.rank AS rank "
            f"FROM fts WHERE {cond}{bound} ORDER BY fts.rank LIMIT ?) t JOIN rows ON rows.id = t.rowid "
            "ORDER BY t.rank", [*args, *([floor] if floor is not None else []), limit]).fetchall()
    except sqlite3.OperationalError as e:
        _search_errors(e)
        raise
    return [Ranked(r[0], -float(r[1]), r[2], r[3]) for r in top], used


def describe(conn: sqlite3.Connection, match: str, ranked: list[Ranked]) -> list[Hit]:
    """The hits of `ranked` (in that order) with their snippets and highlight offsets."""
    if not ranked:
        return []
    marks = ",".join("?" * len(ranked))
    try:
        expr, _, _ = _expr(conn, match, None)
        found = {r[0]: r[1:] for r in conn.execute(
            "SELECT rows.id, rows.session, rows.msg, rows.kind, rows.at, rows.ref, length(rows.text), "
            f"snippet(fts, 0, char(2), char(3), '…', {SNIPPET_TOKENS}) FROM fts JOIN rows ON rows.id = fts.rowid "
            f"WHERE fts MATCH ? AND fts.rowid IN ({marks})", [expr, *[r.rowid for r in ranked]])}
    except sqlite3.OperationalError as e:
        _search_errors(e)
        raise
    hits = []
    for r in ranked:
        if r.rowid not in found:
            continue
        session, msg, k, at, ref, chars, snip = found[r.rowid]
        text, spans = split_marks(snip or "")
        hits.append(Hit(r.rowid, session, msg, k, at, ref, int(chars or 0), round(r.score, 6), text, spans))
    return hits


def query(conn: sqlite3.Connection, match: str, *, kind: str | None, limit: int, offset: int = 0) -> list[Hit]:
    """The best `limit` hits after `offset` of one file, with snippets (rank, then describe the page)."""
    ranked, _ = rank(conn, match, kind=kind, limit=limit + offset)
    return describe(conn, match, ranked[offset:])


def get_meta(conn: sqlite3.Connection, k: str) -> str | None:
    row = conn.execute("SELECT v FROM meta WHERE k = ?", (k,)).fetchone()
    return str(row[0]) if row else None


def set_meta(conn: sqlite3.Connection, k: str, v: str) -> None:
    conn.execute("INSERT OR REPLACE INTO meta(k, v) VALUES (?, ?)", (k, v))


def row_text(conn: sqlite3.Connection, rid: int) -> tuple[str, str, int | None, int | None, str | None,
                                                           str | None] | None:
    """(kind, text, session, msg, at, ref) of one row, or None."""
    return conn.execute("SELECT kind, text, session, msg, at, ref FROM rows WHERE id = ?", (rid,)).fetchone()


def stats(conn: sqlite3.Connection) -> dict[str, int]:
    (rows,) = conn.execute("SELECT count(*) FROM rows").fetchone()
    (sessions,) = conn.execute("SELECT count(DISTINCT owner) FROM rows WHERE part = 'messages'").fetchone()
    return {"rows": int(rows), "sessions": int(sessions)}
