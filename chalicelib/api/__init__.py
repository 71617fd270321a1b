"""HTTP routes (Chalice blueprints). `register(app)` wires them into the app."""

from __future__ import annotations

from chalice import Chalice

from chalicelib.config import settings


def register(app: Chalice) -> None:
    from chalicelib.api import (
        accounts,
        handoffs,
        knowledge,
        mcp,
        meta,
        open_items,
        projects,
        sessions,
        transcripts,
    )

    for mod in (meta, projects, sessions, accounts, transcripts, handoffs, knowledge, open_items, mcp):
        app.register_blueprint(mod.bp)
    if settings().serve_ui:
        from chalicelib.api import static

        app.register_blueprint(static.bp)
