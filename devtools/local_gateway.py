"""Make `chalice local` behave like the deployed API where it matters to clients.

Unknown routes answer 404 with a JSON error, and bursts of parallel requests are queued. Request
bodies are read the way a gateway in front of the API would: only once the request is authorised
(a bearer token, or a live upload id for the upload URL), in bounded time (a client that announces
more than it sends gets a 408 instead of holding a thread forever), and the upload URL's large
bodies go to a temporary file rather than memory.

API Gateway answers a request for no route with 403 "Missing Authentication Token" and even
echoes the Authorization header back. The deploy template maps that gateway response to a 404
`{"error": {"code": "not_found", ...}}`; this patch gives `chalice local` and `chalice.test.Client`
the same answer, so the dashboard and tests see one behaviour everywhere.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import time
from types import SimpleNamespace
from typing import Any, BinaryIO

from chalice import local

from chalicelib.config import env_number

NOT_FOUND_BODY = json.dumps({"error": {"code": "not_found",
                                       "message": "no such route: see /api/openapi.json"}}).encode()
NOT_ALLOWED_BODY = json.dumps({"error": {"code": "method_not_allowed",
                                         "message": "this method is not served: see /api/openapi.json"}}).encode()
ALLOWED = "GET, POST, PUT, PATCH, DELETE, OPTIONS, HEAD"


class RouteNotFoundError(local.LocalGatewayException):
    CODE = 404


_patched = False


def _send(handler: Any, status: int, body: bytes, extra: dict[str, str] | None = None) -> None:
    """A JSON error written by the gateway itself, with the API's headers (nosniff, no-store). The
    request body (if any) was not read, so the connection cannot be reused: it is closed."""
    from chalicelib.api.common import JSON_HEADERS

    handler.close_connection = True
    handler.send_response(status)
    for k, v in {**JSON_HEADERS, **(extra or {}), "Connection": "close", "Content-Length": str(len(body))}.items():
        handler.send_header(k, v)
    handler.end_headers()
    handler.wfile.write(body)


def _not_allowed(handler: Any) -> None:
    """TRACE, CONNECT, QUERY or any method nobody serves: a JSON 405, not http.server's HTML 501."""
    _send(handler, 405, NOT_ALLOWED_BODY, {"Allow": ALLOWED})


def _json_error(handler: Any, status: int, code: str, message: str) -> None:
    _send(handler, status, json.dumps({"error": {"code": code, "message": message}}).encode())


def body_limit(path: str) -> int:
    """What the server reads of a request body: the upload URL takes more than the API (as S3 and
    API Gateway do); past it the answer is a 413 before a byte of the body is read."""
    from chalicelib.config import settings

    s = settings()
    return s.max_upload_body_bytes if path.startswith("/api/uploads/") else s.max_body_bytes


UPLOAD_PATH = re.compile(r"/api/uploads/([A-Za-z0-9_-]{1,64})/?(?:\?.*)?")
CHUNK = 64 * 1024
IN_MEMORY_BODY = 1024 * 1024  # bodies past this are spooled to a temporary file while they arrive


def body_timeouts() -> tuple[float, float]:
    """(idle, per MiB) seconds: a body read fails when no byte comes for `idle` seconds, or when the
    whole body takes longer than `idle` plus `per MiB` for each MiB announced (a trickle)."""
    idle = env_number(os.environ, "MSO_BODY_TIMEOUT_S", 15.0, minimum=0.05)
    return idle, 2.0


class BodyIncomplete(Exception):
    """The client announced more bytes than it sent in time (or closed the connection)."""


def read_body(handler: Any, length: int, sink: BinaryIO) -> None:
    """Copy exactly `length` bytes of the request body into `sink`, chunk by chunk, in bounded time.

    http.server's `rfile.read(length)` waits forever for bytes a client announced but never sends,
    holding a thread each time; here every wait has a timeout and the whole read a deadline."""
    idle, per_mib = body_timeouts()
    deadline = time.monotonic() + idle + per_mib * length / (1024 * 1024)
    left = length
    try:
        while left:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BodyIncomplete
            handler.connection.settimeout(min(idle, remaining))
            chunk = handler.rfile.read1(min(CHUNK, left))
            if not chunk:
                raise BodyIncomplete  # the client closed its side
            sink.write(chunk)
            left -= len(chunk)
    except (TimeoutError, OSError):
        raise BodyIncomplete from None
    finally:
        with contextlib.suppress(OSError):  # the connection may be gone already
            handler.connection.settimeout(handler.timeout)


def _route_auth(path: str) -> bool | None:
    """Whether the route serving `path` needs a bearer token (None: no route has this path)."""
    from chalicelib.api.common import ROUTES

    bare = path.split("?", 1)[0]
    for r in ROUTES:
        if re.fullmatch(re.sub(r"\{[^/}]+\}", "[^/]+", r.path), bare):
            return r.auth
    return None


