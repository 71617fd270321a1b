"""Structured logging: one JSON object per line, so CloudWatch Logs Insights can query fields.

Stdlib only (no runtime dependency): `get_logger(name).info("event", extra={"fields": {...}})`
or the `event()` shortcut. Secrets never reach here: callers log ids, sizes and codes, not values.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import Any

_configured = False


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            out.update(fields)
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str, separators=(",", ":"))


def configure() -> None:
    """Install the JSON handler on the `mso` logger once (Lambda and `chalice local` alike)."""
    global _configured
    if _configured:
        return
    logger = logging.getLogger("mso")
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    logger.setLevel(os.environ.get("MSO_LOG_LEVEL", "INFO").upper())
    logger.propagate = True
    _configured = True


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(f"mso.{name}" if not name.startswith("mso") else name)


def event(logger: logging.Logger, name: str, level: int = logging.INFO, /, **fields: Any) -> None:
    """Log `name` with `fields` on the record (the JSON formatter prints them); any field name is allowed."""
    logger.log(level, name, extra={"fields": fields})
