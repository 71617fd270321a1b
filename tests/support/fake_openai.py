"""A real OpenAI-compatible chat-completions server for tests (stdlib only, no network).

Tests drive our client over a real socket instead of mocking `requests`, so timeouts, headers,
status codes and JSON parsing are exercised as in production. Each test scripts a queue of
behaviours; every request pops the next one (or gets the default) and is recorded.

    with FakeOpenAIServer() as server:
        server.script(rate_limited(retry_after="2"), reply("## Summary ..."))
        client = ChatClient(LLMSettings(base_url=server.base_url, api_key="k"))
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CHAT_PATH = "/v1/chat/completions"


@dataclass
class RecordedRequest:
    """One request the server received, as it arrived."""

    method: str
    path: str
    headers: dict[str, str]
    raw: bytes
    body: Any  # parsed JSON, or None when the body was not JSON
    behaviour: str = ""

    @property
    def messages(self) -> list[dict[str, Any]]:
        if isinstance(self.body, dict) and isinstance(self.body.get("messages"), list):
            return self.body["messages"]
        return []

    @property
    def prompt_chars(self) -> int:
        """Characters of message content (what the client budgets)."""
        return sum(len(str(m.get("content", ""))) for m in self.messages)

    @property
    def prompt_text(self) -> str:
        return "\n".join(str(m.get("content", "")) for m in self.messages)

    @property
    def max_tokens(self) -> int | None:
        return self.body.get("max_tokens") if isinstance(self.body, dict) else None


Responder = Callable[[RecordedRequest], tuple[int, dict[str, str], bytes]]


@dataclass
class Behaviour:
    """What the server does for one request: wait `delay_s`, then answer with `respond`."""

    name: str
    respond: Responder
    delay_s: float = 0.0


def _json(status: int, obj: Any, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(obj).encode()


def completion_body(content: Any, *, model: str = "fake-model", finish_reason: str = "stop",
                    request: RecordedRequest | None = None) -> dict[str, Any]:
    """A chat.completion object as OpenAI / the HF router return it."""
    prompt_tokens = (request.prompt_chars // 4) if request else 0
    completion_tokens = len(content) // 4 if isinstance(content, str) else 0
    return {
        "id": f"chatcmpl-fake-{int(time.time() * 1000)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish_reason}
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def reply(content: str | Callable[[RecordedRequest], str], *, finish_reason: str = "stop",
          delay_s: float = 0.0) -> Behaviour:
    """200 with `content` (or `content(request)`) as the assistant message."""

    def respond(req: RecordedRequest) -> tuple[int, dict[str, str], bytes]:
        text = content(req) if callable(content) else content
        model = req.body.get("model", "fake-model") if isinstance(req.body, dict) else "fake-model"
        return _json(200, completion_body(text, model=model, finish_reason=finish_reason, request=req))

    return Behaviour("reply", respond, delay_s)


def rate_limited(retry_after: str | None = "2", *, message: str = "Rate limit reached") -> Behaviour:
    """429 with an optional Retry-After header (seconds or an HTTP-date, passed through as given)."""
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return Behaviour("rate_limited", lambda req: _json(429, {"error": {"message": message}}, headers))


def loading(estimated_time: float = 20.0, *, model: str = "fake-model") -> Behaviour:
    """503 as the Hugging Face router sends while a model is loading."""
    body = {"error": f"Model {model} is currently loading", "estimated_time": estimated_time}
    return Behaviour("loading", lambda req: _json(503, body))


def delay(seconds: float, then: Behaviour | None = None) -> Behaviour:
    """Answer only after `seconds` (longer than the client timeout -> the client times out)."""
    inner = then or reply("late answer")
    return Behaviour(f"delay({seconds})", inner.respond, seconds)


def malformed(raw: bytes = b'{"id": "x", "choices": [{"message": ') -> Behaviour:
    """200 whose body is not valid JSON."""
    return Behaviour("malformed", lambda req: (200, {"Content-Type": "application/json"}, raw))


def empty_choices() -> Behaviour:
    """200 with `choices: []`."""

    def respond(req: RecordedRequest) -> tuple[int, dict[str, str], bytes]:
        body = completion_body("", request=req)
        body["choices"] = []
        return _json(200, body)

    return Behaviour("empty_choices", respond)


def server_error(status: int = 500, *, message: str = "Internal Server Error", echo_auth: bool = False) -> Behaviour:
    """A 5xx (or any status) with an OpenAI-style error body; `echo_auth` puts the request's
    Authorization header into the message, like a careless proxy would."""

    def respond(req: RecordedRequest) -> tuple[int, dict[str, str], bytes]:
        text = message
        if echo_auth:
            text = f"{message}; got Authorization: {req.headers.get('Authorization', '')}"
        return _json(status, {"error": {"message": text, "type": "server_error"}})

    return Behaviour(f"status_{status}", respond)


def unauthorized(*, echo_auth: bool = True) -> Behaviour:
    """401 whose error message echoes the bearer token (to prove the client scrubs it)."""

    def respond(req: RecordedRequest) -> tuple[int, dict[str, str], bytes]:
        auth = req.headers.get("Authorization", "")
        token = auth.split(" ", 1)[1] if " " in auth else auth
        text = f"Invalid credentials: token {token} is not valid" if echo_auth else "Invalid credentials"
        return _json(401, {"error": text}, {"WWW-Authenticate": f'Bearer realm="{token}"'})

    return Behaviour("unauthorized", respond)


def status(code: int, body: bytes | str = b"", headers: dict[str, str] | None = None) -> Behaviour:
    """Any raw response."""
    raw = body.encode() if isinstance(body, str) else body
    return Behaviour(f"status_{code}", lambda req: (code, dict(headers or {}), raw))


@dataclass
class _State:
    queue: deque[Behaviour] = field(default_factory=deque)
    requests: list[RecordedRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class FakeOpenAIServer:
    """ThreadingHTTPServer on 127.0.0.1:<free port> in a daemon thread; a context manager.

    Unscripted requests get `default` (a 500 saying "unscripted" unless set), so a test that
    makes more calls than it expected sees it.
    """

    def __init__(self, *, default: Behaviour | None = None) -> None:
        self.default = default or server_error(500, message="fake server: no scripted behaviour left")
        self._state = _State()
        self._stop = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle -----------------------------------------------------------------------------
    def start(self) -> FakeOpenAIServer:
        handler = _make_handler(self)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-openai", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()  # releases handlers sleeping in a delay
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # scripting -----------------------------------------------------------------------------
    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """What to put in MSO_LLM_BASE_URL."""
        return f"http://127.0.0.1:{self.port}/v1"

    def script(self, *behaviours: Behaviour) -> FakeOpenAIServer:
        """Queue behaviours, consumed one per request in order."""
        with self._state.lock:
            self._state.queue.extend(behaviours)
        return self

    @property
    def pending(self) -> int:
        with self._state.lock:
            return len(self._state.queue)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._state.lock:
            return list(self._state.requests)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == CHAT_PATH]

    def reset(self) -> None:
        with self._state.lock:
            self._state.queue.clear()
            self._state.requests.clear()

    # used by the handler ---------------------------------------------------------------------
    def _record_and_pick(self, req: RecordedRequest) -> Behaviour:
        with self._state.lock:
            behaviour = self._state.queue.popleft() if self._state.queue else self.default
            req.behaviour = behaviour.name
            self._state.requests.append(req)
            return behaviour


def _make_handler(server: FakeOpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "FakeOpenAI/1.0"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            pass  # keep test output clean

        def _send(self, code: int, headers: dict[str, str], body: bytes) -> None:
            try:
                self.send_response(code)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout): nothing to answer

        def do_GET(self) -> None:  # noqa: N802 - stdlib naming
            if self.path == "/v1/models":
                code, headers, body = _json(200, {"object": "list", "data": [{"id": "fake-model", "object": "model"}]})
            else:
                code, headers, body = _json(404, {"error": {"message": f"no route {self.path}"}})
            self._send(code, headers, body)

        def do_POST(self) -> None:  # noqa: N802 - stdlib naming
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            req = RecordedRequest(
                method="POST", path=self.path, headers={k: v for k, v in self.headers.items()}, raw=raw, body=body
            )
            if self.path != CHAT_PATH:
                with server._state.lock:
                    server._state.requests.append(req)
                self._send(*_json(404, {"error": {"message": f"no route {self.path}"}}))
                return
            if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
                with server._state.lock:
                    server._state.requests.append(req)
                self._send(*_json(400, {"error": {"message": "body must be JSON with a messages list"}}))
                return
            behaviour = server._record_and_pick(req)
            if behaviour.delay_s > 0 and server._stop.wait(behaviour.delay_s):
                return  # server stopping: drop the connection
            self._send(*behaviour.respond(req))

    return Handler
