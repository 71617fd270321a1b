"""What shell commands did to the work tree and to git, read from the commands and git's own output.

Edit tools are not the only way files change: `npm install x` rewrites package.json and the lock
file, `mv`/`rm`/`cp` move and delete, generators print the files they create. And what is
committed or pushed is what git printed, not what the agent meant to do: a `git push` that
failed for "no upstream branch" pushed nothing. Pure functions over one command and its output.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

# -- files changed by a command --------------------------------------------------------------------

_LOCKS = {"npm": "package-lock.json", "pnpm": "pnpm-lock.yaml", "yarn": "yarn.lock", "bun": "bun.lockb"}
_PKG_RE = re.compile(r"^(?:npx\s+)?(npm|pnpm|yarn|bun)\s+(install|i|add|remove|rm|uninstall|un|update|up|upgrade)"
                     r"((?:\s+\S+)*)$")
_MANIFEST_CMDS = [
    (re.compile(r"^poetry\s+(?:add|remove)\s+\S"), ("pyproject.toml", "poetry.lock")),
    (re.compile(r"^uv\s+(?:add|remove)\s+\S"), ("pyproject.toml", "uv.lock")),
    (re.compile(r"^pdm\s+(?:add|remove)\s+\S"), ("pyproject.toml", "pdm.lock")),
    (re.compile(r"^cargo\s+(?:add|remove|rm)\s+\S"), ("Cargo.toml", "Cargo.lock")),
    (re.compile(r"^go\s+get\s+\S"), ("go.mod", "go.sum")),
    (re.compile(r"^go\s+mod\s+tidy\b"), ("go.mod", "go.sum")),
    (re.compile(r"^bundle\s+(?:add|remove)\s+\S"), ("Gemfile", "Gemfile.lock")),
    (re.compile(r"^composer\s+(?:require|remove)\s+\S"), ("composer.json", "composer.lock")),
    (re.compile(r"^dotnet\s+add\s+package\s+\S"), ()),
]
# Fetchers that rewrite the lock file only when what they resolved changed, which their output says:
# `mix deps.get` after a new dependency prints "New:" and the packages; with nothing new it does not
# touch mix.lock. (command, output that proves the write, files written)
_LOCK_BY_OUTPUT = [
    (re.compile(r"^mix\s+deps\.(?:get|update|unlock)\b"), re.compile(r"(?m)^(?:New|Upgraded|Downgraded):\s*$"),
     ("mix.lock",)),
    (re.compile(r"^bundle(?:\s+install)?\s*$"), re.compile(r"(?m)^Installing \S+ "), ("Gemfile.lock",)),
]
_GENERATED_RE = re.compile(r"(?m)^\s*(?:\*\s+)?(?:creating|create|injecting|updating|generated)\s+([\w./-]+\.\w+)\s*$")
_FORMATTERS = re.compile(r"^(?:prettier\s+(?:.*\s)?--write|black|ruff\s+format|mix\s+format|gofmt\s+-w|rustfmt"
                         r"|isort|clang-format\s+-i|shfmt\s+-w)\b")


@dataclass
class ShellChange:
    """A file a command changed: `path` as the command named it, relative to `cwd` when not absolute."""

    path: str
    kind: str  # added | modified | deleted | renamed
    cwd: str = ""  # the directory the command ran in (`cd X && …`), "" for the session's
    old_path: str | None = None
    why: str = ""  # the command, as shown to the next session


def _args(seg: str) -> list[str]:
    try:
        return shlex.split(seg)
    except ValueError:
        return seg.split()


def _paths(args: list[str]) -> list[str]:
    return [a for a in args if a and not a.startswith("-") and a not in (".", "..")]


def _redirected(args: list[str], cwd: str, seg: str) -> list[ShellChange]:
    """Files a `> file` or `>> file` redirection wrote (`echo. > x.py`, `cat <<EOF > config.yml`);
    streams (`2>&1`) and devices (`/dev/null`) are not files."""
    out: list[ShellChange] = []
    for k, a in enumerate(args):
        target = ""
        if a in (">", ">>", "1>", "1>>") and k + 1 < len(args):
            target = args[k + 1]
        elif a.startswith(">") and not a.startswith((">&", ">>&")) and a.strip(">"):
            target = a.lstrip(">")
        if target and not target.startswith(("&", "/dev/", "$", "(")):
            out.append(ShellChange(target, "modified", cwd, why=seg))
    return out


def file_changes(segment: str, output: str, cwd: str) -> list[ShellChange]:
    """Files one successful shell segment changed (best effort; paths relative to `cwd`)."""
    seg = segment.strip()
    out: list[ShellChange] = []
    m = _PKG_RE.match(seg)
    if m:
        tool, verb, rest = m.group(1), m.group(2), m.group(3) or ""
        pkgs = [a for a in rest.split() if not a.startswith("-")]
        if pkgs or verb in ("add", "remove", "rm", "uninstall", "un"):
            out.append(ShellChange("package.json", "modified", cwd, why=seg))
        if pkgs or verb in ("install", "i", "update", "up", "upgrade"):
            out.append(ShellChange(_LOCKS[tool], "modified", cwd, why=seg))
        return out
    for rx, files in _MANIFEST_CMDS:
        if rx.match(seg):
            return [ShellChange(f, "modified", cwd, why=seg) for f in files]
    for rx, proof, files in _LOCK_BY_OUTPUT:
        if rx.match(seg):
            return [ShellChange(f, "modified", cwd, why=seg) for f in files] if proof.search(output or "") else []
    args = _args(seg)
    if not args:
        return out
    out += _redirected(args, cwd, seg)
    prog = args[0]
    if prog == "git" and len(args) > 1 and args[1] in ("mv", "rm"):
        if "--cached" in args:  # `git rm --cached x`: out of the index only, the file stays on disk
            return out
        prog, args = args[1], args[1:]
    if prog == "mv":
        ps = _paths(args[1:])
        if len(ps) == 2:
            out.append(ShellChange(ps[1], "renamed", cwd, old_path=ps[0], why=seg))
    elif prog == "rm":
        out += [ShellChange(p, "deleted", cwd, why=seg) for p in _paths(args[1:]) if "*" not in p]
    elif prog == "cp":
        ps = _paths(args[1:])
        if len(ps) == 2 and not ps[1].endswith("/"):
            out.append(ShellChange(ps[1], "added", cwd, why=seg))
    elif prog == "touch":
        out += [ShellChange(p, "added", cwd, why=seg) for p in _paths(args[1:])]
    elif prog == "sed" and any(a.startswith("-i") for a in args[1:]):
        ps = _paths(args[1:])
        if len(ps) >= 2:
            out += [ShellChange(p, "modified", cwd, why=seg) for p in ps[1:]]
    elif _FORMATTERS.match(seg):
        out += [ShellChange(p, "modified", cwd, why=seg) for p in _paths(args[1:]) if "." in p.rsplit("/", 1)[-1]]
    if output and not out:
        for gm in _GENERATED_RE.finditer(output[:20000]):
            out.append(ShellChange(gm.group(1), "added", cwd, why=seg))
    return out


# -- git's own output -------------------------------------------------------------------------------

_ST_LONG = re.compile(r"^\t(?:(modified|new file|deleted|renamed|typechange):\s+)?(.+?)\s*$")
_ST_SHORT = re.compile(r"^([ MADRCU?!]{2}) (.+)$")
_AHEAD = re.compile(r"Your branch is ahead of '([^']+)' by (\d+) commits?")
_UP_TO_DATE = re.compile(r"Your branch is up to date with '([^']+)'")
_STAT = re.compile(r"^\s*(\S.*?)\s+\|\s+(?:\d+|Bin)")
_PUSH_REF = re.compile(r"^\s*(?:\+|\*|-)?\s*(?:\[new branch\]|[0-9a-f]{7,}\.\.\.?[0-9a-f]{7,})\s+(\S+)\s+->\s+(\S+)", re.M)
_PUSH_UPSTREAM = re.compile(r"(?:branch '?([^'\s]+)'? set up to track '?([^'\s]+)'?|set up to track remote branch)")
_COMMIT_OUT = re.compile(r"(?m)^\[([^\s\]]+)(?: \(root-commit\))? ([0-9a-f]{7,40})\] (.+)$")
_CREATE_MODE = re.compile(r"(?m)^\s*create mode \d+ (.+)$")
_LOG_ONELINE = re.compile(r"(?m)^(?:\* )?([0-9a-f]{7,40}) (?:\([^)]*\) )?(.+)$")


@dataclass
class GitStatus:
    """What `git status` / `git diff --stat` printed: the changed and untracked paths."""

    changed: list[str] = field(default_factory=list)
    untracked: list[str] = field(default_factory=list)
    clean: bool = False
    upstream: str = ""
    ahead: int = 0
    on_branch: bool = False  # the long form, which always names the upstream when there is one


def parse_status(output: str) -> GitStatus:
    st = GitStatus(clean="nothing to commit" in output and "Changes" not in output,
                   on_branch=bool(re.search(r"(?m)^On branch \S+", output)))
    m = _AHEAD.search(output)
    if m:
        st.upstream, st.ahead = m.group(1), int(m.group(2))
    m = _UP_TO_DATE.search(output)
    if m:
        st.upstream = m.group(1)
    section = ""
    for line in output.split("\n"):
        if line.startswith("Changes to be committed") or line.startswith("Changes not staged"):
            section = "changed"
            continue
        if line.startswith("Untracked files"):
            section = "untracked"
            continue
        if section and line.startswith("\t"):
            m = _ST_LONG.match(line)
            if m:
                path = m.group(2).split(" -> ")[-1]
                (st.untracked if section == "untracked" else st.changed).append(path)
            continue
        m = _ST_SHORT.match(line)
        if m and not section and not line.startswith("##"):
            code_, path = m.group(1), m.group(2).split(" -> ")[-1]
            (st.untracked if code_ == "??" else st.changed).append(path)
    return st


def parse_diff_stat(output: str) -> list[str]:
    return [m.group(1).strip() for m in map(_STAT.match, output.split("\n")) if m and "=>" not in m.group(1)]


@dataclass
class Push:
    ok: bool
    refs: list[tuple[str, str]] = field(default_factory=list)  # (local, remote)
    upstream: str = ""
    up_to_date: bool = False


def parse_push(output: str, failed: bool) -> Push:
    """A push pushed something only when git says so (a ref update line or 'Everything up-to-date')."""
    refs = [(m.group(1), m.group(2)) for m in _PUSH_REF.finditer(output)]
    up = _PUSH_UPSTREAM.search(output)
    up_to_date = "Everything up-to-date" in output
    rejected = "[rejected]" in output or "failed to push" in output or "[remote rejected]" in output
    ok = not failed and not rejected and (bool(refs) or up_to_date)
    return Push(ok, refs, (up.group(2) or "") if up and up.group(2) else ("set" if up else ""), up_to_date)


@dataclass
class CommitOut:
    branch: str
    sha: str
    subject: str
    created: list[str] = field(default_factory=list)


def parse_commit(output: str) -> CommitOut | None:
    m = _COMMIT_OUT.search(output)
    if not m:
        return None
    return CommitOut(m.group(1), m.group(2), m.group(3).strip(), [c.strip() for c in _CREATE_MODE.findall(output)])


def parse_log(output: str) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2).strip()) for m in _LOG_ONELINE.finditer(output)]


_HEREDOC = re.compile(r"<<-?\s*['\"]?(\w+)['\"]?\s*\n(.*?)\n\s*\1\b", re.S)
_M_ARG = re.compile(r"""(?:^|\s)-m\s+(?:"((?:[^"\\]|\\.)*)"|'([^']*)')""")


def commit_message(command: str) -> str:
    """The full message a `git commit` command passed (heredoc or `-m` arguments), or ""."""
    if "commit" not in command:
        return ""
    h = _HEREDOC.search(command)
    if h:
        return h.group(2).strip()
    parts = [a or b for a, b in _M_ARG.findall(command)]
    return "\n\n".join(p.strip() for p in parts if p and not p.startswith("$(")).strip()


def staged_paths(segment: str) -> tuple[list[str], bool, bool]:
    """(paths, everything, forced) of a `git add` segment: `-A`/`.`/`-u` stage everything."""
    args = _args(segment)
    if len(args) < 2 or args[0] != "git":
        return [], False, False
    k = 1
    while k < len(args) and args[k] in ("-C",):
        k += 2
    if k >= len(args) or args[k] != "add":
        return [], False, False
    rest = args[k + 1:]
    forced = any(a in ("-f", "--force") for a in rest)
    everything = any(a in ("-A", "--all", ".", "-u", "--update") for a in rest)
    return [a for a in rest if not a.startswith("-")], everything, forced
