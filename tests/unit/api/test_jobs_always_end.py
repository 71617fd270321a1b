"""Every handoff job ends `ready` or `failed` with a reason, whatever its size or fault (issue 12, item 3)."""

from __future__ import annotations

import pytest

BIG = "é" * 3990  # 2 bytes a character in UTF-8: a pin at the allowed length, twice the bytes


@pytest.fixture
def pid(api):
    return api.post("/api/projects", {"name": "Big", "goal": "g" * 4000, "description": "d" * 4000}).json_body["id"]


def _handoff(api, pid, n=1):
    return api.get(f"/api/projects/{pid}/sessions/{n}/handoff").json_body


def _ended(h: dict) -> None:
    assert h["status"] in ("ready", "failed"), h
    if h["status"] == "failed":
        assert h["reason"]


def test_pins_and_record_at_their_maximum_still_give_a_ready_handoff(api, pid):
    r = api.put(f"/api/projects/{pid}/pins", ["p" * 3990 + str(i) for i in range(32)])  # 128 KB: the most
    assert r.status_code == 200, r.body
    api.post(f"/api/projects/{pid}/sessions", {})
    r = api.post(f"/api/projects/{pid}/sessions/1/complete", {  # 4 x 60 KB of record: near the 256 KiB cap
        "handoff_mode": "rules", **{f: [f[0] * 3990 + str(i) for i in range(15)]
                                    for f in ("accomplishments", "decisions", "next_steps", "learnings")}})
    assert r.status_code == 202, r.body
    h = _handoff(api, pid)
    assert h["status"] == "ready", h
    assert api.get(f"/api/projects/{pid}/handoff/latest?format=md").status_code == 200


def test_pins_past_what_an_item_holds_are_refused_naming_the_field(api, pid):
    import json

    pins = ["x" * 3990 + str(i) for i in range(100)]  # 100 x 4,000: the schema's maximum, 400 KB
    for r in (api.put(f"/api/projects/{pid}/pins", pins), api.patch(f"/api/projects/{pid}", {"pins": pins}),
              api.post("/api/projects", {"name": "x", "pins": pins}),
              api.put(f"/api/projects/{pid}/pins",  # 2 bytes a character, sent unescaped
                      raw=json.dumps([BIG + str(i) for i in range(40)], ensure_ascii=False).encode())):
        assert r.status_code == 400, r.body
        assert r.json_body["error"]["field"] == "pins" and r.json_body["error"]["code"] == "pins_too_large"
    assert api.get(f"/api/projects/{pid}/pins").json_body["items"] == []


def test_a_document_too_large_for_an_item_is_stored_trimmed_and_ready(api, pid, monkeypatch):
    from chalicelib.domain import handoffs

    real = handoffs.generate

    def huge(inputs, **kw):
        out = real(inputs, **kw)
        out["data"]["facts_dump"] = ["f" * 5000 + str(i) for i in range(200)]  # 1 MB of facts
        out["must_keep"] = list(out["must_keep"]) + ["k" * 3000 + str(i) for i in range(200)]
        return out

    monkeypatch.setattr(handoffs, "generate", huge)
    api.post(f"/api/projects/{pid}/sessions", {})
    api.post(f"/api/projects/{pid}/sessions/1/complete", {"handoff_mode": "rules", "accomplishments": ["a"]})
    h = _handoff(api, pid)
    assert h["status"] == "ready", h
    assert h["data"].get("trimmed") is True
    assert len(str(h["data"])) < 400_000


def test_a_crash_while_storing_the_result_ends_failed_with_a_reason(api, pid, monkeypatch):
    from chalicelib.domain import handoffs

    def boom(*a, **kw):
        raise RuntimeError("storage exploded")

    monkeypatch.setattr(handoffs.store, "finish", boom)
    api.post(f"/api/projects/{pid}/sessions", {})
    api.post(f"/api/projects/{pid}/sessions/1/complete", {"handoff_mode": "rules", "accomplishments": ["a"]})
    h = _handoff(api, pid)
    assert h["status"] == "failed" and "RuntimeError" in h["reason"], h


def test_a_crash_after_the_result_is_stored_keeps_it_ready(api, pid, monkeypatch):
    from chalicelib.domain import knowledge

    def boom(*a, **kw):
        raise RuntimeError("knowledge offer failed")

    monkeypatch.setattr(knowledge, "offer_learnings", boom)
    api.post(f"/api/projects/{pid}/sessions", {})
    api.post(f"/api/projects/{pid}/sessions/1/complete", {"handoff_mode": "rules", "learnings": ["x"]})
    _ended(_handoff(api, pid))
    assert _handoff(api, pid)["status"] == "ready"
