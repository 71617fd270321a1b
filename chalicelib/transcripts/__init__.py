"""Transcripts: import from agent tools, normalize, redact, derive file changes.

Pure code (no Chalice, no AWS). Modules:

- `model`: the normalized Message / ToolCall / ToolResult / Usage / FileChange.
- `importing`: `open_transcript(raw, fmt="auto")` -> TranscriptImport (iterate for redacted
  messages; `stats`, `file_changes`, `info`), `import_all`, `FORMATS`.
- `importers`: one module per format behind `importers.base.Importer` (`sniff`, `parse`), and
  content-based `detect`.
- `redact`: `redact(text)` and `Redactor` (secrets -> `[REDACTED:<kind>]`, counted per kind;
  `<private>` spans -> `[PRIVATE]`); `ruleset`: gitleaks' vendored rules (rules/gitleaks.toml) as Python.
- `filechanges`: `parse_numstat`, `parse_unified_diff`, `parse_apply_patch`, `parse_edit_blocks`,
  `merge_changes`, `FileChangeTracker`.
- `errors`: `TranscriptError` and its subclasses (stable `code`s), `NumstatError`; all `AppError`s.
- `textstream`: gunzip + strict UTF-8 line streaming with precise error positions.

Nothing is imported here, so `from chalicelib.transcripts.model import Message` stays cheap.
"""
