"""Typed actions: every agent's tool calls normalized once, from one registry of agents.

Each agent names its tools differently (Claude Code's `Bash`, Codex's `exec_command`, Cline's
`execute_command`, SWE-agent's `str_replace_editor`) and puts the command, the path and the
background-run id under different input keys. `AGENTS` records those names as data, one record per
agent; the tool families the handoff reads (`EDIT_TOOLS`, `SHELL_TOOLS`, ...) and the input keys
(`PATH_KEYS`, `COMMAND_KEYS`, ...) are derived from it, so adding an agent is one record and one test,
and no later module needs to know a raw tool name.

`ActionReader` reads a message stream once and turns every tool call into one typed action (`Shell`,
`EditCall`, `Read`, `Search`, `Todo`, `Plan`, `Subagent`, `Web`, `Wait`, `Other`), pairs each result with
its call (filling the action's result fields), and gives the file changes that took effect as `Edit`
actions; each carries its message index and timestamp. A background shell run's later completion
(`BashOutput`/`TaskOutput`, a task notification) is folded into its `Shell`. The handoff's facts engine
reads these steps as they happen; `actions_of(messages)` collects them into one ordered list (the
dashboard's timeline).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .model import Message, ToolCall

# ----------------------------------------------------------------------------- the agent registry


@dataclass(frozen=True)
class AgentTools:
    """One agent's raw tool names per action kind and the input keys its tools use (case-folded)."""

    agent: str
    edit: frozenset[str] = frozenset()
    shell: frozenset[str] = frozenset()
    read: frozenset[str] = frozenset()
    search: frozenset[str] = frozenset()
    todo: frozenset[str] = frozenset()
    plan: frozenset[str] = frozenset()  # a plan handed to the user (Claude Code's ExitPlanMode)
    bg_output: frozenset[str] = frozenset()  # tools that report a background shell run's progress
    web: frozenset[str] = frozenset()
    subagent: frozenset[str] = frozenset()
    quiet: frozenset[str] = frozenset()  # tools whose failure is not an error of the work (UI, waits)
    view_subcommand: frozenset[str] = frozenset()  # edit tools whose `command` input "view" is a read
    path_keys: tuple[str, ...] = ()
    command_keys: tuple[str, ...] = ()
    cwd_keys: tuple[str, ...] = ()
    bg_id_keys: tuple[str, ...] = ()
    todo_keys: tuple[str, ...] = ()  # where the todo list is, in order
    content_keys: tuple[str, ...] = ()  # a whole-file write's new content
    line_edits: frozenset[str] = frozenset()  # text commands that edit lines of the open file (SWE-agent)
    not_run: tuple[str, ...] = ()  # error results saying the harness cancelled the call before it ran
    commits_itself: bool = False  # the agent commits after each edit, then runs its checks (aider)
    silent_passes: bool = False  # its own checks after each edit print only failures (aider's auto-lint/test)


def _fs(*names: str) -> frozenset[str]:
    return frozenset(n.casefold() for n in names)


