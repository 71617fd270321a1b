"""Where a project's index files live, their local cache, and the one-writer lease per file.

- A project's index is split into shards: `search/{tenant}/{project}/s{k}.sqlite` holds sessions
  k*SHARD_SESSIONS .. (k+1)*SHARD_SESSIONS-1, and `search/{tenant}/{project}/p.sqlite` the project's
  knowledge and open items. An import rewrites one shard, so its cost no longer grows with the
  project (docs/search.md says how SHARD_SESSIONS was picked). They are objects in the app's upload
  bucket (MSO_UPLOAD_BUCKET; the bucket's S3 event only fires under `uploads/`), or, where there is
  no bucket (`make dev`), files under MSO_SEARCH_DIR (default $MSO_DATA_DIR/search) behind the same
  small interface (`S3Blobs` / `DirBlobs`). The one file per project of the first layout
  (`search/{tenant}/{project}.sqlite`, LEGACY) is still read until the project's next index write
  rebuilds it into shards.
- Readers use a cached copy in the temp folder (Lambda's /tmp), revalidated by ETag at most every
  FRESH_S seconds (a conditional GET: 304 costs no transfer). Cached files are replaced by rename,
  never edited, so a reader's open connection always sees one whole version.
- Writers hold a lease: one item per shard in DynamoDB (`SK = SEARCHLEASE#{shard}`), put **if** absent or
  expired, renewed while writing and checked before the upload. A second writer waits (polling)
  up to LEASE_WAIT_S, so a concurrent import never uploads over another's rows; a writer that lost
  its lease (stalled past LEASE_S) uploads nothing.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError, UpdateError

from chalicelib.config import settings
from chalicelib.errors import ServiceUnavailable
from chalicelib.logs import event, get_logger
from chalicelib.search import index
from chalicelib.storage import keys
from chalicelib.storage.common import error_code
from chalicelib.storage.models import BaseItem

log = get_logger("search")
LEASE_SK = "SEARCHLEASE"
SHARD_SESSIONS = 50  # sessions per shard file (measured: docs/search.md, "Shards")
PROJECT_SHARD = "p"  # knowledge and open items
LEGACY = "legacy"  # the first layout's one file per project
LEASE_S = 60.0  # a writer that has not renewed for this long died: the next one takes over
LEASE_WAIT_S = 30.0  # how long a second writer waits for the first
POLL_S = 0.1
FRESH_S = 2.0  # a cached copy younger than this is used without asking the store
REFRESH_THREADS = 8  # shards revalidated or downloaded at once
NOT_MODIFIED = "not-modified"


class SearchLeaseItem(BaseItem):
    """The project's index writer: who holds it and until when (epoch seconds)."""

    owner = UnicodeAttribute()
    until = NumberAttribute()


def session_shard(number: int) -> str:
    """The shard that holds session `number`."""
    return f"s{int(number) // SHARD_SESSIONS}"


