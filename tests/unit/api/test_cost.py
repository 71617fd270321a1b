"""Money per session: tokens by kind from the transcript, priced per model, in the session, analytics and accounts."""

from __future__ import annotations

import json

import pytest

from chalicelib import pricing


def _claude_turn(i: int, model: str, inp: int, out: int, cr: int, cw: int) -> list[dict]:
    ts = f"2026-11-01T10:{i:02d}:00Z"
    return [
        {"type": "user", "uuid": f"u{i}", "timestamp": ts, "cwd": "/w", "sessionId": "s1",
         "message": {"role": "user", "content": f"step {i}"}},
        {"type": "assistant", "uuid": f"a{i}", "timestamp": ts,
         "message": {"id": f"msg_{i}", "role": "assistant", "model": model, "content": [{"type": "text", "text": "ok"}],
                     "usage": {"input_tokens": inp, "output_tokens": out, "cache_read_input_tokens": cr,
                               "cache_creation_input_tokens": cw}}},
    ]


def _transcript() -> bytes:
    recs = (_claude_turn(1, "claude-opus-4-6", 10, 500, 20_000, 4_000)
            + _claude_turn(2, "claude-opus-4-6", 5, 300, 24_000, 1_000)
            + _claude_turn(3, "claude-haiku-4-5", 100, 50, 0, 2_000))
    return "\n".join(json.dumps(r) for r in recs).encode()


