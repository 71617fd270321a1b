"""What the session changed and broke: errors with their fixes, the names its code introduced, the
files it changed.
"""

from __future__ import annotations

import re

from ..data import HandoffData, record_list
from ..facts import ErrorFact
from ..ranks import RANKS
from ..render import Item, Section
from ..textutil import clip, code, one_line, prefix_words, safe_inline

MAX_ERRORS = 12


def render_errors(hd: HandoffData) -> Section:
    """Open blockers, the errors the session recorded, and the transcript's errors with their fixes."""
    s = Section("errors", "Errors and their fixes")
    for b in hd.open_items:
        if b["kind"] == "blocker":
            since = f" _(open since session {b['since_session']})_" if b["since_session"] < hd.n else ""
            s.items.append(Item(f"- {b['text']}{since}", required=True, sub="Open blockers",
                                keep=(("blocker", prefix_words(b["text"], 120)),), data_key="blockers", payload=b))
    for e in record_list(hd.session, "errors"):
        t = one_line(e)
        s.items.append(Item(f"- {t}", required=True, sub="Errors recorded by the session",
                            keep=(("error", prefix_words(t, 120)),), data_key="errors",
                            payload={"error": t, "source": "session"}))
    errs = sorted(hd.facts.errors, key=lambda e: (e.resolved is True, -e.index))[:MAX_ERRORS]
    errs.sort(key=lambda e: e.index)
    # under their own heading when blockers or recorded errors come first (else they would read
    # as more open blockers); alone in the section they need none
    sub = "Errors in the transcript" if s.items else None
    for e in errs:
        item = _error_item(hd, e)
        item.sub = sub
        s.items.append(item)
    return s


def _error_item(hd: HandoffData, e: ErrorFact) -> Item:
    times = f" (×{e.count})" if e.count > 1 else ""
    head = (f"- {code(e.command)} failed" if e.tool
            else f"- {code(clip(e.line, 110))} — from {code(clip(e.command, 70))}{times}")
    if e.tool:
        head += f": {code(e.line)}"
    fix = ""
    if e.tool:
        fix = " Not retried" + (f"; the session did it directly instead ({code(clip(e.later, 90))})." if e.later
                                else ".")
    elif e.resolved is True:
        back = f", which failed again on the earlier {code(clip(e.gave_way, 80))}." if e.gave_way else ""
        edited = ""
        if e.fix_edits:
            by_path: dict[str, list[str]] = {}
            for ev in e.fix_edits[-3:]:
                by_path.setdefault(ev.path, []).extend(ev.lines_naming(e.tokens))
            edited = "; ".join(hd.path(p) + (": " + " / ".join(code(x) for x in dict.fromkeys(lines[:2])) if lines
                                             else "") for p, lines in by_path.items())
        if e.gone_in:  # a narrower run of its failing tests no longer showed it; the wider run never came back
            fix = (f" Not shown by the later {code(clip(e.gone_in, 90))} (the tests that failed with it)"
                   + (f" after editing {edited}" if edited else "") + f"; {code(clip(e.command, 70))} itself was "
                   "not re-run.")
        elif edited and e.gave_way:  # the next run failed again on an earlier error: the edit moved the failure back
            fix = " Gone on the next run after editing " + edited + back
        elif edited:
            fix = (" After its last occurrence, fixed by editing " if e.count > 1 else " Fixed by editing ") + edited + "."
        elif e.fix_command:
            fix = f" Fixed by running {code(e.fix_command)}."
        else:
            fix = " Gone on the next run" + (back or ".")
    elif e.resolved is False:
        fix = " **Still failing** on the next run."
    elif e.rerun_issued:
        fix = " Re-run issued after it; its result is not in the transcript."
    else:
        fix = " **Not re-run** after this error."
    rank = (RANKS["errors.open"] + 3 * hd.recency(e.index)) if e.resolved is not True else (
        RANKS["errors.resolved"] + 3 * hd.recency(e.index))
    if e.tool:
        rank = RANKS["errors.tool"]
    elif e.fix_command:
        rank += 1.5
    head = head if head.endswith((".", ".`")) else head + "."
    return Item(head + fix, rank=rank, group="errors", keep=(("error", clip(e.line, 110)),),
                data_key="errors",
                payload={"error": e.line, "command": e.command, "count": e.count, "diagnosis": e.diagnosis,
                         "fixed_by": [hd.facts.display(p) for p in e.fixed_files], "fix_command": e.fix_command,
                         "resolved": e.resolved, "source": "transcript", "tool": e.tool})


