"""Task trackers as the transcript shows them: statuses, titles, parents and specs of task ids.

A handoff that says "epic closed" because the session once ran `bd close epic` is wrong when the
tracker later printed the epic as in progress again. So statuses come from what the tracker
itself printed, in transcript order, the latest word winning:

- listing and detail lines of `bd` (beads), `gh issue`/`gh pr`, and Jira- or Linear-style CLIs
  (`○ id · Title [● P2 · OPEN]`, `↑ ◐ id: (EPIC) Title`, `#12 Title OPEN`, `Status: In Progress`);
- the confirmation a tracker prints after a change (`✓ Closed id`, `✓ Updated issue: id`), read
  together with the command that asked for it (`--status in_progress`, `close`, `reopen`).

Pure functions over text: nothing here knows about messages or the session.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Tracker:
    """One task tracker as a session meets it: the commands that run it, the form of its ids, and the
    forms of output it prints (the parsers below, by name). Adding a tracker is one record here."""

    name: str
    commands: tuple[str, ...]  # a command segment starting with one of these is this tracker's
    id_pattern: str  # its task ids, as typed and printed
    outputs: tuple[str, ...]  # output forms: beads (symbol lines), gh (key: value / tty), status (Status: X)
    files: tuple[str, ...] = ()  # checklist files a project keeps its tasks in (TODO.md)


_SLUG_ID = r"[A-Za-z][A-Za-z0-9_]*-[A-Za-z0-9]+(?:\.\d+)*"
_KEY_ID = r"[A-Z][A-Z0-9]{1,9}-\d{1,7}"
_NUM_ID = r"#?\d{1,7}"
TRACKERS: tuple[Tracker, ...] = (
    Tracker("beads", ("bd", "beads"), _SLUG_ID, ("beads",)),
    Tracker("github", ("gh issue", "gh pr"), _NUM_ID, ("gh", "status")),
    Tracker("gitlab", ("glab issue", "glab mr"), _NUM_ID, ("gh", "status")),
    Tracker("jira-cli", ("jira issue", "jira", "acli jira"), _KEY_ID, ("status",)),
    Tracker("linear", ("linear issue", "linear"), _KEY_ID, ("status",)),
    Tracker("gitea", ("tea issues", "tea issue"), _NUM_ID, ("gh", "status")),
    Tracker("checklist", (), "", (), files=("TODO.md", "TODO", "TODO.txt", "TASKS.md", "todo.md", "tasks.md",
                                            "ROADMAP.md", "PLAN.md", "plan.md", "CHECKLIST.md")),
)
_CMD_PREFIXES = sorted(((c, t) for t in TRACKERS for c in t.commands), key=lambda ct: -len(ct[0]))
TRACKER_CMD_RE = re.compile(
    r"(?:^|[\s;&|(])(?:" + "|".join(re.escape(c).replace(r"\ ", r"\s+") for c, _t in _CMD_PREFIXES) + r")\s")


def tracker_of(segment: str) -> Tracker | None:
    """The tracker a command segment runs: its program (and subcommand) must start the segment, so
    `pip install linear-algebra` or `grep bd notes.txt` are nobody's tracker."""
    words = segment.strip().split()
    for c, t in _CMD_PREFIXES:
        n = len(c.split())
        if words[:n] == c.split() and len(words) > n:
            return t
    return None


def checklist_tracker(path: str) -> Tracker | None:
    """The checklist-file tracker when `path` is one of its files (`TODO.md`, `TASKS.md`)."""
    base = path.rsplit("/", 1)[-1]
    return next((t for t in TRACKERS if base in t.files), None)


_ID = r"(?:[A-Za-z][A-Za-z0-9_]*-[A-Za-z0-9]+(?:\.\d+)*|#\d{1,7})"
ID_RE = re.compile(r"(?<![\w/.-])(" + _ID + r")(?![\w-]|\.[A-Za-z])")

_SYMBOLS = {"○": "open", "◐": "in_progress", "●": "blocked", "✓": "closed", "✔": "closed", "❄": "deferred",
            "✗": "closed", "☐": "open", "☑": "closed"}
