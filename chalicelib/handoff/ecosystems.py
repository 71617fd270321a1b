"""The ecosystems registry: which shell commands are checks (test, lint, build, type-check) or setup,
and how to read their output, as one table of records.

Knowing that `cargo nextest run` is a test run, or that "12 examples, 1 failure" means RSpec failed,
is per-language knowledge. It lives here as data, so adding a language is one record (and one test
with a real command line and its typical pass and fail output), not edits to regexes in several files.
`facts.classify` builds its TEST/BUILD/SETUP patterns from these records; `LANGUAGES` says which
files and tools belong together (what an edit can make stale).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

# What may precede the tool itself: sudo/time/env, VAR=value, a runner (uv run, npx, bundle exec, python -m).
COMMAND_PREFIX = (
    r"^(?:(?:sudo|time|env|exec|command|nice)\s+|timeout\s+\S+\s+|[A-Z_][A-Z0-9_]*=\S*\s+)*"
    r"(?:(?:uv|poetry|pipenv|pdm|hatch|rye)\s+run\s+|bundle\s+exec\s+|npx\s+|pnpx\s+|bunx\s+"
    r"|(?:\S*/)?python3?(?:\.\d+)?\s+-m\s+|\S*/(?=\w))?"
)
KINDS = ("test", "lint", "build", "typecheck", "setup")


@dataclass(frozen=True)
class Ecosystem:
    """One kind of command of one ecosystem.

    `command`: regex alternatives for the tool (after COMMAND_PREFIX, anchored at a word end).
    `summary`: the output line that sums the run up; named groups `passed`, `failed`, `total` when it counts.
    `failure`: a line that only a failing run prints (the one worth quoting).
    """

    ecosystem: str
    kind: str  # test | lint | build | typecheck | setup
    command: str
    summary: str = ""
    failure: str = ""


ECOSYSTEMS: tuple[Ecosystem, ...] = (
    # -- Python
    Ecosystem("python", "test", r"pytest|py\.test|tox|nox|unittest|manage\.py\s+test",
              r"(?m)^(?:=+ )?(?:(?P<failed>\d+) failed)?(?:, )?(?:(?P<passed>\d+) passed)?[^\n]*? in [\d.]+s\b",
              r"(?m)^(?:FAILED \S.*|E\s{2,}\S.*)$"),
    Ecosystem("python", "lint", r"ruff(?:\s+check)?|flake8|pylint|black|isort",
              r"Found (?P<failed>\d+) errors?|All checks passed!",
              r"(?m)^\S+\.py:\d+:\d+: [A-Z]+\d+ .+$"),
    Ecosystem("python", "typecheck", r"mypy|pyright",
              r"Found (?P<failed>\d+) errors? in \d+ files?|Success: no issues found|(?P<failed2>\d+) errors?, \d+ warnings?",
              r"(?m)^\s*\S+\.py:\d+(?::\d+)?:? (?:error|- error): .+$"),
    Ecosystem("python", "setup", r"pip3?\s+install|poetry\s+install|uv\s+(?:sync|pip\s+install|add)|alembic\s+\w+"
              r"|manage\.py\s+migrate",
              r"(?m)^Successfully installed .+$", r"(?m)^ERROR: .+$"),
    # -- JavaScript / TypeScript
    Ecosystem("js", "test", r"(?:npm|pnpm|yarn|bun)\s+(?:run\s+)?test(?::\S+)?|bun\s+test|deno\s+test|vitest|jest"
              r"|mocha|ava|karma|playwright\s+test|cypress\s+run|node\s+--test",
              r"(?m)^\s*Tests:?\s+(?:(?P<failed>\d+) failed\s*[,|]\s*)?(?:\d+ skipped\s*[,|]\s*)?(?P<passed>\d+) passed",
              r"(?m)^\s*(?:FAIL\s+\S+.*|●\s.+|×\s.+)$"),
    Ecosystem("js", "lint", r"(?:npm|pnpm|yarn|bun)\s+(?:run\s+)?(?:lint|check|format)|eslint|prettier",
              r"✖ \d+ problems? \((?P<failed>\d+) errors?",
              r"(?m)^\s+\d+:\d+\s+error\s+.+$"),
    Ecosystem("js", "typecheck", r"tsc|(?:npm|pnpm|yarn|bun)\s+(?:run\s+)?typecheck",
              r"Found (?P<failed>\d+) errors?",
              r"(?m)^\S+(?:\(\d+,\d+\)|:\d+:\d+ -) error TS\d+: .+$"),
    Ecosystem("js", "build", r"(?:npm|pnpm|yarn|bun)\s+(?:run\s+)?build|node\s+\S*build\S*",
              r"(?m)^.*\bbuilt in [\d.]+m?s\b.*$", r"(?m)^(?:npm ERR!|npm error|error during build:|\[vite\]).*$"),
    Ecosystem("js", "setup", r"(?:npm|pnpm|yarn|bun)\s+(?:install|ci|add)",
              r"(?m)^(?:added|up to date) .*$", r"(?m)^(?:npm ERR!|npm error) .+$"),
    # -- Go
    Ecosystem("go", "test", r"go\s+test",
              r"(?m)^(?:ok|FAIL)\s+\S+\s+[\d.]+s$", r"(?m)^\s*--- FAIL: .+$"),
    Ecosystem("go", "build", r"go\s+(?:build|vet)", "", r"(?m)^(?:\./)?\S+\.go:\d+:\d+: .+$"),
    Ecosystem("go", "lint", r"golangci-lint", r"(?P<failed>\d+) issues?\.", r"(?m)^\S+\.go:\d+:\d+: .+$"),
    Ecosystem("go", "setup", r"go\s+(?:mod|get)", "", r"(?m)^.*(?:cannot find module|no matching versions|go: .*\berror\b).*$"),
    # -- Rust
    Ecosystem("rust", "test", r"cargo\s+(?:test|nextest)",
              r"test result: \w+\. (?P<passed>\d+) passed; (?P<failed>\d+) failed",
              r"(?m)^(?:---- \S+ stdout ----|thread '.+' panicked at .+)$"),
    Ecosystem("rust", "build", r"cargo\s+(?:build|check)",
              r"(?m)^\s*Finished .* in [\d.]+s$", r"(?m)^error(?:\[E\d+\])?: .+$"),
    Ecosystem("rust", "lint", r"cargo\s+(?:clippy|fmt\s+--check)",
              r"(?m)^\s*Finished .* in [\d.]+s$", r"(?m)^(?:error(?:\[E\d+\])?: .+|error: .+|Diff in .+)$"),
    Ecosystem("rust", "setup", r"cargo\s+add", r"(?m)^\s*Adding .+$", r"(?m)^error: .+$"),
    # -- Java / Kotlin
    Ecosystem("jvm", "test", r"(?:\./)?gradlew?\s+(?:\S+\s+)*?test|mvn\s+(?:\S+\s+)*?(?:test|verify)",
              r"Tests run: (?P<total>\d+), Failures: (?P<failed>\d+)|(?P<total2>\d+) tests completed, (?P<failed2>\d+) failed",
              r"(?m)^(?:\[ERROR\] (?!Tests run).+|.+ FAILED)$"),
    Ecosystem("jvm", "build", r"(?:\./)?gradlew?\s+build|mvn\s+(?:compile|package|install)",
              r"(?m)^(?:BUILD SUCCESSFUL.*|\[INFO\] BUILD SUCCESS)$",
              r"(?m)^(?:e: .+|\[ERROR\] .+|BUILD FAILED.*)$"),
    # -- Ruby
    Ecosystem("ruby", "test", r"rspec|rake\s+(?:test|spec)",
              r"(?P<total>\d+) (?:examples?|runs?|tests?), (?:\d+ assertions, )?(?P<failed>\d+) failures?",
              r"(?m)^(?:rspec \./\S+.*|\s+Failure/Error: .+)$"),
    Ecosystem("ruby", "lint", r"rubocop", r"\d+ files? inspected, (?:no|(?P<failed>\d+)) offenses? detected",
              r"(?m)^\S+\.rb:\d+:\d+: [CWEF]: .+$"),
    Ecosystem("ruby", "setup", r"bundle\s+install|rails\s+db:\w+", r"(?m)^Bundle complete!.*$",
              r"(?m)^(?:Could not find .+|An error occurred .+)$"),
    # -- PHP
    Ecosystem("php", "test", r"phpunit",
              r"OK \((?P<passed>\d+) tests?|Tests: (?P<total>\d+), Assertions: \d+, (?:Errors: \d+, )?Failures: (?P<failed>\d+)",
              r"(?m)^\d+\) \S+::\S+$"),
    Ecosystem("php", "typecheck", r"phpstan", r"\[ERROR\] Found (?P<failed>\d+) errors?|\[OK\] No errors",
              r"(?m)^\s*:?\d+\s{2,}\S.+$"),
    # -- C / C++ (make, cmake, ctest)
    Ecosystem("c/c++", "test", r"make\s+(?:\S+\s+)*?(?:test|check)[\w.-]*|ctest",
              r"\d+% tests passed, (?P<failed>\d+) tests? failed out of (?P<total>\d+)",
              r"(?m)^\s*\d+ - \S+ \(Failed\)$"),
    Ecosystem("c/c++", "build", r"make(?:\s+[\w.-]+)?|cmake",
              r"\[100%\] Built target \S+", r"(?m)^(?:\S+:\d+:\d+: (?:fatal )?error: .+|make: \*\*\* .+)$"),
    # -- Elixir
    Ecosystem("elixir", "test", r"mix\s+test",
              r"(?P<total>\d+) tests?, (?P<failed>\d+) failures?", r"(?m)^\s+\d+\) test .+$"),
    Ecosystem("elixir", "build", r"mix\s+compile", r"(?m)^Generated \S+ app$",
              r"(?m)^(?:\*\* \(\w*Error\).+|== Compilation error.+|error: .+)$"),
    Ecosystem("elixir", "lint", r"mix\s+credo|mix\s+format\s+--check\S*",
              r"found (?:no issues|(?P<failed>\d+) [\w ]+?)\.",
              r"(?m)^\s*┃ \[[A-Z]\] .+$|^\*\* \(Mix\) mix format failed.*$"),
    Ecosystem("elixir", "typecheck", r"mix\s+dialyzer", r"done \(passed successfully\)|Total errors: (?P<failed>\d+)",
              r"(?m)^\S+\.exs?:\d+:.+$"),
    Ecosystem("elixir", "setup", r"mix\s+(?:deps\.get|ecto\.\w+|ash\.\w+|phx\.\w+)", r"(?m)^All dependencies are up to date$",
              r"(?m)^\*\* \(\w+\) .+$"),
    # -- shell
    Ecosystem("shell", "test", r"bats", r"(?m)^1\.\.(?P<total>\d+)$", r"(?m)^not ok \d+ .+$"),
    Ecosystem("shell", "lint", r"shellcheck", "", r"(?m)^In \S+ line \d+:$"),
    # -- .NET and Swift
    Ecosystem("dotnet", "test", r"dotnet\s+test",
              r"(?:Failed|Passed)!\s+-\s+Failed:\s+(?P<failed>\d+), Passed:\s+(?P<passed>\d+)",
              r"(?m)^\s*Failed \S+ \[.+$"),
    Ecosystem("swift", "test", r"swift\s+test",
              r"Executed (?P<total>\d+) tests?, with (?P<failed>\d+) failures?",
              r"(?m)^.+: error: .+ : XCT\w+ failed.*$"),
    # -- containers and infrastructure
    Ecosystem("infra", "build", r"docker\s+(?:build|compose\s+build)|terraform\s+(?:plan|validate)|chalice\s+package",
              r"(?m)^(?:Success! The configuration is valid\.|Plan: .+|.*naming to \S+ done)$",
              r"(?m)^(?:│ Error: .+|Error: .+|ERROR: .+)$"),
    Ecosystem("infra", "setup", r"docker\s+compose\s+up", r"(?m)^.*(?:Started|Running)$", r"(?m)^Error .+$"),
)
assert all(r.kind in KINDS for r in ECOSYSTEMS)


@dataclass(frozen=True)
class Language:
    """The files and the tools of one ecosystem: an edit of one language's file cannot make another
    language's check stale (a new `mix.lock` cannot break a vitest run). Manifests and lock files
    belong to their ecosystem too. A file or a tool of no language here may affect every check."""

    ecosystem: str
    extensions: tuple[str, ...]  # source files, by ending
    files: tuple[str, ...] = ()  # manifests and lock files, by name
    tools: tuple[str, ...] = ()  # the executables its checks start with


# C/C++ and shell are left out on purpose: other languages' tests build or run them (a C extension, a
# script the tests call), so their edits may affect any check; `make`, `just` and the like run anything.
LANGUAGES: tuple[Language, ...] = (
    Language("elixir", (".ex", ".exs", ".heex", ".eex", ".leex"), ("mix.lock",), ("mix", "elixir", "iex")),
    Language("js", (".js", ".jsx", ".ts", ".tsx", ".mjs", ".cjs", ".vue", ".svelte"),
             ("package.json", "package-lock.json", "pnpm-lock.yaml", "yarn.lock"),
             ("npm", "pnpm", "yarn", "bun", "node", "npx", "vitest", "jest", "tsc", "eslint", "esbuild", "vite",
              "webpack", "deno", "prettier")),
    Language("python", (".py",), ("pyproject.toml", "poetry.lock", "uv.lock", "requirements.txt"),
             ("pytest", "python", "python3", "ruff", "mypy", "tox", "nox", "uv", "poetry", "flake8", "pyright")),
    Language("rust", (".rs",), ("Cargo.toml", "Cargo.lock"), ("cargo",)),
    Language("go", (".go",), ("go.mod", "go.sum"), ("go",)),
    Language("ruby", (".rb",), ("Gemfile", "Gemfile.lock"), ("rspec", "rake", "bundle", "rails")),
    Language("jvm", (".java", ".kt"), ("pom.xml", "build.gradle", "build.gradle.kts"), ("gradle", "gradlew", "mvn")),
)


def language_of_file(path: str) -> Language | None:
    """The language a file belongs to, by its name (`mix.lock`) or ending (`.heex`)."""
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    return next((g for g in LANGUAGES if name in g.files or name.endswith(g.extensions)), None)


def language_of_tool(tool: str) -> Language | None:
    """The language a check's executable (`npx`, `mix`, `./gradlew` as `gradlew`) belongs to."""
    return next((g for g in LANGUAGES if tool in g.tools), None)


