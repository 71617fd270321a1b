"""The `mso` command: talks to a Multi-Session Orchestrator API over HTTP (standard library only)."""

__version__ = "0.1.0"
