"""Every free-text field is redacted on write with the transcript redactor: both secret corpora
(tests/fixtures/secret_corpus.py and the fresh secret_corpus_v2.py), sent through the API into each
field, are absent from the answers, from every stored item and from the handoff built on them;
the agent's session id (external_id) and file change paths are redacted too."""

from __future__ import annotations

import json

import pytest

from tests.fixtures import secret_corpus, secret_corpus_v2


class _Sample:
    def __init__(self, name: str, text: str, secret: str) -> None:
        self.name, self.text, self.secret = name, text, secret


SAMPLES = [*(_Sample(s.name, s.text, s.secret) for s in secret_corpus.SAMPLES),
           *(_Sample("v2:" + s.kind, s.text, s.secret) for s in secret_corpus_v2.SECRETS)]
SECRETS = [s.secret for s in SAMPLES]


def _stored() -> str:
    """Every item of the table, as one string."""
    import boto3

    from chalicelib.config import settings

    ddb = boto3.client("dynamodb", region_name="us-east-1")
    items, start = [], None
    while True:
        kw = {"TableName": settings().table_name, **({"ExclusiveStartKey": start} if start else {})}
        page = ddb.scan(**kw)
        items += page["Items"]
        start = page.get("LastEvaluatedKey")
        if not start:
            return json.dumps(items, ensure_ascii=False, default=_unpack)


def _unpack(value: object) -> str:
    """Binary attributes (the handoff's zlib'd layout) as their text, so secrets in them show."""
    import zlib

    if isinstance(value, bytes | bytearray):
        try:
            return zlib.decompress(value).decode("utf-8")
        except zlib.error:
            return value.decode("utf-8", "replace")
    raise TypeError(type(value).__name__)


def _leaks(*answers) -> list[str]:
    text = _stored() + json.dumps(answers, ensure_ascii=False)
    return [s.name for s in SAMPLES if s.secret in text]


def _hundreds(items: list) -> list[list]:
    """`items` in lists of at most 100 (the API's longest list)."""
    return [items[i:i + 100] for i in range(0, len(items), 100)]


def _fits(limit: int) -> list:
    return [s for s in SAMPLES if len(s.text) <= limit]


def _batches(limit: int) -> list[str]:
    """The corpus texts joined into as few strings of at most `limit` characters as fit."""
    out, cur = [], ""
    for s in SAMPLES:
        if cur and len(cur) + 1 + len(s.text) > limit:
            out.append(cur)
            cur = ""
        cur = f"{cur}\n{s.text}" if cur else s.text
    return [*out, cur]


@pytest.fixture
def project(api):
    r = api.post("/api/projects", {"name": "Vault"})
    assert r.status_code == 201, r.body
    return r.json_body["id"]


def test_project_name_description_goal_and_pins(api):
    answers = []
    for s in _fits(200):
        r = api.post("/api/projects", {"name": s.text, "description": s.text, "goal": s.text, "pins": [s.text]})
        assert r.status_code == 201, r.body
        answers.append(r.json_body)
    assert len(answers) == len(_fits(200)) >= 150
    pid = answers[0]["id"]
    for chunk in _batches(4000):
        r = api.patch(f"/api/projects/{pid}", {"description": chunk, "goal": chunk})
        assert r.status_code == 200, r.body
        answers.append(r.json_body)
    for part in _hundreds([s.text for s in SAMPLES]):
        r = api.put(f"/api/projects/{pid}/pins", part)
        assert r.status_code == 200, r.body
        answers += [r.json_body, api.get(f"/api/projects/{pid}").json_body]
    assert _leaks(answers) == []
    assert "[REDACTED:" in answers[-1]["pins"][0]


RECORD = ("accomplishments", "blockers", "decisions", "learnings", "next_steps", "errors", "links", "done_items")


def test_session_title_goal_model_and_every_record_list(api, project):
    answers = []
    for s in _fits(200):
        r = api.post(f"/api/projects/{project}/sessions", {"title": s.text, "goal": s.text, "model": s.text})
        assert r.status_code == 201, r.body
        answers.append(r.json_body)
    n = answers[0]["number"]
    for s in _fits(300):
        answers.append(api.patch(f"/api/projects/{project}/sessions/{n}", {"title": s.text}).json_body)
    for chunk in _batches(4000):
        answers.append(api.patch(f"/api/projects/{project}/sessions/{n}", {"goal": chunk}).json_body)
    for i, part in enumerate(_hundreds([s.text for s in SAMPLES])):
        n, n2 = answers[2 * i]["number"], answers[2 * i + 1]["number"]
        r = api.patch(f"/api/projects/{project}/sessions/{n}", {f: part for f in RECORD})
        assert r.status_code == 200, r.body
        answers.append(r.json_body)
        assert all("[REDACTED:" in r.json_body[f][0] for f in RECORD)
        r = api.post(f"/api/projects/{project}/sessions/{n2}/complete", {f: part for f in RECORD if f != "links"})
        assert r.status_code in (200, 202), r.body
        answers.append(r.json_body)
    # the next session starts from a handoff made of the redacted record; knowledge from its learnings
    r = api.post(f"/api/projects/{project}/sessions", {})
    answers += [r.json_body, api.get(f"/api/projects/{project}/knowledge").json_body]
    assert _leaks(answers) == []