_WORDS = {
    "open": "open", "opened": "open", "todo": "open", "to do": "open", "ready": "open", "backlog": "open",
    "new": "open", "reopened": "open", "in_progress": "in_progress", "in progress": "in_progress",
    "in-progress": "in_progress", "started": "in_progress", "doing": "in_progress", "active": "in_progress",
    "in review": "in_progress", "closed": "closed", "done": "closed", "completed": "closed",
    "resolved": "closed", "merged": "closed", "fixed": "closed", "blocked": "blocked", "deferred": "deferred",
    "cancelled": "closed", "canceled": "closed",
}
_STATUS_WORD = r"(?:IN[ _-]PROGRESS|OPEN|CLOSED|DONE|BLOCKED|DEFERRED|TODO|READY|RESOLVED|MERGED)"

# `○ spotter-gqc.4 · Title   [● P2 · OPEN]` and `○ spotter-fum [EPIC] · Title   [● P2 · OPEN]`
_HEADER_RE = re.compile(
    r"^\s*(?P<sym>[○◐●✓✔❄✗])\s+(?P<id>" + _ID + r")(?:\s+\[(?P<kind>[A-Za-z]+)\])?\s+·\s+(?P<title>.+?)"
    r"(?:\s+\[[^\]]*?·\s*(?P<word>" + _STATUS_WORD + r")\s*\])?\s*$")
# `○ spotter-gqc.3 [● P2] [task] - Title (blocked by: …)`  (bd list)
_LIST_RE = re.compile(
    r"^\s*(?P<sym>[○◐●✓✔❄✗])\s+(?P<id>" + _ID + r")\s+(?:\[[^\]]*\]\s*)*-\s+(?P<title>.+?)(?:\s+\((?:blocked|blocks)[^)]*\))?\s*$")
# `  ↑ ◐ spotter-gqc: (EPIC) Title ● P2`, `  ↳ ✓ spotter-fum.1: Title ● P2`
_REL_RE = re.compile(
    r"^\s*(?P<arrow>[↑↓←→↳])\s*(?P<sym>[○◐●✓✔❄✗])\s+(?P<id>" + _ID + r"):\s+(?:\((?P<kind>[A-Za-z]+)\)\s+)?"
    r"(?P<title>.+?)(?:\s+●\s*P\d)?\s*$")
# `3. [● P2] [task] spotter-gqc.1: Title` (bd ready: listed means ready to start)
_READY_RE = re.compile(r"^\s*\d+\.\s+(?:\[[^\]]*\]\s*)+(?P<id>" + _ID + r"):\s+(?P<title>.+?)\s*$")
# `✓ Closed spotter-gqc.5: reason`, `✓ Updated issue: spotter-gqc.6`, `✓ Reopened x`
_DONE_RE = re.compile(r"^\s*[✓✔]\s+(?P<verb>Closed|Updated issue:|Updated|Reopened|Created issue:|Created)\s+"
                      r"(?P<id>" + _ID + r")")
# gh: `title:\tFix it` / `state:\tOPEN` / `number:\t12`, and the tty form `Open • user opened …`
_GH_STATE_RE = re.compile(r"(?im)^state:\s*(\w+)\s*$")
_GH_NUMBER_RE = re.compile(r"(?im)^number:\s*(\d+)\s*$")
_GH_TITLE_RE = re.compile(r"(?im)^title:\s*(.+?)\s*$")
_GH_TTY_RE = re.compile(r"^(?P<title>.+?)\s+#(?P<num>\d+)\s*\n(?P<state>Open|Closed|Merged)\s+•", re.M)
# Jira/Linear-style detail output: an id near the top and a `Status: X` line
_STATUS_LINE_RE = re.compile(r"(?im)^\s*(?:status|state)\s*[:=]\s*([A-Za-z][A-Za-z _-]{1,20}?)\s*$")
_SECTION_HEAD = re.compile(r"^(?:[A-Z][A-Z _-]{3,}|[A-Z][\w /()&-]{2,40}:|#{1,4} .+)$")
_RELATION_HEADS = {"PARENT", "CHILDREN", "DEPENDS ON", "BLOCKS", "DEPENDENCIES", "DEPENDENTS", "RELATED"}
_META_LINE = re.compile(r"^(?:Owner|Created|Updated|Assignee|Reporter|Labels?|Priority|Type):\s", re.I)
_OUTPUT_FILE_RE = re.compile(r"^\s*[-*]\s+`([^`\s]+\.[\w]+|[^`\s]+/)`")


