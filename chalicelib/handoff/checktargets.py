"""What a check command checks: its tool and its targets, so a later run can be said to cover an earlier one.

A failure stands until a later run covers its target: the same target again, or a wider run of the
same tool (the whole suite after one file, a directory after a file in it, `./...` after a package).
Which words of a command are the tool, which are targets and which are option values differs per
tool; that knowledge is the data below, not code:

- `RUNNERS`: prefixes that only start the tool (`uv run`, `npx`, `python -m`, `bundle exec`);
- `SUBCOMMANDS`: tools whose second word names what they do (`go test`, `cargo clippy`, `mix credo`,
  `npm run lint`), so `go test` and `go vet` are different checks;
- `VALUE_FLAGS`: options whose value is not a target (`-p no:cacheprovider`, `--reporter dot`), and
  `FILTER_FLAGS`: options that narrow a run to some tests (`-k name`, `-run TestX`, `-t name`).

Pure functions over command text.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from dataclasses import dataclass

RUNNERS = (
    ("uv", "run"), ("poetry", "run"), ("pipenv", "run"), ("pdm", "run"), ("hatch", "run"), ("rye", "run"),
    ("bundle", "exec"), ("npx",), ("pnpx",), ("bunx",), ("pnpm", "exec"), ("yarn", "exec"), ("npm", "exec"),
    ("python", "-m"), ("python3", "-m"), ("py", "-m"), ("dotnet",), ("sudo",), ("time",), ("env",), ("exec",),
)
SUBCOMMANDS = {
    "go": {"test", "vet", "build"}, "cargo": {"test", "nextest", "clippy", "check", "build", "fmt"},
    "mix": {"test", "credo", "compile", "format", "dialyzer"}, "npm": {"test", "run"}, "pnpm": {"test", "run"},
    "yarn": {"test", "run"}, "bun": {"test", "run"}, "deno": {"test", "lint", "check"}, "ruff": {"check", "format"},
    "vitest": {"run"}, "playwright": {"test"}, "swift": {"test", "build"}, "rake": {"test", "spec"},
    "gradle": {"test", "build", "check"}, "./gradlew": {"test", "build", "check"}, "gradlew": {"test", "build", "check"},
    "mvn": {"test", "verify", "compile", "package"}, "make": None, "just": None, "tox": {"-e"}, "nox": {"-s"},
    "manage.py": {"test"}, "dotnet": {"test", "build"}, "node": {"--test"}, "bin/rails": {"test"}, "rails": {"test"},
}
VALUE_FLAGS = {
    "-p", "-c", "--config", "--rootdir", "--maxfail", "-n", "--numprocesses", "--tb", "--durations", "-W",
    "--reporter", "--pool", "--project", "--timeout", "-timeout", "-count", "-j", "--jobs", "--workers",
    "--format", "-o", "--junitxml", "--cov", "--cov-report", "--color", "--target",
    "--manifest-path", "-tags", "--tags", "--seed", "--max-warnings", "--ext", "--env",
}
FILTER_FLAGS = {"-k", "-m", "-run", "--run", "-t", "--testNamePattern", "--grep", "-g", "--only", "--exact",
                "--example", "-e", "--name", "-s", "--tests", "--filter", "-pl", "--projects", "--package", "--bin",
                "--test", "--features"}
TOOL_FILTER_FLAGS = {"cargo": {"-p"}}  # `cargo test -p crate` narrows; pytest's `-p plugin` does not


@dataclass(frozen=True)
class Target:
    """A check as what it checks: the tool (with its subcommand) and the targets it was limited to."""

    tool: str
    targets: tuple[str, ...]  # paths, packages, test ids; "" entries never occur
    filters: tuple[str, ...]  # `-k name` style narrowing

    @property
    def whole(self) -> bool:
        """The whole suite (or the whole project) of its tool: no target, no filter."""
        return not self.targets and not self.filters


def _args(cmd: str) -> list[str]:
    try:
        return shlex.split(cmd)
    except ValueError:
        return cmd.split()


def target(command: str, cwd: str = "") -> Target:
    """The tool and targets of one check segment (`cd` already split off; `cwd` is where it ran)."""
    toks = [t for t in _args(command) if not re.match(r"^[A-Z_][A-Z0-9_]*=", t)]
    changed = True
    while changed and toks:
        changed = False
        for pre in RUNNERS:
            if tuple(toks[:len(pre)]) == pre and len(toks) > len(pre):
                toks = toks[len(pre):]
                changed = True
    if not toks:
        return Target("", (), ())
    tool = posixpath.basename(toks[0]) if not toks[0].startswith("./") else toks[0]
    rest = toks[1:]
    subs = SUBCOMMANDS.get(tool, set())
    if rest and (subs is None or rest[0] in subs):  # `make test`, `go test`, `npm run lint`
        tool += " " + rest[0]
        rest = rest[1:]
        if tool.endswith(" run") and rest and not rest[0].startswith("-") and tool.split()[0] in (
                "npm", "pnpm", "yarn", "bun"):
            tool += " " + rest[0]
            rest = rest[1:]
    targets: list[str] = []
    filters: list[str] = []
    k = 0
    while k < len(rest):
        a = rest[k]
        if a == "--":
            k += 1
            continue
        narrowing = FILTER_FLAGS | TOOL_FILTER_FLAGS.get(tool.split()[0], set())
        if a.startswith("-Dtest="):  # Maven's test selector
            filters.append(a)
            k += 1
            continue
        if a in narrowing and k + 1 < len(rest):
            filters.append(f"{a}={rest[k + 1]}")
            k += 2
            continue
        if "=" in a and a.split("=", 1)[0] in narrowing:
            filters.append(a)
        elif a in VALUE_FLAGS - narrowing and k + 1 < len(rest):
            k += 1
        elif not a.startswith("-"):
            targets.append(_norm(a, cwd))
        k += 1
    return Target(tool, tuple(targets), tuple(filters))


def _norm(path: str, cwd: str) -> str:
    """A target path relative to the project, without `./` or a trailing `/` (`::test` ids kept)."""
    head, sep, tail = path.partition("::")
    p = posixpath.normpath(posixpath.join(cwd, head)) if cwd and not head.startswith("/") else posixpath.normpath(head)
    p = "" if p == "." else p
    return p + sep + tail


def _covers_one(wide: str, narrow: str) -> bool:
    if wide == narrow or wide in ("", "...", "./..."):
        return True
    if wide.endswith("/..."):  # Go: a package pattern covers the packages under it
        base = wide[:-4]
        return narrow == base or narrow.startswith(base + "/")
    file_part = narrow.split("::", 1)[0]
    return file_part == wide or file_part.startswith(wide.rstrip("/") + "/")


def covers(later: Target, earlier: Target) -> bool:
    """`later` checks at least what `earlier` checked: the same tool, no narrower filter, and every
    earlier target inside one of its targets (no targets at all is the whole suite)."""
    if not later.tool or later.tool != earlier.tool:
        return False
    if later.filters and set(later.filters) != set(earlier.filters):
        return False
    if not later.targets:
        return True
    if not earlier.targets:
        return False
    return all(any(_covers_one(w, n) for w in later.targets) for n in earlier.targets)


# -- pre-commit hooks: checks a successful commit ran -------------------------------------------------

_HOOK_PASSED = re.compile(r"(?m)^(\S[^\n]*?)\.{3,}\s*(?:\(no files to check\))?\s*(Passed|Skipped)\s*$")
_LINT_STAGED = re.compile(r"(?m)^\s*(?:[✔√]|\[COMPLETED\])\s+(\S[^\n]*?)\s*$")
_HUSKY = re.compile(r"(?m)^>\s+(\S[^\n]*?)\s*$")


def hook_checks(output: str) -> list[str]:
    """What the pre-commit hooks of a successful commit ran and passed, as their names or commands
    (`ruff`, `mypy`, `eslint --fix`, `vitest run`); skipped hooks checked nothing."""
    out = [m.group(1).strip().lower() for m in _HOOK_PASSED.finditer(output) if m.group(2) == "Passed"]
    out += [m.group(1).strip().lower() for m in _LINT_STAGED.finditer(output)]
    out += [m.group(1).strip().lower() for m in _HUSKY.finditer(output)]
    return out


def hook_covers(hooks: list[str], earlier: Target) -> bool:
    """A passed hook names the failing check's tool and its subcommand (`ruff` or `ruff-check` for
    `ruff check x.py`, `go-vet` for `go vet ./...`); the generic verbs `check` and `run` need not appear."""
    tool, _, sub = earlier.tool.partition(" ")
    sub = sub.split()[-1] if sub else ""
    for h in hooks:
        words = re.split(r"[\s(),:/._-]+", h)
        if tool in words and (not sub or sub in words or sub in ("check", "run")):
            return True
    return False
