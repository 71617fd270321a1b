"""Handoff job states: conditional on the job id, so duplicates and superseded jobs write nothing."""

from __future__ import annotations

import pytest

from chalicelib.storage import handoffs as store
from chalicelib.storage.projects import create_project, get_project
from chalicelib.storage.sessions import create_session

RESULT = {"method": "rules", "markdown": "# handoff", "data": {"open_items": []}, "must_keep": [],
          "input_chars": 100, "output_chars": 9}


@pytest.fixture
def session(aws):
    p = create_project("acme", name="p", description=None, goal=None)
    create_session("acme", p.id, {})
    return p.id


def test_job_lifecycle_and_latest_pointer(session):
    h = store.request_handoff("acme", session, 1, mode="rules", budget_chars=None)
    assert h.status == "pending" and h.version == 1
    assert store.claim("acme", session, 1, h.job_id) is not None
    assert store.get_handoff("acme", session, 1).status == "running"
    assert store.finish("acme", session, 1, h.job_id, RESULT) is True
    got = store.get_handoff("acme", session, 1)
    assert got.status == "ready" and got.markdown == "# handoff" and got.method == "rules"
    project = get_project("acme", session)
    assert project.latest_handoff == 1 and project.handoffs_ready == 1


def test_duplicate_delivery_writes_one_version(session):
    h = store.request_handoff("acme", session, 1, mode="rules", budget_chars=None)
    assert store.claim("acme", session, 1, h.job_id) is not None
    assert store.finish("acme", session, 1, h.job_id, RESULT) is True
    # the same message again: nothing to claim, nothing to finish
    assert store.claim("acme", session, 1, h.job_id) is None
    assert store.finish("acme", session, 1, h.job_id, {**RESULT, "markdown": "# other"}) is False
    got = store.get_handoff("acme", session, 1)
    assert got.version == 1 and got.markdown == "# handoff"
    assert get_project("acme", session).handoffs_ready == 1


def test_regeneration_supersedes_running_job(session):
    old = store.request_handoff("acme", session, 1, mode="rules", budget_chars=None)
    store.claim("acme", session, 1, old.job_id)
    new = store.request_handoff("acme", session, 1, mode="llm", budget_chars=8000)
    assert new.version == 2 and new.job_id != old.job_id
    assert store.finish("acme", session, 1, old.job_id, {**RESULT, "markdown": "# stale"}) is False
    assert store.claim("acme", session, 1, new.job_id) is not None
    assert store.finish("acme", session, 1, new.job_id, RESULT) is True
    got = store.get_handoff("acme", session, 1)
    assert got.version == 2 and got.markdown == "# handoff" and got.mode == "llm"
    assert get_project("acme", session).handoffs_ready == 1


def test_regenerating_a_ready_handoff_keeps_serving_it(session):
    h = store.request_handoff("acme", session, 1, mode="rules", budget_chars=None)
    store.claim("acme", session, 1, h.job_id)
    store.finish("acme", session, 1, h.job_id, RESULT)
    again = store.request_handoff("acme", session, 1, mode="rules", budget_chars=None)
    assert again.status == "pending" and again.markdown == "# handoff"
    store.claim("acme", session, 1, again.job_id)
    store.finish("acme", session, 1, again.job_id, {**RESULT, "markdown": "# v2"})
    assert store.get_handoff("acme", session, 1).markdown == "# v2"
    assert get_project("acme", session).handoffs_ready == 1  # still one handoff, in its second version


def test_failure_is_recorded_with_reason(session):
    h = store.request_handoff("acme", session, 1, mode="rules", budget_chars=None)
    store.claim("acme", session, 1, h.job_id)
    assert store.fail("acme", session, 1, h.job_id, "boom") is True
    got = store.get_handoff("acme", session, 1)
    assert got.status == "failed" and got.reason == "boom" and got.expires_at is not None
    assert get_project("acme", session).latest_handoff is None


def test_latest_pointer_never_moves_backwards(session):
    create_session("acme", session, {})
    for n in (2, 1):
        h = store.request_handoff("acme", session, n, mode="rules", budget_chars=None)
        store.claim("acme", session, n, h.job_id)
        store.finish("acme", session, n, h.job_id, RESULT)
    p = get_project("acme", session)
    assert p.latest_handoff == 2 and p.handoffs_ready == 2
