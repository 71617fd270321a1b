"""ChatClient against a real HTTP server speaking the chat-completions protocol."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from chalicelib.llm import (
    ChatClient,
    LLMAuthError,
    LLMBadResponse,
    LLMNotConfigured,
    LLMRateLimited,
    LLMRequestRejected,
    LLMSettings,
    LLMTimeout,
    LLMUnavailable,
    parse_retry_after,
)
from tests.support.clock import FakeClock
from tests.support.fake_openai import (
    FakeOpenAIServer,
    delay,
    empty_choices,
    loading,
    malformed,
    rate_limited,
    reply,
    server_error,
    status,
    unauthorized,
)
from tests.support.llm_samples import API_KEY

MakeClient = Callable[..., ChatClient]
HI = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]


def test_success_sends_the_openai_request(fake_openai: FakeOpenAIServer, make_client: MakeClient,
                                          fake_clock: FakeClock) -> None:
    fake_openai.script(reply("Hello there"))
    client = make_client()
    assert client.complete(HI, max_tokens=50) == "Hello there"
    [req] = fake_openai.requests
    assert req.path == "/v1/chat/completions"
    assert req.headers["Authorization"] == f"Bearer {API_KEY}"
    assert req.headers["Content-Type"] == "application/json"
    assert req.body == {"model": "test-model", "messages": HI, "max_tokens": 50, "temperature": 0.0,
                        "stream": False}
    assert fake_clock.sleeps == []
    assert client.last_finish_reason == "stop" and client.last_usage["completion_tokens"] > 0


def test_content_parts_are_joined(fake_openai: FakeOpenAIServer, make_client: MakeClient) -> None:
    fake_openai.script(reply([{"type": "text", "text": "Hello "}, {"type": "text", "text": "world"}]))  # type: ignore[arg-type]
    assert make_client().complete(HI, max_tokens=5) == "Hello world"


def test_429_then_success_honours_retry_after(fake_openai: FakeOpenAIServer, make_client: MakeClient,
                                              fake_clock: FakeClock) -> None:
    fake_openai.script(rate_limited(retry_after="2"), reply("ok"))
    assert make_client().complete(HI, max_tokens=5) == "ok"
    assert fake_clock.sleeps == [2.0]
    assert [r.behaviour for r in fake_openai.requests] == ["rate_limited", "reply"]


def test_503_model_loading_waits_the_estimated_time(fake_openai: FakeOpenAIServer, make_client: MakeClient,
                                                    fake_clock: FakeClock) -> None:
    fake_openai.script(loading(estimated_time=3.5), reply("warm now"))
    assert make_client().complete(HI, max_tokens=5) == "warm now"
    assert fake_clock.sleeps == [3.5]


def test_gateway_errors_back_off_exponentially_with_jitter(fake_openai: FakeOpenAIServer,
                                                           make_client: MakeClient, fake_clock: FakeClock) -> None:
    fake_openai.script(server_error(502), server_error(504), server_error(500), reply("ok"))
    assert make_client().complete(HI, max_tokens=5) == "ok"
    first, second, third = fake_clock.sleeps
    assert 0.25 <= first <= 0.5 and 0.5 <= second <= 1.0 and 1.0 <= third <= 2.0


def test_429_forever_gives_up_after_max_retries(fake_openai: FakeOpenAIServer, make_client: MakeClient,
                                                fake_clock: FakeClock) -> None:
    fake_openai.default = rate_limited(retry_after="1")
    with pytest.raises(LLMRateLimited, match="gave up after 3 attempts") as exc:
        make_client(max_retries=2).complete(HI, max_tokens=5)
    assert exc.value.http_status == 429 and exc.value.attempts == 3
    assert len(fake_openai.requests) == 3 and fake_clock.sleeps == [1.0, 1.0]


def test_never_sleeps_past_the_deadline(fake_openai: FakeOpenAIServer, make_client: MakeClient,
                                        fake_clock: FakeClock) -> None:
    fake_openai.script(rate_limited(retry_after="100"), reply("too late"))
    with pytest.raises(LLMRateLimited, match="would pass the deadline"):
        make_client(deadline_s=5.0).complete(HI, max_tokens=5)
    assert fake_clock.sleeps == [] and len(fake_openai.requests) == 1


def test_model_loading_longer_than_the_deadline_fails_fast(fake_openai: FakeOpenAIServer,
                                                           make_client: MakeClient, fake_clock: FakeClock) -> None:
    fake_openai.script(loading(estimated_time=30.0))
    with pytest.raises(LLMUnavailable, match="currently loading") as exc:
        make_client(deadline_s=5.0).complete(HI, max_tokens=5)
    assert exc.value.http_status == 503 and fake_clock.sleeps == []


def test_backoff_sleeps_all_fit_within_a_shared_deadline(fake_openai: FakeOpenAIServer,
                                                         make_client: MakeClient, fake_clock: FakeClock) -> None:
    fake_openai.default = server_error(503)
    client = make_client(max_retries=50, backoff_base_s=1.0, backoff_max_s=4.0)
    deadline = fake_clock() + 10.0
    with pytest.raises(LLMUnavailable):
        client.complete(HI, max_tokens=5, deadline=deadline)
    assert fake_clock() <= deadline and fake_clock.slept < 10.0 and len(fake_clock.sleeps) >= 2


def test_timeouts_are_retried_then_raise_within_the_deadline(fake_openai: FakeOpenAIServer,
                                                             make_client: MakeClient,
                                                             fake_clock: FakeClock) -> None:
    fake_openai.default = delay(2.0)
    client = make_client(timeout_s=0.2, deadline_s=2.0)
    start = fake_clock()
    with pytest.raises(LLMTimeout):
        client.complete(HI, max_tokens=5)
    assert len(fake_openai.requests) >= 2  # retried
    assert fake_clock() - start <= 2.0 + 0.25  # the last request's own timeout may straddle it
    assert fake_clock.sleeps  # the waits between tries went to the injected sleep (wall time: make bench)


def test_deadline_already_passed_sends_nothing(fake_openai: FakeOpenAIServer, make_client: MakeClient,
                                               fake_clock: FakeClock) -> None:
    with pytest.raises(LLMTimeout, match="deadline"):
        make_client().complete(HI, max_tokens=5, deadline=fake_clock() - 1)
    assert fake_openai.requests == []


@pytest.mark.parametrize("code", [401, 403])
def test_auth_errors_are_not_retried(code: int, fake_openai: FakeOpenAIServer, make_client: MakeClient,
                                     fake_clock: FakeClock) -> None:
    fake_openai.script(unauthorized() if code == 401 else server_error(403, echo_auth=True))
    with pytest.raises(LLMAuthError) as exc:
        make_client().complete(HI, max_tokens=5)
    assert exc.value.http_status == code and len(fake_openai.requests) == 1 and fake_clock.sleeps == []
    assert API_KEY not in str(exc.value) and "[REDACTED]" in str(exc.value)


@pytest.mark.parametrize("code", [400, 404, 413, 422])
def test_bad_requests_are_not_retried(code: int, fake_openai: FakeOpenAIServer, make_client: MakeClient) -> None:
    fake_openai.script(status(code, '{"error": {"message": "no such model"}}', {"Content-Type": "application/json"}))
    with pytest.raises(LLMRequestRejected, match="no such model") as exc:
        make_client().complete(HI, max_tokens=5)
    assert exc.value.http_status == code and len(fake_openai.requests) == 1


def test_malformed_json_is_a_bad_response(fake_openai: FakeOpenAIServer, make_client: MakeClient) -> None:
    fake_openai.script(malformed())
    with pytest.raises(LLMBadResponse, match="not valid JSON"):
        make_client().complete(HI, max_tokens=5)
    assert len(fake_openai.requests) == 1


def test_empty_choices_is_a_bad_response(fake_openai: FakeOpenAIServer, make_client: MakeClient) -> None:
    fake_openai.script(empty_choices())
    with pytest.raises(LLMBadResponse, match="no choices"):
        make_client().complete(HI, max_tokens=5)


def test_blank_content_is_a_bad_response(fake_openai: FakeOpenAIServer, make_client: MakeClient) -> None:
    fake_openai.script(reply("   \n"))
    with pytest.raises(LLMBadResponse, match="empty"):
        make_client().complete(HI, max_tokens=5)


def test_connection_refused_is_retried_then_unavailable(make_client: MakeClient, fake_clock: FakeClock) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = make_client(base_url=f"http://127.0.0.1:{port}/v1", max_retries=2)
    with pytest.raises(LLMUnavailable, match="cannot connect") as exc:
        client.complete(HI, max_tokens=5)
    assert exc.value.attempts == 3 and len(fake_clock.sleeps) == 2


def test_no_key_raises_not_configured_and_sends_nothing(fake_openai: FakeOpenAIServer) -> None:
    client = ChatClient(LLMSettings(base_url=fake_openai.base_url, api_key=None))
    assert not client.configured
    with pytest.raises(LLMNotConfigured):
        client.complete(HI, max_tokens=5)
    assert fake_openai.requests == []


def test_key_echoed_by_the_server_never_reaches_logs_or_errors(fake_openai: FakeOpenAIServer,
                                                               make_client: MakeClient,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # root: urllib3's debug lines too
    fake_openai.script(server_error(500, echo_auth=True), server_error(502, echo_auth=True), unauthorized())
    with pytest.raises(LLMAuthError) as exc:
        make_client().complete(HI, max_tokens=5)
    assert len(fake_openai.requests) == 3
    assert API_KEY in fake_openai.requests[0].headers["Authorization"]  # it was sent ...
    echoed = [r for r in caplog.records if r.getMessage() == "llm.http_error"]
    assert len(echoed) == 3 and all("[REDACTED]" in r.fields["detail"] for r in echoed)
    everything = caplog.text + repr([getattr(r, "fields", None) for r in caplog.records]) + str(exc.value)
    assert API_KEY not in everything  # ... and never written anywhere


def test_a_key_of_any_shape_is_scrubbed(fake_openai: FakeOpenAIServer, make_client: MakeClient,
                                        caplog: pytest.LogCaptureFixture) -> None:
    plain = "plainkey9f8e7d6c5b4a"  # no "sk-"/"hf_"/"Bearer" shape for the pattern to catch
    caplog.set_level(logging.DEBUG)
    fake_openai.script(unauthorized())  # echoes the bare token, no "Bearer " before it
    client = make_client(api_key=plain)
    with pytest.raises(LLMAuthError) as exc:
        client.complete(HI, max_tokens=5)
    assert fake_openai.requests[0].headers["Authorization"] == f"Bearer {plain}"
    assert plain not in str(exc.value) and "token [REDACTED] is not valid" in str(exc.value)
    assert plain not in caplog.text + repr([getattr(r, "fields", None) for r in caplog.records])
    assert client.scrub(f"x{plain}y") == "x[REDACTED]y"


def test_parse_retry_after_forms() -> None:
    now = datetime(2026, 11, 20, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("-4") == 0.0
    assert parse_retry_after("Fri, 20 Nov 2026 12:00:07 GMT", now=now) == 7.0
    assert parse_retry_after("Fri, 20 Nov 2026 11:59:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None and parse_retry_after("") is None


def test_http_date_retry_after_is_honoured(fake_openai: FakeOpenAIServer, make_client: MakeClient,
                                           fake_clock: FakeClock) -> None:
    from datetime import timedelta
    from email.utils import format_datetime

    when = format_datetime(datetime.now(UTC) + timedelta(seconds=3), usegmt=True)  # whole seconds
    fake_openai.script(rate_limited(retry_after=when), reply("ok"))
    assert make_client().complete(HI, max_tokens=5) == "ok"
    [slept] = fake_clock.sleeps
    assert 1.5 < slept <= 3.0  # the date, not the 0.25-0.5 s backoff
