"""Search across sessions, as the API, MCP tools and CLI use it (domain: no Chalice).

Every call takes the tenant from the caller's token: a project is first read under that tenant
(404 otherwise), and the cross-project search only lists the tenant's own projects, so another
tenant's index is never even opened.
"""

from __future__ import annotations

import bisect
import hashlib
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from typing import Any, TypeVar

from chalicelib.errors import BadRequest, NotFound, ServiceUnavailable
from chalicelib.logs import event, get_logger
from chalicelib.search import documents, index, store
from chalicelib.search.documents import KINDS, Row
from chalicelib.storage import transcripts as transcript_store
from chalicelib.storage.common import bad_cursor, pack_cursor, unpack_cursor
from chalicelib.storage.models import ProjectItem
from chalicelib.storage.projects import get_project, list_projects
from chalicelib.storage.sessions import get_session, list_sessions

log = get_logger("search")
T = TypeVar("T")
MAX_LIMIT = 50
MAX_OFFSET = 500  # deeper pages are not worth reading: refine the query
MAX_PROJECTS = 200  # the cross-project search reads at most this many projects' indexes
RANK_BUDGET = 50_000  # matches ranked per project and query at most, the newest (docs/search.md, "Bounded ranking")
TIMELINE_MAX = 20
TEXT_PREVIEW = 200
DETAIL_CHARS = 50_000
RESULT_CHARS = 10_000
MAX_IDS = 20
_ID = re.compile(r"^p:([A-Za-z0-9_-]{1,64})/(?:s:([0-9]{1,6})/)?(m:[0-9]{1,9}|note:[0-9]{1,9}|handoff(?::[0-9]{1,4})?"
                 r"|knowledge:[A-Za-z0-9_-]{1,64}|item:[A-Za-z0-9_-]{1,64})$")

# -- indexing ---------------------------------------------------------------------------------

def _session_rows(tenant: str, project_id: str, number: int) -> dict[str, list[Row]]:
    """The rows one session owns: its transcript's messages, its notes and its ready handoff."""
    from chalicelib.storage.handoffs import find_handoff
    from chalicelib.storage.notes import list_notes

    s = get_session(tenant, project_id, number, consistent=True)
    t = s.transcript
    msgs = transcript_store.iter_messages(tenant, project_id, number, t.upload_id) if t is not None else []
    h = find_handoff(tenant, project_id, number)
    ready = h is not None and h.status == "ready"
    return {
        "messages": list(documents.message_rows(number, msgs)),
        "notes": list(documents.note_rows(list_notes(tenant, project_id, number, limit=20))),
        "handoff": list(documents.handoff_rows(number, h.markdown if ready else None,
                                               h.finished_at if ready else None)),
    }

def _project_rows(tenant: str, project_id: str) -> dict[str, list[Row]]:
    from chalicelib.storage.knowledge import project_items
    from chalicelib.storage.open_items import all_items

    return {"knowledge": list(documents.knowledge_rows(project_items(tenant, project_id))),
            "open_items": list(documents.open_item_rows(all_items(tenant, project_id)))}

def _digest(parts: dict[str, list[Row]]) -> str:
    return hashlib.sha256(repr(sorted(parts.items())).encode()).hexdigest()


def _refresh_project_rows(tenant: str, project_id: str, parts: dict[str, list[Row]], *, fresh: bool = False
                          ) -> dict[str, int]:
    """Write the project's knowledge and open items into its small `p` shard, only when they changed
    since the last write (a digest in the shard's meta), so an import usually writes one shard."""
    digest = _digest(parts)
    if not fresh:
        with store.reading(tenant, project_id, store.PROJECT_SHARD) as conn:
            if conn is not None and index.get_meta(conn, "digest") == digest:
                return {}
    with store.writing(tenant, project_id, store.PROJECT_SHARD, fresh=fresh) as w:
        counts = {part: index.replace_part(w.conn, part, 0, rows) for part, rows in parts.items()}
        index.set_meta(w.conn, "digest", digest)
    return counts


def _needs_migration(tenant: str, project_id: str) -> bool:
    """A project indexed in the first layout (one file) and never in shards: its next write rebuilds it."""
    with store.reading(tenant, project_id, store.PROJECT_SHARD) as conn:
        if conn is not None:
            return False
    return store.has_legacy(tenant, project_id)