@dataclass(frozen=True)
class DefaultIgnore:
    """A folder the ecosystem's project generator puts in `.gitignore` (`mix phx.new` ignores
    `/priv/static/assets/`): a file the agent wrote there is likely ignored, so `git status` will not
    list it and a plain `git add` refuses it, though the transcript never showed git saying so."""

    ecosystem: str
    folder: str  # relative to the project root, with a trailing slash
    generator: str  # who writes the ignore entry, as the next agent would recognise it


DEFAULT_IGNORES: tuple[DefaultIgnore, ...] = (
    DefaultIgnore("elixir", "priv/static/assets/", "Phoenix (`mix phx.new`)"),
    DefaultIgnore("elixir", "_build/", "Mix (`mix new`)"),
    DefaultIgnore("elixir", "deps/", "Mix (`mix new`)"),
    DefaultIgnore("js", "node_modules/", "npm projects"),
    DefaultIgnore("js", "dist/", "Vite and most JS project templates"),
    DefaultIgnore("rust", "target/", "Cargo (`cargo new`)"),
    DefaultIgnore("python", "__pycache__/", "Python project templates"),
    DefaultIgnore("java", ".gradle/", "Gradle (`gradle init`)"),
)


def default_ignore(path: str) -> DefaultIgnore | None:
    """The record whose folder holds `path` (relative, or absolute under any root), if any."""
    p = "/" + path.replace("\\", "/").lstrip("/")
    return next((r for r in DEFAULT_IGNORES if "/" + r.folder in p), None)