AGENTS: tuple[AgentTools, ...] = (
    AgentTools(
        "claude-code",
        edit=_fs("Edit", "MultiEdit", "Write", "NotebookEdit"),
        shell=_fs("Bash", "PowerShell"),
        read=_fs("Read", "NotebookRead"),
        search=_fs("Grep", "Glob", "LS", "LSP", "WebSearch"),
        todo=_fs("TodoWrite"),
        plan=_fs("ExitPlanMode"),
        bg_output=_fs("TaskOutput", "BashOutput"),
        web=_fs("WebFetch"),
        subagent=_fs("Task", "Agent"),
        quiet=_fs("ExitPlanMode", "EnterPlanMode", "AskUserQuestion", "Task", "Agent", "KillShell", "KillBash"),
        path_keys=("file_path", "notebook_path", "path"),
        command_keys=("command",),
        bg_id_keys=("task_id", "bash_id", "shell_id"),
        todo_keys=("todos",),
        content_keys=("content",),
        # one of several parallel calls failed, so Claude Code cancelled the others: they never ran
        not_run=("Sibling tool call errored",),
    ),
    AgentTools(
        "codex",
        edit=_fs("apply_patch"),
        shell=_fs("shell", "exec_command", "local_shell", "container.exec"),
        todo=_fs("update_plan"),
        search=_fs("web_search"),
        command_keys=("command", "cmd"),
        cwd_keys=("workdir", "cwd"),
        todo_keys=("plan",),
    ),
    AgentTools(  # the aider importer already emits normalized calls: write/edit blocks and `/run` as shell
        "aider",
        edit=_fs("edit", "write"),
        shell=_fs("shell"),
        path_keys=("file_path",),
        command_keys=("command",),
        commits_itself=True,
        silent_passes=True,
    ),
    AgentTools(
        "cline",
        edit=_fs("write_to_file", "replace_in_file"),
        shell=_fs("execute_command"),
        read=_fs("read_file"),
        search=_fs("search_files", "list_files"),
        path_keys=("path",),
        command_keys=("command",),
        content_keys=("content",),
    ),
    AgentTools(
        "swe-agent/openhands",
        # function-calling tools, and SWE-agent's text commands (`open`, `find_file`, `create`, `insert`, ...)
        edit=_fs("str_replace_editor", "str_replace_based_edit_tool", "create_file", "create", "insert", "append"),
        shell=_fs("bash"),
        read=_fs("view", "open_file", "open", "goto", "scroll_up", "scroll_down"),
        search=_fs("search", "find", "find_file", "search_dir", "search_file"),
        quiet=_fs("submit"),
        view_subcommand=_fs("str_replace_editor", "str_replace_based_edit_tool"),
        line_edits=_fs("edit", "insert", "append"),
        path_keys=("path",),
        command_keys=("command",),
        content_keys=("file_text",),
    ),
    AgentTools(  # Cursor, Copilot, Gemini CLI, Windsurf and other editor agents seen in Markdown/JSON exports
        "editor-agents",
        edit=_fs("edit_file", "write_file", "search_replace", "insert_edit_into_file"),
        shell=_fs("run_terminal_cmd", "run_command", "terminal", "run_shell_command"),
        read=_fs("read_file", "view_file"),
        search=_fs("codebase_search", "list_dir", "file_search", "grep_search", "web_search", "ls"),
        todo=_fs("todo_write"),
        web=_fs("fetch", "web_fetch"),
        path_keys=("target_file", "filename", "file", "path"),
        command_keys=("command", "commandLine"),
        content_keys=("content", "contents"),
        cwd_keys=("cwd", "directory"),
    ),
    AgentTools(  # Markdown exports (claude-code-exporter, SpecStory) keep the agent's own tool names
        "markdown",
        edit=_fs("Edit", "Write", "MultiEdit"),
        shell=_fs("Bash"),
        read=_fs("Read"),
        search=_fs("Grep", "Glob"),
        todo=_fs("TodoWrite"),
        path_keys=("file_path", "path"),
        command_keys=("command",),
    ),
)


def _union(attr: str) -> frozenset[str]:
    out: set[str] = set()
    for a in AGENTS:
        out |= getattr(a, attr)
    return frozenset(out)


def _keys(attr: str) -> tuple[str, ...]:
    out: list[str] = []
    for a in AGENTS:
        for k in getattr(a, attr):
            if k not in out:
                out.append(k)
    return tuple(out)


EDIT_TOOLS = _union("edit")
SHELL_TOOLS = _union("shell")
READ_TOOLS = _union("read")
SEARCH_TOOLS = _union("search")
TODO_TOOLS = _union("todo")
PLAN_TOOLS = _union("plan")
BG_OUTPUT_TOOLS = _union("bg_output")
WEB_TOOLS = _union("web")
SUBAGENT_TOOLS = _union("subagent")
QUIET_TOOLS = _union("quiet")
VIEW_SUBCOMMAND_TOOLS = _union("view_subcommand")
# the order matters: the first key a call has wins (file_path before a directory `path`)
PATH_KEYS: tuple[str, ...] = ("file_path", "path", "notebook_path", "target_file", "filename", "file")
assert set(_keys("path_keys")) <= set(PATH_KEYS), "an agent's path key is missing from PATH_KEYS"
COMMAND_KEYS = _keys("command_keys")
CWD_KEYS = _keys("cwd_keys")
BG_ID_KEYS = _keys("bg_id_keys")
TODO_KEYS = _keys("todo_keys")
CONTENT_KEYS = _keys("content_keys")
LINE_EDIT_COMMANDS = _union("line_edits")
NOT_RUN_MARKERS = _keys("not_run")
_SHELLS = ("bash", "sh", "zsh")


