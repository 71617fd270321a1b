"""How much each kind of handoff line matters, in one table.

Over its budget the document drops its lowest-ranked optional lines whole (`render.fit`), so these
numbers are the order in which a short handoff loses things. They live here, sorted from the line
kept longest to the one dropped first, so the whole order can be read and changed in one place;
the writers (`rules`, `account`) only name an entry and add small offsets to order the lines of
one kind among themselves (`RANKS["next_action"] - k * 0.05`: the first step before the second;
`+ 3 * recency`: a later finding before an earlier one). Required lines (pins, the session record,
open items) have no rank: they are never dropped. Values keep the form they were written in (96,
not 96.0) because stored layouts carry them as written.
"""

from __future__ import annotations

RANKS: dict[str, float] = {
    "account.contradicted_claim": 100.96,  # the agent's account says what the transcript contradicts: above all
    "account.led_claim": 99.96,  # a checked claim of a block the account leads with, just above that block
    "account.lead": 99.95,  # the account's leading lines, in its order (each next line 0.0001 lower)
    "generation_errors": 99.9,  # parts an internal error left out: the reader must not read absence as "none"
    "current.task": 99.5,
    "current.done_so_far": 99.4,
    "current.edit": 99.3,
    "current.untouched_outputs": 99.2,  # output files the task's contract lists, not changed yet
    "current.open_spec": 99.15,
    "current.last_action": 98.9,
    "next_action": 98.5,
    "checks.latest": 97,  # the two latest check groups, and any still failing
    "git.uncommitted": 96.5,
    "git.changed_unknown": 96.5,  # changed files whose commit state git never showed
    "git.branch": 96,
    "git.work_tree": 96,
    "tasks.current": 95.5,  # the current and the next task, and the root of their family
    "tasks.closed": 95.4,  # three or more closed tasks of the family, on one line
    "git.no_push": 95,
    "requests.last": 95,  # the user's last request: what the session was doing when it ended
    "requests.first": 94,  # the first request: what the session was for
    "git.commit": 94,  # plus up to 2 for a later commit
    "files.uncommitted": 94,
    "files.committed": 93.6,  # one line per commit, the latest first
    "git.no_edit_after_commit": 93,
    "contract.current": 93.0,  # minus the spec section's priority (`sections.context._SPEC_PRIORITY`)
    "conventions.force_add": 92,  # a path `.gitignore` ignores: a plain `git add` would silently skip it
    "conventions.commit_messages": 91,
    "tasks.other": 91,
    "git.outside": 90,  # files outside the work tree: never to be committed
    "conventions.routine": 90,  # the commands run before the last commit
    "conventions.tracker": 89.2,
    "errors.open": 89,  # an error not seen fixed; plus up to 3 for a later one
    "git.foreign": 89,  # listed by git, untouched by the session: not its work
    "contract.next": 89.0,  # minus the spec section's priority (`sections.context._SPEC_PRIORITY`)
    "checks.earlier": 88.6,
    "requests.middle": 88,  # the requests between the first and the last, later ones higher
    "current.last_words": 88,  # the agent's words after its last action: its own claim, not a fact
    "errors.tool": 88,  # a tool call that failed (not retried or done another way)
    "conventions.staging": 87.5,
    "knowledge.by_person": 87.2,  # knowledge items people wrote rank above extracted lessons
    "findings": 86.5,  # plus up to 3 for a later one
    "errors.resolved": 86.5,  # plus up to 3 for a later one, 1.5 when a command fixed it
    "names": 85.5,  # names the code introduced in files still uncommitted
    "tasks.named_by_user": 85,  # task ids the user typed that no tracker output described
    "conventions.hooks": 85,
    "hypotheses": 84,  # the agent's guesses, labelled as its own; plus up to 3 for a later one
    "knowledge.lesson": 84.0,
    "decisions.user": 83,  # plus up to 1 for a later one
    "conventions.subdir": 83,
    "checks.older": 79,  # older check groups that passed: superseded by the latest
    "conventions.earlier_subjects": 78,
    "urls.user": 76,
    "decisions.earlier": 72,  # decisions carried from earlier sessions
    "todos.completed": 70,  # plus up to 3 for a later one
    "account.rest": 60.0,  # the account's lines past its share: below every fact, shown where room is left
    "account.other_claim": 59.0,
    "account.duplicate": 50.0,  # account lines the facts already say: dropped first
    "hidden": -1,  # data-only items (`hidden=True`): never rendered, carried for `data`
}