def render_names(hd: HandoffData) -> Section:
    """Functions, modules and ids the session's still-uncommitted code introduced (what tests will call)."""
    s = Section("names", f"Names the code of session {hd.n} introduced")
    f = hd.facts
    per_file: dict[str, list[str]] = {}
    had: dict[str, set[str]] = {}  # names a file held before the session (on lines its edits changed)
    unc = {u.path for u in hd.state.git.uncommitted + hd.state.git.changed}
    for ev in f.edits:  # files still being worked on: what the next session's tests will call
        if not f.in_project(ev.path) or not ev.text or f.display(ev.path) not in unc:
            continue
        ff = f.files.get(ev.path)
        if ev.rewrite and not (ff is not None and ff.created):  # the names it had before are not new
            continue
        found = per_file.setdefault(f.display(ev.path), [])
        before = had.setdefault(ev.path, set())
        before.update(n for n in code_names(ev.old_text, ev.path) if n not in found)
        for n in code_names(ev.text, ev.path):
            if n not in found and n not in before:
                found.append(n)
    for k, (path, found) in enumerate(sorted(per_file.items(), key=lambda kv: -len(kv[1]))):
        if not found:
            continue
        shown = ", ".join(code(x) for x in found[:10]) + (f" and {len(found) - 10} more" if len(found) > 10 else "")
        s.items.append(Item(f"- {code(path)}: {shown}", rank=RANKS["names"] - k * 0.05,
                            group="name lists"))
    return s


_NAME_PATTERNS = [
    (re.compile(r"^\s*(?:def|defp|defmacro|defmacrop)\s+([a-z_][\w?!]*)\s*(\(([^)]*)\))?", re.M), "fn"),
    (re.compile(r"^\s*defmodule\s+([\w.]+)", re.M), "plain"),
    (re.compile(r"^\s*(?:async\s+)?def\s+([A-Za-z_]\w*)\s*\([^)]*\)\s*(?:->[^:]+)?:\s*$", re.M), "plain"),
    (re.compile(r"^\s*(?:export\s+)?(?:async\s+)?function\s+(\w+)\s*\(", re.M), "plain"),
    (re.compile(r"^\s*(?:export\s+)?class\s+(\w+)", re.M), "plain"),
    (re.compile(r"^\s*(?:pub\s+)?fn\s+(\w+)", re.M), "plain"),
    (re.compile(r"^\s*func\s+(?:\([^)]*\)\s*)?(\w+)", re.M), "plain"),
    (re.compile(r"\bHooks\.(\w+)\s*="), "plain"),
    (re.compile(r"handle_event\(\s*\"([^\"]+)\""), "event"),
    (re.compile(r"\bid=\"([A-Za-z][\w-]*)\""), "id"),
    (re.compile(r"(?<![\w:@-])(?:" + "|".join(re.escape(a) for a in (
        "phx-click", "phx-hook", "phx-submit", "phx-change",  # Phoenix LiveView
        "wire:click", "wire:submit", "wire:model",  # Livewire
        "v-on:click", "v-on:submit", "@click", "@submit",  # Vue, Alpine
        "on:click", "on:submit",  # Svelte
        "data-action", "hx-trigger",  # Stimulus, htmx
    )) + r")=\"([\w:#>.-]+)\""), "plain"),  # event bindings in templates, whatever the framework
]


# the languages a definition pattern belongs to (by file extension); a pattern not listed reads any file
_NAME_LANGS = {0: (".ex", ".exs"), 1: (".ex", ".exs"), 2: (".py",), 3: (".js", ".jsx", ".ts", ".tsx", ".mjs", ".cjs",
               ".vue", ".svelte"), 5: (".rs",), 6: (".go",), 8: (".ex", ".exs")}


def code_names(text: str, path: str = "") -> list[str]:
    """Functions, modules, events and element ids a piece of new code defines (`render/2`,
    event `close_review_session`, `#transcript-messages`), in the order they appear; given the
    file's `path`, only its language's definitions (a Python `def` has no Elixir arity)."""
    out: list[str] = []
    for n, (rx, kind) in enumerate(_NAME_PATTERNS):
        langs = _NAME_LANGS.get(n)
        if path and langs and not path.endswith(langs):
            continue
        for m in rx.finditer(text):
            name = m.group(1)
            if kind == "fn":
                args = m.group(3)
                arity = 0 if m.group(2) is None or not (args or "").strip() else len(args.split(","))
                name = f"{name}/{arity}"
            elif kind == "event":
                name = f"event {name}"
            elif kind == "id":
                name = f"#{name}"
            if name not in out:
                out.append(name)
    return out


