"""The ecosystems registry: every record is checked on a real command line and its typical output.

The outputs below are written the way each tool prints them (current versions); a new record needs
a CASES entry, which the first test enforces.
"""

from __future__ import annotations

import pytest

from chalicelib.handoff import facts
from chalicelib.handoff.ecosystems import ECOSYSTEMS, parse_output, record_for

# (ecosystem, kind) -> (command, passing output, failing output, (passed, failed) of the failing run or None)
CASES: dict[tuple[str, str], tuple[str, str, str, tuple[int | None, int | None] | None]] = {
    ("python", "test"): (
        "uv run pytest tests/unit -q",
        "........................................ [100%]\n40 passed in 1.21s\n",
        "..F.\n=================================== FAILURES ===================================\n"
        "____ test_total ____\n\n    def test_total():\n>       assert total([1, 2]) == 4\nE       assert 3 == 4\n"
        "=========================== short test summary info ============================\n"
        "FAILED tests/test_cart.py::test_total - assert 3 == 4\n1 failed, 3 passed in 0.12s\n",
        (3, 1)),
    ("python", "lint"): (
        "ruff check chalicelib",
        "All checks passed!\n",
        "chalicelib/app.py:12:5: F841 Local variable `x` is assigned to but never used\nFound 1 error.\n",
        (None, 1)),
    ("python", "typecheck"): (
        "mypy src",
        "Success: no issues found in 14 source files\n",
        "src/app.py:10: error: Incompatible return value type (got \"str\", expected \"int\")  [return-value]\n"
        "Found 1 error in 1 file (checked 14 source files)\n",
        (None, 1)),
    ("python", "setup"): (
        "pip install -r requirements.txt",
        "Collecting requests\nSuccessfully installed requests-2.32.3 urllib3-2.2.2\n",
        "ERROR: Could not find a version that satisfies the requirement reqeusts (from versions: none)\n"
        "ERROR: No matching distribution found for reqeusts\n",
        None),
    ("js", "test"): (
        "npx jest src/cart.test.ts",
        "PASS src/cart.test.ts\nTests:       12 passed, 12 total\nTime:        1.2 s\n",
        "FAIL src/cart.test.ts\n  ● cart › totals\n\n    expect(received).toBe(expected)\n\n"
        "Tests:       1 failed, 11 passed, 12 total\n",
        (11, 1)),
    ("js", "lint"): (
        "npm run lint",
        "\n> app@1.0.0 lint\n> eslint .\n\n",
        "/app/src/index.js\n  3:7  error  'x' is assigned a value but never used  no-unused-vars\n\n"
        "✖ 1 problem (1 error, 0 warnings)\n",
        (None, 1)),
    ("js", "typecheck"): (
        "npx tsc --noEmit",
        "",
        "src/a.ts(3,7): error TS2322: Type 'string' is not assignable to type 'number'.\n\nFound 1 error in src/a.ts:3\n",
        (None, 1)),
    ("js", "build"): (
        "npm run build",
        "vite v5.4.2 building for production...\n✓ 31 modules transformed.\n✓ built in 812ms\n",
        "vite v5.4.2 building for production...\nerror during build:\nCould not resolve \"./missing\" from src/main.ts\n",
        None),
    ("js", "setup"): (
        "npm ci",
        "added 312 packages, and audited 313 packages in 6s\nfound 0 vulnerabilities\n",
        "npm error code ERESOLVE\nnpm error ERESOLVE unable to resolve dependency tree\n",
        None),
    ("go", "test"): (
        "go test ./...",
        "ok  \texample.com/calc\t0.003s\n",
        "--- FAIL: TestAdd (0.00s)\n    calc_test.go:9: Add(2, 2) = 5; want 4\nFAIL\nFAIL\texample.com/calc\t0.004s\n",
        (None, 1)),
    ("go", "build"): (
        "go vet ./...",
        "",
        "# example.com/calc\n./calc.go:7:2: declared and not used: x\n",
        None),
    ("go", "lint"): (
        "golangci-lint run",
        "0 issues.\n",
        "calc.go:7:2: ineffectual assignment to x (ineffassign)\n1 issues:\n* ineffassign: 1\n",
        None),
    ("go", "setup"): (
        "go mod tidy",
        "go: finding module for package github.com/google/uuid\ngo: found github.com/google/uuid in github.com/google/uuid v1.6.0\n",
        "go: example.com/calc imports\n\tgithub.com/nope/x: cannot find module providing package github.com/nope/x\n",
        None),
    ("rust", "test"): (
        "cargo test",
        "running 4 tests\ntest tests::adds ... ok\n\ntest result: ok. 4 passed; 0 failed; 0 ignored; 0 measured\n",
        "running 4 tests\ntest tests::adds ... FAILED\n\n---- tests::adds stdout ----\n"
        "thread 'tests::adds' panicked at src/lib.rs:10:9:\nassertion `left == right` failed\n\n"
        "test result: FAILED. 3 passed; 1 failed; 0 ignored; 0 measured\n",
        (3, 1)),
    ("rust", "build"): (
        "cargo build --release",
        "   Compiling calc v0.1.0 (/w/calc)\n    Finished `release` profile [optimized] target(s) in 2.31s\n",
        "error[E0308]: mismatched types\n --> src/lib.rs:3:5\n\nerror: could not compile `calc` (lib) due to 1 previous error\n",
        None),
    ("rust", "lint"): (
        "cargo clippy -- -D warnings",
        "    Checking calc v0.1.0 (/w/calc)\n    Finished `dev` profile [unoptimized + debuginfo] target(s) in 0.41s\n",
        "error: this `if` has identical blocks\n --> src/lib.rs:4:5\nerror: could not compile `calc` (lib) due to 1 previous error\n",
        None),
    ("rust", "setup"): (
        "cargo add serde --features derive",
        "    Updating crates.io index\n      Adding serde v1.0.210 to dependencies\n",
        "error: the crate `sered` could not be found in registry index.\n",
        None),
    ("jvm", "test"): (
        "./gradlew test",
        "> Task :test\n\nBUILD SUCCESSFUL in 8s\n",
        "> Task :test FAILED\n\nCartTest > totals() FAILED\n    org.opentest4j.AssertionFailedError at CartTest.kt:12\n\n"
        "4 tests completed, 1 failed\n\nFAILURE: Build failed with an exception.\n",
        (3, 1)),
    ("jvm", "build"): (
        "mvn package -q",
        "[INFO] BUILD SUCCESS\n",
        "[ERROR] /w/src/main/java/App.java:[5,9] cannot find symbol\n[INFO] BUILD FAILURE\n",
        None),
    ("ruby", "test"): (
        "bundle exec rspec spec/cart_spec.rb",
        "....\n\nFinished in 0.02 seconds (files took 0.1 seconds to load)\n4 examples, 0 failures\n",
        "..F.\n\nFailures:\n\n  1) Cart totals\n     Failure/Error: expect(cart.total).to eq(4)\n\n"
        "4 examples, 1 failure\n\nFailed examples:\n\nrspec ./spec/cart_spec.rb:5 # Cart totals\n",
        (3, 1)),
    ("ruby", "lint"): (
        "bundle exec rubocop",
        "Inspecting 12 files\n............\n\n12 files inspected, no offenses detected\n",
        "Inspecting 12 files\n...C........\n\nOffenses:\n\napp/cart.rb:3:5: C: Style/StringLiterals: Prefer single-quoted "
        "strings.\n\n12 files inspected, 1 offense detected\n",
        (None, 1)),
    ("ruby", "setup"): (
        "bundle install",
        "Fetching gem metadata from https://rubygems.org/.\nBundle complete! 12 Gemfile dependencies, 40 gems now installed.\n",
        "Could not find gem 'railz' in rubygems repository https://rubygems.org/ or installed locally.\n",
        None),
    ("php", "test"): (
        "vendor/bin/phpunit",
        "PHPUnit 10.5.0 by Sebastian Bergmann and contributors.\n\n....  4 / 4 (100%)\n\nOK (4 tests, 9 assertions)\n",
        "PHPUnit 10.5.0\n\n..F.  4 / 4 (100%)\n\nThere was 1 failure:\n\n1) CartTest::testTotal\nFailed asserting that 3 "
        "matches expected 4.\n\nFAILURES!\nTests: 4, Assertions: 9, Failures: 1.\n",
        (3, 1)),
    ("php", "typecheck"): (
        "vendor/bin/phpstan analyse src",
        " [OK] No errors\n",
        " ------ ----------------------------------\n  Line   src/Cart.php\n ------ ----------------------------------\n"
        "  12     Method Cart::total() should return int but returns string.\n\n [ERROR] Found 1 error\n",
        (None, 1)),
    ("c/c++", "test"): (
        "ctest --output-on-failure",
        "1/2 Test #1: unit ....   Passed    0.01 sec\n\n100% tests passed, 0 tests failed out of 2\n",
        "1/2 Test #1: unit ....***Failed    0.01 sec\n\n50% tests passed, 1 tests failed out of 2\n\n"
        "The following tests FAILED:\n\t  1 - unit (Failed)\n",
        (1, 1)),
    ("c/c++", "build"): (
        "make -j4",
        "[ 50%] Building C object CMakeFiles/calc.dir/calc.c.o\n[100%] Built target calc\n",
        "calc.c:7:5: error: use of undeclared identifier 'x'\nmake: *** [Makefile:12: calc.o] Error 1\n",
        None),
    ("elixir", "test"): (
        "mix test test/cart_test.exs",
        "....\nFinished in 0.04 seconds (0.02s async, 0.02s sync)\n4 tests, 0 failures\n",
        "..\n\n  1) test totals (CartTest)\n     test/cart_test.exs:5\n     Assertion with == failed\n\n"
        "Finished in 0.04 seconds\n4 tests, 1 failure\n",
        (3, 1)),
    ("elixir", "build"): (
        "mix compile --warnings-as-errors",
        "Compiling 3 files (.ex)\nGenerated cart app\n",
        "Compiling 3 files (.ex)\nerror: undefined variable \"x\"\n  lib/cart.ex:7\n\n"
        "== Compilation error in file lib/cart.ex ==\n** (CompileError) lib/cart.ex: cannot compile module\n",
        None),
    ("elixir", "lint"): (
        "mix credo --strict",
        "Checking 12 source files ...\nAnalysis took 0.2 seconds\n120 mods/funs, found no issues.\n",
        "Checking 12 source files ...\n  Code Readability\n┃ [R] → Modules should have a @moduledoc tag.\n┃       lib/cart.ex:1:11 "
        "#(Cart)\n\nAnalysis took 0.2 seconds\n120 mods/funs, found 1 code readability issue.\n",
        (None, 1)),
    ("elixir", "typecheck"): (
        "mix dialyzer",
        "Starting Dialyzer\nTotal errors: 0, Skipped: 0, Unnecessary Skips: 0\ndone (passed successfully)\n",
        "lib/cart.ex:7:no_return\nFunction total/1 has no local return.\n________________\n"
        "Total errors: 1, Skipped: 0, Unnecessary Skips: 0\ndone (warnings were emitted)\n",
        (None, 1)),
    ("elixir", "setup"): (
        "mix deps.get",
        "Resolving Hex dependencies...\nAll dependencies are up to date\n",
        "** (Mix) No package with name phoenx (from: mix.exs) in registry\n",
        None),
    ("shell", "test"): (
        "bats test/cli.bats",
        "1..3\nok 1 prints help\nok 2 rejects bad flag\nok 3 exits 0\n",
        "1..3\nok 1 prints help\nnot ok 2 rejects bad flag\n# (in test file test/cli.bats, line 9)\nok 3 exits 0\n",
        (2, 1)),
    ("shell", "lint"): (
        "shellcheck scripts/deploy.sh",
        "",
        "\nIn scripts/deploy.sh line 4:\necho $1\n     ^-- SC2086 (info): Double quote to prevent globbing and word splitting.\n",
        None),
    ("dotnet", "test"): (
        "dotnet test",
        "Passed!  - Failed:     0, Passed:    12, Skipped:     0, Total:    12, Duration: 80 ms\n",
        "  Failed CartTests.Total [12 ms]\n  Error Message:\n   Assert.Equal() Failure\n"
        "Failed!  - Failed:     1, Passed:    11, Skipped:     0, Total:    12, Duration: 90 ms\n",
        (11, 1)),
    ("swift", "test"): (
        "swift test",
        "Test Suite 'All tests' passed at 2026-01-01 10:00:00.000.\n\t Executed 4 tests, with 0 failures (0 unexpected) in 0.01 seconds\n",
        "/w/Tests/CartTests.swift:9: error: -[CartTests.CartTests testTotal] : XCTAssertEqual failed: (\"3\") is not "
        "equal to (\"4\")\n\t Executed 4 tests, with 1 failure (0 unexpected) in 0.01 seconds\n",
        (3, 1)),
    ("infra", "build"): (
        "terraform validate",
        "Success! The configuration is valid.\n",
        "╷\n│ Error: Unsupported argument\n│\n│   on main.tf line 3, in resource \"aws_s3_bucket\" \"b\":\n╵\n",
        None),
    ("infra", "setup"): (
        "docker compose up -d",
        " ✔ Container app-db-1  Started\n",
        "Error response from daemon: driver failed programming external connectivity: port is already allocated\n",
        None),
}


