"""`mso` command line. Modules are imported per command, so a hook loads only what it uses."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

AGENT_CHOICES = ("claude", "codex")


def _parser() -> argparse.ArgumentParser:
    import argparse

    p = argparse.ArgumentParser(prog="mso", description="Multi-Session Orchestrator from the command line and "
                                "from your agent's hooks.")
    p.add_argument("--project", help="project id or name (default: MSO_PROJECT, .mso.toml, git origin, directory)")
    sub = p.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("login", help="save the API URL and token (checks them first)")
    s.add_argument("--url", required=True, help="e.g. http://127.0.0.1:8000")
    s.add_argument("--token", required=True)
    sub.add_parser("whoami", help="server, token and the project this directory maps to")

    s = sub.add_parser("push", help="upload a transcript and complete its session (idempotent)")
    s.add_argument("path", nargs="?", help="transcript file (default with --latest: the newest for this directory)")
    s.add_argument("--latest", action="store_true")
    s.add_argument("--agent", help="claude, codex, aider, ... (guessed from the file)")
    s.add_argument("--no-complete", action="store_true", help="upload only; leave the session in progress")
    s.add_argument("--handoff-mode", choices=("auto", "llm", "rules"))

    s = sub.add_parser("sync", help="push recent transcripts of Claude Code, Codex and aider")
    s.add_argument("--agent", default="all", choices=("all", "claude", "codex", "aider"))
    s.add_argument("--since", default="7d", help="e.g. 7d, 12h, 30m (default 7d)")
    s.add_argument("--dry-run", action="store_true")

    s = sub.add_parser("handoff", help="print the project's latest handoff")
    s.add_argument("--max-chars", type=int)
    s.add_argument("--format", default="md", choices=("md", "json"))
    s.add_argument("--out", help="write to this file instead of stdout")

    s = sub.add_parser("hook", help="run as an agent hook (reads the event's JSON on stdin; always exits 0)")
    s.add_argument("agent", choices=AGENT_CHOICES)
    s.add_argument("event", choices=("session-start", "session-end", "pre-compact", "post-compact", "stop"))

    s = sub.add_parser("note", help="store the agent's handoff note (read from stdin) with its running session")
    s.add_argument("--file", help="read the note from this file instead of stdin")
    s.add_argument("--session-id", help="the agent's session id (default: CLAUDE_CODE_SESSION_ID or CODEX_THREAD_ID, "
                   "else the session this machine's hooks started here most recently)")
    s.add_argument("--agent", choices=AGENT_CHOICES, help="whose session id it is (default: from the environment)")

    for name in ("install", "uninstall"):
        s = sub.add_parser(name, help=f"{name} the hooks in the agent's settings (with a backup)")
        s.add_argument("agent", choices=AGENT_CHOICES)
        s.add_argument("--scope", default="user", choices=("user", "project"))
        s.add_argument("--memory-file", action="store_true",
                       help="keep the project's state and pins in a managed block of CLAUDE.md (claude) or "
                       "AGENTS.md (codex) in this directory" if name == "install" else "also remove that block "
                       "(uninstall always removes it)")
        s.add_argument("--compact-instructions", action="store_true",
                       help="with the memory file: a `# Compact instructions` section (claude) or Codex's "
                       "`compact_prompt`" if name == "install" else "(removed with the memory file)")
        s.add_argument("--dry-run", action="store_true")

    from mso_cli.search import add_parser as add_search

    add_search(sub)
    sub.add_parser("doctor", help="check settings, server, token, hooks and spool")
    s = sub.add_parser("flush", help="deliver uploads the hooks spooled")
    s.add_argument("--quiet", action="store_true")
    s.add_argument("--sweep", action="store_true", help="first complete this machine's sessions that ended "
                   "without their SessionEnd (what session-start runs)")
    return p


def _say(*parts: Any) -> None:
    print(*parts, flush=True)


def _fail(msg: str, code: int = 1) -> int:
    print(f"mso: {msg}", file=sys.stderr)
    return code


def _since(text: str) -> float:
    unit = {"d": 86400, "h": 3600, "m": 60, "s": 1}.get(text[-1:].lower())
    if unit is None or not text[:-1].isdigit():
        raise SystemExit(_fail(f"--since {text!r}: use a number and d, h, m or s (e.g. 7d)", 2))
    return int(text[:-1]) * unit


def cmd_login(args: argparse.Namespace) -> int:
    from mso_cli.client import Api, ApiError, Unreachable
    from mso_cli.config import Config, save

    cfg = Config(api_url=args.url, token=args.token)
    try:
        api = Api(cfg, timeout=10)
        n = len(api.get("/api/projects", query={"limit": 100})["items"])
    except Unreachable as e:
        return _fail(str(e))
    except ApiError as e:
        return _fail(f"the server refused the token ({e.status} {e.code}): {e.message}")
    path = save({"api_url": cfg.base_url, "token": args.token})
    _say(f"logged in to {cfg.base_url} ({n} project(s) visible); settings in {path}")
    return 0


def cmd_whoami(args: argparse.Namespace) -> int:
    from mso_cli.client import Api, ApiError, NotConfigured, Unreachable
    from mso_cli.config import config_path, load, project_spec, state_dir
    from mso_cli.state import project_id

    cfg = load()
    spec, source = project_spec(args.project, None, cfg)
    token = (cfg.token[:8] + "...") if cfg.token else "(none)"
    _say(f"server:  {cfg.base_url or '(none: mso login)'}\ntoken:   {token}\nproject: {spec}  (from {source})")
    _say(f"config:  {config_path()}\nstate:   {state_dir()}")
    try:
        proj = project_id(Api(cfg, timeout=10), spec, create=False)
        _say(f"project id: {proj['id']}")
    except ApiError as e:
        _say(f"project id: - ({e.message}; it is created by the first session)" if e.status == 404
             else f"the server refused: {e.status} {e.code}: {e.message}")
        return 0 if e.status == 404 else 1
    except (NotConfigured, Unreachable) as e:
        return _fail(str(e))
    return 0


def _push_one(path: Path, *, agent: str | None, project: str | None, complete: bool, mode: str,
              own_cwd: bool = False, known: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """Spool one transcript. The project comes from the current directory (push) or from the
    directory the transcript was recorded in (`own_cwd`, sync), as hooks resolve it; a session the
    server already holds (`known`, by the agent's session id) stays in its project. Returns
    `excluded` (and spools nothing) when config.toml's `exclude` covers it."""
    from mso_cli.agents import describe
    from mso_cli.config import exclusion, load, project_spec
    from mso_cli.spool import job_for, write_job

    t = describe(path, agent)
    cfg = load()
    cwd = t.cwd if own_cwd else str(Path.cwd())
    spec, _ = project_spec(project, (t.cwd if own_cwd else None), cfg)
    info = {"path": str(path), "external_id": t.external_id, "project": spec, "agent": t.agent, "excluded": None}
    why = exclusion(cwd, spec, cfg) or (exclusion(t.cwd, spec, cfg) if t.cwd else None)
    if why:
        info["excluded"] = why
        return info
    hit = (known or {}).get(t.external_id)
    if hit and not project:
        spec = info["project"] = hit["project_id"]
    job = job_for(t.agent, external_id=t.external_id, project=spec, cwd=t.cwd, transcript_path=str(path.resolve()),
                  complete=complete, handoff_mode=mode or cfg.handoff_mode, event="push")
    job["format"] = t.upload_format
    write_job(job)
    return info


def _flush_and_report(quiet: bool = False, *, strict: bool = False, sweep: bool = False) -> int:
    """Deliver the spool and say what happened, with the server's own reason for each refused job
    (code and message). Exit 1 when jobs are kept for later, or (`strict`: push, sync) refused."""
    from mso_cli.client import NotConfigured
    from mso_cli.config import load
    from mso_cli.spool import failed_dir, flush

    try:
        r = flush(load(), wait=True, sweep=sweep)
    except NotConfigured as e:
        return _fail(str(e))
    if not quiet:
        kept = f" ({r['kept_reason']})" if r["kept"] and r.get("kept_reason") else ""
        for ext in r.get("swept") or []:
            _say(f"swept {ext}: it ended without its SessionEnd; completing it")
        _say(f"delivered {r['delivered']}, kept {r['kept']}{kept}, failed {r['failed']}"
             + (f" (moved to {failed_dir()} with the reason)" if r["failed"] else ""))
        for e in r.get("errors") or []:
            print(f"mso: {e.get('path') or e.get('external_id') or e['job']}: {e['reason']}", file=sys.stderr)
    return 1 if (r["kept"] or (strict and r["failed"])) and not quiet else 0


def cmd_push(args: argparse.Namespace) -> int:
    from mso_cli.agents import latest

    if args.path:
        path = Path(args.path).expanduser()
    elif args.latest:
        path = latest(args.agent, Path.cwd())
        if path is None:
            return _fail("no transcript found for this directory; give its path")
    else:
        return _fail("give a transcript path, or --latest", 2)
    if not path.is_file():
        return _fail(f"{path} is not a file", 2)
    from mso_cli.spool import MAX_UPLOAD_BYTES, Refused, read_transcript

    try:  # checked before anything is sent: a file that cannot go creates no session
        read_transcript(path)
    except Refused as e:
        return _fail(f"{e}: the API takes transcripts up to these limits")
    except OSError as e:
        return _fail(f"cannot read {path}: {e.strerror or e}")
    info = _push_one(path, agent=args.agent, project=args.project, complete=not args.no_complete,
                     mode=args.handoff_mode)
    if info["excluded"]:
        return _fail(f"not pushed: {info['excluded']} (config.toml `exclude`)")
    _say(f"pushing {info['path']} as session {info['external_id']} of {info['project']!r}"
         f" (limit {MAX_UPLOAD_BYTES // (1024 * 1024)} MiB compressed)")
    return _flush_and_report(strict=True)


def _known_sessions(project: str | None) -> dict[str, dict[str, Any]]:
    """The server's sessions by agent session id (none when --project decides, or no server)."""
    from mso_cli.client import Api, ApiError, NotConfigured, Unreachable
    from mso_cli.config import load
    from mso_cli.state import sessions_by_external_id

    if project:
        return {}
    try:
        return sessions_by_external_id(Api(load(), timeout=30))
    except (ApiError, NotConfigured, Unreachable) as e:
        _say(f"(could not look the sessions up on the server: {e}; projects are named from directories)")
        return {}


def cmd_sync(args: argparse.Namespace) -> int:
    from mso_cli.agents import AGENTS, find

    agents = AGENTS if args.agent == "all" else (args.agent,)
    paths = find(agents, _since(args.since), Path.cwd())
    quiet_after = time.time() - 30 * 60  # a file still being written belongs to a running session
    known = {} if args.dry_run or not paths else _known_sessions(args.project)
    queued = 0
    for p in paths:
        complete = p.stat().st_mtime < quiet_after
        if args.dry_run:
            _say(f"would push {p}{'' if complete else ' (still active: upload only)'}")
            continue
        info = _push_one(p, agent=None, project=args.project, complete=complete, mode="", own_cwd=True, known=known)
        if info["excluded"]:
            _say(f"skipped {p}: {info['excluded']}")
        else:
            queued += 1
    if args.dry_run or not paths:
        _say(f"{len(paths)} transcript(s) found")
        return 0
    _say(f"{queued} transcript(s) queued" + (f", {len(paths) - queued} excluded" if queued < len(paths) else ""))
    return _flush_and_report(strict=True)


def cmd_handoff(args: argparse.Namespace) -> int:
    from mso_cli.client import Api, ApiError, NotConfigured, Unreachable
    from mso_cli.config import load, project_spec
    from mso_cli.state import project_id

    cfg = load()
    spec, _ = project_spec(args.project, None, cfg)
    try:
        api = Api(cfg, timeout=30)
        proj = project_id(api, spec, create=False)
        q = {"format": args.format, "max_chars": args.max_chars}
        body = api.get(f"/api/projects/{proj['id']}/handoff/latest", query=q, text=args.format == "md")
    except (ApiError, NotConfigured, Unreachable) as e:
        return _fail(getattr(e, "message", None) or str(e))
    text = body if isinstance(body, str) else json.dumps(body, indent=2)
    if args.out:
        Path(args.out).write_text(text)
        _say(f"wrote {args.out} ({len(text):,} characters)")
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


def cmd_note(args: argparse.Namespace) -> int:
    from mso_cli.notes import NoteError, read_stdin, send_note

    try:
        if args.file:
            text = Path(args.file).expanduser().read_text(errors="replace")
        elif sys.stdin is None or sys.stdin.isatty():
            return _fail("give the note on stdin (e.g. `mso note <<'EOF' ... EOF`) or with --file", 2)
        else:
            text = read_stdin(sys.stdin)
    except OSError as e:
        return _fail(f"cannot read {args.file or 'stdin'}: {e.strerror or e}", 2)
    except NoteError as e:
        return _fail(str(e), e.code)
    try:
        msg = send_note(text, project=args.project, session_id=args.session_id, agent=args.agent)
    except NoteError as e:
        return _fail(str(e), e.code)
    _say(msg)
    return 0


def _install_handoff_command(args: argparse.Namespace, remove: bool) -> int:
    """The /handoff command beside the hooks; a user's own handoff.md is left alone (and said so)."""
    from mso_cli import handoff_command
    from mso_cli.install import mso_command

    try:
        r = handoff_command.apply(args.agent, scope=args.scope, remove=remove, dry_run=args.dry_run,
                                  command=mso_command())
    except OSError as e:
        return _fail(f"cannot write the /handoff command: {e}")
    if r["skipped"]:
        _say(f"/handoff not {'removed' if remove else 'installed'}: {r['skipped']}")
    elif r["changed"]:
        verb = ("would remove" if remove else "would write") if args.dry_run else ("removed" if remove else "wrote")
        how = "/handoff" if args.agent == "claude" else "/prompts:handoff"
        _say(f"{verb} the {how} command: {r['path']}")
    return 0


def _memory_file(args: argparse.Namespace, remove: bool) -> None:
    """`--memory-file` (opt-in): the managed block in this directory's CLAUDE.md / AGENTS.md.
    Uninstall takes the block out wherever it is (and Codex's compact_prompt that we wrote)."""
    from mso_cli import memory

    here = Path.cwd().resolve()
    if args.dry_run:
        return
    if remove:
        r = memory.disable(args.agent, here)
    elif args.memory_file or args.compact_instructions:
        from mso_cli.client import Api, NotConfigured
        from mso_cli.config import load, project_spec

        cfg = load()
        try:
            api = Api(cfg, timeout=10)
        except NotConfigured:
            api = None
        r = memory.enable(args.agent, here, compact=args.compact_instructions, api=api,
                          spec=project_spec(args.project, here, cfg)[0])
    else:
        return
    if r["changed"]:
        _say(f"{'removed the mso block from' if remove else 'wrote the mso block in'} {r['path']}"
             f" (backup: {r['path']}.mso-backup)")
    codex = r.get("codex_config") or {}
    if codex.get("changed"):
        _say(f"{'removed' if remove else 'set'} compact_prompt in {codex['path']} (backup: {codex['path']}.mso-backup)")
    elif codex.get("note"):
        _say(f"{codex['path']}: {codex['note']}")


def cmd_install(args: argparse.Namespace, remove: bool) -> int:
    from mso_cli.install import apply

    try:
        r = apply(args.agent, scope=args.scope, remove=remove, dry_run=args.dry_run)
    except (ValueError, OSError) as e:
        return _fail(f"cannot update the {args.agent} settings: {e}")
    if _install_handoff_command(args, remove):
        return 1
    try:
        _memory_file(args, remove)
    except (OSError, ValueError) as e:
        return _fail(f"cannot update the memory file: {e}")
    verb = "remove from" if remove else "install into"
    if args.dry_run:
        _say(f"would {verb} {r['path']}{'' if r['changed'] else ' (nothing to change)'}:")
        _say(json.dumps(r["settings"], indent=2))
    elif not r["changed"]:
        _say(f"{r['path']}: already {'without' if remove else 'with'} the mso hooks; nothing changed")
    else:
        _say(f"{'removed from' if remove else 'installed into'} {r['path']}"
             + (f" (backup: {r['backup']})" if r["backup"] else ""))
        if args.agent == "codex" and not remove:
            _say("Codex runs hooks only with `[features] codex_hooks = true` in ~/.codex/config.toml")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from mso_cli.client import Api, ApiError, NotConfigured, Unreachable
    from mso_cli.config import config_path, exclusion, load, project_spec, state_dir
    from mso_cli.install import codex_hooks_enabled, status
    from mso_cli.spool import pending, spool_dir
    from mso_cli.state import log_path

    cfg = load()
    bad = 0

    def check(ok: bool, what: str) -> None:
        nonlocal bad
        bad += not ok
        _say(f"[{'ok' if ok else '!!'}] {what}")

    check(bool(cfg.base_url and cfg.token), f"settings ({config_path()}): server {cfg.base_url or '-'}, "
          f"token {'set' if cfg.token else 'missing'}")
    try:
        api = Api(cfg, timeout=5)
        t0 = time.monotonic()
        api.get("/api/projects", query={"limit": 1})
        check(True, f"server answers and accepts the token ({(time.monotonic() - t0) * 1000:.0f} ms)")
    except (NotConfigured, Unreachable, ApiError) as e:
        check(False, f"server: {e}")
    spec, source = project_spec(args.project, None, cfg)
    _say(f"[--] project here: {spec!r} (from {source})")
    why = exclusion(Path.cwd(), spec, cfg)
    _say(f"[--] capture here: {'off: ' + why + '; hooks do nothing here' if why else 'on'}"
         + (f" ({len(cfg.exclude)} exclude pattern(s) in config.toml)" if cfg.exclude else ""))
    for agent in ("claude", "codex"):
        found = False
        for scope in ("user", "project"):
            st = status(agent, scope)
            if not st:
                continue
            found = True
            line = ", ".join(f"{event} {what}" for event, what in st.items())
            check(all(v == "ok" for v in st.values()), f"{agent} hooks ({scope}): {line}"
                  + ("" if all(v == "ok" for v in st.values()) else f" (mso install {agent} --scope {scope})"))
        if not found:
            _say(f"[--] {agent} hooks: not installed (mso install {agent})")
        elif agent == "codex":
            on, why = codex_hooks_enabled()
            check(on, f"codex hooks feature: {why}")
    from mso_cli.memory import FILES, enabled_for

    mem = enabled_for(Path.cwd().resolve())
    _say("[--] memory file here: " + (", ".join(str(mem[0] / FILES[a]) for a in mem[1]["agents"] if a in FILES)
                                      + (" (with compact instructions)" if mem[1].get("compact") else "")
                                      if mem else "off (mso install <agent> --memory-file)"))
    n = len(pending())
    check(n == 0, f"spool {spool_dir()}: {n} job(s) waiting" + (" (mso flush)" if n else ""))
    failed = list((spool_dir() / "failed").glob("*.json"))
    check(not failed, f"{len(failed)} refused job(s) in {spool_dir() / 'failed'}")
    try:
        state_dir().mkdir(parents=True, exist_ok=True)
        check(True, f"state folder writable; log {log_path()}")
    except OSError as e:
        check(False, f"state folder: {e}")
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) == 3 and argv[0] == "hook":  # the hot path: no argparse, nothing printed on bad input
        from mso_cli.hooks import run

        return run(argv[1], argv[2])
    args = _parser().parse_args(argv)
    if args.cmd == "hook":
        from mso_cli.hooks import run

        return run(args.agent, args.event)
    if args.cmd == "flush":
        return _flush_and_report(args.quiet, sweep=args.sweep)  # refused jobs are parked with their reason: not an error
    if args.cmd == "search":
        from mso_cli.search import cmd_search

        return cmd_search(args)
    if args.cmd in ("install", "uninstall"):
        return cmd_install(args, args.cmd == "uninstall")
    return {"login": cmd_login, "whoami": cmd_whoami, "push": cmd_push, "sync": cmd_sync,
            "handoff": cmd_handoff, "doctor": cmd_doctor, "note": cmd_note}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
