"""`git diff --numstat` bodies are capped and parsed in one pass (issue 20, item 2: 1 MB gave 60,000
items in 73 s, and crafted lines made the parser backtrack for minutes)."""

from __future__ import annotations

import pytest

from chalicelib.transcripts.filechanges import MAX_FILE_CHANGES, parse_numstat


@pytest.fixture
def pid(api) -> str:
    pid = api.post("/api/projects", {"name": "p"}).json_body["id"]
    assert api.post(f"/api/projects/{pid}/sessions", {}).status_code == 201
    return pid


def _numstat(n: int) -> bytes:
    return "".join(f"{i % 50}\t{i % 7}\tsrc/dir{i % 100}/file_{i}.py\n" for i in range(n)).encode()


def test_more_files_than_the_cap_is_413_naming_the_cap_and_keeps_the_files(api, pid):
    files = f"/api/projects/{pid}/sessions/1/files"
    assert api.put_raw(files, b"5\t1\tsrc/app.py\n").status_code == 200
    r = api.put_raw(files, _numstat(MAX_FILE_CHANGES + 1))
    assert r.status_code == 413, r.body
    err = r.json_body["error"]
    assert err["code"] == "too_many_files" and err["limit"] == MAX_FILE_CHANGES == 5_000
    assert "5,000" in err["message"]
    kept = api.get(files).json_body["items"]
    assert [f["path"] for f in kept] == ["src/app.py"]  # the refused body changed nothing


def test_the_cap_counts_files_not_summary_lines():
    body = _numstat(MAX_FILE_CHANGES).decode() + "".join(
        f" create mode 100644 src/dir{i % 100}/file_{i}.py\n" for i in range(MAX_FILE_CHANGES))
    got = parse_numstat(body)
    assert len(got) == MAX_FILE_CHANGES and all(c.kind == "added" for c in got)


@pytest.mark.parametrize("line", [
    "1\t2\t{" + " => " * 250_000,  # made the brace-rename regex backtrack: minutes for 1 MB
    " create mode 100644 a" + " " * 1_000_000 + "b",  # made the summary regex backtrack
])
def test_crafted_megabyte_lines_answer_at_once(api, pid, line):
    r = api.put_raw(f"/api/projects/{pid}/sessions/1/files", line.encode())
    assert r.status_code in (200, 400), r.body
    if r.status_code == 400:
        assert r.json_body["error"]["code"] == "invalid_numstat" and r.json_body["error"]["line"] == 1


def test_a_path_longer_than_a_key_holds_is_400_with_its_line(api, pid):
    r = api.put_raw(f"/api/projects/{pid}/sessions/1/files", b"1\t1\tok.py\n1\t1\t" + b"p" * 1025 + b"\n")
    assert r.status_code == 400, r.body
    assert r.json_body["error"]["code"] == "invalid_numstat" and r.json_body["error"]["line"] == 2


def test_renames_still_parse_both_ways():
    got = {c.path: c.old_path for c in parse_numstat("1\t1\tsrc/{old => new}/u.py\n2\t0\ta.txt => b.txt\n"
                                                        "1\t0\t{ => sub}/f\n")}
    assert got == {"src/new/u.py": "src/old/u.py", "b.txt": "a.txt", "sub/f": "f"}
