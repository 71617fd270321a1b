"""The facts engine as a pipeline of small observers (issue 16, "What to build", item 2).

One pass over a transcript used to fill `TranscriptFacts` from a single 900-line class. Each concern
now has its own observer that owns its working state and writes its part of the one typed record:

- `notes.NotesObserver`: the user's and the assistant's words (requests, decisions, findings, URLs, todos);
- `files.FilesObserver`: edits and shell-made file changes;
- `errors.ErrorsObserver`: errors and, at the end, whether and how each was fixed;
- `checks.ChecksObserver`: commands, check runs, their outcomes, background runs;
- `git.GitObserver`: what git printed (commits, pushes, staging, status, undos);
- `tasks.TasksObserver`: tracker commands, their tasks, and task ids the user typed.

`pipeline.Pipeline` only dispatches each message and typed action to them and runs their finish steps
in a fixed order. `facts.extract_facts` is the entry point; nothing here is imported by facts.py at
module level (the observers import facts.py's records and pure helpers, so the import is one-way).
"""
