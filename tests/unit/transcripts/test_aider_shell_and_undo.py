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


def _imported(log: str):
    """The log imported as aider and the handoff made from it, as the product makes it."""
    msgs, _stats, changes = import_all(log.encode(), "aider")
    return msgs, build_handoff(project={"name": "p"}, session={"number": 1, "status": "completed"}, messages=msgs,
                               file_changes=list(changes), previous=None, pins=[], generated_at="t", fmt="aider")


def _handoff(log: str):
    return _imported(log)[1]


def _turn(prompt: str, path: str, old: str, new: str, *aider: str) -> str:
    """One request in aider's log: the prompt, the model's SEARCH/REPLACE block, aider's own lines."""
    search = f"{old}\n" if old else ""
    return (f"#### {prompt}\n\n{path}\n```\n<<<<<<< SEARCH\n{search}=======\n{new}\n>>>>>>> REPLACE\n```\n\n"
            + "".join(f"> {ln}\n" for ln in aider) + "\n")


def _doc():
    return _imported(LOG)


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
    msgs, doc = _imported(log)
    assert "git status" not in doc.markdown
    assert "the agent said this directory has no git repository" in doc.markdown


def test_commands_after_the_last_action_are_named_with_it():
    log = LOG.replace("#### /undo", "#### /run ./deploy.sh").replace(
        "> Removed: 5d6e7f8 feat: add check script\n> Now at:  1a2b3c4 feat: add sync; make it executable\n",
        "> Running ./deploy.sh\n> deployed\n")
    msgs, doc = _imported(log)
    # aider's log never holds a command's output or exit status: it ran, its result is not known
    assert doc.data["current_work"]["last_action"] == (
        "committed `5d6e7f8`; after it, `./deploy.sh` was issued and its result is not in the transcript")


# aider deletes a file by a shell command it runs for the user, then commits a partly applied answer:
# its commit names the files it edited, never the deletion (which stays in the work tree only).
RM_LOG = """# aider chat started at 2025-07-16 20:11:00

#### make Scorer type safe

src/scorer.ts
```typescript
<<<<<<< SEARCH
export class Scorer { score(x: any) {} }
=======
export class Scorer { score(x: Signal) {} }
>>>>>>> REPLACE
```

> Applied edit to src/scorer.ts
> Commit 0f0e0d0 refactor: type Scorer input

#### replace Scorer with Ranker and remove the old file

ranker.ts
```typescript
<<<<<<< SEARCH
=======
export class Ranker {}
>>>>>>> REPLACE
```

```bash
rm src/scorer.ts
```

> validators/ranker.ts
> Create new file? (Y)es/(N)o [Yes]: y
> Applied edit to ranker.ts
> Commit 1a2b3c4 feat: add Ranker and remove Scorer
> rm src/scorer.ts
> Run shell command? (Y)es/(N)o/(D)on't ask again [Yes]: y
> Running rm src/scorer.ts
> You can use /undo to undo and discard each aider commit.

#### update the imports

tests/rank.test.ts
```typescript
<<<<<<< SEARCH
import { Scorer } from '../src/scorer';
=======
import { Ranker } from '../ranker';
>>>>>>> REPLACE
```

cli/run.ts
```typescript
<<<<<<< SEARCH
import { Scorer } from './scorer';
=======
import { Ranker } from '../ranker';
>>>>>>> REPLACE
```

> The LLM did not conform to the edit format.
> # 1 SEARCH/REPLACE block failed to match!
> Commit 5d6e7f8 refactor: update references in tests
"""


def _rm_doc(log: str):
    return _imported(log)


def test_a_shell_deletion_is_not_in_the_next_aider_commit():
    msgs, doc = _rm_doc(RM_LOG)
    commits = [c.input["command"] for m in msgs for c in m.tool_calls if c.input.get("command", "").startswith("git")]
    # the partly applied answer's commit names the files that answer edited, not "everything"
    assert commits == ["git commit -m 'refactor: type Scorer input' -- src/scorer.ts",
                       "git commit -m 'feat: add Ranker and remove Scorer' -- ranker.ts",
                       "git commit -m 'refactor: update references in tests' -- tests/rank.test.ts cli/run.ts"]
    files = {f["path"]: f for f in doc.data["files"]}
    # tracked (its own commit 0f0e0d0 held it), deleted, and no commit since took the deletion
    assert files["src/scorer.ts"]["uncommitted"] is True
    assert doc.data["current_state"]["uncommitted"] == ["src/scorer.ts"]
    assert "No uncommitted change" not in doc.markdown
    assert "In `5d6e7f8`: `src/scorer.ts`" not in doc.markdown
    assert "deleted by `rm src/scorer.ts` after `0f0e0d0`" in doc.markdown
    assert "- Uncommitted: `src/scorer.ts` deleted\n" in doc.markdown  # no line count: the transcript has none
    assert "`src/scorer.ts` (deleted since)" in doc.markdown


