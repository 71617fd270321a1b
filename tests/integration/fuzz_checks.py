"""Schemathesis hooks for the fuzz test (tests/integration/test_fuzz_api.py).

`positive_data_acceptance` is told that a 400 may answer schema-valid data: an opaque cursor that
points nowhere, an ai_account that does not exist, a body that is no transcript are all well formed
and still wrong. What must never happen is the server's own validation refusing data its schema
allows (the schema would be lying): this check fails on exactly that.
"""

from __future__ import annotations

import schemathesis

# Error codes of the syntactic checks that mirror the published schema (body, query, path).
SCHEMA_CODES = frozenset({"validation_error", "invalid_query", "invalid_path", "invalid_json"})


@schemathesis.check
def schema_and_validation_agree(ctx, response, case):  # noqa: ANN001, ANN201 - schemathesis' signature
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 400:
        return None
    try:
        code = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None
    if code in SCHEMA_CODES:
        raise AssertionError(f"schema-valid data refused by the server's own validation ({code}): "
                             f"{response.text[:300]}")
    return None
