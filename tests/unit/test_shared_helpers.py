"""The helpers every layer shares: text cutting, environment numbers, JSON numbers, cursors, child pages."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest

from chalicelib import config
from chalicelib.domain.common import json_number, page_json
from chalicelib.errors import BadRequest, NotFound
from chalicelib.storage.common import decode_cursor, encode_cursor, pack_cursor, unpack_cursor
from chalicelib.text import clip, clip_middle, norm_key, one_line


def test_clip_keeps_the_start_or_the_end_at_a_word_boundary() -> None:
    text = "the quick brown fox jumps over the lazy dog"
    assert clip(text, 100) == text
    head = clip(text, 20)
    assert head == "the quick brown…" and len(head) <= 20
    tail = clip(text, 20, tail=True)
    assert tail == "…over the lazy dog" and len(tail) <= 20
    assert clip("y" * 50, 10, tail=True) == "…" + "y" * 9  # no boundary: cut inside the word
    assert clip("x" * 50, 10) == "x" * 9 + "…"


def test_clip_middle_keeps_both_ends_and_says_how_much_was_cut() -> None:
    text = "START " + "m" * 500 + " END"
    out = clip_middle(text, 120, tail_weight=0.5)
    assert len(out) <= 120 and out.startswith("START") and out.endswith("END")
    assert f"[{len(text) - 120} chars cut]" in out
    assert clip_middle(text, 30) == text[:30]
    assert clip_middle("short", 30) == "short"


def test_one_line_and_norm_key() -> None:
    assert one_line("  a\n\tb   c ") == "a b c"
    assert norm_key("Fix: the LOGIN-bug!") == norm_key("fix the login bug") == "fix the login bug"


def test_env_number_keeps_the_default_for_bad_values(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="mso.config")
    env = {"A": "2.5", "B": "7", "C": "soon", "D": "inf", "E": "-1", "F": " ", "G": "1e3"}
    assert config.env_number(env, "A", 1.0) == 2.5
    assert config.env_number(env, "B", 1) == 7 and isinstance(config.env_number(env, "B", 1), int)
    assert config.env_number(env, "G", 1) == 1000
    assert [config.env_number(env, k, 3) for k in ("C", "D", "E", "F", "missing")] == [3, 3, 3, 3, 3]
    warned = [r.fields["name"] for r in caplog.records if r.getMessage() == "settings.invalid"]
    assert warned == ["C", "D", "E"]


def test_app_settings_read_numbers_like_the_llm_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MSO_AUTH_CACHE_S", "not-a-number")
    monkeypatch.setenv("MSO_RETRY_BASE_S", "5")
    config.reset()
    try:
        s = config.settings()
        assert (s.auth_cache_s, s.retry_base_s) == (60.0, 5.0)
    finally:
        monkeypatch.undo()
        config.reset()


def test_json_number() -> None:
    assert [json_number(v) for v in (None, Decimal("3"), Decimal("2.5"), 4.0)] == [0, 3, 2.5, 4]
    assert isinstance(json_number(Decimal("3")), int)


def test_cursors_round_trip_and_refuse_what_they_did_not_make() -> None:
    assert unpack_cursor(pack_cursor({"u": "abc", "o": 50})) == {"u": "abc", "o": 50}
    key = {"PK": {"S": "T#t1"}, "SK": {"S": "PROJECT#p1"}}
    assert decode_cursor(encode_cursor(key), expect={"PK": "T#t1"}) == key
    assert encode_cursor(None) is None and decode_cursor(None, expect={}) is None
    for bad in ("not base64 at all!", pack_cursor({"PK": 5}), "WzFd"):  # "WzFd" is [1]: not an object
        with pytest.raises(BadRequest) as e:
            decode_cursor(bad, expect={"PK": "T#t1"})
        assert e.value.code == "invalid_cursor"
    with pytest.raises(BadRequest, match="does not belong"):
        decode_cursor(encode_cursor({**key, "PK": {"S": "T#other"}}), expect={"PK": "T#t1"})
    with pytest.raises(BadRequest, match="does not belong"):
        decode_cursor(encode_cursor(key), expect={"PK": "T#t1"}, prefix={"SK": "SESSION#"})
    with pytest.raises(BadRequest, match="not valid"):  # DynamoDB refuses a start key without its sort key
        decode_cursor(encode_cursor({"PK": {"S": "T#t1"}}), expect={"PK": "T#t1"})


def test_an_empty_first_page_checks_the_parent() -> None:
    def missing() -> None:
        raise NotFound("project not found")

    assert page_json([1, 2], "next", cursor=None, render=str, parent=missing) == {"items": ["1", "2"],
                                                                                  "next_cursor": "next"}
    assert page_json([], None, cursor="c", render=str, parent=missing) == {"items": [], "next_cursor": None}
    with pytest.raises(NotFound):
        page_json([], None, cursor=None, render=str, parent=missing)