def authorise_body(handler: Any) -> tuple[int, dict[str, Any]] | None:
    """Check, before a byte of the body is read, that the request may send one: the upload URL needs a
    live upload id (it is the capability), every other route that takes a token needs a valid one.
    Returns the error answer (status, body) or None. A database outage is left to the route (503)."""
    from chalicelib.api.common import bearer_token
    from chalicelib.errors import AppError
    from chalicelib.storage.health import is_outage

    try:
        m = UPLOAD_PATH.fullmatch(handler.path)
        if m:
            from chalicelib.domain.uploads import check_upload

            check_upload(m.group(1))
        elif _route_auth(handler.path):
            from chalicelib.domain.tenants import tenant_for_token

            tenant_for_token(bearer_token(SimpleNamespace(headers=handler.headers)))
    except AppError as e:
        extra = {"WWW-Authenticate": 'Bearer realm="mso"'} if e.status == 401 else {}
        return e.status, {**e.to_dict(), "_headers": extra}
    except Exception as e:  # noqa: BLE001 - the route reports what went wrong, with the body read
        if not is_outage(e):
            raise
    return None


def install() -> None:
    global _patched
    if _patched:
        return
    original = local.LocalGateway._generate_lambda_event

    def generate(self: Any, method: str, path: str, headers: Any, body: Any) -> Any:
        try:
            event = original(self, method, path, headers, body)
            if getattr(self, "domain_name", None):  # as API Gateway: the API's own address, not the Host header
                event["requestContext"]["domainName"] = self.domain_name
            return event
        except ValueError:
            from chalicelib.api.common import JSON_HEADERS

            raise RouteNotFoundError(dict(JSON_HEADERS), NOT_FOUND_BODY) from None

    local.LocalGateway._generate_lambda_event = generate
    original_handle = local.ChaliceRequestHandler._generic_handle

    def generic_handle(self: Any) -> None:
        raw = self.headers.get("content-length", "0") or "0"
        if not raw.strip().isascii() or not raw.strip().isdigit():
            _json_error(self, 400, "invalid_request", "Content-Length is not a number of bytes")
            return
        length = int(raw)
        limit = body_limit(self.path)
        if length > limit:
            _json_error(self, 413, "payload_too_large",
                        f"the body is {length:,} bytes; this server reads at most {limit:,} here "
                        "(gzip the transcript, or use the upload URL from POST .../transcript-upload)")
            return
        host, port = self.server.server_address[:2]
        self.local_gateway.domain_name = f"{host}:{port}" if ":" not in host else f"[{host}]:{port}"
        if length:
            refused = authorise_body(self)
            if refused is not None:
                status, body = refused
                _send(self, status, json.dumps({"error": body["error"]}).encode(), body["_headers"])
                return
        spool = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY_BODY)  # noqa: SIM115 - closed below
        try:
            try:
                read_body(self, length, spool)
            except BodyIncomplete:
                _json_error(self, 408, "request_timeout",
                            f"the body announced {length:,} bytes (Content-Length) but {spool.tell():,} arrived "
                            "in time: send the whole body, or a Content-Length that matches it")
                return
            spool.seek(0)
            if UPLOAD_PATH.fullmatch(self.path) and length:
                from chalicelib.api.common import streamed_body

                self._body = None
                with streamed_body(spool, length):  # the upload route reads the file, not a copy in memory
                    original_handle(self)
            else:
                self._body = spool.read()
                original_handle(self)
        finally:
            spool.close()

    def parse_payload(self: Any) -> tuple[dict[str, str], bytes | None]:
        return dict(self.headers), getattr(self, "_body", None) or None  # read by generic_handle

    local.ChaliceRequestHandler._parse_payload = parse_payload
    for method in ("GET", "PUT", "POST", "HEAD", "DELETE", "PATCH", "OPTIONS"):
        setattr(local.ChaliceRequestHandler, f"do_{method}", generic_handle)
    # A connection that sends no request line or headers for this long is closed (http.server waits
    # forever by default); keep-alive connections left idle end the same way.
    local.ChaliceRequestHandler.timeout = 120
    # socketserver's default listen backlog is 5: a burst of parallel requests (the dashboard, a
    # script creating 30 sessions at once) would see connections reset. API Gateway has no such limit.
    local.ThreadedHTTPServer.request_queue_size = 128
    # Methods no route serves (TRACE, CONNECT, QUERY, anything else) get a JSON 405, not an HTML 501 page.
    handler_cls = local.ChaliceRequestHandler
    for method in ("TRACE", "CONNECT", "QUERY"):
        setattr(handler_cls, f"do_{method}", _not_allowed)
    original_send_error = handler_cls.send_error

    def send_error(self: Any, code: int, message: str | None = None, explain: str | None = None) -> None:
        if code == 501 and getattr(self, "command", None):  # unsupported method
            _not_allowed(self)
            return
        original_send_error(self, code, message, explain)

    handler_cls.send_error = send_error
    local.ThreadedHTTPServer.daemon_threads = True
    _patched = True


def local_server(port: int, host: str = "127.0.0.1") -> Any:
    """A `chalice local` server for the app on `port`, with these patches (tests, benchmarks):
    call `serve_forever()` in a thread. The app is made local once per process; servers any number."""
    from chalice.config import Config

    import app as app_module

    install()
    config = Config.create(chalice_stage="dev", app_name="mso")
    if isinstance(app_module.app, local.CustomLocalChalice):
        return local.LocalDevServer(app_module.app, config, host, port)
    return local.create_local_server(app_module.app, config, host, port)


class LocalServer:
    """`local_server` in a daemon thread on a fixed port, which can be stopped and started again
    (the CLI's tests and benchmark take the server away under a running client)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._srv: Any = None

    def start(self) -> None:
        import threading

        self._srv = local_server(self.port)
        threading.Thread(target=self._srv.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._srv is not None:
            self._srv.shutdown()
            self._srv.server.server_close()
            self._srv = None