def status_word(word: str) -> str:
    """A tracker's status word in one vocabulary: open, in_progress, closed, blocked or deferred."""
    return _WORDS.get(word.strip().lower().replace("_", " ").replace("-", " "),
                      _WORDS.get(word.strip().lower(), word.strip().lower()))


@dataclass
class TaskLine:
    """One statement a tracker made about a task."""

    id: str
    status: str = ""
    title: str = ""
    kind: str = ""
    parent: str = ""  # set on relation lines shown under a task's detail
    relation: str = ""  # parent | child | depends | blocks


@dataclass
class TaskSpec:
    """A task's detail view (`bd show`, `gh issue view`): its text, without tracker metadata."""

    id: str
    text: str
    output_files: list[str] = field(default_factory=list)


def _clean_title(t: str) -> str:
    t = re.sub(r"\s+●\s*P\d\s*$", "", t.strip())
    return re.sub(r"\s{2,}", " ", t).strip()


def parse_output(text: str, forms: tuple[str, ...] = ("beads", "gh", "status")
                 ) -> tuple[list[TaskLine], list[TaskSpec]]:
    """Every task statement and detail view in one tracker command's output, in order; `forms` are the
    output forms of the tracker that printed it (its record in TRACKERS), so one tracker's shapes are
    not read into another's output."""
    if "beads" not in forms:
        return _parse_other(text, forms)
    lines: list[TaskLine] = []
    specs: list[TaskSpec] = []
    current: str | None = None  # the task whose detail view we are in
    body: list[str] = []
    section = ""

    def close_spec() -> None:
        if current and body:
            spec = _spec(current, body)
            if spec.text:
                specs.append(spec)

    for raw in text.split("\n"):
        line = raw.rstrip()
        m = _HEADER_RE.match(line)
        if m:
            close_spec()
            current, body, section = m["id"], [], ""
            word = m["word"]
            lines.append(TaskLine(m["id"], status_word(word) if word else _SYMBOLS.get(m["sym"], ""),
                                  _clean_title(m["title"]), (m["kind"] or "").lower()))
            continue
        m = _REL_RE.match(line)
        if m:
            rel = {"↑": "parent", "↳": "child", "↓": "child", "→": "depends", "←": "blocks"}[m["arrow"]]
            if section in ("CHILDREN",):
                rel = "child"
            lines.append(TaskLine(m["id"], _SYMBOLS.get(m["sym"], ""), _clean_title(m["title"]),
                                  (m["kind"] or "").lower(), parent=current or "", relation=rel))
            continue
        m = _LIST_RE.match(line)
        if m:
            lines.append(TaskLine(m["id"], _SYMBOLS.get(m["sym"], ""), _clean_title(m["title"])))
            continue
        m = _READY_RE.match(line)
        if m:
            lines.append(TaskLine(m["id"], "", _clean_title(m["title"])))
            continue
        m = _DONE_RE.match(line)
        if m:
            verb = m["verb"]
            st = "closed" if verb == "Closed" else "open" if verb == "Reopened" else ""
            lines.append(TaskLine(m["id"], st, relation="confirm:" + verb.split()[0].lower()))
            continue
        if current is not None:
            stripped = line.strip()
            if stripped.rstrip(":").upper() in _RELATION_HEADS and stripped.isupper():
                section = stripped.rstrip(":").upper()
                continue
            if line.startswith("===") or line.startswith("---"):
                close_spec()
                current, body, section = None, [], ""
                continue
            if section not in _RELATION_HEADS:
                body.append(line)
    close_spec()
    if lines or specs or forms == ("beads",):
        return lines, specs
    return _parse_other(text, forms)


