"""A project's index in shards (moto S3 + DynamoDB): an import rewrites its session's shard only, a
query merges the shards by score and pages across them, the ranking bound keeps rare words, kinds
and pages exact, a first-layout file is read and then rebuilt into shards, and a rebuild or a
deletion leaves no other file behind."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from chalicelib.search import index, service, store
from chalicelib.search.documents import Row

BUCKET = "mso-test-uploads"


@pytest.fixture
def s3(aws, monkeypatch):
    from chalicelib import aws as clients
    from chalicelib import config

    monkeypatch.setenv("MSO_UPLOAD_BUCKET", BUCKET)
    monkeypatch.setattr(store, "SHARD_SESSIONS", 2)  # sessions 1 | 2, 3 | 4, 5: three shards
    config.reset()
    clients.s3().create_bucket(Bucket=BUCKET)
    store.forget_cache()
    yield clients.s3()
    store.forget_cache()
    config.reset()


def _import(api, pid, n, text: str) -> None:
    r = api.put(f"/api/projects/{pid}/sessions/{n}/transcript?format=text", raw=text.encode(),
                headers={"Content-Type": "text/plain"})
    assert r.status_code == 200, r.body


def _search(api, pid, q, **params):
    qs = "&".join([f"q={quote(q)}"] + [f"{k}={quote(str(v))}" for k, v in params.items()])
    r = api.get(f"/api/projects/{pid}/search?{qs}")
    assert r.status_code == 200, r.body
    return r.json_body


def _keys(s3, pid) -> dict[str, str]:
    out = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"search/acme/{pid}")
    return {o["Key"].rsplit("/", 1)[-1]: o["ETag"] for o in out.get("Contents", [])}


@pytest.fixture
def project(api, s3):
    pid = api.post("/api/projects", {"name": "p"}).json_body["id"]
    for n in range(1, 6):
        api.post(f"/api/projects/{pid}/sessions", {})
        # "heron" once per session and as often as the session's number in its answer: a known order
        _import(api, pid, n, f"User: session {n} heron walk{n}\nAssistant: {' '.join(['heron'] * n)} done\n")
    return pid


def test_each_session_is_in_its_shard_and_an_import_rewrites_only_that_shard(api, s3, project):
    keys = _keys(s3, project)
    assert set(keys) == {"s0.sqlite", "s1.sqlite", "s2.sqlite", "p.sqlite"}
    store.forget_cache()
    with store.reading("acme", project, "s1") as conn:
        assert conn is not None
        assert {r[0] for r in conn.execute("SELECT DISTINCT session FROM rows")} == {2, 3}
    _import(api, project, 5, "User: the osprey nests\nAssistant: noted\n")
    after = _keys(s3, project)
    changed = {k for k in keys if keys[k] != after[k]}
    assert changed == {"s2.sqlite"}  # not the other shards, not the unchanged project shard
    assert {h["session"] for h in _search(api, project, "osprey")["items"]} == {5}
    assert 5 not in {h["session"] for h in _search(api, project, "heron")["items"]}  # its old rows are gone


def test_the_project_shard_is_rewritten_when_knowledge_changes(api, s3, project):
    before = _keys(s3, project)["p.sqlite"]
    api.post(f"/api/projects/{project}/knowledge", {"title": "Herons nest in March", "body": "field notes"})
    _import(api, project, 1, "User: again\n")
    assert _keys(s3, project)["p.sqlite"] != before
    assert [h["kind"] for h in _search(api, project, "march")["items"]] == ["knowledge"]


def test_hits_of_every_shard_merge_by_score_and_page_without_gaps(api, s3, project):
    items = _search(api, project, "heron", limit=50)["items"]
    assert {h["session"] for h in items} == {1, 2, 3, 4, 5}
    scores = [h["score"] for h in items]
    assert scores == sorted(scores, reverse=True)
    answers = [h["session"] for h in items if h["kind"] == "assistant"]
    assert answers == [5, 4, 3, 2, 1]  # denser answers first, whichever shard holds them
    paged, cursor = [], None
    while True:
        page = _search(api, project, "heron", limit=3, **({"cursor": cursor} if cursor else {}))
        paged += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert [h["id"] for h in paged] == [h["id"] for h in items]


def test_the_bound_ranks_the_newest_matches_of_a_common_word_and_keeps_rare_words(api, s3, project, monkeypatch):
    monkeypatch.setattr(service, "RANK_BUDGET", 4)  # "heron" is in 10 rows: 4 ranked, the newest
    items = _search(api, project, "heron", limit=50)["items"]
    assert len(items) == 4 and {h["session"] for h in items} == {4, 5}
    # a word in fewer rows than the budget is ranked whole, whichever shard it is in
    assert [h["session"] for h in _search(api, project, "walk1")["items"]] == [1]
    assert [h["session"] for h in _search(api, project, "session walk2")["items"]] == [2]
    # a kind filter counts only that kind's matches against the budget
    prompts = _search(api, project, "heron", kind="prompt", limit=50)["items"]
    assert sorted(h["session"] for h in prompts) == [2, 3, 4, 5] and {h["kind"] for h in prompts} == {"prompt"}
    first = _search(api, project, "heron", limit=3)
    second = _search(api, project, "heron", limit=3, cursor=first["next_cursor"])
    assert [h["id"] for h in first["items"] + second["items"]] == [h["id"] for h in items]


def test_rank_counts_what_it_ranked_and_ranks_only_the_newest(tmp_path):
    conn = index.open_write(str(tmp_path / "i.sqlite"))
    for n in range(1, 7):
        index.replace_part(conn, "messages", n, [Row("prompt", "kestrel " * n, n, 0, None, None),
                                                 Row("command", "Bash: kestrel", n, 1, None, None)])
    ranked, used = index.rank(conn, index.to_match("kestrel"), kind=None, limit=50, budget=5)
    assert used == 5 and len(ranked) == 5
    assert {r.session for r in ranked} == {4, 5, 6}  # the rows indexed last
    ranked, used = index.rank(conn, index.to_match("kestrel"), kind="prompt", limit=2, budget=100)
    assert used == 6 and [r.session for r in ranked] == [6, 5]  # under the budget: all ranked, exactly
    whole, used = index.rank(conn, index.to_match("kestrel"), kind=None, limit=50)
    assert len(whole) == 12 and used == 0
    assert index.rank(conn, index.to_match("osprey"), kind=None, limit=5, budget=5) == ([], 0)


def _first_layout_file(path) -> str:
    """An index file as the first layout wrote it (schema 1: the FTS5 table has only `text`)."""
    import sqlite3

    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.executescript("""
    CREATE TABLE meta(k TEXT PRIMARY KEY, v TEXT);
    INSERT INTO meta VALUES ('schema', '1');
    CREATE TABLE rows(id INTEGER PRIMARY KEY, part TEXT NOT NULL, owner INTEGER NOT NULL,
      kind TEXT NOT NULL, session INTEGER, msg INTEGER, at TEXT, ref TEXT, text TEXT NOT NULL);
    CREATE VIRTUAL TABLE fts USING fts5(text, content='rows', content_rowid='id',
      tokenize='porter unicode61 remove_diacritics 2');
    CREATE TRIGGER rows_ai AFTER INSERT ON rows BEGIN INSERT INTO fts(rowid, text) VALUES (new.id, new.text); END;
    INSERT INTO rows(part, owner, kind, session, msg, text) VALUES
      ('messages', 3, 'prompt', 3, 0, 'the legacy gannet'), ('messages', 3, 'command', 3, 1, 'Bash: count gannet');
    """)
    conn.close()
    return str(path)


def test_a_kind_filters_and_never_matches_by_itself(tmp_path):
    conn = index.open_write(str(tmp_path / "i.sqlite"))
    index.replace_part(conn, "messages", 1, [Row("path", "src/app.py", 1, 0, None, None),
                                             Row("prompt", "fix the path to app.py", 1, 1, None, None),
                                             Row("open_item", "ship the app", 1, 2, None, None)])
    assert [h.kind for h in index.query(conn, index.to_match("path"), kind=None, limit=5)] == ["prompt"]
    assert [h.kind for h in index.query(conn, index.to_match("app"), kind="path", limit=5)] == ["path"]
    assert [h.kind for h in index.query(conn, index.to_match("app"), kind="open_item", limit=5)] == ["open_item"]
    assert index.query(conn, index.to_match("item"), kind=None, limit=5) == []
    hit = index.query(conn, index.to_match("app"), kind="prompt", limit=5)[0]
    assert hit.snippet == "fix the path to app.py" and [hit.snippet[a:b] for a, b in hit.highlights] == ["app"]


def test_a_first_layout_file_is_read_then_rebuilt_into_shards_by_the_next_import(api, s3, project, tmp_path):
    legacy = store.object_key("acme", project, store.LEGACY)
    assert legacy == f"search/acme/{project}.sqlite"
    store.delete_index("acme", project)
    # the first layout: one file for the whole project, with a session the shards never had
    s3.upload_file(_first_layout_file(tmp_path / "legacy.sqlite"), BUCKET, legacy)
    store.forget_cache()
    assert sorted(h["kind"] for h in _search(api, project, "gannet")["items"]) == ["command", "prompt"]
    assert [h["kind"] for h in _search(api, project, "gannet", kind="command")["items"]] == ["command"]
    assert _search(api, project, "gannet", kind="path")["items"] == []
    _import(api, project, 2, "User: the puffin returns\n")  # the next write migrates the project
    assert set(_keys(s3, project)) == {"s0.sqlite", "s1.sqlite", "s2.sqlite", "p.sqlite"}
    store.forget_cache()
    assert {h["session"] for h in _search(api, project, "heron", limit=50)["items"]} == {1, 3, 4, 5}
    assert [h["session"] for h in _search(api, project, "puffin")["items"]] == [2]
    assert _search(api, project, "gannet")["items"] == []  # rebuilt from the table, which never had it


def test_reindex_and_delete_leave_no_other_file(api, s3, project):
    s3.put_object(Bucket=BUCKET, Key=store.object_key("acme", project, "s7"), Body=b"stale")
    s3.put_object(Bucket=BUCKET, Key=store.object_key("acme", project, store.LEGACY), Body=b"old")
    out = service.reindex_project("acme", project)
    assert out["sessions"] == 5 and out["shards"] == 4
    assert set(_keys(s3, project)) == {"s0.sqlite", "s1.sqlite", "s2.sqlite", "p.sqlite"}
    assert api.delete(f"/api/projects/{project}").status_code == 200
    assert _keys(s3, project) == {}


def test_writers_of_different_shards_do_not_wait_for_each_other(s3, project):
    with store.writing("acme", project, "s0", wait_s=0.2) as a, store.writing("acme", project, "s1", wait_s=0.2) as b:
        index.replace_part(a.conn, "notes", 1, [Row("note", "first writer", 1, None, None, "note:1")])
        index.replace_part(b.conn, "notes", 2, [Row("note", "second writer", 2, None, None, "note:1")])
    store.forget_cache()
    got = service.search_project("acme", project, "writer")["items"]
    assert {h["session"] for h in got} == {1, 2}


def test_a_query_revalidates_its_shards_together_then_reads_the_cache(api, s3, project, monkeypatch):
    import threading

    calls: list[tuple[str, str]] = []
    fetch = store.S3Blobs.fetch

    def counted(self, key, dest, etag):
        calls.append((key.rsplit("/", 1)[-1], threading.current_thread().name))
        return fetch(self, key, dest, etag)

    monkeypatch.setattr(store.S3Blobs, "fetch", counted)
    store.forget_cache()  # a cold container
    assert {h["session"] for h in service.search_project("acme", project, "heron", limit=50)["items"]} == {
        1, 2, 3, 4, 5}
    assert sorted(k for k, _ in calls) == ["p.sqlite", "s0.sqlite", "s1.sqlite", "s2.sqlite"]  # each once
    assert len({t for _, t in calls}) > 1  # not one after the other on the request's thread
    calls.clear()
    service.search_project("acme", project, "walk3")
    assert calls == []  # fresh copies: no request at all
    monkeypatch.setattr(store, "FRESH_S", 0.0)  # every copy stale: each is revalidated (a 304 moves nothing)
    service.search_project("acme", project, "walk3")
    assert {k for k, _ in calls} == {"p.sqlite", "s0.sqlite", "s1.sqlite", "s2.sqlite"}