def index_session(tenant: str, project_id: str, number: int) -> dict[str, int]:
    """(Re)index one session: its old rows are deleted and its current ones inserted in its shard,
    under that shard's writer lease; the project's knowledge and open items are refreshed when they
    changed. The rows are read before the lease is taken, so the lease is held only for the SQLite
    writes and the upload. A project still in the one-file layout is rebuilt into shards instead."""
    if _needs_migration(tenant, project_id):
        return reindex_project(tenant, project_id)
    parts = _session_rows(tenant, project_id, number)
    shared = _project_rows(tenant, project_id)
    with store.writing(tenant, project_id, store.session_shard(number)) as w:
        counts = {part: index.replace_part(w.conn, part, number, rows) for part, rows in parts.items()}
    counts.update(_refresh_project_rows(tenant, project_id, shared))
    return counts

def index_session_quietly(tenant: str, project_id: str, number: int) -> None:
    """index_session for the import and handoff paths: what they stored stays stored whatever
    happens here (a missed session is caught up by the next import or `make reindex`)."""
    try:
        counts = index_session(tenant, project_id, number)
        event(log, "search_indexed", project_id=project_id, number=number, rows=sum(counts.values()))
    except Exception as e:  # noqa: BLE001 - search is derived data; the import or handoff already committed
        event(log, "search_index_failed", 40, project_id=project_id, number=number, error=type(e).__name__)

JOB_INDEX, JOB_REINDEX = "search_index", "search_reindex"


def queue_index(tenant: str, project_id: str, number: int) -> None:
    """Index a session after its import (or handoff, or note) committed, off the request path:
    an SQS message on AWS (the worker runs `run_job`), a background thread with `make dev`.
    Never fails the caller: a session missed here is caught up by its next change or a reindex."""
    from chalicelib import jobs

    job = {"type": JOB_INDEX, "tenant": tenant, "project_id": project_id, "number": number,
           "job_id": f"search-{project_id}-{number}"}
    try:
        jobs.enqueue(job, run_job)
    except Exception as e:  # noqa: BLE001 - search is derived data; what the caller stored stays stored
        event(log, "search_index_not_queued", 40, project_id=project_id, number=number, error=type(e).__name__)


def is_search_job(job: dict[str, Any]) -> bool:
    return job.get("type") in (JOB_INDEX, JOB_REINDEX)


def run_job(job: dict[str, Any]) -> dict[str, int]:
    """The worker's body for a search message: index one session, or rebuild a project. A busy
    lease or an unreachable database raises, so SQS delivers the message again later."""
    tenant, project_id = job["tenant"], job["project_id"]
    if job.get("type") == JOB_REINDEX:
        out = reindex_project(tenant, project_id)
    else:
        try:
            out = index_session(tenant, project_id, int(job["number"]))
        except NotFound:  # the session or project was deleted meanwhile: nothing to index
            return {}
    event(log, "search_indexed", project_id=project_id, number=job.get("number"), rows=sum(out.values()))
    return out


def _all_sessions(tenant: str, project_id: str) -> Iterator[int]:
    cursor = None
    while True:
        items, cursor = list_sessions(tenant, project_id, limit=100, cursor=cursor)
        for s in items:
            yield int(s.number)
        if not cursor:
            return

def reindex_project(tenant: str, project_id: str) -> dict[str, int]:
    """Rebuild a project's index from the table: every shard a new file (sessions in number order,
    so rowid order is session order), then any other file of the project's index (a first-layout
    file, a shard no session maps to any more) is deleted."""
    get_project(tenant, project_id)
    groups: dict[str, list[int]] = {}
    for n in sorted(_all_sessions(tenant, project_id)):
        groups.setdefault(store.session_shard(n), []).append(n)
    sessions = rows = 0
    for shard, numbers in groups.items():
        with store.writing(tenant, project_id, shard, fresh=True) as w:
            for n in numbers:
                for part, part_rows in _session_rows(tenant, project_id, n).items():
                    rows += index.replace_part(w.conn, part, n, part_rows)
                sessions += 1
                w.keep_alive()
            index.optimize(w.conn)
    rows += sum(_refresh_project_rows(tenant, project_id, _project_rows(tenant, project_id), fresh=True).values())
    store.delete_index(tenant, project_id, keep=frozenset([*groups, store.PROJECT_SHARD]))
    return {"sessions": sessions, "rows": rows, "shards": len(groups) + 1}

def forget_project(tenant: str, project_id: str) -> None:
    """Delete a deleted project's index (best effort: a leftover file is never read, as the
    project is gone and every search reads the project first)."""
    try:
        store.delete_index(tenant, project_id)
    except Exception as e:  # noqa: BLE001 - the project's deletion already committed
        event(log, "search_index_not_deleted", 30, project_id=project_id, error=type(e).__name__)