def test_a_shell_deletion_of_a_file_never_committed_is_not_known():
    """Deleting a file git may never have tracked: whether anything is left to commit is not known."""
    _msgs, doc = _rm_doc(RM_LOG.split("#### replace Scorer", 1)[0].split("#### make Scorer", 1)[0]
                         + "#### replace Scorer" + RM_LOG.split("#### replace Scorer", 1)[1])
    assert doc.data["current_state"]["changed_not_known"] == ["src/scorer.ts"]
    assert "No uncommitted change" not in doc.markdown
    assert "whether git tracked it is not known" in doc.markdown
    assert "with no git output since" not in doc.markdown  # a commit came after the deletion: say why instead


def test_aider_slash_commit_commits_every_tracked_change():
    _msgs, doc = _rm_doc(RM_LOG + "\n#### /commit\n\n> Commit 9a8b7c6 chore: remove scorer\n")
    files = {f["path"]: f for f in doc.data["files"]}
    assert files["src/scorer.ts"]["commit"] == "9a8b7c6" and files["src/scorer.ts"]["uncommitted"] is False
    assert "No file edit in this session after the last commit." in doc.markdown


def test_aider_output_wrapped_onto_plain_lines_stays_aider_output():
    """aider wraps long lines of its own output ('Cost: …' after '> Tokens: …', a test command's traceback):
    those lines are its output until the blank line, never the model's last words."""
    log = ("# aider chat started at 2025-07-16 20:11:00\n\n#### make input automatic  \n\n"
           "io.py\n```python\n<<<<<<< SEARCH\n        return inp\n=======\n        return \"continue\"\n>>>>>>> REPLACE\n```\n\n"
           "> Tokens: 7.4k sent, 344 received.\nCost: $0.03 message, $0.10 session. Use --no-stream for accurate caching costs.  \n"
           "> Applied edit to io.py  \n> Commit b519aed fix: Update user_input method in io.py  \n"
           "> Traceback (most recent call last):\n  File \"main.py\", line 12, in <module>\n"
           "    from app import models\nModuleNotFoundError: No module named 'app'  \n"
           "> Attempt to fix test errors? (Y)es/(N)o [Yes]: y  \n")
    msgs, _stats, _changes = import_all(log.encode(), "aider")
    said = " ".join(m.text for m in msgs if m.role == "assistant")
    assert "Cost:" not in said and "ModuleNotFoundError" not in said and "File \"main.py\"" not in said
    doc = build_handoff(project={"name": "p"}, session={"number": 1, "status": "completed"}, messages=msgs,
                        file_changes=[], previous=None, pins=[], generated_at="t", fmt="aider")
    assert "Its last words" not in doc.markdown
    assert {f["path"]: f["commit"] for f in doc.data["files"]} == {"io.py": "b519aed"}


def test_one_file_logged_by_a_relative_and_an_absolute_path_is_one_file():
    """The model wrote `main.py`, later `C:\\src\\nova\\main.py`: one file, under the root the pair shows."""
    def edit(path: str, old: str, new: str, sha: str) -> str:
        return (f"#### fix the import  \n\n{path}\n```python\n<<<<<<< SEARCH\n{old}\n=======\n{new}\n>>>>>>> REPLACE\n```\n\n"
                f"> Applied edit to {path}  \n> Commit {sha} fix: imports  \n\n")
    log = ("# aider chat started at 2025-07-16 20:11:00\n\n"
           + edit("main.py", "import a", "import b", "1111111")
           + edit("C:\\src\\nova\\main.py", "import b", "from . import b", "2222222")
           + edit("C:\\src\\nova\\utils.py", "x = 1", "x = 2", "3333333"))
    doc = _handoff(log)
    assert {f["path"]: f["commit"] for f in doc.data["files"]} == {"main.py": "2222222", "utils.py": "3333333"}
    assert "In `1111111`" not in doc.markdown  # main.py's last change is in 2222222, not listed twice