def commits_itself(fmt: str) -> bool:
    """Whether the agent of this transcript format commits by itself after each edit: its checks then
    run after a commit, so no "checks, then commit" routine can be read from the order."""
    return any(a.commits_itself and a.agent == fmt for a in AGENTS)


def silent_passes(fmt: str) -> bool:
    """Whether the agent's own after-edit checks print only failures: a later edit with no new failure
    is then that check passing, which its log never says."""
    return any(a.silent_passes and a.agent == fmt for a in AGENTS)


def never_ran(text: str, is_error: bool) -> bool:
    """An error result that says the call was cancelled before it ran: no outcome, no failure."""
    head = (text or "")[:200]
    return is_error and any(m in head for m in NOT_RUN_MARKERS)


def tool_key(name: str) -> str:
    """Tool name without an MCP prefix (`mcp__server__Edit` -> `edit`), case-folded."""
    return (name or "").rsplit("__", 1)[-1].casefold()


def tool_kind(name: str, inp: dict[str, Any] | None = None) -> str:
    """The action kind of a raw tool call: edit, shell, read, search, todo, plan, bg_output, web,
    subagent or other. Edit tools asked to `view` are reads."""
    key = tool_key(name)
    if key in EDIT_TOOLS:
        if key in VIEW_SUBCOMMAND_TOOLS and isinstance(inp, dict) and str(inp.get("command", "")) == "view":
            return "read"
        return "edit"
    for kind, names in (("shell", SHELL_TOOLS), ("read", READ_TOOLS), ("search", SEARCH_TOOLS),
                        ("todo", TODO_TOOLS), ("plan", PLAN_TOOLS), ("bg_output", BG_OUTPUT_TOOLS),
                        ("web", WEB_TOOLS), ("subagent", SUBAGENT_TOOLS)):
        if key in names:
            return kind
    return "other"


def command_text(inp: dict[str, Any]) -> str:
    """The shell command of a call's input (an argv list `["bash", "-lc", cmd]` gives `cmd`)."""
    c: Any = ""
    for k in COMMAND_KEYS:
        if k in inp:
            c = inp[k]
            break
    if isinstance(c, list):
        parts = [str(x) for x in c]
        if len(parts) >= 3 and posixpath.basename(parts[0]) in _SHELLS and parts[1] in ("-lc", "-c"):
            return parts[2]
        return " ".join(parts)
    return c if isinstance(c, str) else ""


def path_of(inp: dict[str, Any]) -> str:
    """The file a call's input names ("" when none)."""
    for k in PATH_KEYS:
        v = inp.get(k)
        if isinstance(v, str) and v.strip():
            return v.strip()
    return ""


def todo_items(inp: dict[str, Any]) -> list[tuple[str, str]] | None:
    """(content, status) of a todo/plan call's full list; None when the input holds no list."""
    items = next((inp[k] for k in TODO_KEYS if isinstance(inp.get(k), list)), None)
    if items is None:
        return None
    out = []
    for it in items:
        if not isinstance(it, dict):
            continue
        content = it.get("content") or it.get("step") or it.get("title") or ""
        if isinstance(content, str) and content.strip():
            out.append((content.strip(), str(it.get("status") or "pending").replace("-", "_")))
    return out


def background_id_of(inp: dict[str, Any]) -> str | None:
    """The background run a progress tool asks about."""
    v = next((inp[k] for k in BG_ID_KEYS if isinstance(inp.get(k), str) and inp[k]), None)
    return v


_TRIVIAL_LINE = re.compile(r"^[\W_]*(?:end|do|else|fi|done|\}|\)|\]|<\/\w+>)?[\W_]*$")
_PATCH_FILE = re.compile(r"^\*\*\* (?:Update|Add|Delete) File: (.+?)\s*$")


def _patch_section(patch: str, path: str | None) -> str:
    """The part of a multi-file patch (`*** Update File: a` … `*** Add File: b` …) that changes `path`
    (all of it when `path` is None), so one file's lines are never put on another."""
    if path is None:
        return patch
    out: list[str] = []
    mine = False
    for ln in patch.split("\n"):
        m = _PATCH_FILE.match(ln)
        if m:
            p = m.group(1)
            mine = p == path or path.endswith("/" + p.lstrip("./")) or p.endswith("/" + path)
            continue
        if mine:
            out.append(ln)
    return "\n".join(out)