def _parse_other(text: str, forms: tuple[str, ...]) -> tuple[list[TaskLine], list[TaskSpec]]:
    """gh / glab / tea (`state:` and `number:` lines, or the tty form) and Jira/Linear-style detail
    output (an id near the top and a `Status: X` line)."""
    lines: list[TaskLine] = []
    specs: list[TaskSpec] = []
    gh = _GH_TTY_RE.search(text) if "gh" in forms else None
    if gh:
        lines.append(TaskLine("#" + gh["num"], status_word(gh["state"]), gh["title"].strip()))
        specs.append(_spec("#" + gh["num"], text.split("\n")[2:]))
    else:
        sm, nm = (_GH_STATE_RE.search(text), _GH_NUMBER_RE.search(text)) if "gh" in forms else (None, None)
        if sm and nm:
            tm = _GH_TITLE_RE.search(text)
            lines.append(TaskLine("#" + nm.group(1), status_word(sm.group(1)), tm.group(1) if tm else ""))
            after = text.split("\n--\n", 1)
            if len(after) == 2:
                specs.append(_spec("#" + nm.group(1), after[1].split("\n")))
        elif not lines and "status" in forms:
            st = _STATUS_LINE_RE.search(text)
            head = "\n".join(text.split("\n")[:3])
            idm = ID_RE.search(head)
            if st and idm:
                lines.append(TaskLine(idm.group(1), status_word(st.group(1))))
                specs.append(_spec(idm.group(1), text.split("\n")[1:]))
    return lines, specs


def _spec(tid: str, body: list[str]) -> TaskSpec:
    kept = [ln for ln in body if not _META_LINE.match(ln.strip())]
    while kept and not kept[0].strip():
        kept.pop(0)
    while kept and not kept[-1].strip():
        kept.pop()
    text = "\n".join(kept)
    text = re.sub(r"\n{3,}", "\n\n", text)
    files: list[str] = []
    in_outputs = False
    for ln in kept:
        s = ln.strip()
        if re.match(r"(?i)^(?:#{1,4}\s*)?(?:output files|files to (?:create|change|modify)|files)\s*:?$", s):
            in_outputs = True
            continue
        if in_outputs:
            m = _OUTPUT_FILE_RE.match(ln)
            if m:
                if not re.search(r"\((?:read|reference|unchanged|do not (?:change|edit))", ln[m.end():], re.I):
                    files.append(m.group(1))  # a file listed to read is not an output to write
                continue
            if s:
                in_outputs = False
    return TaskSpec(tid, text, files)


def spec_blocks(text: str) -> list[tuple[str, str]]:
    """A spec split at its section headings ("Technical specs:", "## Goal", "DESCRIPTION"):
    [(heading, block text)], the heading included in the block; the first block may have none."""
    blocks: list[tuple[str, list[str]]] = [("", [])]
    for ln in text.split("\n"):
        s = ln.strip()
        if s and not ln.startswith((" ", "\t", "-", "*")) and _SECTION_HEAD.match(s) and len(s) <= 60:
            blocks.append((s.rstrip(":").lstrip("# ").strip(), [ln]))
        else:
            blocks[-1][1].append(ln)
    out = []
    for head, body in blocks:
        t = "\n".join(body).strip("\n")
        if t.strip() and t.strip() != head:
            out.append((head, t))
    return out


# -- commands that change a status ---------------------------------------------------------------

_SET_STATUS_RE = re.compile(r"--status[= ]+['\"]?([\w-]+)")
_CLOSE_VERB_RE = re.compile(r"(?:^|\s)(?:close|done|resolve|complete)(?:\s|$)")
_REOPEN_VERB_RE = re.compile(r"(?:^|\s)reopen(?:\s|$)")
_GH_NUM_ARG_RE = re.compile(r"(?:^|\s)(\d{1,7})(?=\s|$)")


def command_changes(segment: str) -> list[tuple[str, str]]:
    """(id, new status) pairs a tracker command asks for (`bd update X --status S`, `bd close X Y`,
    `gh issue close 12`, `bd reopen X`); empty for commands that only read."""
    s = segment.strip()
    trk = tracker_of(s)
    if trk is None:
        return []
    head = s.split("--reason", 1)[0].split(" -m ", 1)[0]
    status = ""
    m = _SET_STATUS_RE.search(head)
    if m:
        status = status_word(m.group(1))
    elif _REOPEN_VERB_RE.search(head):
        status = "open"
    elif _CLOSE_VERB_RE.search(head):
        status = "closed"
    if not status:
        return []
    if trk.id_pattern == _NUM_ID:  # `gh issue close 12`: numbers are its ids
        ids = ["#" + m.group(1) for m in _GH_NUM_ARG_RE.finditer(head)]
    else:
        own = re.compile(r"(?<![\w/.-])(" + trk.id_pattern + r")(?![\w-]|\.[A-Za-z])")
        ids = [m.group(1) for m in own.finditer(head) if not m.group(1).startswith("-")]
    return [(i, status) for i in ids]