def test_knowledge_title_body_and_tags(api, project):
    answers = []
    for s in _fits(200):
        tags = [s.text] if len(s.text) <= 50 else []
        r = api.post(f"/api/projects/{project}/knowledge", {"title": s.text, "body": s.text, "tags": tags})
        assert r.status_code == 201, r.body
        answers.append(r.json_body)
    for chunk in _batches(20000):
        r = api.post(f"/api/projects/{project}/knowledge", {"title": "all", "body": chunk})
        assert r.status_code == 201, r.body
        answers.append(r.json_body)
    answers.append(api.get("/api/knowledge?q=REDACTED").json_body)
    assert _leaks(answers) == []
    assert len(_fits(50)) >= 10


def test_file_change_summaries_and_account_names(api, project):
    answers = []
    for part in _hundreds([{"path": f"src/f{i}.py", "summary": s.text} for i, s in enumerate(SAMPLES)]):
        n = api.post(f"/api/projects/{project}/sessions", {}).json_body["number"]
        r = api.put(f"/api/projects/{project}/sessions/{n}/files", part)
        assert r.status_code == 200, r.body
        answers += [r.json_body, api.get(f"/api/projects/{project}/sessions/{n}/files?limit=100").json_body]
    for s in _fits(100):
        r = api.post("/api/accounts", {"name": s.text, "provider": s.text})
        assert r.status_code == 201, r.body
        answers.append(r.json_body)
    assert _leaks(answers) == []


def test_file_change_paths(api, project):
    """A secret can hide in a path too (a token pasted as a file name, a URL with credentials)."""
    singles = [s for s in secret_corpus_v2.SECRETS if "\n" not in s.text and len(s.text) <= 1000]
    answers = []
    for part in _hundreds([{"path": f"notes/{s.text}.md", "old_path": f"old/{s.text}"} for s in singles]):
        n = api.post(f"/api/projects/{project}/sessions", {}).json_body["number"]
        r = api.put(f"/api/projects/{project}/sessions/{n}/files", part)
        assert r.status_code == 200, r.body
        answers += [r.json_body, api.get(f"/api/projects/{project}/sessions/{n}/files?limit=100").json_body]
    assert len(singles) >= 80
    assert _leaks(answers) == []


def test_external_id_is_redacted_and_still_links(api, project):
    """The agent's session id is the client's choice: one holding a secret is stored redacted, and
    the same id sent again still reaches the same session."""
    from chalicelib.transcripts.redact import redact

    # the tokens recognisable on their own (a bare 40-hex value is a commit hash until context says
    # otherwise, and must stay one)
    tokens = [s.secret for s in secret_corpus_v2.SECRETS
              if s.secret.isascii() and " " not in s.secret and "\n" not in s.secret and len(s.secret) <= 190
              and redact(f"run-{s.secret}")[1]]
    assert len(tokens) >= 40
    numbers = []
    for tok in tokens:
        ext = f"run-{tok}"
        r = api.post(f"/api/projects/{project}/sessions", {"external_id": ext, "agent": "claude"})
        assert r.status_code in (200, 201), r.body
        assert tok not in r.json_body["external_id"] and "[REDACTED:" in r.json_body["external_id"]
        again = api.post(f"/api/projects/{project}/sessions", {"external_id": ext, "agent": "claude"})
        assert again.json_body["number"] == r.json_body["number"]
        numbers.append(r.json_body["number"])
    assert _leaks([api.get(f"/api/projects/{project}/sessions?limit=100").json_body]) == []
    plain = api.post(f"/api/projects/{project}/sessions", {"external_id": "258c7280-ae70-4798-800f-63464d01a85d"})
    assert plain.json_body["external_id"] == "258c7280-ae70-4798-800f-63464d01a85d"  # ids are kept


def test_token_labels(aws):
    from chalicelib.domain.tenants import issue_token

    for s in _fits(100):
        issue_token("acme", label=s.text)
    assert _leaks() == []