def _edit_pairs(inp: dict[str, Any], path: str | None) -> list[tuple[str, str]]:
    """(old text, new text) pairs of an edit call's input: its edits, its write, or its patch's `-`/`+`
    lines (of `path` only, for a patch that changes several files)."""
    pairs: list[tuple[str, str]] = []
    edits = inp.get("edits")
    if isinstance(edits, list):
        pairs = [(str(e.get("old_string") or ""), str(e.get("new_string") or "")) for e in edits if isinstance(e, dict)]
    else:
        old = inp.get("old_string", inp.get("old_str", ""))
        new = inp.get("new_string", inp.get("new_str", inp.get("content", inp.get("file_text", ""))))
        if isinstance(new, str):
            pairs = [(old if isinstance(old, str) else "", new)]
    if not any(n for _o, n in pairs):  # a patch (Codex apply_patch, as a tool input or inside a shell command): its `+` lines
        patch = next((v for v in inp.values() if isinstance(v, str) and "*** Begin Patch" in v), None)
        if patch is None and isinstance(inp.get("command"), list):
            patch = next((v for v in inp["command"] if isinstance(v, str) and "*** Begin Patch" in v), None)
        if patch is not None:
            patch = _patch_section(patch, path)
            pairs = [("\n".join(ln[1:] for ln in patch.split("\n") if ln.startswith("-") and not ln.startswith("---")),
                      "\n".join(ln[1:] for ln in patch.split("\n") if ln.startswith("+") and not ln.startswith("+++")))]
    return pairs


def _lines_only_in(pairs: list[tuple[str, str]], side: int, cap: int, chars: int) -> list[str]:
    """The stripped lines of one side of each pair (0 old, 1 new) that the other side does not have,
    trivial ones and comments left out, bounded by lines and characters."""
    out: list[str] = []
    for pair in pairs:
        other = {ln.strip() for ln in pair[1 - side].split("\n")}
        for ln in pair[side].split("\n"):
            t = ln.strip()
            if len(t) >= 4 and t not in other and not _TRIVIAL_LINE.match(t) and not t.startswith(("#", "//", "--")):
                out.append(t[:300])
                chars -= len(out[-1])
                if len(out) >= cap or chars <= 0:
                    return out
    return out


def new_lines(inp: dict[str, Any], cap: int = 400, path: str | None = None, chars: int = 12_000) -> list[str]:
    """Lines an edit call's input put in that were not there before, stripped, trivial ones left out (of
    `path` only, for a patch that changes several files). Bounded by lines and characters: enough of a
    written test file to see the cases near its end (a spec item is "open" only if no change shows it)."""
    return _lines_only_in(_edit_pairs(inp, path), 1, cap, chars)


def removed_lines(inp: dict[str, Any], cap: int = 400, path: str | None = None, chars: int = 12_000) -> list[str]:
    """Lines an edit call's input took out (its old text's lines the new text lacks): what the file had
    before, so a name on a changed line is not taken for one the edit introduced. A whole-file write has none."""
    return _lines_only_in(_edit_pairs(inp, path), 0, cap, chars)


# ----------------------------------------------------------------------------- the actions


@dataclass
class Action:
    index: int  # message index of the call
    at: str | None  # its timestamp (ISO 8601 as the tool wrote it)
    tool: str  # the raw tool name, for display only
    # the call's result, for the calls whose result is paired (shell, edit calls, waits, subagents, other tools)
    result_index: int | None = None
    output: str = ""
    is_error: bool = False

    @property
    def kind(self) -> str:
        return type(self).__name__.lower()


@dataclass
class Edit(Action):
    """A change that took effect (one per file); `index` is its call's message, `effect_index` the
    message where it took effect (the call's result)."""

    path: str = ""
    added: int | None = 0
    removed: int | None = 0
    mode: str = "edit"  # write | edit | patch
    change: str = "modified"  # added | modified | deleted | renamed
    old_path: str | None = None
    effect_index: int = -1
    by_call: bool = True  # False: an edit block the format records without a tool call (aider)
    lines: list[str] = field(default_factory=list)  # the lines it put in this file (new_lines)
    old_lines: list[str] = field(default_factory=list)  # the lines it took out of this file (removed_lines)
    call_lines: list[str] = field(default_factory=list)  # the lines its whole call put in (all its files)