def _projects(tenant: str) -> list[ProjectItem]:
    out: list[ProjectItem] = []
    cursor = None
    while True:
        items, cursor = list_projects(tenant, limit=100, cursor=cursor)
        out += items
        if not cursor or len(out) >= MAX_PROJECTS:
            return out[:MAX_PROJECTS]


def all_projects(tenant: str) -> list[str]:
    return [p.id for p in _projects(tenant)]

# -- searching --------------------------------------------------------------------------------

def item_id(project_id: str, session: int | None, message: int | None, ref: str | None) -> str:
    """The id get_details and timeline take: p:<project>/s:<n>/m:<index> for a message, else
    p:<project>[/s:<n>]/<note:v | handoff:k | knowledge:id | item:id>."""
    head = f"p:{project_id}" + (f"/s:{session}" if session is not None and not (ref or "").startswith(
        ("knowledge:", "item:")) else "")
    return f"{head}/m:{message}" if message is not None else f"{head}/{ref}"

def _hit_json(project_id: str, h: index.Hit) -> dict[str, Any]:
    return {"id": item_id(project_id, h.session, h.message, h.ref), "project_id": project_id,
            "session": h.session, "message_index": h.message, "kind": h.kind, "at": h.at,
            "snippet": h.snippet, "highlights": h.highlights, "score": h.score, "tokens": h.chars // 4}

def _check_kind(kind: str | None) -> str | None:
    if kind and kind not in KINDS:
        raise BadRequest(f"kind must be one of: {', '.join(KINDS)}", code="invalid_query", field="kind")
    return kind or None

def _fingerprint(scope: str, q: str, kind: str | None) -> str:
    return hashlib.sha256(f"{scope}\0{q}\0{kind or ''}".encode()).hexdigest()[:12]

def _offset(cursor: str | None, fp: str) -> int:
    if not cursor:
        return 0
    d = unpack_cursor(cursor)
    o = d.get("o")
    if set(d) != {"o", "f"} or d.get("f") != fp or type(o) is not int or not 0 < o <= MAX_OFFSET:
        raise bad_cursor()
    return o

def _page(items: list[dict[str, Any]], offset: int, limit: int, fp: str) -> dict[str, Any]:
    more = len(items) > limit and offset + limit <= MAX_OFFSET
    return {"items": items[:limit], "next_cursor": pack_cursor({"o": offset + limit, "f": fp}) if more else None}

def _check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise BadRequest(f"limit must be 1-{MAX_LIMIT}", code="invalid_query", field="limit")
    return limit

def _merge(lists: Iterable[list[T]], key: Callable[[T], Any]) -> list[T]:
    """Hits of several indexes as one list, best first: a project's shards, or several projects.
    Each index scores with its own bm25 statistics, so the merge is approximate across indexes of
    very different sizes (documented); ties go to the older session, then the earlier message."""
    return sorted((x for xs in lists for x in xs), key=key)


def _shards_of(tenant: str, project_id: str, last_session: int) -> list[str]:
    """The files to search, newest first: the project shard, then the session shards from the newest
    session's down. A project still in the one-file layout (never written since) reads that file."""
    with store.reading(tenant, project_id, store.PROJECT_SHARD) as conn:
        if conn is None and store.has_legacy(tenant, project_id):
            return [store.LEGACY]
    return [store.PROJECT_SHARD, *store.session_shards(last_session)]


def project_hits(tenant: str, project_id: str, last_session: int, match: str, kind: str | None, offset: int,
                 count: int) -> list[dict[str, Any]]:
    """Hits `offset` .. `offset + count` of one project, best first.

    The shards are read newest first, each ranking its best `offset + count` matches, and merged. The
    work is bounded: at most RANK_BUDGET matches are ranked per query, the newest ones (shard by
    shard, and within a shard by rowid); a word with fewer matches is ranked whole, exactly. The
    shards stay open until the page's snippets are made, so rowids always name the rows ranked."""
    want, budget = offset + count, RANK_BUDGET
    ranked: list[list[tuple[index.Ranked, sqlite3.Connection]]] = []
    shard = ""
    try:
        with ExitStack() as stack:
            shards = _shards_of(tenant, project_id, last_session)
            store.refresh(tenant, project_id, shards)
            for shard in shards:
                if budget <= 0:
                    break
                conn = stack.enter_context(store.reading(tenant, project_id, shard))
                if conn is None:
                    continue
                top, used = index.rank(conn, match, kind=kind, limit=want, budget=budget)
                budget -= used
                ranked.append([(r, conn) for r in top])
            page = _merge(ranked, key=lambda rc: (-rc[0].score, rc[0].session or 0, rc[0].message or 0))
            page = page[offset:want]
            by_conn: dict[int, tuple[sqlite3.Connection, list[index.Ranked]]] = {}
            for r, conn in page:
                by_conn.setdefault(id(conn), (conn, []))[1].append(r)
            described = {(id(c), h.id): h for c, rs in by_conn.values() for h in index.describe(c, match, rs)}
    except sqlite3.DatabaseError as e:  # a damaged copy: `make reindex` rebuilds it from the table
        event(log, "search_index_damaged", 40, project_id=project_id, shard=shard, error=str(e)[:200])
        raise ServiceUnavailable("this project's search index cannot be read; it is rebuilt by a reindex",
                                 code="search_unavailable") from None
    hits = [described.get((id(conn), r.rowid)) for r, conn in page]
    return [_hit_json(project_id, h) for h in hits if h is not None]


def _hit_order(h: dict[str, Any]) -> tuple[Any, ...]:
    return (-h["score"], h["project_id"], h["session"] or 0, h["message_index"] or 0)


def search_project(tenant: str, project_id: str, q: str, *, kind: str | None = None, limit: int = 20,
                   cursor: str | None = None) -> dict[str, Any]:
    """One project's hits, best first (bm25)."""
    kind, limit = _check_kind(kind), _check_limit(limit)
    match = index.to_match(q)
    project = get_project(tenant, project_id)  # 404 for a project that is not the caller's
    fp = _fingerprint(project_id, q, kind)
    offset = _offset(cursor, fp)
    hits = project_hits(tenant, project_id, int(project.session_count or 0), match, kind, offset, limit + 1)
    return _page(hits, offset, limit, fp)


def search_all(tenant: str, q: str, *, kind: str | None = None, limit: int = 20,
               cursor: str | None = None) -> dict[str, Any]:
    """Every project of the tenant, each read in parallel (its shards merged), then merged by score
    the same way. Scores come from each index's own statistics, so the merge is approximate across
    projects (documented)."""
    kind, limit = _check_kind(kind), _check_limit(limit)
    match = index.to_match(q)
    fp = _fingerprint("*", q, kind)
    offset = _offset(cursor, fp)
    projects = _projects(tenant)
    want = offset + limit + 1

    def one(p: ProjectItem) -> list[dict[str, Any]]:
        try:
            return project_hits(tenant, p.id, int(p.session_count or 0), match, kind, 0, want)
        except ServiceUnavailable:  # one unreadable index does not hide every other project's hits
            return []

    with ThreadPoolExecutor(max_workers=min(8, max(1, len(projects)))) as pool:
        merged = _merge(pool.map(one, projects), key=_hit_order)
    return _page(merged[offset:], offset, limit, fp)

# -- progressive disclosure: timeline and details --------------------------------------------

def parse_id(item: str) -> tuple[str, int | None, str]:
    m = _ID.match(item or "")
    if m is None:
        raise BadRequest(f"{item[:80]!r} is not a search id (p:<project>/s:<n>/m:<index>, as search returns)",
                         code="invalid_id", field="id")
    return m.group(1), int(m.group(2)) if m.group(2) else None, m.group(3)

def _messages(tenant: str, project_id: str, number: int, start: int, end: int) -> list[dict[str, Any]]:
    """Messages [start, end) of a session's current transcript (the chunks that hold them only)."""
    s = get_session(tenant, project_id, number)
    t = s.transcript
    if t is None:
        return []
    total = int(t.messages)
    start, end = max(0, start), min(end, total)
    idx = [int(x) for x in (t.index or [0])]
    out: list[dict[str, Any]] = []
    chunk = max(0, bisect.bisect_right(idx, start) - 1)
    while chunk < int(t.chunks) and (not out or out[-1]["index"] < end - 1):
        msgs = transcript_store.decode_chunk(transcript_store.get_chunk(tenant, project_id, number, t.upload_id, chunk))
        for k, m in enumerate(msgs):
            i = idx[chunk] + k
            if start <= i < end:
                out.append({**m, "index": i})
        if idx[chunk] + len(msgs) >= end:
            break
        chunk += 1
    return out

def _short(project_id: str, number: int, m: dict[str, Any]) -> dict[str, Any]:
    text = " ".join(str(m.get("text") or "").split())
    calls = [f"{c.get('name')}: {documents.clean(str(documents._input_summary(c)), 120)}"
             for c in m.get("tool_calls") or []]
    errors = sum(1 for r in m.get("tool_results") or [] if r.get("is_error"))
    return {"id": item_id(project_id, number, m["index"], None), "index": m["index"], "role": m.get("role"),
            "at": m.get("timestamp"), "text": text[:TEXT_PREVIEW] + ("…" if len(text) > TEXT_PREVIEW else ""),
            "tool_calls": calls, "tool_errors": errors, "tokens": _message_chars(m) // 4}

def _message_chars(m: dict[str, Any]) -> int:
    n = len(str(m.get("text") or ""))
    n += sum(len(str(c.get("input") or "")) for c in m.get("tool_calls") or [])
    return n + sum(len(str(r.get("text") or "")) for r in m.get("tool_results") or [])

def timeline(tenant: str, item: str, *, before: int = 3, after: int = 3) -> dict[str, Any]:
    """What happened around a hit: the messages before and after it in its session, each short."""
    project_id, number, ref = parse_id(item)
    if number is None or not ref.startswith("m:"):
        raise BadRequest("timeline takes a message id (p:<project>/s:<n>/m:<index>)", code="invalid_id", field="id")
    before, after = max(0, min(before, TIMELINE_MAX)), max(0, min(after, TIMELINE_MAX))
    get_project(tenant, project_id)
    at = int(ref[2:])
    msgs = _messages(tenant, project_id, number, at - before, at + after + 1)
    return {"project_id": project_id, "session": number, "message_index": at,
            "messages": [_short(project_id, number, m) for m in msgs]}

def _cut(text: str, n: int) -> str:
    return text if len(text) <= n else text[:n] + f"\n[... {len(text) - n} more characters]"

def _detail(tenant: str, item: str) -> dict[str, Any]:
    from chalicelib.storage.handoffs import find_handoff
    from chalicelib.storage.knowledge import get_item as get_knowledge
    from chalicelib.storage.notes import list_notes
    from chalicelib.storage.open_items import get_item as get_open_item

    project_id, number, ref = parse_id(item)
    get_project(tenant, project_id)
    kind, _, key = ref.partition(":")
    out: dict[str, Any] = {"id": item, "project_id": project_id, "session": number}
    if kind == "m" and number is not None:
        msgs = _messages(tenant, project_id, number, int(key), int(key) + 1)
        if not msgs:
            raise NotFound(f"session {number} has no message {key}", code="not_found")
        m = msgs[0]
        for r in m.get("tool_results") or []:
            r["text"] = _cut(str(r.get("text") or ""), RESULT_CHARS)
        m["text"] = _cut(str(m.get("text") or ""), DETAIL_CHARS)
        out.update(kind="message", message=m, tokens=_message_chars(m) // 4)
    elif kind == "note" and number is not None:
        notes = [n for n in list_notes(tenant, project_id, number, limit=50) if int(n.version) == int(key)]
        if not notes:
            raise NotFound(f"session {number} has no note version {key}", code="not_found")
        out.update(kind="note", text=_cut(notes[0].text, DETAIL_CHARS), at=notes[0].created_at)
    elif kind == "handoff" and number is not None:
        h = find_handoff(tenant, project_id, number)
        if h is None or not h.markdown:
            raise NotFound(f"session {number} has no handoff", code="not_found")
        out.update(kind="handoff", text=_cut(h.markdown, DETAIL_CHARS), at=h.finished_at)
    elif kind == "knowledge":
        k = get_knowledge(tenant, project_id, key)
        out.update(kind="knowledge", title=k.title, text=k.body or "", tags=list(k.tags or []), at=k.created_at)
    elif kind == "item":
        it = get_open_item(tenant, project_id, key)
        if it is None:
            raise NotFound(f"no open item {key}", code="not_found")
        out.update(kind="open_item", text=it.text, status=it.status, item_kind=it.kind, at=it.opened_at)
    else:
        raise BadRequest(f"{item!r} names no item", code="invalid_id", field="id")
    if "tokens" not in out:
        out["tokens"] = len(out.get("text") or "") // 4
    return out

def details(tenant: str, ids: list[str]) -> dict[str, Any]:
    """Full items by id (at most MAX_IDS); an id that names nothing is reported, not fatal."""
    if not ids or len(ids) > MAX_IDS:
        raise BadRequest(f"pass 1-{MAX_IDS} ids", code="invalid_id", field="ids")
    items, missing = [], []
    for i in ids:
        try:
            items.append(_detail(tenant, i))
        except NotFound as e:
            missing.append({"id": i, "error": e.message})
    return {"items": items, "missing": missing}
