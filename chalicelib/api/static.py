"""Serves the dashboard (ui/) beside the API for `make dev`. On AWS, S3 + CloudFront serve it.

Registered only when MSO_SERVE_UI is set, so the deployed API has no such routes.
"""

from __future__ import annotations

import mimetypes
import os
import re

from chalice import Blueprint, Response

from chalicelib.config import settings

bp = Blueprint(__name__)
SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


def _serve(*parts: str) -> Response:
    if not all(SAFE.match(p) and ".." not in p for p in parts):
        return Response(body="not found", status_code=404, headers={"Content-Type": "text/plain"})
    path = os.path.join(settings().ui_dir, *parts)
    if not os.path.isfile(path):
        return Response(body="not found", status_code=404, headers={"Content-Type": "text/plain"})
    ctype = mimetypes.guess_type(path)[0] or "application/octet-stream"
    if ctype.startswith("text/") or ctype in ("application/javascript", "application/json"):
        ctype += "; charset=utf-8"
    with open(path, "rb") as f:
        data = f.read()
    headers = {"Content-Type": ctype, "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
    if path.endswith(".html"):
        headers.update({"Content-Security-Policy": CSP, "Referrer-Policy": "no-referrer",
                        "X-Frame-Options": "DENY"})
    return Response(body=data.decode("utf-8") if ctype.startswith(("text/", "application/j")) else data,
                    status_code=200, headers=headers)


@bp.route("/", methods=["GET"])
def index() -> Response:
    return _serve("index.html")


@bp.route("/ui/{name}", methods=["GET"])
def asset(name: str) -> Response:
    return _serve(name)


@bp.route("/ui/vendor/{name}", methods=["GET"])
def vendor(name: str) -> Response:
    return _serve("vendor", name)
