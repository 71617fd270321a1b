"""The handoff's sections, each a plain function of one `HandoffData` (issue 16).

`RENDERERS` is the table `rules._build_handoff` writes the document from, in document order. A key
names the part in `data["generation_errors"]` when its renderer raises; adding a section is
one entry here. A renderer returns one `Section` or a list of them (the contracts: one per task).
The header is rendered apart (`render_header`): it is a string, not a section.
"""

from __future__ import annotations

from collections.abc import Callable

from ..data import HandoffData
from ..render import Section
from .changes import code_names, render_errors, render_files, render_names
from .context import render_contracts, render_conventions, render_knowledge, render_learned, render_requests
from .record import render_mission, render_open_items, render_pins, render_record
from .state import render_state
from .work import render_current_work, render_header, render_next_action

Renderer = Callable[[HandoffData], "Section | list[Section]"]

RENDERERS: dict[str, Renderer] = {
    "current_work": render_current_work,
    "next_action": render_next_action,
    "state": render_state,
    "contracts": render_contracts,
    "requests": render_requests,
    "open_items": render_open_items,
    "mission": render_mission,
    "pins": render_pins,
    "record": render_record,
    "conventions": render_conventions,
    "learned": render_learned,
    "knowledge": render_knowledge,
    "errors": render_errors,
    "names": render_names,
    "files": render_files,
}

__all__ = ["RENDERERS", "Renderer", "code_names", "render_header"]