def command_pattern(kinds: tuple[str, ...]) -> re.Pattern[str]:
    """One anchored pattern matching a command of any record of these kinds."""
    alts = "|".join(f"(?:{r.command})" for r in ECOSYSTEMS if r.kind in kinds)
    return re.compile(COMMAND_PREFIX + f"(?:{alts})" + r"(?![\w-])")


@cache
def _record_patterns() -> tuple[tuple[Ecosystem, re.Pattern[str]], ...]:
    order = {"test": 0, "setup": 1}  # the precedence of facts.classify: test, then setup, then the checks
    recs = sorted(ECOSYSTEMS, key=lambda r: order.get(r.kind, 2))
    return tuple((r, re.compile(COMMAND_PREFIX + f"(?:{r.command})" + r"(?![\w-])")) for r in recs)


def record_for(segment: str) -> Ecosystem | None:
    """The record whose command this shell segment runs (None for any other command)."""
    seg = segment.strip()
    return next((r for r, rx in _record_patterns() if rx.match(seg)), None)


@dataclass(frozen=True)
class OutputSummary:
    ecosystem: str
    kind: str
    outcome: str  # pass | fail | unknown
    passed: int | None = None
    failed: int | None = None
    summary: str = ""  # the summary line as printed
    fail_line: str = ""  # the first failure line as printed