def test_every_record_has_a_case_and_every_case_a_record() -> None:
    keys = {(r.ecosystem, r.kind) for r in ECOSYSTEMS}
    assert keys == set(CASES)
    assert len(keys) == len(ECOSYSTEMS), "one record per (ecosystem, kind)"


@pytest.mark.parametrize("key", sorted(CASES), ids=lambda k: f"{k[0]}-{k[1]}")
def test_record_reads_its_command_and_outputs(key: tuple[str, str]) -> None:
    command, ok, bad, counts = CASES[key]
    rec = record_for(command)
    assert rec is not None and (rec.ecosystem, rec.kind) == key
    kind = facts.classify(command)
    assert kind == {"test": "test", "setup": "setup"}.get(key[1], "build")
    passing = parse_output(command, ok, 0)
    assert passing is not None and passing.outcome == "pass" and not passing.fail_line
    failing = parse_output(command, bad, 1)
    assert failing is not None and failing.outcome == "fail"
    if counts is not None:
        assert (failing.passed, failing.failed) == counts
    if CASES[key][2] and next(r for r in ECOSYSTEMS if (r.ecosystem, r.kind) == key).failure:
        # without the exit code, the output alone tells a failing run (a cut or background run has none)
        assert parse_output(command, bad, None).outcome == "fail"


