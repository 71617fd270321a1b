"""Is an LLM configured, and how did it last go? For the Settings page; the key is never shown."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from chalicelib.llm.settings import LLMSettings
from chalicelib.storage import handoffs as store


def status(tenant: str) -> dict[str, Any]:
    """Model, endpoint host, where the key comes from (not the key), the last success and failure.

    Reads the environment as the worker does; does not fetch an SSM key (that costs a call and the
    route needs only to know whether one is configured).
    """
    import os

    s = LLMSettings.from_env()
    if (os.environ.get("MSO_LLM_API_KEY") or "").strip():
        source = "MSO_LLM_API_KEY"
    elif s.api_key_ssm:
        source = "SSM parameter"
    elif s.api_key:
        source = "HF_TOKEN"
    else:
        source = None
    url = urlparse(s.base_url)
    outcomes = store.llm_outcomes(tenant)
    return {
        "configured": s.configured,
        "model": s.model,
        "endpoint_host": url.netloc or s.base_url,
        "key_source": source,
        "timeout_s": s.timeout_s,
        "last_success": outcomes.last_success if outcomes else None,
        "last_failure": outcomes.last_failure if outcomes else None,
    }
