"""Screenshots of every dashboard view, desktop (1280x800) and phone (375x740), on realistic seeded data.

    .venv/bin/python -m tests.e2e.screenshots            # the few kept in docs/screenshots
    .venv/bin/python -m tests.e2e.screenshots OUT_DIR    # every view, both sizes, into OUT_DIR

Starts its own dev server (fresh data in a temp dir, free ports), seeds it through the API, drives
headless Chromium. Not a test: the browser tests live in test_dashboard.py.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.e2e.e2e_support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    PHONE,
    ROOT,
    ApiClient,
    ApiFailure,
    dev_server,
    ensure_vendor,
)

DOCS = ROOT / "docs" / "screenshots"
DOC_SET = {"desktop-projects", "desktop-project", "desktop-session-handoff", "desktop-session-running", "desktop-analytics",
           "phone-project", "phone-session-transcript", "desktop-project-timeline", "phone-project-timeline",
           "desktop-search", "phone-search"}
TRANSCRIPTS = ROOT / "tests" / "fixtures" / "real" / "claude-code"
NUMSTAT = """\
118\t12\tsrc/billing/webhooks.py
64\t0\tsrc/billing/idempotency.py
22\t3\tsrc/billing/ledger.py
41\t0\ttests/billing/test_webhooks.py
0\t57\tsrc/legacy/stripe_hooks.py
3\t1\tpyproject.toml
"""


def _work_jsonl(day: int, minutes: int, model: str, commits: int, failing: bool) -> bytes:
    """A short agent session on day `day` of the seed (from 09:00 UTC, `minutes` long): a prompt, a
    failing then passing test run, commits; tokens priced by `model`. Synthetic, written for the seed."""
    import json
    from datetime import UTC, datetime, timedelta

    t0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC) + timedelta(days=day)
    iso = lambda m: (t0 + timedelta(minutes=m)).strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    calls = [("pytest -q", "2 failed, 40 passed", True)] if failing else []
    calls += [("pytest -q", "42 passed", False)]
    calls += [(f'git commit -am "billing step {day}.{c}"', f"[main {day}{c}abcde] billing step", False)
              for c in range(commits)]
    recs: list[dict[str, Any]] = [{"type": "user", "uuid": "u", "timestamp": iso(0), "sessionId": f"s{day}",
                                   "message": {"role": "user", "content": "Carry on from the handoff"}}]
    for k, (cmd, out, err) in enumerate(calls):
        m = round(minutes * (k + 1) / len(calls))
        recs.append({"type": "assistant", "uuid": f"a{k}", "timestamp": iso(m), "sessionId": f"s{day}",
                     "message": {"id": f"m{day}{k}", "role": "assistant", "model": model, "content": [
                         {"type": "tool_use", "id": f"t{k}", "name": "Bash", "input": {"command": cmd}}],
                         "usage": {"input_tokens": 400, "output_tokens": 900, "cache_read_input_tokens": 30_000 + 5_000 * k,
                                   "cache_creation_input_tokens": 2_000}}})
        recs.append({"type": "user", "uuid": f"r{k}", "timestamp": iso(m), "sessionId": f"s{day}",
                     "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": f"t{k}",
                                                              "content": out, "is_error": err}]}})
    return "\n".join(json.dumps(r) for r in recs).encode()


def _wait_handoff(api: ApiClient, pid: str, n: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if api.get(f"/api/projects/{pid}/sessions/{n}/handoff").get("status") in ("ready", "failed"):
                return
        except ApiFailure:
            pass
        time.sleep(0.2)


def seed(api: ApiClient) -> dict[str, Any]:
    accts = [api.post("/api/accounts", a) for a in (
        {"name": "Claude Max (team)", "provider": "anthropic", "credit_budget": 600},
        {"name": "Codex Pro", "provider": "openai", "credit_budget": 300},
        {"name": "Cursor seat", "provider": "cursor", "credit_budget": 150},
    )]
    p = api.post("/api/projects", {
        "name": "Billing service rewrite",
        "description": "Move billing out of the monolith into its own service, with idempotent Stripe webhooks "
                       "and a ledger that reconciles daily.",
        "goal": "Billing runs as its own service; every webhook is idempotent; the nightly reconciliation "
                "reports zero drift for a week.",
    })
    pid = p["id"]
    api.call("PUT", f"/api/projects/{pid}/pins", {"items": [
        "Never use the live Stripe key outside production; tests use STRIPE_TEST_KEY from .env.test",
        "Python 3.11, FastAPI, Postgres 16; run tests with `make test`",
        "Money is integer cents everywhere; never floats",
    ]})
    plan = [
        ("Map the legacy webhook code", 28, 40, 5, 4, 0),
        ("Service skeleton and CI", 35, 40, 6, 6, 1),
        ("invoice.paid handler", 38, 40, 5, 3, 2),
        ("Idempotency keys", 31, 40, 4, 4, 0),
        ("Refunds and disputes", 44, 45, 6, 5, 1),
        ("Ledger model", 29, 40, 5, 5, 2),
        ("Nightly reconciliation job", 33, 40, 5, 4, 0),
        ("Cut over invoice webhooks", 36, 45, 6, 5, 0),
    ]
    models = ["claude-sonnet-4.5", "gpt-5-codex", "claude-sonnet-4.5"]
    for i, (title, used, budget, planned, done, acct) in enumerate(plan, start=1):
        api.post(f"/api/projects/{pid}/sessions", {"title": title, "goal": f"Finish: {title.lower()}",
                                                   "ai_account": accts[acct]["id"], "model": models[acct],
                                                   "credit_budget": budget})
        if i < len(plan):  # the earlier sessions: short synthetic transcripts, one working day each
            api.call("PUT", f"/api/projects/{pid}/sessions/{i}/transcript",
                     raw=_work_jsonl(i, 35 + 12 * (i % 4), "gpt-5-codex" if acct == 1 else "claude-sonnet-4-5",
                                     commits=1 + i % 3, failing=i % 2 == 1), content_type="application/octet-stream")
        if i == len(plan):
            gz = sorted(TRANSCRIPTS.glob("*.jsonl.gz"))
            if gz:
                api.call("PUT", f"/api/projects/{pid}/sessions/{i}/transcript?format=auto", raw=gz[0].read_bytes(),
                         content_type="application/gzip")
            api.call("PUT", f"/api/projects/{pid}/sessions/{i}/files", raw=NUMSTAT.encode(), content_type="text/plain")
        api.post(f"/api/projects/{pid}/sessions/{i}/complete", {
            "status": "completed", "handoff_mode": "rules", "credits_used": used, "tasks_planned": planned,
            "tasks_completed": done,
            "accomplishments": [f"{title}: done", "Tests green in CI"],
            "decisions": ["Postgres advisory locks serialize webhook processing per customer"] if i % 2 else [],
            "learnings": ["Stripe retries for 3 days: idempotency keys must live at least that long"] if i == 4 else [],
            "blockers": ["Waiting for the finance team's sign-off on the ledger schema"] if i == 6 else [],
            "next_steps": ["Move the subscription webhooks", "Turn off the legacy handlers after a week of zero drift"],
            "links": ["https://github.com/example/billing/pull/42"],
            "done_items": ["Waiting for the finance team's sign-off on the ledger schema"] if i == 7 else [],
        })
        _wait_handoff(api, pid, i)
    for item in (
        {"title": "Retry Stripe webhooks with an idempotency key", "kind": "pattern", "tags": ["stripe", "webhooks"],
         "body": "Store the event id with a unique index before doing any work.\nIf the insert fails, answer 200 "
                 "and stop: Stripe already got its answer once.\nKeep the keys for at least 3 days (Stripe's retry "
                 "window), then expire them with a TTL.\nLog duplicates at info level, not as errors."},
        {"title": "Reconciliation drift came from rounding in currency conversion", "kind": "solution",
         "tags": ["ledger", "money"], "body": "Convert once, at the edge, to integer cents; never round twice."},
    ):
        api.post(f"/api/projects/{pid}/knowledge", item)
    api.post(f"/api/projects/{pid}/sessions", {"title": "Subscription webhooks", "ai_account": accts[0]["id"],
                                               "model": "claude-sonnet-4.5", "credit_budget": 40})
    q = api.post("/api/projects", {"name": "Docs site migration", "description": "Hugo to Astro, keeping every URL."})
    for i, used in enumerate((18, 22), start=1):
        api.post(f"/api/projects/{q['id']}/sessions", {"title": f"Docs batch {i}", "ai_account": accts[2]["id"],
                                                       "credit_budget": 30})
        api.post(f"/api/projects/{q['id']}/sessions/{i}/complete", {
            "status": "completed", "handoff_mode": "rules", "credits_used": used, "tasks_planned": 4,
            "tasks_completed": 3})
    api.post("/api/projects", {"name": "Mobile offline sync", "goal": "The app works on a plane."})
    return {"pid": pid, "session": len(plan)}


def shoot(out: Path, only: set[str] | None = None) -> None:
    from playwright.sync_api import sync_playwright

    ensure_vendor()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, dev_server(Path(tmp)) as srv:
        api = ApiClient(srv.base, srv.token)
        ids = seed(api)
        pid, n = ids["pid"], ids["session"]
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
                page = browser.new_page(viewport=viewport)
                page.goto(f"{srv.base}/#token={srv.token}")
                page.get_by_role("heading", level=1, name="Projects").wait_for()

                def snap(name: str, hash_: str | None = None, *, full: bool = False, tab: str | None = None,
                         page: Any = page, label: str = label) -> None:
                    if hash_:
                        page.goto(f"{srv.base}/{hash_}")
                        page.wait_for_selector("main h1")
                    if tab:
                        page.get_by_role("tab", name=tab).click()
                    page.wait_for_load_state("networkidle")
                    page.wait_for_timeout(600)  # chart animations, fonts
                    if tab:  # show the tab's content, not the header above it
                        page.evaluate("window.scrollBy(0, document.querySelector('.tabs').getBoundingClientRect().top - 64)")
                    if only is None or f"{label}-{name}" in only:
                        page.screenshot(path=str(out / f"{label}-{name}.png"), full_page=full)

                snap("projects", "#/projects")
                snap("project", f"#/projects/{pid}")
                page.locator("#project-timeline .ptl-session").first.wait_for()
                page.evaluate("document.querySelector('#project-timeline').scrollIntoView()")
                snap("project-timeline")
                snap("session-handoff", f"#/projects/{pid}/sessions/{n}")
                snap("session-transcript", tab="Transcript")
                snap("session-files", tab="Files changed")
                snap("session-running", f"#/projects/{pid}/sessions/{n + 1}")
                snap("compare", f"#/projects/{pid}/compare/{n - 1}/{n}")
                snap("analytics-all", "#/analytics")
                snap("analytics", f"#/analytics/{pid}")
                snap("knowledge", "#/knowledge")
                page.goto(f"{srv.base}/#/projects/{pid}")
                page.wait_for_selector("main h1")
                page.locator("body").press("/")
                page.locator("#search-q").fill("pytest")
                page.locator("#search-results .search-hit, #search-results .empty, #search-status").first.wait_for()
                page.wait_for_timeout(800)
                snap("search")
                page.keyboard.press("Escape")
                snap("accounts", "#/accounts")
                snap("settings", "#/settings")
                page.goto(f"{srv.base}/#/projects/{pid}")
                page.get_by_role("button", name="Complete session 9").click()
                page.get_by_role("dialog").wait_for()
                snap("complete-modal")
                page.close()
            browser.close()
    print(f"screenshots in {out}")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        shoot(Path(sys.argv[1]))
    else:
        shoot(DOCS, DOC_SET)
