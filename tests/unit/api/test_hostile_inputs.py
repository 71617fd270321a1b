"""Inputs found adversarially that used to answer 500: each is a 400 naming the field (issue 12, item 2)."""

from __future__ import annotations

import pytest


@pytest.fixture
def pid(api) -> str:
    pid = api.post("/api/projects", {"name": "p"}).json_body["id"]
    assert api.post(f"/api/projects/{pid}/sessions", {}).status_code == 201
    return pid


def _err(r, status: int = 400) -> dict:
    assert r.status_code == status, r.body
    return r.json_body["error"]


def test_json_nested_100k_deep_is_400(api):
    raw = b'{"name": "x", "pins": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    err = _err(api.post("/api/projects", raw=raw))
    assert err["code"] == "invalid_json" and "nested" in err["message"]


def test_json_nested_moderately_deep_is_400_naming_the_field(api, pid):
    raw = b'{"accomplishments": ' + b"[" * 900 + b"]" * 900 + b"}"
    err = _err(api.patch(f"/api/projects/{pid}/sessions/1", raw=raw))
    assert err["field"].startswith("accomplishments")


@pytest.mark.parametrize("field", ["credit_budget", "credits_used"])
@pytest.mark.parametrize("const", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_400_naming_the_field(api, pid, field, const):
    err = _err(api.patch(f"/api/projects/{pid}/sessions/1", raw=f'{{"{field}": {const}}}'.encode()))
    assert err["field"] == field and const.lstrip("-") in err["message"]


def test_huge_float_literal_is_400(api, pid):
    err = _err(api.patch(f"/api/projects/{pid}/sessions/1", raw=b'{"credits_used": 1e999}'))
    assert err["field"] == "credits_used"


@pytest.mark.parametrize("field", ["tasks_planned", "credit_budget", "duration_s"])
def test_integer_past_4300_digits_is_400_naming_the_field(api, pid, field):
    err = _err(api.patch(f"/api/projects/{pid}/sessions/1", raw=f'{{"{field}": {"9" * 5000}}}'.encode()))
    assert err["field"] == field and "digits" in err["message"]


def test_integer_past_4300_digits_in_an_unknown_field_is_400(api):
    err = _err(api.post("/api/projects", raw=b'{"name": "x", "n": ' + b"7" * 5000 + b"}"))
    assert err["code"] in ("validation_error", "invalid_json")


def test_lines_added_with_39_digits_is_400(api, pid):
    r = api.put(f"/api/projects/{pid}/sessions/1/files", [{"path": "a.py", "lines_added": 10 ** 38}])
    err = _err(r)
    assert err["field"].endswith("lines_added")
    r = api.put(f"/api/projects/{pid}/sessions/1/files", [{"path": "a.py", "lines_removed": 10 ** 38}])
    assert _err(r)["field"].endswith("lines_removed")


def test_numstat_with_39_digit_counts_is_400(api, pid):
    r = api.put_raw(f"/api/projects/{pid}/sessions/1/files", f"{10 ** 38}\t0\ta.py\n".encode())
    assert _err(r)["code"] == "invalid_numstat"


def test_patch_record_lists_past_the_item_limit_is_400_and_keeps_the_session(api, pid):
    big = ["x" * 4000] * 120  # 480 KB in one PATCH: more than a DynamoDB item holds
    r = api.patch(f"/api/projects/{pid}/sessions/1", {"accomplishments": big})
    err = _err(r)
    assert err["field"] == "accomplishments" and err["code"] == "record_too_large"
    half = ["y" * 4000] * 40
    assert api.patch(f"/api/projects/{pid}/sessions/1", {"decisions": half}).status_code == 200
    # the sum across lists counts too, not only one list
    err = _err(api.patch(f"/api/projects/{pid}/sessions/1", {"learnings": half, "blockers": half,
                                                             "next_steps": half}))
    assert err["code"] == "record_too_large"
    s = api.get(f"/api/projects/{pid}/sessions/1").json_body
    assert s["decisions"] == half and s["learnings"] == []


def test_complete_with_record_lists_past_the_item_limit_is_400(api, pid):
    r = api.post(f"/api/projects/{pid}/sessions/1/complete", {"errors": ["e" * 4000] * 130})
    assert _err(r)["code"] == "record_too_large"
    assert api.get(f"/api/projects/{pid}/sessions/1").json_body["status"] == "in_progress"


@pytest.mark.parametrize("value", ["¹", "²", "١", "٣", "5\u0660", "1e1", " 5", "+5", "0x10"])
def test_limit_accepts_only_ascii_digits(api, value):
    from urllib.parse import quote

    err = _err(api.get(f"/api/projects?limit={quote(value)}"))
    assert err["field"] == "limit"


@pytest.mark.parametrize("version", ["%C2%B9", "0", "1e3", "-1"])
def test_handoff_version_path_takes_ascii_digits_only(api, pid, version):
    err = _err(api.get(f"/api/projects/{pid}/sessions/1/handoff/versions/{version}"))
    assert err["field"] == "version" and err["code"] == "invalid_path"