def test_a_commit_undone_by_undo_is_marked_and_not_counted_to_push():
    _msgs, doc = _doc()
    md = doc.markdown
    assert "Committed `5d6e7f8` `feat: add check script` — then undone by `/undo`" in md
    assert "In `5d6e7f8` (undone by `/undo`): `check.sh`" in md
    assert "whether the 1 commit of this session reached the remote" in md  # 1a2b3c4 only


def test_a_redirect_after_the_last_commit_is_a_change_whose_state_is_not_known():
    log = LOG.split("#### now add")[0] + "> Running echo. > notes.txt\n"
    msgs, doc = _imported(log)
    assert "No file edit in this session after the last commit" not in doc.markdown
    assert "notes.txt" in doc.data["current_state"]["changed_not_known"]


def test_a_command_that_changed_files_after_the_last_commit_is_named_not_called_no_change():
    doc = _handoff(LOG.split("#### now add")[0])
    assert "No uncommitted change" not in doc.markdown  # chmod +x changes the file's mode, which git tracks
    assert "No file edit after the last commit; `chmod +x sync.sh` ran after it" in doc.markdown


def test_a_check_aider_ran_has_no_known_result():
    """aider logs 'Running pytest …' but never the output or exit status: the session can end right
    there (the run failed, as the next session said). Nothing may call it passed."""
    log = LOG.split("#### /undo")[0] + (
        "#### run the tests\n\n> pytest test_sync.py -v\n> Run shell command? (Y)es/(N)o [Yes]: y\n"
        "> Running pytest test_sync.py -v\n")
    doc = _handoff(log)
    assert "passed" not in doc.markdown and "(pass)" not in doc.markdown, doc.markdown
    checks = {c["command"]: c for c in doc.data["state"]["checks"]} if "state" in doc.data else {}
    assert all(c.get("outcome") != "pass" for c in checks.values()), checks
    assert "pytest test_sync.py -v" in doc.data["current_work"]["last_action"]
    assert "its result is not in the transcript" in doc.data["current_work"]["last_action"]


def test_a_push_aider_ran_is_not_called_unpushed():
    """'Running git push origin main' then 'Added 50 lines of output to the chat': the push's answer is
    not in the log, so the commits are neither pushed nor 'not pushed'."""
    log = LOG.split("#### /undo")[0] + (
        "#### push it\n\n> git push origin main\n> Run shell command? (Y)es/(N)o [Yes]: y\n"
        "> Running git push origin main\n> Add command output to the chat? (Y)es/(N)o [Yes]: y\n"
        "> Added 50 lines of output to the chat.\n")
    doc = _handoff(log)
    assert "not pushed" not in doc.markdown and "Nothing was pushed" not in doc.markdown, doc.markdown
    assert "push not seen" in doc.markdown
    assert "`git push origin main` was issued and its result is not in the transcript" in \
        doc.data["current_work"]["last_action"]


AUTO = """# aider chat started at 2024-08-30 22:27:12

> C:\\Python312\\Lib\\site-packages\\aider\\__main__.py --yes --test-cmd python -m main --auto-test true --cache-prompts
> Aider v0.54.7
> Git repo: .git with 323 files

#### make main import the selector

main.py
```
<<<<<<< SEARCH
import os
=======
import os
from .file_selector import select_relevant_files
>>>>>>> REPLACE
```

> Applied edit to main.py
> Commit 32cb384 fix: import the selector
>
> # Fix any errors below, if possible.
>
> ## Running: C:\\Python312\\python.exe -m flake8 --select=E9,F821 --show-source --isolated main.py
>
> main.py:639:22: F821 undefined name 'select_relevant_files'
>
> No changes made to git tracked files.
> Attempt to fix lint errors? (Y)es/(N)o [Yes]: n
> pip install -e .
> Run shell command? (Y)es/(N)o/(S)kip all [Yes]: n
> Traceback (most recent call last):
> File "C:\\Users\\me\\aider\\main.py", line 22, in <module>
> from .file_selector import select_relevant_files
> ImportError: attempted relative import with no known parent package
> Attempt to fix test errors? (Y)es/(N)o [Yes]: y
"""


def test_aiders_auto_test_and_auto_lint_failures_are_check_runs():
    """aider prints a check's output only when its auto-lint or auto-test (--test-cmd) fails, then asks
    'Attempt to fix … errors?': those are failed runs of the linter and of the session's test command."""
    doc = _handoff(AUTO)
    md = doc.markdown
    assert "`python -m main` **FAILED**" in md, md
    assert "ImportError: attempted relative import with no known parent package" in md
    assert "flake8" in md and "F821 undefined name" in md
    assert "pip install -e ." not in line_of(md, "FAILED")  # a command the user declined is not a run
    assert "Before its last commit" not in md  # aider lints and tests after it commits, not before