@dataclass
class EditCall(Action):
    """An edit tool call (or a patch sent through the shell) as it was made. What it changed comes as
    `Edit` actions once it takes effect; the reader's steps carry the call itself (its count, its rejection)."""

    path: str = ""
    command: str = ""  # the shell command, for a patch sent through the shell


@dataclass
class Shell(Action):
    command: str = ""
    cwd: str = ""
    exit_code: int | None = None
    background_id: str | None = None
    status: str = ""  # "" (foreground) | running | completed | failed | killed
    completed_index: int | None = None  # message index where the background run's completion was seen
    output_shown: bool = True  # False: the format says it ran but records neither output nor exit status (aider)
    check_kind: str | None = None  # test | build when the importer knows what it is (aider's --test-cmd)
    fix_declined: str = ""  # the person did not let the agent fix this failure: "no" (declined) | "interrupted"
    call_id: str = ""

    @property
    def failed(self) -> bool:
        return self.is_error or (self.exit_code not in (None, 0)) or self.status in ("failed", "error", "killed")


@dataclass
class Wait(Action):
    """A call that asks about a background shell run (`BashOutput`/`TaskOutput`); its result's report
    is also folded into that run's `Shell`."""

    background_id: str | None = None  # the run it asks about, when its input names it
    report: tuple[str, str, int | None, str] | None = None  # (run id, status, exit code, output)


@dataclass
class Read(Action):
    path: str = ""


@dataclass
class Search(Action):
    query: str = ""


@dataclass
class Todo(Action):
    items: list[tuple[str, str]] | None = field(default_factory=list)  # None: the call held no list


@dataclass
class Plan(Action):
    text: str = ""


@dataclass
class Subagent(Action):
    description: str = ""


@dataclass
class Web(Action):
    url: str = ""
    query: str = ""


@dataclass
class Other(Action):
    arg: str = ""  # its first non-empty text argument, to name the call
    quiet: bool = False  # a UI or wait tool: its failure is not an error of the work


_EXIT_RE = re.compile(r"^(?:Exit code|Process exited with code)[:\s]+(-?\d+)")
_XML_EXIT_RE = re.compile(r"<exit_code>(-?\d+)</exit_code>")
_BG_RE = re.compile(r"running in background with ID: (\w+)")
_STATUS_RE = re.compile(r"<status>(\w+)</status>")
_TASK_ID_XML = re.compile(r"<task_id>(\w+)</task_id>")
_BG_OUT_RE = re.compile(r"<(output|stdout)>(.*?)(?:</\1>|$)", re.S)
_TASK_NOTE_RE = re.compile(r"<task-id>(\w+)</task-id>.*?<status>(\w+)</status>(?:.*?\(exit code (-?\d+)\))?", re.S)
_SEARCH_KEYS = ("pattern", "query", "regex", "q", "search_term", "glob")
_SUB_KEYS = ("description", "prompt", "task")


def _first_str(inp: dict[str, Any], keys: Iterable[str]) -> str:
    return next((inp[k] for k in keys if isinstance(inp.get(k), str) and inp[k].strip()), "")


def background_started(text: str, data: dict[str, Any] | None) -> str | None:
    """The id of the background run a shell result says it started (None: it ran in the foreground)."""
    bg = data.get("backgroundTaskId") if isinstance(data, dict) else None
    if isinstance(bg, str) and bg:
        return bg
    bm = _BG_RE.search(text[:300])
    return bm.group(1) if bm else None


def background_report(inp: dict[str, Any], text: str) -> tuple[str, str, int | None, str] | None:
    """(run id, status, exit code, output) from a background-output tool's result
    (`BashOutput`/`TaskOutput`); None when it says nothing about the run (e.g. the wait was rejected)."""
    return _report(background_id_of(inp), text)


def _report(bg: str | None, text: str) -> tuple[str, str, int | None, str] | None:
    if bg is None:
        m = _TASK_ID_XML.search(text)
        bg = m.group(1) if m else None
    sm = _STATUS_RE.search(text)
    if not bg or sm is None:
        return None
    em = _XML_EXIT_RE.search(text)
    om = _BG_OUT_RE.search(text)
    return bg, sm.group(1), int(em.group(1)) if em else None, om.group(2) if om else ""