def session_shards(last_session: int) -> list[str]:
    """Every session shard a project whose last session is `last_session` can have, newest first."""
    return [f"s{k}" for k in range(max(0, int(last_session)) // SHARD_SESSIONS, -1, -1)]


def project_prefix(tenant: str, project_id: str) -> str:
    return f"search/{tenant}/{project_id}/"


def object_key(tenant: str, project_id: str, shard: str) -> str:
    if shard == LEGACY:
        return f"search/{tenant}/{project_id}.sqlite"
    return f"{project_prefix(tenant, project_id)}{shard}.sqlite"


class Blobs(Protocol):
    def fetch(self, key: str, dest: str, etag: str | None) -> str | None:
        """Copy the object to `dest` and return its ETag; NOT_MODIFIED when it is still `etag`;
        None when there is no such object."""

    def put(self, key: str, src: str) -> str:
        """Store `src` under `key`; returns the new ETag."""

    def delete(self, key: str) -> None: ...

    def exists(self, key: str) -> bool: ...

    def keys(self, prefix: str) -> list[str]:
        """Every key under `prefix` (deleting a project's shards)."""

    def name(self) -> str: ...


@dataclass(frozen=True)
class S3Blobs:
    bucket: str

    def name(self) -> str:
        return f"s3-{self.bucket}"

    def fetch(self, key: str, dest: str, etag: str | None) -> str | None:
        from botocore.exceptions import ClientError

        from chalicelib import aws

        kw: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if etag:
            kw["IfNoneMatch"] = etag
        try:
            obj = aws.s3().get_object(**kw)
        except ClientError as e:
            code = str(e.response.get("Error", {}).get("Code"))
            status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code == "304" or status == 304 or code == "NotModified":
                return NOT_MODIFIED
            if code in ("NoSuchKey", "404") or status == 404:
                return None
            raise
        with open(dest, "wb") as f:
            shutil.copyfileobj(obj["Body"], f, 1024 * 1024)
        return str(obj["ETag"])

    def put(self, key: str, src: str) -> str:
        from chalicelib import aws

        with open(src, "rb") as f:
            out = aws.s3().put_object(Bucket=self.bucket, Key=key, Body=f, ContentType="application/vnd.sqlite3")
        return str(out["ETag"])

    def delete(self, key: str) -> None:
        from chalicelib import aws

        aws.s3().delete_object(Bucket=self.bucket, Key=key)

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        from chalicelib import aws

        try:
            aws.s3().head_object(Bucket=self.bucket, Key=key)
        except ClientError as e:
            if e.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                return False
            raise
        return True

    def keys(self, prefix: str) -> list[str]:
        from chalicelib import aws

        out: list[str] = []
        for page in aws.s3().get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            out += [o["Key"] for o in page.get("Contents", [])]
        return out


@dataclass(frozen=True)
class DirBlobs:
    root: str

    def name(self) -> str:
        return "dir-" + str(abs(hash(os.path.abspath(self.root))))

    def _path(self, key: str) -> Path:
        return Path(self.root) / key

    @staticmethod
    def _etag(p: Path) -> str:
        st = p.stat()
        return f"{st.st_mtime_ns}-{st.st_size}-{st.st_ino}"

    def fetch(self, key: str, dest: str, etag: str | None) -> str | None:
        p = self._path(key)
        try:
            now = self._etag(p)
            if etag == now:
                return NOT_MODIFIED
            shutil.copyfile(p, dest)
        except FileNotFoundError:
            return None
        return now

    def put(self, key: str, src: str) -> str:
        p = self._path(key)
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_name(p.name + f".{secrets.token_hex(4)}.tmp")
        shutil.copyfile(src, tmp)
        os.replace(tmp, p)  # readers see the old file or the new one, whole
        return self._etag(p)

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def keys(self, prefix: str) -> list[str]:
        folder = self._path(prefix)
        if not folder.is_dir():
            return []
        return sorted(f"{prefix}{p.name}" for p in folder.iterdir() if p.name.endswith(".sqlite"))


def blobs() -> Blobs:
    """S3 where the app has its bucket (AWS, or tests on moto); else a folder (`make dev`)."""
    s = settings()
    if s.upload_bucket:
        return S3Blobs(s.upload_bucket)
    return DirBlobs(os.environ.get("MSO_SEARCH_DIR") or os.path.join(s.data_dir, "search"))


# -- the local cache -------------------------------------------------------------------------

@dataclass
class _Cached:
    path: str
    etag: str
    checked: float
    conn: sqlite3.Connection | None = None
    closed: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)  # one query at a time per connection


_cache: dict[str, _Cached] = {}
_cache_lock = threading.Lock()


def cache_dir() -> Path:
    d = Path(tempfile.gettempdir()) / "mso-search"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _cache_id(b: Blobs, key: str) -> str:
    return f"{b.name()}/{key}"


def _cache_file() -> Path:
    return cache_dir() / (secrets.token_hex(8) + ".sqlite")


def _retire(entry: _Cached) -> None:
    """Close a replaced copy once no query runs on it, then delete its file."""
    with entry.lock:
        entry.closed = True
        if entry.conn is not None:
            entry.conn.close()
            entry.conn = None
    Path(entry.path).unlink(missing_ok=True)


def _install(cid: str, path: str, etag: str) -> _Cached:
    """Make `path` the cached copy of `cid`; the copy it replaces is retired."""
    with _cache_lock:
        old = _cache.get(cid)
        entry = _cache[cid] = _Cached(path, etag, time.monotonic())
    if old is not None and old.path != path:
        _retire(old)
    return entry


def forget_cache() -> None:
    """Drop every cached copy (tests; the bench's cold runs)."""
    with _cache_lock:
        entries = list(_cache.values())
        _cache.clear()
    for e in entries:
        _retire(e)


def _fresh_entry(b: Blobs, key: str, cid: str) -> _Cached | None:
    """The cached copy, revalidated when older than FRESH_S; None when the project has no index."""
    entry = _cache.get(cid)
    if entry is not None and time.monotonic() - entry.checked <= FRESH_S:
        return entry
    dest = str(_cache_file())
    got = b.fetch(key, dest, entry.etag if entry else None)
    if got is None:
        with _cache_lock:
            gone = _cache.pop(cid, None)
        if gone is not None:
            _retire(gone)
        return None
    if got == NOT_MODIFIED and entry is not None:
        entry.checked = time.monotonic()
        return entry
    return _install(cid, dest, got)


def refresh(tenant: str, project_id: str, shards: list[str]) -> None:
    """Revalidate (or download) the stale cached copies of these shards in parallel, before a query
    reads them one by one: on S3 each revalidation is a request, and a query over 21 shards would
    otherwise pay 21 round trips in a row. Failures are left to `reading`, which answers 503."""
    b = blobs()
    now = time.monotonic()
    stale = []
    for shard in shards:
        key = object_key(tenant, project_id, shard)
        entry = _cache.get(_cache_id(b, key))
        if entry is None or now - entry.checked > FRESH_S:
            stale.append(key)
    if len(stale) < 2:
        return

    def one(key: str) -> None:
        with suppress(Exception):  # reading() tries this shard again and answers 503 if it still fails
            _fresh_entry(b, key, _cache_id(b, key))

    with ThreadPoolExecutor(max_workers=min(REFRESH_THREADS, len(stale))) as pool:
        list(pool.map(one, stale))


@contextmanager
def reading(tenant: str, project_id: str, shard: str) -> Iterator[sqlite3.Connection | None]:
    """A read-only connection to one shard of the project's index (None when it has none yet), one
    query at a time per cached copy. A copy replaced meanwhile (another thread installed a newer
    one) is skipped for the newer one. A store or file that cannot be read is a 503, never a 500."""
    b, key = blobs(), object_key(tenant, project_id, shard)
    cid = _cache_id(b, key)
    for _ in range(3):
        try:
            entry = _fresh_entry(b, key, cid)
        except Exception as e:  # noqa: BLE001 - S3 or disk failing: the caller answers 503
            event(log, "search_index_unreadable", 40, project_id=project_id, shard=shard, error=type(e).__name__)
            raise ServiceUnavailable("the search index cannot be read right now; retry shortly",
                                     code="search_unavailable") from None
        if entry is None:
            yield None
            return
        with entry.lock:
            if entry.closed:
                continue
            if entry.conn is None:
                entry.conn = index.open_read(entry.path)
            yield entry.conn
            return
    raise ServiceUnavailable("the search index is being replaced; retry", code="search_unavailable")


def has_legacy(tenant: str, project_id: str) -> bool:
    """Whether the project still has the first layout's single index file."""
    try:
        return blobs().exists(object_key(tenant, project_id, LEGACY))
    except Exception as e:  # noqa: BLE001 - S3 failing: the caller answers 503
        event(log, "search_index_unreadable", 40, project_id=project_id, error=type(e).__name__)
        raise ServiceUnavailable("the search index cannot be read right now; retry shortly",
                                 code="search_unavailable") from None


# -- the writer lease ------------------------------------------------------------------------

def lease_sk(shard: str) -> str:
    return f"{LEASE_SK}#{shard}"


def _acquire(tenant: str, project_id: str, shard: str, owner: str, wait_s: float) -> None:
    deadline = time.monotonic() + wait_s
    pk = keys.project_pk(tenant, project_id)
    while True:
        now = time.time()
        item = SearchLeaseItem(pk, lease_sk(shard), owner=owner, until=now + LEASE_S)
        try:
            item.save(condition=SearchLeaseItem.PK.does_not_exist() | (SearchLeaseItem.until < now))
            return
        except PutError as e:
            if error_code(e) != "ConditionalCheckFailedException":
                raise
        if time.monotonic() >= deadline:
            raise ServiceUnavailable("this part of the project's search index is being written by another import; "
                                     "retry shortly",
                                     code="search_index_busy")
        time.sleep(POLL_S)


def renew(tenant: str, project_id: str, shard: str, owner: str) -> bool:
    """Extend the lease; False when it is no longer ours (it expired and another writer took it)."""
    try:
        SearchLeaseItem(keys.project_pk(tenant, project_id), lease_sk(shard)).update(
            actions=[SearchLeaseItem.until.set(time.time() + LEASE_S)], condition=SearchLeaseItem.owner == owner)
    except UpdateError as e:
        if error_code(e) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def _release(tenant: str, project_id: str, shard: str, owner: str) -> None:
    """End the lease by expiring it (an update, not a delete: the worker's role may update items but
    not delete them; the expired item is reused by the next writer and goes with the project)."""
    try:
        SearchLeaseItem(keys.project_pk(tenant, project_id), lease_sk(shard)).update(
            actions=[SearchLeaseItem.until.set(0)], condition=SearchLeaseItem.owner == owner)
    except UpdateError as e:
        if error_code(e) != "ConditionalCheckFailedException":
            event(log, "search_lease_release_failed", 30, project_id=project_id, error=type(e).__name__)


class LeaseLost(ServiceUnavailable):
    code = "search_index_busy"


@dataclass
class Writer:
    """What `writing` yields: the private copy's connection, and a way to renew the lease between
    long steps (a full reindex)."""

    conn: sqlite3.Connection
    tenant: str
    project_id: str
    shard: str
    owner: str

    def keep_alive(self) -> None:
        if not renew(self.tenant, self.project_id, self.shard, self.owner):
            raise LeaseLost("lost the search index lease (another writer took over); nothing was stored")


@contextmanager
def writing(tenant: str, project_id: str, shard: str, *, fresh: bool = False,
            wait_s: float = LEASE_WAIT_S) -> Iterator[Writer]:
    """Hold the shard's lease, edit a private copy of its newest file, upload it, release.

    `fresh` starts from an empty file (a rebuild). Whatever fails, nothing half-written is stored."""
    b, key = blobs(), object_key(tenant, project_id, shard)
    cid = _cache_id(b, key)
    owner = secrets.token_hex(8)
    _acquire(tenant, project_id, shard, owner, wait_s)
    work = str(_cache_file())
    try:
        if not fresh:
            entry = _cache.get(cid)
            got = b.fetch(key, work, entry.etag if entry else None)
            if got == NOT_MODIFIED and entry is not None:
                shutil.copyfile(entry.path, work)
        conn = index.open_write(work)
        try:
            yield Writer(conn, tenant, project_id, shard, owner)
        finally:
            conn.close()
        if not renew(tenant, project_id, shard, owner):
            raise LeaseLost("lost the search index lease (another writer took over); nothing was stored")
        etag = b.put(key, work)
        _install(cid, work, etag)
        work = ""
    finally:
        if work:
            Path(work).unlink(missing_ok=True)
        _release(tenant, project_id, shard, owner)


def delete_key(b: Blobs, key: str) -> None:
    """Delete one stored file and drop its cached copy."""
    b.delete(key)
    with _cache_lock:
        entry = _cache.pop(_cache_id(b, key), None)
    if entry is not None:
        _retire(entry)


def delete_index(tenant: str, project_id: str, *, keep: frozenset[str] = frozenset()) -> None:
    """Delete every file of the project's index (its shards and a first-layout file), except the
    shards named in `keep` (a rebuild keeps the shards it just wrote)."""
    b = blobs()
    kept = {object_key(tenant, project_id, s) for s in keep}
    for key in [*b.keys(project_prefix(tenant, project_id)), object_key(tenant, project_id, LEGACY)]:
        if key not in kept:
            delete_key(b, key)