@pytest.fixture
def priced(api):
    acc = api.post("/api/accounts", {"name": "Max plan", "provider": "anthropic"}).json_body["id"]
    pid = api.post("/api/projects", {"name": "p"}).json_body["id"]
    api.post(f"/api/projects/{pid}/sessions", {"ai_account": acc})
    r = api.put(f"/api/projects/{pid}/sessions/1/transcript", raw=_transcript(),
                headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 200, r.body
    return pid, acc


def test_a_session_is_priced_per_model_from_its_transcript(api, priced):
    pid, _ = priced
    s = api.get(f"/api/projects/{pid}/sessions/1").json_body
    opus = {"input_tokens": 15, "output_tokens": 800, "cache_read_tokens": 44_000, "cache_write_tokens": 5_000}
    haiku = {"input_tokens": 100, "output_tokens": 50, "cache_read_tokens": 0, "cache_write_tokens": 2_000}
    assert s["cost"]["by_model"] == {"claude-opus-4-6": pytest.approx(pricing.cost_usd("claude-opus-4-6", opus)),
                                     "claude-haiku-4-5": pytest.approx(pricing.cost_usd("claude-haiku-4-5", haiku))}
    assert s["cost"]["usd"] == pytest.approx(sum(s["cost"]["by_model"].values()), abs=1e-5)
    assert s["cost"]["unpriced_models"] == [] and s["cost"]["price_table"] == pricing.source()["version"]
    assert s["transcript"]["peak_context_tokens"] == 5 + 24_000 + 1_000  # the largest prompt: the 2nd call
    assert s["transcript"]["cache_read_tokens"] == 44_000


def test_analytics_shows_cost_per_session_project_and_account(api, priced):
    pid, acc = priced
    a = api.get(f"/api/projects/{pid}/analytics").json_body
    usd = api.get(f"/api/projects/{pid}/sessions/1").json_body["cost"]["usd"]
    assert a["series"][0]["cost_usd"] == usd and a["series"][0]["peak_context_tokens"] == 25_005
    assert a["cost"]["usd"] == pytest.approx(usd) and a["cost"]["sessions_priced"] == 1
    assert a["cost"]["peak_context_tokens"] == 25_005
    assert [r["cost_usd"] for r in a["accounts"] if r["id"] == acc] == [pytest.approx(usd)]
    assert "seed" in a["seed_model"]  # predictions are labelled as the seed's model, not the user's data


def test_an_unknown_model_is_unpriced_not_guessed(api):
    pid = api.post("/api/projects", {"name": "q"}).json_body["id"]
    api.post(f"/api/projects/{pid}/sessions", {})
    recs = _claude_turn(1, "my-local-model", 10, 10, 0, 0)
    api.put(f"/api/projects/{pid}/sessions/1/transcript", raw="\n".join(json.dumps(r) for r in recs).encode(),
            headers={"Content-Type": "application/octet-stream"})
    s = api.get(f"/api/projects/{pid}/sessions/1").json_body
    assert s["cost"] == {"usd": None, "by_model": {}, "unpriced_models": ["my-local-model"],
                         "price_table": pricing.source()["version"]}
    a = api.get(f"/api/projects/{pid}/analytics").json_body["cost"]
    assert a["usd"] is None and a["sessions_with_tokens_unpriced"] == 1 and a["unpriced_models"] == ["my-local-model"]


def test_credits_typed_by_hand_stay_beside_the_cost(api, priced):
    pid, _ = priced
    api.post(f"/api/projects/{pid}/sessions/1/complete", {"handoff_mode": "rules", "credits_used": 7})
    s = api.get(f"/api/projects/{pid}/sessions/1").json_body
    assert s["credits_used"] == 7 and s["cost"]["usd"] > 0


def test_a_hook_created_session_takes_title_model_and_real_span_from_its_transcript(api):
    """Hooks create a session with no title and complete it seconds after uploading: the transcript says more."""
    pid = api.post("/api/projects", {"name": "span"}).json_body["id"]
    api.post(f"/api/projects/{pid}/sessions", {"external_id": "abc-123"})
    recs = _claude_turn(1, "claude-opus-4-6", 10, 10, 0, 0)
    recs[0]["message"]["content"] = "Refactor the   invoice parser so that it handles multi-currency totals and " \
                                    "rounding per line, then update the docs"
    recs += _claude_turn(2, "claude-opus-4-6", 10, 10, 0, 0)
    recs[-1]["timestamp"] = "2026-11-01T15:02:00Z"  # five hours of work
    api.put(f"/api/projects/{pid}/sessions/1/transcript", raw="\n".join(json.dumps(r) for r in recs).encode(),
            headers={"Content-Type": "application/octet-stream"})
    s = api.get(f"/api/projects/{pid}/sessions/1").json_body
    assert s["title"] == "Refactor the invoice parser so that it handles multi-currency totals and…"
    assert s["model"] == "claude-opus-4-6"
    assert (s["transcript"]["started_at"], s["transcript"]["ended_at"]) == ("2026-11-01T10:01:00Z",
                                                                            "2026-11-01T15:02:00Z")
    done = api.post(f"/api/projects/{pid}/sessions/1/complete", {"handoff_mode": "rules"}).json_body["session"]
    assert done["duration_s"] == 5 * 3600 + 60
    assert api.get(f"/api/projects/{pid}").json_body["duration_s"] == 5 * 3600 + 60


def test_a_title_or_model_someone_typed_is_kept(api):
    pid = api.post("/api/projects", {"name": "kept"}).json_body["id"]
    api.post(f"/api/projects/{pid}/sessions", {"title": "Mine", "model": "sonnet"})
    api.put(f"/api/projects/{pid}/sessions/1/transcript", raw=_transcript(),
            headers={"Content-Type": "application/octet-stream"})
    s = api.get(f"/api/projects/{pid}/sessions/1").json_body
    assert (s["title"], s["model"]) == ("Mine", "sonnet")


def test_a_transcript_pushed_after_completion_gives_the_session_its_real_duration(api):
    pid = api.post("/api/projects", {"name": "late"}).json_body["id"]
    api.post(f"/api/projects/{pid}/sessions", {})
    api.post(f"/api/projects/{pid}/sessions/1/complete", {"handoff_mode": "rules"})
    recs = _claude_turn(1, "claude-opus-4-6", 10, 10, 0, 0) + _claude_turn(2, "claude-opus-4-6", 10, 10, 0, 0)
    recs[-1]["timestamp"] = "2026-11-01T12:01:00Z"
    r = api.put(f"/api/projects/{pid}/sessions/1/transcript?replace=true",
                raw="\n".join(json.dumps(x) for x in recs).encode(), headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 200, r.body
    assert api.get(f"/api/projects/{pid}/sessions/1").json_body["duration_s"] == 2 * 3600
    assert api.get(f"/api/projects/{pid}").json_body["duration_s"] == 2 * 3600  # the counter moved with it
