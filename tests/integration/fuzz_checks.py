"""Schemathesis hooks for the fuzz test (tests/integration/test_fuzz_api.py).

`positive_data_acceptance` is told that a 400 may answer schema-valid data: an opaque cursor that
points nowhere, an ai_account that does not exist, a body that is no transcript are all well formed
and still wrong. What must never happen is the server's own validation refusing data its schema
allows (the schema would be lying): this check fails on exactly that.

POST /mcp answers a JSON-RPC request 200 even when it is refused (the error is in the body, as
JSON-RPC clients expect), so its own run (test_mcp_tool_calls_survive_schemathesis) turns off
`negative_data_rejection` and `mcp_refuses_schema_violations` replaces it: schema-violating data gets a 4xx, a JSON-RPC error or
a tool result with isError, never a plain success.
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


@schemathesis.check
def mcp_refuses_schema_violations(ctx, response, case):  # noqa: ANN001, ANN201 - schemathesis' signature
    meta = case.meta
    if case.operation.path != "/mcp" or case.method.upper() != "POST" or meta is None \
            or meta.generation.mode.is_positive:
        return None
    if 400 <= response.status_code < 500 or response.status_code == 202:  # 202: a notification, no answer
        return None
    try:
        body = response.json()
    except ValueError:
        raise AssertionError(f"POST /mcp answered {response.status_code} without JSON") from None
    if "error" in body or (body.get("result") or {}).get("isError") is True:
        return None
    if not _violates_schema(case):  # a mutation that still fits the published schema is not a violation
        return None
    raise AssertionError(f"schema-violating JSON-RPC accepted as a success: {response.text[:300]}")


def _violates_schema(case) -> bool:  # noqa: ANN001
    import jsonschema

    schema = case.operation.body[0].definition.get("schema") if case.operation.body else None
    try:
        jsonschema.validate(case.body, schema or {})
    except jsonschema.ValidationError:
        return True
    return False