def task_notifications(text: str) -> list[tuple[str, str, int | None]]:
    """(run id, status, exit code) of each background-task notification in a harness message."""
    if "<task-id>" not in text:
        return []
    return [(m.group(1), m.group(2), int(m.group(3)) if m.group(3) else None) for m in _TASK_NOTE_RE.finditer(text)]


def _shell_result(sh: Shell, data: dict[str, Any]) -> None:
    text = sh.output
    code = data.get("exit_code")
    if not isinstance(code, int):
        m = _EXIT_RE.match(text) or _XML_EXIT_RE.search(text[:300])
        code = int(m.group(1)) if m else None
    sh.exit_code = code
    sh.output_shown = data.get("output_shown") is not False
    sh.fix_declined = data.get("fix_declined") if data.get("fix_declined") in ("no", "interrupted") else ""
    bg = background_started(text, data)
    if bg:
        sh.background_id, sh.status = bg, "running"


def _fold_completion(sh: Shell, i: int, status: str, code: int | None, output: str) -> None:
    status = status.lower()
    if status in ("running", "pending"):
        return
    sh.status, sh.completed_index = status, i
    if code is not None:
        sh.exit_code = code
    if output:
        sh.output = output


def _edit_mode(tool: str, change: str, summary: str, inp: dict[str, Any] | None = None) -> str:
    """write: the call gave the whole file (a new file, or `content` over an existing one); edit: a
    replacement inside it; patch: a diff."""
    low = (summary or tool).casefold()
    if "patch" in low or "diff" in low:
        return "patch"
    whole = inp is not None and any(isinstance(inp.get(k), str) for k in ("content", "file_text")) and not any(
        k in inp for k in ("old_string", "old_str", "edits"))
    return "write" if change == "added" or whole else "edit"


def _call_action(i: int, ts: str | None, call: ToolCall) -> Action:
    """The one action a raw tool call is (edit calls and background waits included)."""
    inp = call.input if isinstance(call.input, dict) else {}
    kind = tool_kind(call.name, inp)
    if kind == "shell":
        cmd = command_text(inp)
        if "*** Begin Patch" in cmd:  # a patch sent through the shell: the edit is the action
            return EditCall(i, ts, call.name, path=path_of(inp), command=cmd)
        check = inp.get("check_kind")
        return Shell(i, ts, call.name, command=cmd, cwd=_first_str(inp, CWD_KEYS),
                     check_kind=check if isinstance(check, str) else None, call_id=call.id or "")
    if kind == "edit":
        return EditCall(i, ts, call.name, path=path_of(inp))
    if kind == "read":
        return Read(i, ts, call.name, path=path_of(inp))
    if kind == "search":
        return Search(i, ts, call.name, query=_first_str(inp, _SEARCH_KEYS) or path_of(inp))
    if kind == "todo":
        return Todo(i, ts, call.name, items=todo_items(inp))
    if kind == "plan":
        return Plan(i, ts, call.name, text=_first_str(inp, ("plan",)))
    if kind == "subagent":
        return Subagent(i, ts, call.name, description=_first_str(inp, _SUB_KEYS))
    if kind == "web":
        return Web(i, ts, call.name, url=_first_str(inp, ("url",)), query=_first_str(inp, _SEARCH_KEYS))
    if kind == "bg_output":
        return Wait(i, ts, call.name, background_id=background_id_of(inp))
    arg = next((v for v in inp.values() if isinstance(v, str) and v.strip()), "")
    return Other(i, ts, call.name, arg=arg, quiet=tool_key(call.name) in QUIET_TOOLS)


# the calls whose result is paired with them (reads, searches, todos, plans and fetches need none)
_PAIRED = (EditCall, Shell, Wait, Subagent, Other)

Step = tuple[str, Any]  # ("call", Action) | ("result", Action) | ("edits", list[Edit])


