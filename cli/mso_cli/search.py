"""`mso search QUERY [--project P] [--kind K] [--limit N]`: search past sessions from the terminal.

One line per hit: `session N #index kind: snippet` (the project first when searching them all).
Without --project it searches every project of the token.
"""

from __future__ import annotations

import argparse
import sys

KINDS = ("prompt", "assistant", "command", "error", "path", "handoff", "note", "knowledge", "open_item")


def add_parser(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("search", help="search past sessions (prompts, commands, errors, paths, handoffs, notes ...)")
    s.add_argument("query", nargs="+", help="words to find (all must match; word* matches a prefix)")
    s.add_argument("--project", dest="search_project", help="only this project (id or name); default: all projects")
    s.add_argument("--kind", choices=KINDS)
    s.add_argument("--limit", type=int, default=20, help="how many hits, 1-50 (default 20)")


def line(hit: dict, with_project: bool) -> str:
    where = f"session {hit['session']}" if hit.get("session") is not None else "project"
    if hit.get("message_index") is not None:
        where += f" #{hit['message_index']}"
    snippet = " ".join(str(hit.get("snippet") or "").split())
    head = f"{hit['project_id']} " if with_project else ""
    return f"{head}{where} {hit['kind']}: {snippet}"


def cmd_search(args: argparse.Namespace) -> int:
    from mso_cli.client import Api, ApiError, NotConfigured, Unreachable
    from mso_cli.config import load

    if not 1 <= args.limit <= 50:
        print("mso: --limit must be 1-50", file=sys.stderr)
        return 2
    cfg = load()
    project = args.search_project or args.project
    q = {"q": " ".join(args.query), "kind": args.kind, "limit": args.limit}
    try:
        api = Api(cfg, timeout=30)
        if project:
            from mso_cli.state import project_id

            pid = project_id(api, project, create=False)["id"]
            body = api.get(f"/api/projects/{pid}/search", query=q)
        else:
            body = api.get("/api/search", query=q)
    except (ApiError, NotConfigured, Unreachable) as e:
        print(f"mso: {getattr(e, 'message', None) or e}", file=sys.stderr)
        return 1
    hits = body.get("items") or []
    if not hits:
        print("no hits")
    for h in hits:
        print(line(h, with_project=not project))
    return 0
