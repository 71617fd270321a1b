"""gitstate: git commands read as events, and each file's commit state resolved from them."""

from __future__ import annotations

from chalicelib.handoff.gitstate import observe, resolve


def test_adds_commits_and_snapshots_are_read_in_order() -> None:
    evs = observe(5, 'cd web && git add src/ package.json && git commit -qam "x" && git status --short',
                  "[main abc1234] x\n 2 files changed\n M web/README.md\n", False)
    assert [(e.kind, e.cwd) for e in evs] == [("add", "web"), ("commit", "web"), ("snapshot", "web")]
    assert evs[0].specs == ["src/", "package.json"] and evs[1].everything is True and evs[1].sha == "abc1234"


def test_a_piped_listing_that_was_cut_says_nothing_by_absence() -> None:
    cut = observe(1, "git status --short | head -2", " M a.py\n M b.py\n", False)[0]
    whole = observe(1, "git status --short | head -20", " M a.py\n M b.py\n", False)[0]
    assert cut.partial is True and whole.partial is False
    res = resolve({"c.py": [0]}, set(), [cut], "/r")
    assert res["c.py"].state != "clean"
    assert resolve({"c.py": [0]}, set(), [whole], "/r")["c.py"].state == "clean"


def test_stash_and_restore_discard_changes() -> None:
    evs = observe(3, "git stash", "Saved working directory and index state WIP on main: abc x", False)
    assert resolve({"a.py": [1]}, set(), evs, "/r")["a.py"].state == "clean"
    assert resolve({"new.py": [1]}, {"new.py"}, evs, "/r")["new.py"].state != "clean"  # untracked: stash keeps it
    evs = observe(3, "git restore a.py", "", False)
    res = resolve({"a.py": [1], "b.py": [1]}, set(), evs, "/r")
    assert res["a.py"].state == "clean" and res["b.py"].state == "uncommitted"


def test_a_commit_with_unseen_staging_leaves_the_state_not_known() -> None:
    evs = observe(3, 'git commit -m "wip"', "[main abc1234] wip\n 1 file changed", False)
    assert resolve({"a.py": [1]}, set(), evs, "/r")["a.py"].state == "unknown"
    evs = observe(2, "git add a.py", "", False) + evs
    res = resolve({"a.py": [1], "b.py": [1]}, set(), evs, "/r")
    assert res["a.py"].state == "committed" and res["b.py"].state == "uncommitted"


def test_a_shell_deletion_is_committed_only_by_what_stages_it() -> None:
    """`rm` deletes in the work tree only: a later commit of other files leaves the deletion uncommitted."""
    rm_then_commit = observe(3, 'git add b.py && git commit -m "b"', "[main abc1234] b\n 1 file changed", False)
    assert resolve({"old.py": [2], "b.py": [1]}, set(), rm_then_commit, "/r")["old.py"].state == "uncommitted"
    for command, output in (('git add -A && git commit -m "b"', "[main abc1234] b\n"),
                            ('git commit -am "b"', "[main abc1234] b\n"),
                            ('git commit -m "b"', "[main abc1234] b\n 1 file changed\n delete mode 100644 old.py\n")):
        res = resolve({"old.py": [2]}, set(), observe(3, command, output, False), "/r")
        assert res["old.py"].state == "committed" and res["old.py"].sha == "abc1234", command


def test_git_rm_and_git_mv_stage_what_they_change() -> None:
    evs = observe(2, "git rm -q old.py && git mv a.py lib/a.py", "", False)
    assert [(e.kind, e.specs) for e in evs] == [("add", ["old.py"]), ("add", ["a.py", "lib/a.py"])]
    evs += observe(3, 'git commit -m "move"', "[main abc1234] move\n 2 files changed\n", False)
    res = resolve({"old.py": [2], "lib/a.py": [2], "c.py": [1]}, set(), evs, "/r")
    assert res["old.py"].state == res["lib/a.py"].state == "committed"
    assert res["c.py"].state == "uncommitted"  # changed, never staged: not in this commit


def test_rm_rf_of_a_directory_is_uncommitted_until_staged() -> None:
    evs = observe(3, 'git add src/app.py && git commit -m "x"', "[main abc1234] x\n", False)
    assert resolve({"build": [2], "src/app.py": [1]}, set(), evs, "/r")["build"].state == "uncommitted"
    evs += observe(4, "git add -A build && git commit -m y", "[main def5678] y\n", False)
    assert resolve({"build": [2]}, set(), evs, "/r")["build"].state == "committed"


def test_git_rm_cached_deletes_nothing_on_disk() -> None:
    from chalicelib.handoff.shellfx import file_changes

    assert file_changes("git rm --cached .env", "rm '.env'", "") == []
    assert [(c.path, c.kind) for c in file_changes("git rm -r build", "", "")] == [("build", "deleted")]


def test_a_stash_pop_brings_stashed_changes_back() -> None:
    evs = observe(3, "git stash", "Saved working directory and index state WIP on main: abc x", False)
    evs += observe(4, "git stash pop", "Dropped refs/stash@{0} (1a2b3c4)", False)
    res = resolve({"a.py": [1]}, set(), evs, "/r")
    assert res["a.py"].state == "unknown" and "git stash pop" in res["a.py"].why  # never "clean"
    out = ("On branch main\nChanges not staged for commit:\n\tmodified:   a.py\n\n"
           "Dropped refs/stash@{0} (1a2b3c4)\n")
    evs = observe(3, "git stash", "Saved working directory", False) + observe(4, "git stash pop", out, False)
    assert resolve({"a.py": [1]}, set(), evs, "/r")["a.py"].state == "uncommitted"  # git's status after the pop