def _group(m: re.Match[str], *names: str) -> int | None:
    for n in names:
        v = m.groupdict().get(n)
        if v is not None:
            return int(v)
    return None


def parse_output(segment: str, output: str, exit_code: int | None = None) -> OutputSummary | None:
    """What a check's output says, read with its ecosystem's own patterns (None: not a known command).

    A non-zero exit, a failure count above 0 or a failure line is a fail; a summary without failures
    or a zero exit is a pass; else unknown (the output was cut, or the tool prints nothing)."""
    rec = record_for(segment)
    if rec is None:
        return None
    tail = output[-8000:]
    passed = failed = None
    line = ""
    if rec.summary:
        last = None
        for m in re.finditer(rec.summary, tail):
            if m.group(0).strip():
                last = m
        if last is not None:
            line = last.group(0).strip()
            failed = _group(last, "failed", "failed2")
            total = _group(last, "total", "total2")
            passed = _group(last, "passed")
            if passed is None and total is not None:
                passed = total - (failed or 0)
    fm = re.search(rec.failure, tail) if rec.failure else None
    if failed is None and fm is not None:  # no count printed (go test, bats): count the failure lines
        failed = len(re.findall(rec.failure, tail))
        passed = None if passed is None else max(0, passed - failed)
    fail_line = fm.group(0).strip() if fm else ""
    if (exit_code not in (None, 0)) or (failed or 0) > 0 or fm is not None:
        outcome = "fail"
    elif line or exit_code == 0:
        outcome = "pass"
    else:
        outcome = "unknown"
    return OutputSummary(rec.ecosystem, rec.kind, outcome, passed, failed if failed is not None else
                         (0 if outcome == "pass" and line else None), line, fail_line)
