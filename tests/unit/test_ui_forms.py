"""The dashboard's forms take their limits from the API's schema: none is copied into the JS."""

from __future__ import annotations

import re
from pathlib import Path

UI = Path(__file__).resolve().parents[2] / "ui"
VIEWS = ("projects.js", "project.js", "accounts.js", "knowledge.js", "session.js")


def test_no_view_builds_its_own_modal_form() -> None:
    for name in VIEWS:
        js = (UI / name).read_text()
        assert "validate(" not in js and "formId(" not in js, f"{name} builds a form by hand: use formDialog()"


def test_no_length_limit_is_copied_into_the_views() -> None:
    copied = re.compile(r"maxlength:\s*\d|checks\.(text|number|lines)\(|\.length\s*>\s*(4000|2000|300|200|100)\b")
    for name in VIEWS:
        hits = [line.strip() for line in (UI / name).read_text().splitlines() if copied.search(line)]
        hits = [h for h in hits if "kb-search" not in h]  # a query parameter, not a form field
        assert not hits, f"{name} copies a limit of the API: {hits}"


def test_the_five_forms_name_the_routes_whose_schema_they_use() -> None:
    import app  # noqa: F401 - registers the routes
    from chalicelib.api.common import ROUTES

    declared = {(r.path, r.method.lower()) for r in ROUTES if r.body is not None}
    used = set()
    for name in VIEWS:
        used |= set(re.findall(r'requestSchema\("([^"]+)", "(\w+)"\)', (UI / name).read_text()))
    assert len(used) >= 6 and used <= declared, used - declared
