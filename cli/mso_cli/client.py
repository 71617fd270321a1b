"""A small HTTP client over urllib: JSON in and out, bearer token, per-call deadline."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from mso_cli import __version__
from mso_cli.config import Config


class Unreachable(Exception):
    """The server did not answer (down, refused, timed out, or the deadline passed)."""


class ApiError(Exception):
    """The server answered with an error status."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message, self.field = status, code, message, field

    @property
    def retryable(self) -> bool:
        """Worth trying again later: the server's fault, throttling, or another import of the same
        session still running (409 import_in_progress)."""
        return self.status >= 500 or self.status == 429 or self.code.endswith("_in_progress")


class NotConfigured(Exception):
    """No API URL or token: `mso login` first."""


class Api:
    def __init__(self, cfg: Config, *, timeout: float = 30.0, deadline: float | None = None) -> None:
        if not cfg.base_url or not cfg.token:
            raise NotConfigured("no API URL or token: run `mso login --url URL --token TOKEN` "
                                "(or set MSO_API_URL and MSO_TOKEN)")
        self.base = cfg.base_url
        self.token = cfg.token
        self.timeout = timeout
        self.deadline = deadline  # time.monotonic() value after which no request starts

    def _timeout(self) -> float:
        if self.deadline is None:
            return self.timeout
        left = self.deadline - time.monotonic()
        if left <= 0.05:
            raise Unreachable("the time allowed for the server ran out")
        return min(self.timeout, left)

    def request(self, method: str, path: str, body: Any = None, *, raw: bytes | None = None,
                content_type: str = "application/json", query: dict[str, Any] | None = None,
                text: bool = False) -> Any:
        """Send one request; returns parsed JSON (or text when `text`), raises ApiError/Unreachable."""
        url = self.base + path
        if query:
            url += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        headers = {"Authorization": f"Bearer {self.token}", "User-Agent": f"mso-cli/{__version__}",
                   "Accept": "text/markdown, application/json" if text else "application/json"}
        if data is not None:
            headers["Content-Type"] = content_type
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self._timeout()) as resp:
                payload = resp.read()
        except urllib.error.HTTPError as e:
            raw_err = e.read()
            try:
                err = json.loads(raw_err).get("error") or {}
            except (ValueError, AttributeError):
                err = {}
            raise ApiError(e.code, str(err.get("code") or "http_error"),
                           str(err.get("message") or raw_err[:200].decode(errors="replace")),
                           err.get("field")) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as e:
            raise Unreachable(f"{self.base} did not answer: {getattr(e, 'reason', e)}") from None
        if text:
            return payload.decode("utf-8", errors="replace")
        return json.loads(payload) if payload else None

    def get(self, path: str, **kw: Any) -> Any:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.request("POST", path, {} if body is None else body, **kw)

    def all_projects(self) -> list[dict[str, Any]]:
        out, cursor = [], None
        while True:
            page = self.get("/api/projects", query={"limit": 100, "cursor": cursor})
            out += page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return out
