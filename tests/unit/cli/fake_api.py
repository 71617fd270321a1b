"""A small in-memory stand-in for the mso API over real HTTP, for the CLI's unit tests.

It speaks the routes the CLI uses (projects, sessions created or linked by `external_id`,
transcript upload, complete, patch, handoff) with the server's error shape
`{"error": {"code", "message"}}`, and records every request body it received, so a test can
assert what left the machine. The live server is exercised in tests/integration.
"""

from __future__ import annotations

import gzip
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


class FakeApi:
    def __init__(self) -> None:
        self.projects: dict[str, dict[str, Any]] = {}
        self.sessions: dict[str, list[dict[str, Any]]] = {}
        self.received: list[tuple[str, str, bytes]] = []  # (method, path, raw body) of every request
        self.uploads: list[bytes] = []  # decompressed transcript bodies
        self.refuse_upload: tuple[int, str, str] | None = None  # answer every upload with this error
        self.notes: list[dict[str, Any]] = []  # POST .../notes bodies, with the session they went to
        self.pins: dict[str, list[str]] = {}  # project id -> pinned context
        self.open_items: dict[str, list[str]] = {}  # project id -> open items' text
        self.checkpoint: str | None = None  # GET .../checkpoint answers this Markdown (404 when None)
        self.down = False  # hang up on every request, as a server that is gone (the client: Unreachable)
        self.lock = threading.Lock()
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._http.server_address[1]}"

    def start(self) -> FakeApi:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()

    def all_sessions(self) -> list[dict[str, Any]]:
        return [s for items in self.sessions.values() for s in items]

    def add_project(self, name: str) -> dict[str, Any]:
        pid = f"p{len(self.projects) + 1}"
        self.projects[pid] = {"id": pid, "name": name}
        self.sessions[pid] = []
        return self.projects[pid]

    # --- routes -----------------------------------------------------------------------------------

    def route(self, method: str, path: str, query: str, body: bytes) -> tuple[int, Any]:
        if method == "GET" and path == "/api/projects":
            return 200, {"items": list(self.projects.values()), "next_cursor": None}
        if method == "POST" and path == "/api/projects":
            return 201, self.add_project(json.loads(body)["name"])
        m = re.fullmatch(r"/api/projects/([^/]+)/(pins|open-items)", path)
        if m and method == "GET" and m.group(1) in self.projects:
            if m.group(2) == "pins":
                return 200, {"items": self.pins.get(m.group(1), [])}
            return 200, {"items": [{"id": f"i{i}", "text": t, "status": "open"}
                                   for i, t in enumerate(self.open_items.get(m.group(1), []))], "next_cursor": None}
        m = re.fullmatch(r"/api/projects/([^/]+)/sessions(?:/(\d+))?(/[a-z-]+)?", path)
        if not m or m.group(1) not in self.projects:
            return 404, _error("not_found", f"no route or project for {path}")
        items = self.sessions[m.group(1)]
        if m.group(2) is None:
            if method == "GET":
                return 200, {"items": items, "next_cursor": None}
            data = json.loads(body or b"{}")
            ext = data.get("external_id")
            hit = next((s for s in items if ext and s["external_id"] == ext), None)
            if hit:
                return 200, {**hit, "created": False, "starting_handoff": None}
            s = {"project_id": m.group(1), "number": len(items) + 1, "external_id": ext, "agent": data.get("agent"),
                 "status": "in_progress", "transcript": None, "errors": []}
            items.append(s)
            return 201, {**s, "created": True, "starting_handoff": None}
        n = int(m.group(2))
        if not 1 <= n <= len(items):
            return 404, _error("session_not_found", f"no session {n}")
        s = items[n - 1]
        action = m.group(3)
        if action == "/transcript" and method == "PUT":
            if self.refuse_upload:
                status, code, message = self.refuse_upload
                return status, _error(code, message)
            raw = gzip.decompress(body)
            self.uploads.append(raw)
            if b"\x00" in raw:  # as the server's TranscriptBinary
                return 400, _error("transcript_binary", "the body is binary data, not a text transcript")
            s["transcript"] = {"messages": raw.count(b"\n") + 1, "chars": len(raw)}
            return 200, {**s["transcript"], "redactions": 0}
        if action == "/complete" and method == "POST":
            if s["status"] != "in_progress":
                return 409, _error("session_completed", "the session is already finished")
            data = json.loads(body or b"{}")
            s["status"] = data.get("status", "completed")
            s["errors"] += data.get("errors") or []
            return 202, {"session": s, "handoff": {"status": "pending"}}
        if action is None and method == "PATCH":
            data = json.loads(body)
            s["status"] = data.get("status", s["status"])
            s["errors"] += data.get("errors") or []
            return 200, s
        if action == "/handoff" and method == "POST":
            return 202, {"status": "pending"}
        if action is None and method == "GET":
            return 200, s
        if action == "/notes" and method == "POST":
            data = json.loads(body)
            self.notes.append({**data, "project_id": m.group(1), "number": n})
            version = sum(1 for x in self.notes if (x["project_id"], x["number"]) == (m.group(1), n))
            return 201, {"project_id": m.group(1), "number": n, "version": version, "kind": data.get("kind"),
                         "source": data.get("source"), "chars": len(data["text"]), "text": data["text"]}
        if action == "/checkpoint" and method == "GET":
            if self.checkpoint is None:
                return 404, _error("not_found", "no checkpoint")
            if "format=md" in query:
                return 200, self.checkpoint
            return 200, {"project_id": m.group(1), "number": n, "markdown": self.checkpoint,
                         "messages": (s["transcript"] or {}).get("messages", 0), "chars": len(self.checkpoint)}
        return 405, _error("method_not_allowed", f"{method} {path}")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                if fake.down:
                    self.close_connection = True
                    return
                url = urlsplit(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with fake.lock:
                    fake.received.append((self.command, url.path, body))
                    status, out = fake.route(self.command, url.path, url.query, body)
                text = isinstance(out, str)  # Markdown (?format=md) goes as it is
                data = out.encode() if text else json.dumps(out).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/markdown" if text else "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = _any

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}