def line_of(md: str, needle: str) -> str:
    return next((ln for ln in md.splitlines() if needle in ln), "")


def test_an_edit_aider_found_nothing_to_commit_for_is_not_in_the_next_commit():
    """'Applied edit to main.py' then 'No changes made to git tracked files.': main.py is not in the
    commit aider makes later for other files."""
    log = (AUTO.split("#### make main")[0]
           + _turn("fix the import", "main.py", "import os", "import os",
                   "Applied edit to main.py", "No changes made to git tracked files.")
           + _turn("now the packaging", "setup.py", "", "from setuptools import setup",
                   "Applied edit to setup.py", "Commit b003de6 fix: package the app"))
    doc = _handoff(log)
    files = {f["path"]: f for f in doc.data["files"]}
    assert files["setup.py"]["commit"] == "b003de6"
    assert files["main.py"].get("commit") != "b003de6", files["main.py"]
    listed = doc.markdown.split("## Files changed", 1)[1]
    assert "In `b003de6`: `setup.py`" in listed and "`main.py`, `setup.py`" not in listed


def test_the_header_says_what_the_session_ended_with_not_that_it_was_mid_task():
    doc = _handoff(AUTO)
    status = doc.markdown.split("\n")[2]
    assert "as it ended: `python -m main` failed last" in status and "mid-task" not in status, status


def test_a_failure_the_user_stopped_aider_from_fixing_is_not_an_order_to_fix_it():
    """'Attempt to fix test errors? … y' then Ctrl-C (or an 'n'): the person chose not to have it fixed
    now. The failure stays in the state; the next action does not tell the next agent to fix it."""
    fixed = _handoff(AUTO)
    assert any(a.startswith("Make `python -m main` pass") for a in fixed.data["next_actions"])
    for stop in ("> \n> \n> ^C again to exit\n", ""):
        log = AUTO if stop else AUTO.replace("Attempt to fix test errors? (Y)es/(N)o [Yes]: y",
                                             "Attempt to fix test errors? (Y)es/(N)o [Yes]: n")
        doc = _handoff(log + stop)
        assert not any(a.startswith("Make `python -m main` pass") for a in doc.data["next_actions"]), doc.markdown
        assert "`python -m main` **FAILED**" in doc.markdown
        assert ("User declined the offer to fix `python -m main` when it failed" if not stop else
                "User interrupted the attempt to fix `python -m main` (Ctrl-C) when it failed") in doc.markdown


GIT_LINES = """# aider chat started at 2024-09-03 21:40:00

> Git repo: .git with 12 files

#### ignore the vendored folder and tidy the selector

.gitignore
```
<<<<<<< SEARCH
=======
aider/
>>>>>>> REPLACE
```

aider/file_selector.py
```
<<<<<<< SEARCH
x = 1
=======
x = 2
>>>>>>> REPLACE
```

> Committing main before applying edits.
> Commit 6dfb692 fix: the person's own change to main
> Applied edit to aider/file_selector.py
> Applied edit to .gitignore
> Unable to add C:\\Users\\me\\aider\\aider\\file_selector.py: Cmd('git') failed due to: exit code(1)
> cmdline: git add C:\\Users\\me\\aider\\aider\\file_selector.py
> stderr: 'The following paths are ignored by one of your .gitignore files:
> aider
> hint: Use -f if you really want to add them.'
> Commit 9c2075b feat: ignore aider and update the selector

#### the import in main again

main
```
<<<<<<< SEARCH
import os
=======
import os
>>>>>>> REPLACE
```

> Applied edit to main
> No changes made to git tracked files.
"""


