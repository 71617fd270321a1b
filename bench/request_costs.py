"""DynamoDB requests per API endpoint, counted with a botocore event hook.

Runs every endpoint once on moto (the count is a property of the code, not of the backend) with
a warm token cache, and reports the operations each one sent. `python -m bench.request_costs`.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class CallLog:
    """Collects DynamoDB operation names from `before-call.dynamodb` events."""

    calls: list[str] = field(default_factory=list)

    def __call__(self, model: Any = None, **_: Any) -> None:
        self.calls.append(model.name)

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-call.dynamodb", self)

    def take(self) -> list[str]:
        out, self.calls = self.calls, []
        return out


def summarize(ops: list[str]) -> str:
    if not ops:
        return "none"
    c = Counter(ops)
    return " + ".join(f"{n}x {op}" if n > 1 else op for op, n in c.items())


def scenarios() -> list[tuple[str, str, Callable[[Any, dict[str, Any]], Any]]]:
    """(method, path template, action) in an order where each can use what earlier ones made."""

    def j(r: Any) -> Any:
        assert r.status_code < 400, (r.status_code, r.body)
        return r.json_body

    return [
        ("GET", "/api/health", lambda api, st: j(api.get("/api/health", token=None))),
        ("GET", "/api/openapi.json", lambda api, st: j(api.get("/api/openapi.json", token=None))),
        ("POST", "/api/projects", lambda api, st: st.update(pid=j(api.post("/api/projects", {"name": "x"}))["id"])),
        ("GET", "/api/projects", lambda api, st: j(api.get("/api/projects"))),
        ("GET", "/api/projects/{p}", lambda api, st: j(api.get(f"/api/projects/{st['pid']}"))),
        ("PATCH", "/api/projects/{p}", lambda api, st: j(api.patch(f"/api/projects/{st['pid']}", {"goal": "g"}))),
        ("PUT", "/api/projects/{p}/pins", lambda api, st: j(api.put(f"/api/projects/{st['pid']}/pins", ["pin"]))),
        ("GET", "/api/projects/{p}/pins", lambda api, st: j(api.get(f"/api/projects/{st['pid']}/pins"))),
        ("POST", "/api/accounts", lambda api, st: st.update(
            aid=j(api.post("/api/accounts", {"name": "a", "provider": "p"}))["id"])),
        ("GET", "/api/accounts", lambda api, st: j(api.get("/api/accounts"))),
        ("GET", "/api/accounts/{a}", lambda api, st: j(api.get(f"/api/accounts/{st['aid']}"))),
        ("POST", "/api/projects/{p}/sessions", lambda api, st: j(api.post(
            f"/api/projects/{st['pid']}/sessions", {"ai_account": st["aid"]}))),
        ("GET", "/api/projects/{p}/sessions", lambda api, st: j(api.get(f"/api/projects/{st['pid']}/sessions"))),
        ("GET", "/api/projects/{p}/sessions/{n}", lambda api, st: j(api.get(
            f"/api/projects/{st['pid']}/sessions/1"))),
        ("PATCH", "/api/projects/{p}/sessions/{n}", lambda api, st: j(api.patch(
            f"/api/projects/{st['pid']}/sessions/1", {"credits_used": 3}))),
        ("GET", "/api/sessions/in-progress", lambda api, st: j(api.get("/api/sessions/in-progress"))),
        ("PUT", "/api/projects/{p}/sessions/{n}/transcript", lambda api, st: j(api.put_raw(
            f"/api/projects/{st['pid']}/sessions/1/transcript?format=text", b"User: hi\nAssistant: hello\n"))),
        ("GET", "/api/projects/{p}/sessions/{n}/transcript", lambda api, st: j(api.get(
            f"/api/projects/{st['pid']}/sessions/1/transcript"))),
        ("PUT", "/api/projects/{p}/sessions/{n}/files", lambda api, st: j(api.put(
            f"/api/projects/{st['pid']}/sessions/1/files", [{"path": "a.py", "lines_added": 1}]))),
        ("GET", "/api/projects/{p}/sessions/{n}/files", lambda api, st: j(api.get(
            f"/api/projects/{st['pid']}/sessions/1/files"))),
        ("GET", "/api/projects/{p}/files?path=", lambda api, st: j(api.get(
            f"/api/projects/{st['pid']}/files?path=a.py"))),
        ("POST", "/api/projects/{p}/sessions/{n}/complete", lambda api, st: j(api.post(
            f"/api/projects/{st['pid']}/sessions/1/complete", {"handoff_mode": "rules"}))),
        ("WORKER", "handoff job (rules, small session)", lambda api, st: _run_queued(st)),
        ("GET", "/api/projects/{p}/sessions/{n}/handoff", lambda api, st: j(api.get(
            f"/api/projects/{st['pid']}/sessions/1/handoff"))),
        ("GET", "/api/projects/{p}/handoff/latest", lambda api, st: j(api.get(
            f"/api/projects/{st['pid']}/handoff/latest"))),
        ("GET", "/api/projects/{p}/analytics", lambda api, st: j(api.get(f"/api/projects/{st['pid']}/analytics"))),
        ("GET", "/api/projects/{p}/timeline", lambda api, st: j(api.get(f"/api/projects/{st['pid']}/timeline"))),
        ("GET", "/api/projects/{p}/knowledge", lambda api, st: j(api.get(f"/api/projects/{st['pid']}/knowledge"))),
        ("GET", "/api/knowledge?q=", lambda api, st: j(api.get("/api/knowledge?q=x"))),
        ("GET", "/api/stats", lambda api, st: j(api.get("/api/stats"))),
        ("DELETE", "/api/projects/{p}", lambda api, st: j(api.delete(f"/api/projects/{st['pid']}"))),
    ]


def _run_queued(state: dict[str, Any]) -> None:
    from chalicelib.domain.handoffs import run_job
    from chalicelib.search.service import is_search_job

    for job in state.pop("queued", []):
        if is_search_job(job):  # the search index's own worker message (chalicelib/search), not counted here
            continue
        assert run_job(job) == "ready"


def measure(api: Any, client: Any) -> list[tuple[str, str, list[str]]]:
    """Run every scenario with `api` (tests' Api helper) and return (method, path, operations).

    Handoff jobs are captured instead of run, so the API's cost and the worker's are counted apart.
    """
    from chalicelib import jobs

    log = CallLog()
    log.attach(client)
    state: dict[str, Any] = {}
    api.get("/api/projects")  # warm the token cache: auth costs one GetItem per token per container-minute
    log.take()
    rows = []
    original = jobs.enqueue, jobs.runs_synchronously
    jobs.enqueue = lambda job, runner: state.setdefault("queued", []).append(job)  # type: ignore[assignment]
    jobs.runs_synchronously = lambda: False  # type: ignore[assignment]
    try:
        for method, path, action in scenarios():
            action(api, state)
            rows.append((method, path, log.take()))
    finally:
        jobs.enqueue, jobs.runs_synchronously = original  # type: ignore[assignment]
    return rows


def markdown(rows: list[tuple[str, str, list[str]]]) -> str:
    out = ["| endpoint | DynamoDB requests | operations |", "|---|---:|---|"]
    for method, path, ops in rows:
        out.append(f"| `{method} {path}` | {len(ops)} | {summarize(ops)} |")
    return "\n".join(out)


def main() -> int:
    sys.path.insert(0, os.getcwd())
    os.environ.update({"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1",
                       "MSO_TABLE": "bench"})
    os.environ.pop("MSO_DYNAMODB_ENDPOINT", None)
    from chalice.test import Client
    from moto import mock_aws

    import app as app_module
    from chalicelib import config
    from chalicelib.domain.tenants import issue_token
    from chalicelib.storage.models import client, configure
    from chalicelib.storage.table import ensure_table
    from devtools.local_gateway import install

    install()
    with mock_aws():
        config.reset()
        configure()
        ensure_table()
        token = issue_token("bench")
        with Client(app_module.app) as c:
            api = _Api(c, token)
            rows = measure(api, client())
    table = markdown(rows)
    print(table)
    if "--write" in sys.argv:
        path = sys.argv[sys.argv.index("--write") + 1]
        with open(path, "w") as f:
            f.write(table + "\n")
    return 0


class _Api:
    def __init__(self, c: Any, token: str) -> None:
        self.c, self.token = c, token

    def _r(self, method: str, path: str, body: Any = None, token: str | None = "t") -> Any:
        h = {"Content-Type": "application/json"}
        if token:
            h["Authorization"] = f"Bearer {self.token}"
        return self.c.http.request(method, path, headers=h, body=b"" if body is None else json.dumps(body).encode())

    def get(self, path: str, token: str | None = "t") -> Any:
        return self._r("GET", path, token=token)

    def post(self, path: str, body: Any = None) -> Any:
        return self._r("POST", path, body)

    def patch(self, path: str, body: Any = None) -> Any:
        return self._r("PATCH", path, body)

    def put(self, path: str, body: Any = None) -> Any:
        return self._r("PUT", path, body)

    def put_raw(self, path: str, data: bytes) -> Any:
        h = {"Content-Type": "text/plain", "Authorization": f"Bearer {self.token}"}
        return self.c.http.request("PUT", path, headers=h, body=data)

    def delete(self, path: str) -> Any:
        return self._r("DELETE", path)


if __name__ == "__main__":
    sys.exit(main())
