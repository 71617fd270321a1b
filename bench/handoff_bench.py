"""Benchmark: the rule-based handoff against Claude Code's own compaction summary.

Each real Claude Code session in the shared data holds one context compaction. Cut there:

- the part before the `compact_boundary` record is the session to hand off;
- the `isCompactSummary` record right after it is Claude Code's handoff for the same input (the
  `*.agent-acompact-*.jsonl` file holds the compaction sub-agent's raw answer; scored too);
- the part after the cut shows what the next session actually needed.

Probes (computed here, independently of the generator): every file edited with Edit/Write/
MultiEdit before the cut, every test target run before the cut (`mix test test/foo_test.exs` ->
`test/foo_test.exs`; a bare `mix test` is its own target) and every task id the user typed. A
probe weighs 2 when the part after the cut uses it again (file touched/read or named in a
command, target run again, id mentioned again), else 1. A probe is recalled when the handoff
text names it: a file by absolute path, by path relative to the session's working directory or by
its basename as a whole word; a target or id as a whole word. The same rule scores both documents.

It also times the rule-based handoff on a ~10 MB transcript (the real session repeated) against
plain `json.loads` of the same lines, in the same run.

Run:  .venv/bin/python bench/handoff_bench.py [--write PATH] [--budget 9500] [--perf-mb 10]
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from chalicelib.config import HANDOFF_BUDGET_CHARS  # noqa: E402
from chalicelib.handoff import build_handoff  # noqa: E402
from chalicelib.transcripts.model import Message  # noqa: E402

DEFAULT_DATA = ROOT / "tests" / "fixtures" / "real" / "claude-code"
COMMAND = ".venv/bin/python bench/handoff_bench.py"
EDIT_TOOLS = {"Edit", "Write", "MultiEdit", "NotebookEdit"}
TOUCH_TOOLS = EDIT_TOOLS | {"Read", "NotebookRead"}
TEST_CMD = re.compile(
    r"^(?:\S+=\S+\s+)*(?:npx\s+|uv\s+run\s+|poetry\s+run\s+|bundle\s+exec\s+|python3?\s+-m\s+)?"
    r"(mix\s+test|pytest|npm\s+(?:run\s+)?test|yarn\s+test|pnpm\s+test|vitest(?:\s+run)?|jest|cargo\s+test"
    r"|go\s+test|make\s+test|rspec|phpunit|dotnet\s+test)\b(.*)$"
)
ID_PATTERNS = [
    re.compile(r"(?<![\w-])([A-Z][A-Z0-9]{1,9}-\d+)(?![\w-])"),
    re.compile(r"(?<![\w&#])(#\d+)\b"),
    re.compile(r"(?<![\w/.-])([a-z][a-z0-9]*-[a-z0-9]{2,8}(?:\.\d+)?)(?![\w/-])"),
]


# ----------------------------------------------------------------------------- loading


def _raw_lines(path: Path) -> list[bytes]:
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    return [line for line in raw.splitlines() if line.strip()]


def _records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in _raw_lines(path)]


def _result_text(content: Any) -> str:
    """The text of a record's content: a string, or the text blocks of a list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(b.get("text", "") for b in content if isinstance(b, dict) and b.get("type") == "text")
    return ""


def to_messages(lines: list[bytes], records: list[dict[str, Any]] | None = None) -> tuple[list[Message], str]:
    """Messages via the real importer, fed the original bytes (what the product does)."""
    from chalicelib.transcripts import importing

    messages, _stats, _changes = importing.import_all(io.BytesIO(b"\n".join(lines) + b"\n"), "claude-code")
    return list(messages), "chalicelib.transcripts.importing"


# ----------------------------------------------------------------------------- probes


@dataclass
class Probe:
    kind: str  # file | test_target | task_id
    value: str  # absolute path, target or id
    weight: int = 1
    aliases: list[str] = field(default_factory=list)


