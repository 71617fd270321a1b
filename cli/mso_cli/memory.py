"""Memory files (opt-in, `mso install --memory-file`): a managed block in CLAUDE.md / AGENTS.md.

The block holds the project's current short state and pins, between `<!-- mso:begin -->` and
`<!-- mso:end -->`. Claude Code re-reads CLAUDE.md from disk after a compaction, and agents without
hooks (aider, Cline, Cursor) read these files too. Only the block is ever written: text outside the
markers is kept byte for byte, and the file as it was before each change is kept in
`<file>.mso-backup`. `--compact-instructions` adds a handoff-shaped `# Compact instructions`
section to the block (Claude Code) or a marked `compact_prompt` to Codex's config.toml.
"""

from __future__ import annotations

import re
import shutil
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mso_cli.agents import codex_home
from mso_cli.config import state_dir
from mso_cli.state import log, log_exception, read_json, write_json

if TYPE_CHECKING:
    from mso_cli.client import Api

BEGIN = "<!-- mso:begin -->"
END = "<!-- mso:end -->"
FILES = {"claude": "CLAUDE.md", "codex": "AGENTS.md"}
STATE_CHARS = 1500
_BLOCK = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END) + r"\n?", re.S)
COMPACT_INSTRUCTIONS = """# Compact instructions

When compacting, keep what the next turn needs to go on, as a handoff would:
- the task being worked on now and the user's exact request;
- the next action, concretely (file, function, command);
- files changed and not yet committed, and the last check run with its result;
- decisions made and why, and open questions or blockers;
- the pins and the project state in this mso block (they are re-read from this file).
Drop tool output already acted on."""
CODEX_BEGIN = "# mso:begin compact_prompt (mso install codex --compact-instructions)"
CODEX_END = "# mso:end compact_prompt"


def _settings_file() -> Path:
    return state_dir() / "memory.json"


def settings() -> dict[str, Any]:
    """directory -> {"agents": [...], "compact": bool}: where the user opted in."""
    data = read_json(_settings_file())
    return data if isinstance(data, dict) else {}


def enabled_for(cwd: str | Path | None) -> tuple[Path, dict[str, Any]] | None:
    """The opted-in directory that is cwd or its nearest parent, with its options."""
    if not cwd:
        return None
    opts = settings()
    d = Path(cwd)
    for c in (d, *d.parents):
        hit = opts.get(str(c))
        if isinstance(hit, dict) and hit.get("agents"):
            return c, hit
    return None


def block(state: str, *, compact: bool) -> str:
    """The managed block, markers included."""
    parts = [BEGIN, "<!-- Written by mso (`mso uninstall --memory-file` removes it); edits inside are replaced. -->",
             "## Project state (mso)", "", state.strip()]
    if compact:
        parts += ["", COMPACT_INSTRUCTIONS]
    return "\n".join([*parts, END]) + "\n"


def _backup(path: Path) -> None:
    if path.exists():
        shutil.copy2(path, path.with_name(path.name + ".mso-backup"))


class BrokenBlock(ValueError):
    """The file's markers are not one begin followed by one end: whatever we wrote could eat text."""


def _check_markers(path: Path, text: str) -> None:
    b, e = text.count(BEGIN), text.count(END)
    if (b, e) not in ((0, 0), (1, 1)) or (b and text.index(BEGIN) > text.index(END)):
        raise BrokenBlock(f"{path} has {b} '{BEGIN}' and {e} '{END}' marker(s), not one block: mso leaves it "
                          "alone until the markers are mended or removed")


def write_block(path: Path, text: str) -> bool:
    """Put the block in the file (replacing ours, or appended after the user's text). True if changed.
    BrokenBlock when the markers were edited into something else than one block."""
    old = path.read_text() if path.exists() else ""
    _check_markers(path, old)
    if _BLOCK.search(old):
        new = _BLOCK.sub(lambda _: text, old, count=1)
    else:
        new = old + ("\n" if old and not old.endswith("\n") else "") + ("\n" if old.strip() else "") + text
    if new == old:
        return False
    _backup(path)
    _atomic(path, new)
    return True


def remove_block(path: Path) -> bool:
    """Take our block out (and the blank line we put before it); the rest stays as it is."""
    if not path.exists():
        return False
    old = path.read_text()
    _check_markers(path, old)
    m = _BLOCK.search(old)
    if not m:
        return False
    head = old[: m.start()]
    if head.endswith("\n\n"):
        head = head[:-1]
    new = head + old[m.end():]
    _backup(path)
    if new.strip():
        _atomic(path, new)
    else:
        path.unlink()  # the file held only our block: we made it
    return True


def _atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.mso.tmp")
    tmp.write_text(text)
    tmp.replace(path)