def test_aiders_own_git_lines_say_what_each_commit_took():
    """'Committing main before applying edits' commits main (the person's change), not the edits that
    follow; 'Unable to add X' keeps X out of the next commit; an edit of a tracked file followed by
    'No changes made to git tracked files' changed nothing."""
    msgs, _stats, _changes = import_all(GIT_LINES.encode(), "aider")
    commits = [c.input["command"] for m in msgs for c in m.tool_calls if "git commit" in c.input.get("command", "")]
    assert commits[0].endswith("-- main") and commits[1].endswith("-- .gitignore"), commits
    edited = [c.input.get("file_path") for m in msgs for c in m.tool_calls if c.name in ("edit", "write")]
    assert edited == ["aider/file_selector.py", ".gitignore"]  # the no-op edit of main is not an edit
    doc = _handoff(GIT_LINES)
    md = doc.markdown
    assert "In `9c2075b`: `.gitignore`" in md and "`aider/file_selector.py` (" not in md.split("## Files")[-1]
    # git refused to add it: not "commit it", but what git said about it
    assert not any(a.startswith("Commit `aider/file_selector.py`") for a in doc.data["next_actions"])
    assert any("`.gitignore` ignores it (`aider`)" in a for a in doc.data["next_actions"]), doc.data["next_actions"]


def test_no_checks_then_commit_routine_is_read_from_an_agent_that_commits_by_itself():
    """aider commits each edit, then runs its auto-test: a test between two commits tested the first,
    it was not run "before the last commit"."""
    log = AUTO + "\n" + _turn("try again", "main.py", "import os", "import os\nimport sys",
                                "Applied edit to main.py", "Commit 7a7a7a7 fix: import sys")
    assert "Before its last commit" not in _handoff(log).markdown


def test_an_auto_lint_failure_followed_by_an_edit_with_no_new_failure_is_gone():
    """aider lints after each edit and prints only failures: F821 on main.py, then an edit of main.py
    and a commit with no lint output is the lint passing, though the log never says so."""
    log = AUTO.split("> pip install -e .")[0] + "\n" + _turn(
        "add the missing import", "main.py", "import os", "import os\nfrom file_selector import select_relevant_files",
        "Applied edit to main.py", "Commit 4b4b4b4 fix: import select_relevant_files")
    doc = _handoff(log)
    md = doc.markdown
    assert "flake8" in md and "**FAILED**" not in md.split("## Errors")[0], md
    assert not any(a.startswith("Make `C:") for a in doc.data["next_actions"]), doc.data["next_actions"]
    err = next(ln for ln in md.split("## Errors")[1].split("\n") if "F821" in ln)
    assert "Fixed by editing `main.py`" in err and "Not re-run" not in err, err


def test_an_edit_followed_by_ctrl_c_is_no_silent_pass():
    """The same silence after the edit, but the person pressed Ctrl-C before aider got back to its prompt:
    its lint may never have run, so the failure is not called fixed and the lint not called passing."""
    log = AUTO.split("> pip install -e .")[0] + "\n" + _turn(
        "add the missing import", "main.py", "import os", "import os\nfrom file_selector import select_relevant_files",
        "Applied edit to main.py", "Commit 4b4b4b4 fix: import select_relevant_files", "",
        "^C again to exit", "", "^C KeyboardInterrupt")
    doc = _handoff(log)
    md = doc.markdown
    assert "no failure after the edit" not in md
    err = next(ln for ln in md.split("## Errors")[1].split("\n") if "F821" in ln)
    assert "Fixed by editing" not in err, err
    assert "it ended in the person's Ctrl-C" in md.split("\n")[2]


def test_an_edit_that_brings_back_an_earlier_error_did_not_fix_the_one_between():
    """No module named 'a', an edit, No module named 'b', an edit back, No module named 'a' again: the
    second edit moved the failure back; it is not "Fixed by editing"."""
    fail = ("Attempt to fix test errors? (Y)es/(N)o [Yes]: n",)
    log = ("# aider chat started at 2024-08-30 22:27:12\n\n> aider --test-cmd 'python -m main' --auto-test\n"
           "> Git repo: .git with 3 files\n\n")
    log += _turn("rename the package to b", "main.py", "import a", "import b", "Applied edit to main.py",
                 "Commit 1111111 feat: import b", "ModuleNotFoundError: No module named 'b'", *fail)
    log += _turn("go back to a", "main.py", "import b", "import a", "Applied edit to main.py",
                 "Commit 2222222 fix: import a", "ModuleNotFoundError: No module named 'a'", *fail)
    log += _turn("use b after all", "main.py", "import a", "import b", "Applied edit to main.py",
                 "Commit 3333333 fix: import b", "ModuleNotFoundError: No module named 'b'", *fail)
    md = _handoff(log).markdown
    errors = md.split("## Errors")[1]
    line_a = next(ln for ln in errors.split("\n") if "No module named 'a'" in ln.split(" — ")[0])
    assert "Fixed by" not in line_a and "which failed again on the earlier `ModuleNotFoundError: No module named 'b'`" in line_a, line_a
