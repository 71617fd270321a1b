"""Search across sessions: one SQLite FTS5 index per project, kept in S3 (a folder with `make dev`).

- documents.py: what is indexed (prompts, assistant text, commands, errors, paths, handoffs, notes,
  knowledge, open items), as rows;
- index.py: the SQLite file itself (schema, writes, ranked queries with snippets and highlights);
- store.py: where the file lives (S3 or $MSO_DATA_DIR/search), its /tmp cache, the one-writer lease;
- service.py: the domain calls (index a session, reindex a project, search, timeline, details);
- reindex.py: `python -m chalicelib.search.reindex` (`make reindex`), and the AWS job's body.
See docs/search.md for the design and why FTS5.
"""
