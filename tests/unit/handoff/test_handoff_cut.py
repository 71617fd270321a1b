"""A transcript cut right after the agent acted (issue 16, class 2): what was issued but not answered.

A live session is handed off at any record, often between a command and its result: the commit the
agent just issued, whose output the transcript does not have yet. Its files are neither committed
nor uncommitted as far as the transcript can tell, and the document must say so, not "commit them".
"""

from __future__ import annotations

from chalicelib.transcripts.model import Message, ToolCall
from tests.unit.handoff.agent_scripts import ClaudeScript, handoff, section

COMMIT = "git add .beads/ && git commit -m \"$(cat <<'EOF'\nfeat: annotations (app-7)\n\nCo-Authored-By: x\nEOF\n)\""


def _issue(s: ClaudeScript, command: str) -> None:
    """The agent's last tool call, with no result: the transcript ends before it came."""
    s.messages.append(Message(role="assistant", tool_calls=[ToolCall("Bash", {"command": command}, "toolu_last")],
                              meta={"cwd": s.cwd, "gitBranch": "main"}))


def _session() -> ClaudeScript:
    s = ClaudeScript()
    s.user("Implement app-7")
    s.change("lib/app/annotation.ex", "a = 1\n", "a = 2\n")
    s.change("priv/repo/migrations/20260211_add_refs.exs", "x = 1\n", "x = 2\n")  # written over a generated file
    s.run("git status", "On branch main\nChanges not staged for commit:\n\tmodified:   lib/app/annotation.ex\n\n"
          "Untracked files:\n\tpriv/repo/migrations/20260211_add_refs.exs\n\n"
          "no changes added to commit (use \"git add\" and/or \"git commit -a\")\n")
    s.run("git diff --stat", " lib/app/annotation.ex | 2 +-\n 1 file changed, 1 insertion(+), 1 deletion(-)\n")
    return s


def test_an_untracked_file_is_not_clean_because_git_diff_omits_it() -> None:
    doc = handoff(_session())
    cs = doc.data["current_state"]
    assert cs["uncommitted"] == ["lib/app/annotation.ex", "priv/repo/migrations/20260211_add_refs.exs"]
    assert "git listed no change left" not in doc.markdown


def test_a_commit_issued_at_the_cut_leaves_its_files_not_known() -> None:
    s = _session()
    s.run("git add lib/app/annotation.ex priv/repo/migrations/20260211_add_refs.exs", "")
    s.run("bd sync --from-main", "✓ Sync from main complete")
    _issue(s, COMMIT)
    doc = handoff(s)
    cs = doc.data["current_state"]
    assert cs["uncommitted"] == []
    assert cs["changed_not_known"] == ["lib/app/annotation.ex", "priv/repo/migrations/20260211_add_refs.exs"]
    assert "**Uncommitted:**" not in doc.markdown
    assert not any(a.startswith("Commit ") for a in doc.data["next_actions"])
    git = section(doc.markdown, "State at the end")
    assert "was issued after it and its result is not in the transcript" in git
    assert git.count("its result is not in the transcript") == 1  # one reason for both files, said once
    last = doc.data["current_work"]["last_action"]
    assert "was issued and its result is not in the transcript" in last and "commands ran:" not in last


def test_an_answered_commit_still_commits() -> None:
    s = _session()
    s.run("git add lib/app/annotation.ex priv/repo/migrations/20260211_add_refs.exs", "")
    s.run('git commit -m "feat: annotations"', "[main 1234567] feat: annotations\n 2 files changed\n")
    cs = handoff(s).data["current_state"]
    assert cs["uncommitted"] == [] and cs["changed_not_known"] == []
