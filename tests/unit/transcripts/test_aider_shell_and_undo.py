"""aider's own lines for commands it ran, /undo, and commit messages with a ';' reach the facts as git would say."""

from __future__ import annotations

from chalicelib.handoff import build_handoff
from chalicelib.transcripts.importing import import_all

LOG = """# aider chat started at 2025-07-16 20:11:00

#### add the sync script

Here is the script.

sync.sh
```
<<<<<<< SEARCH
=======
echo sync
>>>>>>> REPLACE
```

> Applied edit to sync.sh
> Commit 1a2b3c4 feat: add sync; make it executable
> Running chmod +x sync.sh
> You can use /undo to undo and discard each aider commit.

#### now add the check script

check.sh
```
<<<<<<< SEARCH
=======
echo check
>>>>>>> REPLACE
```

> Applied edit to check.sh
> Commit 5d6e7f8 feat: add check script

#### /undo

> Removed: 5d6e7f8 feat: add check script
> Now at:  1a2b3c4 feat: add sync; make it executable
"""


def _doc():
    msgs, _stats, changes = import_all(LOG.encode(), "aider")
    return msgs, build_handoff(project={"name": "p"}, session={"number": 1, "status": "completed"}, messages=msgs,
                               file_changes=list(changes), previous=None, pins=[], generated_at="t", fmt="aider")


def test_running_lines_are_shell_commands_and_undo_is_a_reset():
    msgs, _doc_ = _doc()
    commands = [c.input.get("command") for m in msgs for c in m.tool_calls if c.name == "shell"]
    assert commands == ["git commit -m 'feat: add sync; make it executable' -- sync.sh", "chmod +x sync.sh",
                        "git commit -m 'feat: add check script' -- check.sh", "/undo"]


def test_a_commit_message_with_a_semicolon_still_commits_its_files():
    _msgs, doc = _doc()
    files = {f["path"]: f for f in doc.data["files"]}
    assert files["sync.sh"]["commit"] == "1a2b3c4" and files["sync.sh"]["uncommitted"] is False


def test_the_last_action_is_the_undo_not_the_commit_it_undid():
    _msgs, doc = _doc()
    assert "committed `5d6e7f8`" not in doc.data["current_work"]["last_action"]


def test_without_a_git_repository_there_is_no_git_status_step():
    log = ("# aider chat started at 2025-07-16 20:11:00\n\n> Aider v0.84.0\n> Git repo: none\n> Repo-map: disabled\n\n"
           "#### write the script\n\nrun.sh\n```\n<<<<<<< SEARCH\n=======\necho run\n>>>>>>> REPLACE\n```\n\n"
           "> Applied edit to run.sh\n")
    msgs, _stats, changes = import_all(log.encode(), "aider")
    doc = build_handoff(project={"name": "p"}, session={"number": 1, "status": "completed"}, messages=msgs,
                        file_changes=list(changes), previous=None, pins=[], generated_at="t", fmt="aider")
    assert "git status" not in doc.markdown
    assert "the agent said this directory has no git repository" in doc.markdown


def test_commands_after_the_last_action_are_named_with_it():
    log = LOG.replace("#### /undo", "#### /run ./deploy.sh").replace(
        "> Removed: 5d6e7f8 feat: add check script\n> Now at:  1a2b3c4 feat: add sync; make it executable\n",
        "> Running ./deploy.sh\n> deployed\n")
    msgs, _stats, changes = import_all(log.encode(), "aider")
    doc = build_handoff(project={"name": "p"}, session={"number": 1, "status": "completed"}, messages=msgs,
                        file_changes=list(changes), previous=None, pins=[], generated_at="t", fmt="aider")
    assert doc.data["current_work"]["last_action"] == "committed `5d6e7f8`; after it, commands ran: `./deploy.sh`"