def fetch_state(api: Api, project_id: str, number: int | None) -> str:
    """The session's own state (checkpoint, about 1,500 characters, with the pins), else the latest
    handoff cut to that size, else the pins alone."""
    from mso_cli.client import ApiError

    text = None
    if number:
        try:
            text = api.get(f"/api/projects/{project_id}/sessions/{number}/checkpoint", text=True,
                           query={"max_chars": STATE_CHARS, "format": "md"})
        except ApiError as e:
            log("memory_checkpoint_missing", project=project_id, number=number, status=e.status)
    if not text:
        try:
            text = api.get(f"/api/projects/{project_id}/handoff/latest", text=True,
                           query={"max_chars": max(2000, STATE_CHARS), "format": "md"})[:STATE_CHARS]
        except ApiError:
            text = None
    # the checkpoint is headed for the agent after a compaction; here it is the file's own section
    text = re.sub(r"\A# [^\n]*\n+", "", text or "").strip()
    pins = (api.get(f"/api/projects/{project_id}/pins") or {}).get("items") or []
    missing = [p for p in pins if p[:60] not in text]
    if missing:
        text += "\n\n### Pins\n" + "\n".join(f"- {p[:300]}" for p in missing[:20])
    return text.strip() or "No session recorded yet: mso writes the project's state here when one ends."


def refresh(api: Api, cwd: str | None, project_id: str, number: int | None) -> list[str]:
    """Rewrite the opted-in memory files of cwd's directory; returns the files changed."""
    hit = enabled_for(cwd)
    if hit is None:
        return []
    directory, opts = hit
    text = fetch_state(api, project_id, number)
    changed = []
    for agent in opts["agents"]:
        if agent not in FILES:
            continue
        path = directory / FILES[agent]
        if write_block(path, block(text, compact=bool(opts.get("compact")) and agent == "claude")):
            changed.append(str(path))
    if changed:
        log("memory_written", files=changed, project=project_id, number=number)
    return changed


def refresh_after(api: Api, job: dict[str, Any], result: dict[str, Any]) -> None:
    """After the flush completed a session: its directory's memory files. Never fails the job."""
    try:
        refresh(api, job.get("cwd"), result["project"], int(result["number"]))
    except Exception:  # noqa: BLE001 - the upload succeeded; a memory file is a side matter
        log_exception("memory_refresh_failed", external_id=job.get("external_id"))


def _latest_number(api: Api, project_id: str) -> int | None:
    items = api.get(f"/api/projects/{project_id}/sessions", query={"limit": 1}).get("items") or []
    return int(items[0]["number"]) if items else None


def enable(agent: str, directory: Path, *, compact: bool, api: Api | None, spec: str) -> dict[str, Any]:
    """Opt this directory in and write the block now (from the server when it answers)."""
    from mso_cli.client import ApiError, NotConfigured, Unreachable
    from mso_cli.state import project_id

    opts = settings()
    mine = opts.get(str(directory)) if isinstance(opts.get(str(directory)), dict) else {}
    agents = sorted({*(mine.get("agents") or []), agent})
    opts[str(directory)] = {"agents": agents, "compact": bool(compact or mine.get("compact"))}
    write_json(_settings_file(), opts)
    try:
        if api is None:
            raise NotConfigured("no server")
        proj = project_id(api, spec, create=False)
        text = fetch_state(api, proj["id"], _latest_number(api, proj["id"]))
    except (ApiError, NotConfigured, Unreachable, OSError, KeyError, TypeError, ValueError):
        text = "No state yet: mso writes the project's state here when a session ends."
    path = directory / FILES[agent]
    changed = write_block(path, block(text, compact=opts[str(directory)]["compact"] and agent == "claude"))
    codex = set_codex_compact_prompt(True) if compact and agent == "codex" else None
    return {"path": str(path), "changed": changed, "codex_config": codex}


def disable(agent: str, directory: Path) -> dict[str, Any]:
    """Opt out: remove the block (and our compact_prompt for Codex)."""
    opts = settings()
    mine = opts.get(str(directory))
    if isinstance(mine, dict):
        mine["agents"] = [a for a in mine.get("agents") or [] if a != agent]
        if not mine["agents"]:
            opts.pop(str(directory))
        write_json(_settings_file(), opts)
    path = directory / FILES[agent]
    codex = set_codex_compact_prompt(False) if agent == "codex" else None
    return {"path": str(path), "changed": remove_block(path), "codex_config": codex}


def codex_config_path() -> Path:
    return codex_home() / "config.toml"


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def set_codex_compact_prompt(on: bool) -> dict[str, Any]:
    """Add (or remove) our marked `compact_prompt` at the top of Codex's config.toml (a root key
    must come before the tables). A compact_prompt the user wrote is left alone and reported."""
    path = codex_config_path()
    old = path.read_text() if path.exists() else ""
    marked = re.compile(re.escape(CODEX_BEGIN) + r".*?" + re.escape(CODEX_END) + r"\n?", re.S)
    base = marked.sub("", old)
    if on:
        try:
            if "compact_prompt" in tomllib.loads(base):
                return {"path": str(path), "changed": False, "note": "config.toml has its own compact_prompt: kept"}
        except tomllib.TOMLDecodeError as e:
            return {"path": str(path), "changed": False, "note": f"config.toml is not valid TOML ({e}): not changed"}
        prompt = COMPACT_INSTRUCTIONS.split("\n", 2)[2].replace("this mso block", "AGENTS.md's mso block")
        new = f"{CODEX_BEGIN}\ncompact_prompt = {_toml_string(prompt)}\n{CODEX_END}\n" + base
    else:
        new = base
    if new == old:
        return {"path": str(path), "changed": False, "note": None}
    _backup(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if new.strip() or path.exists():
        _atomic(path, new)
    return {"path": str(path), "changed": True, "note": None}
