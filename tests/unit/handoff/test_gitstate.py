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
