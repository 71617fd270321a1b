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


class RouteNotFoundError(local.LocalGatewayException):
    CODE = 404


_patched = False


def _not_found(handler: Any) -> None:
    handler.send_response(404)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(NOT_FOUND_BODY)))
    handler.end_headers()
    handler.wfile.write(NOT_FOUND_BODY)


def install() -> None:
    global _patched
    if _patched:
        return
    original = local.LocalGateway._generate_lambda_event

    def generate(self: Any, method: str, path: str, headers: Any, body: Any) -> Any:
        try:
            return original(self, method, path, headers, body)
        except ValueError:
            raise RouteNotFoundError({"Content-Type": "application/json"}, NOT_FOUND_BODY) from None

    local.LocalGateway._generate_lambda_event = generate
    # socketserver's default listen backlog is 5: a burst of parallel requests (the dashboard, a
    # script creating 30 sessions at once) would see connections reset. API Gateway has no such limit.
    local.ThreadedHTTPServer.request_queue_size = 128
    # Methods API Gateway has no route for (TRACE, CONNECT) get the same JSON 404, not a 501 page.
    for method in ("TRACE", "CONNECT"):
        setattr(local.ChaliceRequestHandler, f"do_{method}", _not_found)
    local.ThreadedHTTPServer.daemon_threads = True
    _patched = True
