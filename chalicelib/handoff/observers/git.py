"""What git printed: commits (and their hooks and messages), pushes, staging, status and upstream,
resets that undid commits, and the branch; at the end, each changed file's commit state from git's own
events (`gitstate.resolve`).
"""

from __future__ import annotations

import re

from .. import gitstate, shellfx
from ..facts import CommitFact, NoteFact, TranscriptFacts, display_command
from ..textutil import clip, safe_inline

_HEAD_NOW = re.compile(r"HEAD is now at ([0-9a-f]{7,40})\b")


class GitObserver:
    """`git`, `commits`, `commit:`/`push` actions and `git_files` in the shared facts record."""

    def __init__(self, f: TranscriptFacts) -> None:
        self.f = f
        self.branch: str | None = None  # the records' branch, else the first commit's

    def meta(self, meta: dict) -> None:
        """A message's own git context: "no repository" (aider) and the branch it was on."""
        if meta.get("git_repo") == "none":  # the agent said so (aider's "Git repo: none")
            self.f.git.no_repo = True
        br = meta.get("gitBranch") or meta.get("git_branch")
        if isinstance(br, str) and br and br != "HEAD":
            self.branch = br

    def shell_run(self, i: int, raw: str, text: str, failed: bool, segs: list[str], start_dir: str = "") -> None:
        """Commits, pushes, staging and status as git printed them. `start_dir`: where the command started
        when an earlier `cd` left the shell in a subdirectory (the pipeline knows), else ""."""
        g = self.f.git
        if "The following paths are ignored" in text:
            after = text.split("The following paths are ignored", 1)[1].split("\n")[1:6]
            for ln in after:
                p = ln.strip()
                if not p or p.startswith(("hint:", "Use ", "fatal")):
                    break
                g.ignored.append(p)
        if "has no upstream branch" in text:
            g.no_upstream_index = i
        g.events += gitstate.observe(i, raw, text, failed, start_dir)
        for seg in segs:
            paths, everything, forced = shellfx.staged_paths(seg)
            if forced and not failed:
                g.forced += paths
            if paths or everything:
                if everything:
                    g.wildcard_adds += 1
                else:
                    g.explicit_adds += 1
        if re.search(r"\bgit\s+(?:-C\s+\S+\s+)?status\b", raw) and not failed:
            st = shellfx.parse_status(text)
            g.status, g.status_index = st, i
            if st.upstream:
                g.upstream, g.upstream_index = st.upstream, i
            elif st.on_branch:
                g.no_tracking_index = i
        elif re.search(r"\bgit\s+diff\b[^|;&]*--stat", raw) and not failed:
            changed = shellfx.parse_diff_stat(text)
            g.status, g.status_index = shellfx.GitStatus(changed=changed, clean=not changed), i
        if failed:
            return
        if re.search(r"\bgit\s+(?:-C\s+\S+\s+)?commit\b", raw):
            cm = shellfx.parse_commit(text)
            if cm:
                branch, sha, subject = cm.branch, cm.sha, clip(safe_inline(cm.subject), 120)
            else:
                mm = re.search(r"-m\s+[\"']([^\"'\n]+)", raw) or re.search(r"<<'?EOF'?\s*\n\s*(\S[^\n]*)", raw)
                if not mm or "nothing to commit" in text:
                    return
                branch, sha, subject = "", "", clip(safe_inline(mm.group(1)), 120)
            msg = shellfx.commit_message(raw)
            if msg:
                g.messages.append((i, msg))
            for hl in re.findall(r"(?im)^.*(?:pre-commit|husky|lint-staged|\.{3,}\s*(?:Passed|Failed)).*$", text)[:3]:
                g.hooks.append(clip(safe_inline(hl), 120))
            self.f.commits.append(CommitFact(sha, subject, branch, i))
            self.f.actions.append(NoteFact(f"commit:{sha or subject}", i, "tool"))
            if branch and branch != "HEAD" and not self.branch:  # HEAD: detached, or not logged
                self.branch = branch
        if re.search(r"\bgit\s+push\b", raw):
            push = shellfx.parse_push(text, failed)
            if push.ok:
                for c in self.f.commits:
                    c.pushed = True
                g.last_push_index = i
                self.f.actions.append(NoteFact("push", i, "tool"))
                if push.upstream or re.search(r"\bpush\s+(?:\S+\s+)*(?:-u|--set-upstream)\b", raw):
                    g.upstream = push.upstream if push.upstream not in ("", "set") else (
                        "/".join(push.refs[0]) if push.refs else "set")
                    g.upstream_index = i

    def undone(self, raw: str, text: str) -> None:
        """A reset (`HEAD is now at …`): the session's commits after that one are no longer on the branch."""
        at = _HEAD_NOW.search(text)
        if at is None:
            return
        base = next((c for c in reversed(self.f.commits) if c.sha and at.group(1).startswith(c.sha[:7])), None)
        for c in self.f.commits:
            if base is not None and c.index > base.index and not c.undone:
                c.undone = clip(display_command(raw), 60)

    def unseen(self) -> None:
        """Commands that may have changed git but whose output never came (`f.unanswered`, set first)."""
        self.f.git.events += [gitstate.GitEvent(ci, 99, "unseen", command=cmd) for ci, cmd in self.f.unanswered
                              if gitstate.changes_git(cmd)]

    def commit_states(self) -> None:
        """Each changed project file's commit state, from git's own output (gitstate.resolve)."""
        f = self.f
        changes: dict[str, list[int]] = {}
        for e in f.edits:
            if f.in_project(e.path):
                changes.setdefault(f.display(e.path), []).append(e.index)
        created = {f.display(p) for p, ff in f.files.items() if ff.created}
        f.git_files = gitstate.resolve(changes, created, f.git.events, f.root)
        by_index = {c.index: c for c in f.commits}
        for p, ff in f.files.items():
            st = f.git_files.get(f.display(p))
            if st is not None and st.commit_index >= 0:
                c = by_index.get(st.commit_index)
                ff.commit_sha, ff.committed_at = st.sha, st.commit_index
                ff.commit = c.subject if c is not None else st.sha
