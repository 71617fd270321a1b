"""Commits whose push the transcript never shows are 'push not seen', never 'not pushed'.

aider commits by itself and people push from another terminal: a handoff that says "9 commits are
not pushed, push them" is a guess the next session may find wrong."""

from __future__ import annotations

from chalicelib.handoff import build_handoff
from tests.unit.handoff.handoff_support import Script

ROOT = "/w/proj"


def _doc(s: Script):
    return build_handoff(project={"name": "p"}, session={"number": 1, "status": "completed"}, messages=s.messages,
                         file_changes=[], previous=None, pins=[], generated_at="t")


def _committed() -> Script:
    s = Script(cwd=ROOT).user("fix the nil map")
    s.edit(f"{ROOT}/main.go", "a\n", "b\n")
    s.bash('git commit -am "fix: nil map"', "[main 1a2b3c4] fix: nil map\n 1 file changed")
    return s


def test_no_push_and_no_status_is_not_a_claim_either_way():
    md = _doc(_committed()).markdown
    assert "not pushed" not in md and "Push when ready" not in md and "Nothing was pushed" not in md
    assert "- Committed `1a2b3c4` `fix: nil map` — push not seen" in md
    assert "whether these commits reached the remote is not known" in md
    assert "Run `git status` to see whether the 1 commit of this session reached the remote" in md


def test_git_status_ahead_after_the_commit_says_not_pushed():
    s = _committed()
    s.bash("git status", "On branch main\nYour branch is ahead of 'origin/main' by 1 commit.\n\n"
           "nothing to commit, working tree clean")
    md = _doc(s).markdown
    assert "— not pushed" in md and "Push when ready: 1 commit(s)" in md


def test_a_status_before_the_commit_does_not_count():
    s = Script(cwd=ROOT).user("fix it")
    s.bash("git status", "On branch main\nYour branch is up to date with 'origin/main'.\n")
    s.edit(f"{ROOT}/main.go", "a\n", "b\n")
    s.bash('git commit -am "fix: x"', "[main 9f8e7d6] fix: x\n 1 file changed")
    assert "push not seen" in _doc(s).markdown
