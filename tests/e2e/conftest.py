"""Browser tests: the real dev server, started exactly as `make dev` starts it, driven by headless Chromium.

One server per test session (`.venv/bin/python -m devtools.dev` with its own ports and data dir);
a fresh browser context per test. The server is stopped with SIGINT (as Ctrl-C would), then killed
if it lingers, and the DynamoDB Local java process it started is made sure to be gone.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.e2e_support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    PHONE,
    PYTHON,
    ApiClient,
    Console,
    DevServerError,
    Server,
    dev_server,
    ensure_vendor,
)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM} (make chromium)")
    if not PYTHON.exists():
        pytest.fail(f"{PYTHON} missing: run make dev once to create the venv")
    ensure_vendor()
    try:
        with dev_server(tmp_path_factory.mktemp("mso-e2e")) as srv:
            yield srv
    except DevServerError as e:
        pytest.fail(str(e))


@pytest.fixture(scope="session")
def api(server: Server) -> ApiClient:
    return ApiClient(server.base, server.token)


@pytest.fixture(scope="session")
def browser(server: Server) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def _new_page(browser: Any, server: Server, viewport: dict[str, int], console: Console) -> tuple[Any, Any]:
    ctx = browser.new_context(viewport=viewport, accept_downloads=True)
    ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.base)
    ctx.set_default_timeout(10_000)
    page = ctx.new_page()
    console.attach(page)
    return ctx, page


@pytest.fixture
def console() -> Console:
    return Console()


@pytest.fixture
def page(browser: Any, server: Server, console: Console) -> Iterator[Any]:
    ctx, pg = _new_page(browser, server, DESKTOP, console)
    yield pg
    ctx.close()


@pytest.fixture
def phone_page(browser: Any, server: Server, console: Console) -> Iterator[Any]:
    ctx, pg = _new_page(browser, server, PHONE, console)
    yield pg
    ctx.close()
