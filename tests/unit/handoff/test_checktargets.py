"""checktargets: what a check command checks, and when a later run covers an earlier one."""

from __future__ import annotations

import pytest

from chalicelib.handoff.checktargets import covers, hook_checks, hook_covers, target


@pytest.mark.parametrize(("later", "earlier", "expected"), [
    ("pytest -q", "pytest tests/test_a.py -q", True),  # the whole suite after one file
    ("uv run pytest tests", "python -m pytest -q tests/test_a.py::test_x", True),  # runners, a directory
    ("pytest tests/test_b.py", "pytest tests/test_a.py", False),
    ("pytest -k login", "pytest tests/test_a.py", False),  # a filter is no wider run
    ("npx vitest run", "vitest run src/a.test.ts", True),
    ("go test ./...", "go test ./pkg/ops", True),
    ("go vet ./...", "go test ./pkg/ops", False),  # another subcommand checks something else
    ("cargo test", "cargo test -p core", True),
    ("cargo test -p web", "cargo test -p core", False),
    ("mvn test", "mvn test -Dtest=FooTest", True),
    ("npm run lint", "npm run test", False),
])
def test_covers(later: str, earlier: str, expected: bool) -> None:
    assert covers(target(later), target(earlier)) is expected


def test_a_target_run_from_a_subdirectory_is_the_same_target() -> None:
    assert covers(target("node build.js", cwd="assets"), target("node assets/build.js"))


def test_pre_commit_hook_output_names_what_passed() -> None:
    out = ("ruff.....................................................................Passed\n"
           "mypy.....................................................................Failed\n"
           "eslint...........................................(no files to check)Skipped\n")
    assert hook_checks(out) == ["ruff"]
    assert hook_covers(["ruff"], target("ruff check src/a.py")) and not hook_covers(["ruff"], target("mypy src"))
    assert hook_covers(["go-vet"], target("go vet ./..."))
