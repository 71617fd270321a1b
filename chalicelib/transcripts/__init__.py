"""Transcripts: import from agent tools, normalize, redact, derive file changes."""
