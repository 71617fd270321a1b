"""Property: on every transcript we have, cut anywhere, the rule-based handoff is written within budget.

Cases: every hand-made fixture in tests/fixtures/transcripts (the background-run session among
them), every real transcript in tests/fixtures/real (Claude Code, SWE-agent, aider) and every
session of the real multi-session aider logs (split at each "# aider chat started at"). Each is
imported once, cut at 20 points (prefixes of its message list) and written at 2,000, 9,500 and
50,000 characters: no part may fail (`generation_errors` stays empty, so a bug is not hidden by the
isolation that keeps the document coming) and the Markdown never exceeds the budget.
"""

from __future__ import annotations

import gzip
import io
import re
from pathlib import Path

import pytest

from chalicelib.handoff import build_handoff
from chalicelib.transcripts import importing
from chalicelib.transcripts.model import Message

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
BUDGETS = (2_000, 9_500, 50_000)
CUTS = 20
SESSION_START = re.compile(r"(?m)^(?=# aider chat started at )")


def _cases() -> list[tuple[str, bytes, str]]:
    """(id, bytes, format) of every transcript the property covers."""
    out = [(p.name, p.read_bytes(), "auto") for p in sorted((FIXTURES / "transcripts").iterdir()) if p.is_file()]
    real = FIXTURES / "real"
    out += [(p.name, gzip.decompress(p.read_bytes()), "claude-code") for p in sorted((real / "claude-code").glob("*.gz"))]
    out += [(p.name, p.read_bytes(), "claude-code") for p in sorted((real / "claude-code").glob("*.jsonl"))]
    out += [(p.name, p.read_bytes(), "auto") for p in sorted((real / "swe-agent").glob("*.traj"))]
    out += [(p.name, p.read_bytes(), "aider") for p in sorted((real / "aider").glob("*.md"))]
    for log in sorted((real / "aider-multi").glob("*/aider.chat.history.md")):
        sessions = [s for s in SESSION_START.split(log.read_text(encoding="utf-8")) if s.strip()]
        out += [(f"{log.parent.name}#{k}", s.encode(), "aider") for k, s in enumerate(sessions)]
    return out


CASES = _cases()


def _import(data: bytes, fmt: str) -> list[Message]:
    messages, _stats, _changes = importing.import_all(io.BytesIO(data), fmt)
    return list(messages)


def _cut_points(n: int) -> list[int]:
    return sorted({max(1, round(n * (k + 1) / CUTS)) for k in range(CUTS)}) if n else [0]


def test_every_source_is_covered() -> None:
    ids = [c[0] for c in CASES]
    assert "claude_code_background.jsonl" in ids
    assert sum(1 for i in ids if i.endswith(".jsonl.gz")) == 2 and any(i.endswith(".traj") for i in ids)
    projects = {i.split("#")[0] for i in ids if "#" in i}
    assert len(projects) == 4  # every aider-multi project, each with all its sessions
    assert sum(1 for i in ids if "#" in i) == 9 + 19 + 25 + 72


@pytest.mark.parametrize(("name", "data", "fmt"), CASES, ids=[c[0] for c in CASES])
def test_handoff_never_fails_and_stays_within_budget(name: str, data: bytes, fmt: str) -> None:
    messages = _import(data, fmt)
    for cut in _cut_points(len(messages)):
        for budget in BUDGETS:
            doc = build_handoff(project={"name": "property"}, session={"number": 2}, messages=messages[:cut],
                                file_changes=[], previous=None, pins=[], budget_chars=budget)
            where = f"{name} cut at {cut}/{len(messages)}, budget {budget}"
            assert doc.data["generation_errors"] == [], where
            assert len(doc.markdown) <= budget, where
            assert doc.data["budget"]["output_chars"] == len(doc.markdown) and not doc.data["budget"]["over_budget"]
            assert doc.markdown.startswith("# Handoff: property — session 2 → 3"), where
