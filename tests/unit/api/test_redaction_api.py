"""Every free-text field is redacted on write with the transcript redactor: the whole secret corpus,
sent through the API into each field, is absent from the answers and from every stored item."""

from __future__ import annotations

import json

import pytest

from tests.fixtures.secret_corpus import SAMPLES

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
    assert len(answers) >= len(SAMPLES) - 1
    pid = answers[0]["id"]
    for chunk in _batches(4000):
        r = api.patch(f"/api/projects/{pid}", {"description": chunk, "goal": chunk})
        assert r.status_code == 200, r.body
        answers.append(r.json_body)
    r = api.put(f"/api/projects/{pid}/pins", [s.text for s in SAMPLES])
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
    r = api.patch(f"/api/projects/{project}/sessions/{n}", {f: [s.text for s in SAMPLES] for f in RECORD})
    assert r.status_code == 200, r.body
    answers.append(r.json_body)
    assert all("[REDACTED:" in r.json_body[f][0] for f in RECORD)
    n2 = answers[1]["number"]
    r = api.post(f"/api/projects/{project}/sessions/{n2}/complete",
                 {f: [s.text for s in SAMPLES] for f in RECORD if f != "links"})
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
    n = api.post(f"/api/projects/{project}/sessions", {}).json_body["number"]
    files = [{"path": f"src/f{i}.py", "summary": s.text} for i, s in enumerate(SAMPLES)]
    r = api.put(f"/api/projects/{project}/sessions/{n}/files", files)
    assert r.status_code == 200, r.body
    answers = [r.json_body, api.get(f"/api/projects/{project}/sessions/{n}/files?limit=100").json_body]
    for s in _fits(100):
        r = api.post("/api/accounts", {"name": s.text, "provider": s.text})
        assert r.status_code == 201, r.body
        answers.append(r.json_body)
    assert _leaks(answers) == []


def test_token_labels(aws):
    from chalicelib.domain.tenants import issue_token

    for s in _fits(100):
        issue_token("acme", label=s.text)
    assert _leaks() == []