def _tool_uses(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for r in records:
        if r.get("type") == "assistant":
            for b in (r.get("message") or {}).get("content") or []:
                if isinstance(b, dict) and b.get("type") == "tool_use":
                    out.append(b)
    return out


def _typed_user_texts(records: list[dict[str, Any]]) -> list[str]:
    out = []
    for r in records:
        if r.get("type") == "queue-operation" and r.get("operation") == "enqueue":
            c = r.get("content")
            if isinstance(c, str) and not c.startswith("<"):
                out.append(c)
        elif r.get("type") == "user" and not r.get("isCompactSummary") and not r.get("isMeta"):
            c = (r.get("message") or {}).get("content")
            if isinstance(c, str) and not c.lstrip().startswith("<"):
                out.append(c)
    return out


def _test_targets(command: str) -> list[str]:
    targets = []
    for seg in re.split(r"\s*(?:&&|\|\||;|\|)\s*", command.split("<<", 1)[0]):
        seg = re.sub(r"\s*\d?>&\d|\s*\d?>\s*/dev/null", "", seg.strip())
        if seg.startswith("cd "):
            continue
        m = TEST_CMD.match(seg)
        if not m:
            continue
        args = [a for a in m.group(2).split() if not a.startswith("-")]
        paths = [a.split("::")[0].split(":")[0] for a in args if "/" in a or "." in a]
        targets.extend(paths or [" ".join(m.group(1).split())])
    return targets


def _rel(path: str, cwd: str) -> str:
    return path[len(cwd) + 1:] if cwd and path.startswith(cwd + "/") else path


def build_probes(before: list[dict[str, Any]], after: list[dict[str, Any]], cwd: str) -> list[Probe]:
    probes: dict[tuple[str, str], Probe] = {}
    uses_before = _tool_uses(before)
    for b in uses_before:
        inp = b.get("input") or {}
        if b.get("name") in EDIT_TOOLS:
            p = inp.get("file_path") or inp.get("notebook_path")
            if isinstance(p, str) and p:
                probes.setdefault(("file", p), Probe("file", p, aliases=[p, _rel(p, cwd), Path(p).name]))
        elif b.get("name") == "Bash":
            for t in _test_targets(str(inp.get("command", ""))):
                t = _rel(t, cwd)
                probes.setdefault(("test_target", t), Probe("test_target", t, aliases=[t, Path(t).name]
                                                           if "/" in t else [t]))
    # task ids the user typed that the session used as identifiers (branch, tool arguments)
    branch = next((r.get("gitBranch") for r in before if r.get("gitBranch")), "") or ""
    tool_text = " ".join(json.dumps(b.get("input") or {}) for b in uses_before)
    for text in _typed_user_texts(before):
        for rx in ID_PATTERNS:
            for m in rx.finditer(text):
                tid = m.group(1)
                if rx is ID_PATTERNS[2] and tid != branch and not re.search(
                        r"(?<![\w-])" + re.escape(tid) + r"(?![\w-])", tool_text):
                    continue
                probes.setdefault(("task_id", tid), Probe("task_id", tid, aliases=[tid]))
    # weight 2 when the part after the cut uses the probe again
    after_uses = _tool_uses(after)
    after_paths = set()
    after_cmds = []
    for b in after_uses:
        inp = b.get("input") or {}
        if b.get("name") in TOUCH_TOOLS:
            p = inp.get("file_path") or inp.get("notebook_path")
            if isinstance(p, str):
                after_paths.add(p)
        elif b.get("name") == "Bash":
            after_cmds.append(str(inp.get("command", "")))
    after_targets = {_rel(t, cwd) for c in after_cmds for t in _test_targets(c)}
    after_text = "\n".join(_typed_user_texts(after)) + "\n" + "\n".join(after_cmds) + "\n" + json.dumps(
        [((r.get("message") or {}).get("content")) for r in after if r.get("type") == "assistant"])
    for pr in probes.values():
        if pr.kind == "file":
            rel = _rel(pr.value, cwd)
            used = pr.value in after_paths or any(rel in c or pr.value in c for c in after_cmds)
        elif pr.kind == "test_target":
            used = pr.value in after_targets
        else:
            used = re.search(r"(?<![\w-])" + re.escape(pr.value) + r"(?![\w-])", after_text) is not None
        pr.weight = 2 if used else 1
    order = {"file": 0, "test_target": 1, "task_id": 2}
    return sorted(probes.values(), key=lambda p: (order[p.kind], p.value))


def recalled(probe: Probe, doc: str) -> bool:
    """Same rule for every document: any alias present as a whole word/path."""
    for a in probe.aliases:
        if not a:
            continue
        if re.search(r"(?<![\w/.-])" + re.escape(a) + r"(?![\w-]|\.[A-Za-z])", doc):
            return True
    return False


def score(probes: list[Probe], doc: str) -> tuple[float, list[str]]:
    total = sum(p.weight for p in probes)
    hit = sum(p.weight for p in probes if recalled(p, doc))
    missed = [f"{p.kind}:{p.aliases[1] if p.kind == 'file' else p.value}" for p in probes if not recalled(p, doc)]
    return (hit / total if total else 1.0), missed


# ----------------------------------------------------------------------------- benchmark


@dataclass
class Row:
    session: str
    probes: int
    weight: int
    doc: str
    chars: int
    compression: float
    recall: float
    missed: list[str]


def run_session(path: Path, budget: int, extra_budgets: tuple[int, ...] = ()) -> tuple[list[Row], dict[str, Any]]:
    lines = _raw_lines(path)
    records = [json.loads(x) for x in lines]
    cut = next(i for i, r in enumerate(records) if r.get("type") == "system" and r.get("subtype") == "compact_boundary")
    summary_rec = next(r for r in records[cut + 1:] if r.get("isCompactSummary"))
    claude_doc = _result_text((summary_rec.get("message") or {}).get("content"))
    before, after = records[:cut], records[cut + 1:]
    cwd = next((r.get("cwd") for r in before if r.get("cwd")), "") or ""
    messages, loader = to_messages(lines[:cut], before)
    input_chars = sum(m.chars() for m in messages)

    def ours(b: int) -> Any:
        return build_handoff(project={"name": cwd.rsplit("/", 1)[-1] or "project"},
                             session={"number": 1, "status": "in_progress"}, messages=messages, file_changes=[],
                             previous=None, pins=[], budget_chars=b, generated_at="bench")

    doc = ours(budget)
    sid = path.name.split(".")[0]
    docs = [("rule-based handoff (ours)", doc.markdown), ("Claude Code compact summary", claude_doc)]
    agent = sorted(path.parent.glob(f"{sid}.agent-acompact-*.jsonl"))
    if agent:
        answer = [_result_text((r.get("message") or {}).get("content")) for r in _records(agent[0])
                  if r.get("type") == "assistant"]
        answer = [a for a in answer if a.strip()]
        if answer:
            docs.append(("Claude Code compaction sub-agent answer", answer[-1]))
    for b in extra_budgets:
        docs.append((f"rule-based handoff (ours), budget {b:,}", ours(b).markdown))
    probes = build_probes(before, after, cwd)
    rows = []
    for name, text in docs:
        rec, missed = score(probes, text)
        rows.append(Row(sid[:8], len(probes), sum(p.weight for p in probes), name, len(text),
                        input_chars / max(len(text), 1), rec, missed))
    info = {"loader": loader, "input_chars": input_chars, "messages": len(messages),
            "probes": [(p.kind, p.value, p.weight) for p in probes], "must_keep": len(doc.must_keep)}
    return rows, info


def perf(path: Path, target_mb: float, budget: int, repeats: int = 3) -> dict[str, Any]:
    raw_lines = _raw_lines(path)
    size = sum(len(x) + 1 for x in raw_lines)
    times = max(1, round(target_mb * 1_000_000 / size))
    lines = raw_lines * times
    total = sum(len(x) + 1 for x in lines)
    t_json = min(_timed(lambda: [json.loads(x) for x in lines]) for _ in range(repeats))
    t0 = time.perf_counter()
    messages, loader = to_messages(lines)
    t_import = time.perf_counter() - t0

    def gen() -> Any:
        return build_handoff(project={"name": "perf"}, session={"number": 1}, messages=messages, file_changes=[],
                             previous=None, pins=[], budget_chars=budget, generated_at="bench")

    t_handoff = min(_timed(gen) for _ in range(repeats))
    return {"bytes": total, "copies": times, "messages": len(messages), "t_json": t_json, "t_handoff": t_handoff,
            "t_import": t_import, "ratio": t_handoff / t_json, "loader": loader}


def _timed(fn: Any) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def markdown_table(all_rows: list[Row], perf_info: dict[str, Any] | None, budget: int, loader: str) -> str:
    out = [f"Command: `{COMMAND}` (budget {budget:,} characters; transcripts loaded with {loader}).", "",
           "| Session | Probes (weight) | Document | Chars | Compression | Weighted probe recall | Missed probes |",
           "|---|---|---|---:|---:|---:|---|"]
    for r in all_rows:
        missed = ", ".join(f"`{m}`" for m in r.missed[:6]) + (" …" if len(r.missed) > 6 else "") or "–"
        out.append(f"| {r.session} | {r.probes} ({r.weight}) | {r.doc} | {r.chars:,} | {r.compression:.1f}x | "
                   f"{100 * r.recall:.1f}% | {missed} |")
    out.append("")
    out.append("Probes: files edited with Edit/Write/MultiEdit before the cut, test targets run before the cut, "
               "task ids the user typed; weight 2 when the part after the cut uses the probe again. Compression: "
               "characters of the normalized messages before the cut / characters of the document.")
    if perf_info:
        ok = "meets" if perf_info["ratio"] <= 3 else "MISSES"
        out += ["", "| Speed (~{:.1f} MB transcript, {} messages) | Seconds |".format(
            perf_info["bytes"] / 1e6, f"{perf_info['messages']:,}"), "|---|---:|",
            f"| `json.loads` of every line | {perf_info['t_json']:.3f} |",
            f"| rule-based handoff (`build_handoff`) | {perf_info['t_handoff']:.3f} |",
            f"| ratio handoff / json.loads | {perf_info['ratio']:.2f}x ({ok} the 3x limit) |",
            f"| for information: messages from records ({perf_info['loader']}) | {perf_info['t_import']:.3f} |"]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="directory with the Claude Code sessions")
    ap.add_argument("--budget", type=int, default=HANDOFF_BUDGET_CHARS, help="handoff size budget in characters")
    ap.add_argument("--extra-budgets", default="6000,3000",
                    help="comma-separated smaller budgets also scored (shows ranking under pressure)")
    ap.add_argument("--perf-mb", type=float, default=10.0, help="size of the speed-test transcript (0 skips it)")
    ap.add_argument("--write", type=Path, help="also write the Markdown table to this file")
    ap.add_argument("--verbose", action="store_true", help="print the probes")
    args = ap.parse_args(argv)
    sessions = sorted(args.data.glob("*.jsonl.gz"))
    if not sessions:
        print(f"no sessions in {args.data}", file=sys.stderr)
        return 2
    rows: list[Row] = []
    loader = ""
    ok = True
    for path in sessions:
        extra = tuple(int(x) for x in args.extra_budgets.split(",") if x.strip())
        r, info = run_session(path, args.budget, extra)
        loader = info["loader"]
        rows += r
        ours, claude = r[0], r[1]
        ok &= ours.recall >= claude.recall and ours.compression >= 20
        if args.verbose:
            print(path.name, info, file=sys.stderr)
    perf_info = perf(sessions[0], args.perf_mb, args.budget) if args.perf_mb > 0 else None
    if perf_info:
        ok &= perf_info["ratio"] <= 3
    table = markdown_table(rows, perf_info, args.budget, loader)
    print("## Handoff benchmark: rule-based handoff vs Claude Code's compaction summary\n")
    print(table)
    print(f"Targets (recall >= Claude Code's at >= 20x compression; handoff <= 3x json.loads): "
          f"{'met' if ok else 'NOT met'}")
    if args.write:
        args.write.write_text(table, encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