def test_unknown_commands_have_no_record() -> None:
    assert record_for("ls -la") is None and parse_output("echo hi", "hi", 0) is None
    assert record_for("pytestify") is None  # a tool name must end at a word boundary


# folder a generator ignores -> (a file an agent would write there, a file of the same name outside it)
IGNORE_CASES = {
    "priv/static/assets/": ("priv/static/assets/app.css", "assets/css/app.css"),
    "_build/": ("_build/test/lib/app/ebin/app.app", "lib/build.ex"),
    "deps/": ("deps/jason/mix.exs", "lib/deps.ex"),
    "node_modules/": ("web/node_modules/react/index.js", "web/src/index.js"),
    "dist/": ("dist/assets/index-3f2a.js", "src/distance.ts"),
    "target/": ("target/debug/build/out.rs", "src/target.rs"),
    "__pycache__/": ("src/pkg/__pycache__/mod.cpython-311.pyc", "src/pkg/mod.py"),
    ".gradle/": (".gradle/8.5/checksums/sha1.bin", "gradle/wrapper/gradle-wrapper.properties"),
}


def test_every_default_ignore_record_has_a_case() -> None:
    from chalicelib.handoff.ecosystems import DEFAULT_IGNORES
    assert {r.folder for r in DEFAULT_IGNORES} == set(IGNORE_CASES)


@pytest.mark.parametrize("folder", sorted(IGNORE_CASES))
def test_a_default_ignore_record_matches_its_folder_only(folder: str) -> None:
    from chalicelib.handoff.ecosystems import default_ignore
    inside, outside = IGNORE_CASES[folder]
    rec = default_ignore(inside)
    assert rec is not None and rec.folder == folder
    assert default_ignore("/home/u/proj/" + inside) == rec  # absolute under any root
    assert default_ignore(outside) is None