def render_files(hd: HandoffData) -> Section:
    """The files the session changed, grouped by commit (or uncommitted), with their diff sizes."""
    s = Section("files", f"Files changed in session {hd.n}")
    f = hd.facts
    groups: dict[str, list[str]] = {}
    labels: dict[str, str] = {}
    unc = {u.path for u in hd.state.git.uncommitted}
    unknown = {u.path for u in hd.state.git.changed}
    for ff in sorted(f.files.values(), key=lambda x: f.display(x.path)):
        if not f.in_project(ff.path) or ff.scratch:
            continue
        disp = f.display(ff.path)
        gst = f.git_files.get(disp)
        added, removed = ff.added, ff.removed
        if gst is not None and gst.counts is not None:  # git's own count of the diff
            added, removed = gst.counts
        elif disp in unc and ff.committed_at >= 0 and ff.source == "transcript":  # since its last commit
            since = [e for e in f.edits if e.path == ff.path and e.index > ff.committed_at]
            added = None if any(e.added is None for e in since) else sum(e.added or 0 for e in since)
            removed = None if any(e.removed is None for e in since) else sum(e.removed or 0 for e in since)
        counted = disp in unc or (disp in unknown and ff.source != "transcript")  # a diff is known to exist
        if ff.kind == "deleted" and (gst is None or gst.counts is None):
            added = removed = None  # a shell deletion's size is not in the transcript: no count
        elif (gst is None or gst.counts is None) and ff.source == "transcript" and ff.edits > 1:
            added = removed = None  # edits summed are not a diff: a line changed twice counts twice
        size = "" if added is None or removed is None or not counted else f" +{added}/−{removed}"
        kind = "" if ff.kind == "modified" or (ff.kind == "added" and ff.commit_sha) else f" {ff.kind}"
        note = f" (“{clip(safe_inline(ff.summary), 80)}”)" if ff.summary and ff.source != "transcript" else ""
        entry = f"{code(disp)}{kind}{size}".rstrip() + note
        if disp in unc or disp in unknown:
            key = "unc" if disp in unc else "unknown"
            labels[key] = "Uncommitted" if key == "unc" else (
                "Commit state not known" if hd.state.git.known
                else "Changed (git state not seen)")
            if ff.commit_sha:  # committed earlier in the session, then edited again
                c = next((c for c in f.commits if c.sha == ff.commit_sha), None)
                labels.setdefault(ff.commit_sha, f"In {code(ff.commit_sha)}" + (
                    " (pushed)" if c is not None and c.pushed else ""))
                groups.setdefault(ff.commit_sha, []).append(
                    f"{code(disp)} ({'deleted' if ff.kind == 'deleted' else 'edited'} since)")
        elif gst is not None and gst.state == "clean" and not ff.commit_sha:
            key = "clean"
            labels[key] = "Changed, but git listed no change left at the end"
        elif ff.commit_sha or ff.commit:
            key = ff.commit_sha or ff.commit
            c = next((c for c in f.commits if (c.sha or c.subject) == key), None)
            labels[key] = f"In {code(key) if ff.commit_sha else '“' + clip(key, 60) + '”'}" + (
                " (pushed)" if c is not None and c.pushed else
                f" (undone by {code(c.undone)})" if c is not None and c.undone else "")
        else:
            key = "other"
            labels[key] = ("Changed (commit not seen in the transcript)" if f.commits
                           else "Changed (git state not seen)")
        if key not in ("unc", "unknown"):  # no diff known: the path is what matters (counts are in the JSON)
            entry = f"{code(disp)}{kind}" + note
        groups.setdefault(key, []).append(entry)
    order = sorted(groups, key=lambda k: (k != "unc", k != "unknown", k in ("other", "clean"), -next(
        (c.index for c in f.commits if (c.sha or c.subject) == k), -1)))
    commits = [k for k in order if k not in ("unc", "unknown", "other", "clean")]
    for r, key in enumerate(order):
        rank = (RANKS["files.uncommitted"] if key in ("unc", "unknown")
                else RANKS["files.committed"] - r * 0.1)
        entries = groups[key]
        if len(f.commits) > 1 and commits and key == commits[0]:  # a file is shown once: a commit's list is not all it took
            s.items.append(Item("- Each file is listed once, under the last commit that took it:", rank=rank + 0.01,
                                group="file groups"))
        s.items.append(Item(f"- {labels[key]}: " + ", ".join(entries), rank=rank, group="file groups",
                            keep=tuple(("file", e.split("`")[1]) for e in entries)))
    for ff in f.files.values():
        if f.in_project(ff.path):
            s.items.append(Item("", rank=RANKS["hidden"], data_key="files", payload={
                "path": f.display(ff.path), "abs_path": ff.path, "kind": ff.kind, "lines_added": ff.added,
                "lines_removed": ff.removed, "edits": ff.edits, "commit": ff.commit_sha, "summary": ff.summary,
                "uncommitted": f.display(ff.path) in unc, "source": ff.source}, hidden=True))
    return s
