"""The `/handoff` command `mso install` adds: a Claude Code command file in the scope installed
(`~/.claude/commands/handoff.md`, or `.claude/commands/handoff.md` of the project) and a Codex
custom prompt (`~/.codex/prompts/handoff.md`; Codex reads prompts from there only).

It asks the agent for its own account of the session under fixed headings and to deliver it with
`mso note`. The file carries a marker line: only a file with it is ours to rewrite or remove, so
a user's own `handoff.md` is never touched.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from mso_cli.agents import claude_home, codex_home

MARKER = "<!-- mso:handoff-command"
HEADINGS = ("## Current work", "## What is left", "## Decisions and why", "## Gotchas", "## Next action")

_BODY = """{frontmatter}{marker} v1: written by `mso install`, removed by `mso uninstall` -->
Write your own account of this session for whoever continues it (the next session, another
agent or a person). It is stored with the session by mso and leads its handoff, where each claim
is checked against the transcript, so say only what this session showed: name files by their
paths, give commands and test names exactly, and say plainly what you did not verify (for
example "tests not run since the last edit").

Use exactly these headings, in this order, and keep the whole note under about 60 lines:

## Current work
What you were doing when you wrote this, and how far it got (done, half done, blocked).

## What is left
One bullet per remaining task, each with the paths of the files it touches.

## Decisions and why
The choices made in this session, the alternatives rejected, and the reason for each.

## Gotchas
What cost time or will again: failing checks and their cause, misleading errors, quirks of the
environment, things that look wrong but are meant to be so.

## Next action
The one next step, concrete enough to start on without rereading the session (a command, a
file and function, a test to run).

Then deliver it: run this command with the note on its standard input, as a quoted heredoc so
the shell expands nothing inside it:

```sh
{command} note <<'MSO_NOTE'
## Current work
...
MSO_NOTE
```

`mso note` prints the session it stored the note in. If it prints an error, show it to the user
and do not retry more than once. Do not write the note to a file in the repository.

{arguments}
"""


def path_for(agent: str, scope: str, cwd: Path) -> Path:
    if agent == "claude":
        return (claude_home() if scope == "user" else cwd / ".claude") / "commands" / "handoff.md"
    return codex_home() / "prompts" / "handoff.md"


def text_for(agent: str, command: str) -> str:
    quoted = f'"{command}"' if " " in command else command
    if agent == "claude":
        front = ("---\ndescription: Write this session's handoff note (current work, what is left, decisions, "
                 f"gotchas, next action) and store it with mso\nallowed-tools: Bash({quoted} note:*)\n---\n")
    else:
        front = ("---\ndescription: Write this session's handoff note and store it with mso\n"
                 "argument-hint: [what to stress]\n---\n")
    return _BODY.format(frontmatter=front, marker=MARKER, command=quoted,
                        arguments="Anything the user adds here matters most: $ARGUMENTS")


def ours(path: Path) -> bool:
    try:
        return MARKER in path.read_text(errors="replace")
    except OSError:
        return False


def apply(agent: str, *, scope: str = "user", cwd: Path | None = None, remove: bool = False,
          dry_run: bool = False, command: str = "mso") -> dict[str, Any]:
    """Write (or remove) the command file. Returns {path, changed, skipped}: `skipped` says why a
    file was left alone (a handoff.md that is not ours)."""
    path = path_for(agent, scope, cwd or Path.cwd())
    out: dict[str, Any] = {"path": str(path), "changed": False, "skipped": None}
    exists = path.exists()
    if exists and not ours(path):
        out["skipped"] = f"{path} exists and was not written by mso; it is left as it is"
        return out
    if remove:
        out["changed"] = exists
        if exists and not dry_run:
            path.unlink()
        return out
    text = text_for(agent, command)
    out["changed"] = not exists or path.read_text(errors="replace") != text
    if out["changed"] and not dry_run:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text)
        os.replace(tmp, path)
    return out