class ActionReader:
    """Normalizes a transcript's tool calls once, message by message, for every reader of them.

    `observe(i, msg)` yields, in the order they happen in the message: ("call", action) for each
    tool call (every call is one action), ("result", action) for each result paired with its call
    (the action's result fields just filled in), then ("edits", [Edit, ...]) for each call whose
    file changes took effect. The steps are yielded as they are made, so a reader that keeps its own
    state (the handoff's facts) sees each action as it was at that point of the transcript.
    """

    def __init__(self, fmt: str = "") -> None:
        from .filechanges import FileChangeTracker  # filechanges reads this module's registry

        self.changes = FileChangeTracker(fmt, record=True)
        self.pending: dict[str, Action] = {}  # call id -> the call waiting for its result
        self.unmatched: list[str] = []  # formats without ids: results follow their calls in order
        self.by_bg: dict[str, Shell] = {}
        self.call_at: dict[int, tuple[int, str | None]] = {}  # id(call) -> (index, timestamp) for the edits
        self.calls = 0

    def observe(self, i: int, msg: Message) -> Iterator[Step]:
        """The steps of message `i` (a generator: run it to the end for each message)."""
        ts = msg.timestamp
        for call in msg.tool_calls:
            self.calls += 1
            self.call_at[id(call)] = (i, ts)
            act = _call_action(i, ts, call)
            if isinstance(act, _PAIRED):
                cid = call.id or f"__anon{self.calls}"
                self.pending[cid] = act
                if not call.id:
                    self.unmatched.append(cid)
            yield "call", act
        for res in msg.tool_results:
            cid = res.tool_call_id
            if cid is None or cid not in self.pending:
                if cid is None and self.unmatched:
                    cid = self.unmatched.pop(0)
                else:
                    continue
            act = self.pending.pop(cid, None)
            if act is None:
                continue
            act.result_index, act.output, act.is_error = i, res.text or "", bool(res.is_error)
            if isinstance(act, Shell):
                _shell_result(act, res.data if isinstance(res.data, dict) else {})
                if act.background_id:
                    self.by_bg[act.background_id] = act
            elif isinstance(act, Wait):
                act.report = _report(act.background_id, act.output)
            yield "result", act
            if isinstance(act, Wait):
                rep = act.report
                if rep is not None and rep[0] in self.by_bg:
                    _fold_completion(self.by_bg[rep[0]], i, rep[1], rep[2], rep[3])
        if msg.role == "user":  # Claude Code's background-task notifications
            for bg, status, code in task_notifications(msg.text):
                if bg in self.by_bg:
                    _fold_completion(self.by_bg[bg], i, status, code, "")
        self.changes.observe(msg)
        yield from self._edits(i, ts)

    def finish(self, last_index: int) -> Iterator[Step]:
        """The edits of calls still waiting for a result when the transcript ends (counted as done)."""
        self.changes.flush_pending()
        yield from self._edits(last_index, None)

    def unanswered(self) -> list[Shell]:
        """The shell calls whose result never came."""
        return [a for a in self.pending.values() if isinstance(a, Shell)]

    def _edits(self, i: int, ts: str | None) -> Iterator[Step]:
        for call, chs in self.changes.drain():
            ci, cts = self.call_at.get(id(call), (i, ts)) if call is not None else (i, ts)
            name = call.name if call is not None else "edit"
            inp = call.input if call is not None and isinstance(call.input, dict) else {}
            everything = new_lines(inp)
            several = len(chs) > 1  # a patch of several files: each file gets its own lines
            yield "edits", [Edit(ci, cts, name, path=c.path, added=c.lines_added, removed=c.lines_removed,
                                 mode=_edit_mode(name, c.kind, c.summary, inp), change=c.kind, old_path=c.old_path,
                                 effect_index=i, by_call=call is not None,
                                 lines=new_lines(inp, path=c.path) if several else everything,
                                 old_lines=removed_lines(inp, path=c.path if several else None),
                                 call_lines=everything) for c in chs]


def _listed(act: Action) -> bool:
    """The call actions `actions_of` lists (an edit call's changes are listed as `Edit`s instead)."""
    return not isinstance(act, (EditCall, Wait)) and not (isinstance(act, Todo) and act.items is None)


def actions_of(messages: Iterable[Message], fmt: str = "") -> list[Action]:
    """The typed actions of a transcript, in order. Edits are the changes that took effect
    (the shared file-change extractor's view, with a failed call's edit left out)."""
    reader = ActionReader(fmt)
    out: list[Action] = []
    last = -1
    for i, msg in enumerate(messages):
        last = i
        for step, act in reader.observe(i, msg):
            if step == "call" and _listed(act):
                out.append(act)
            elif step == "edits":
                out.extend(act)
    for _step, edits in reader.finish(last):
        out.extend(edits)
    out.sort(key=lambda a: a.index)  # stable: an edit committed at its result sits at its call
    return out
