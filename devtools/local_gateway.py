"""Make `chalice local` behave like the deployed API where it matters to clients.

Unknown routes answer 404 with a JSON error, and bursts of parallel requests are queued.

API Gateway answers a request for no route with 403 "Missing Authentication Token" and even
echoes the Authorization header back. The deploy template maps that gateway response to a 404
`{"error": {"code": "not_found", ...}}`; this patch gives `chalice local` and `chalice.test.Client`
the same answer, so the dashboard and tests see one behaviour everywhere.
"""

from __future__ import annotations

import json
from typing import Any

from chalice import local

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


def install() -> None:
    global _patched
    if _patched:
        return
    original = local.LocalGateway._generate_lambda_event

    def generate(self: Any, method: str, path: str, headers: Any, body: Any) -> Any:
        try:
            return original(self, method, path, headers, body)
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
        limit = body_limit(self.path)
        if int(raw) > limit:
            _json_error(self, 413, "payload_too_large",
                        f"the body is {int(raw):,} bytes; this server reads at most {limit:,} here "
                        "(gzip the transcript, or use the upload URL from POST .../transcript-upload)")
            return
        original_handle(self)

    for method in ("GET", "PUT", "POST", "HEAD", "DELETE", "PATCH", "OPTIONS"):
        setattr(local.ChaliceRequestHandler, f"do_{method}", generic_handle)
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
