"""Is an LLM configured, and how did it last go? For the Settings page; the key is never shown."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from chalicelib.llm.settings import PROVIDER_BEDROCK, LLMSettings
from chalicelib.storage import handoffs as store


def status(tenant: str) -> dict[str, Any]:
    """Provider, model, endpoint host (and region for Bedrock), where the key comes from (not the
    key), the last success and failure.

    Reads the environment as the worker does; does not fetch an SSM key (that costs a call and the
    route needs only to know whether one is configured). Bedrock has no key: it signs with the
    function's AWS credentials, so `key_source` is None there and the page says so.
    """
    import os

    s = LLMSettings.from_env()
    region: str | None = None
    if s.provider == PROVIDER_BEDROCK:
        source = None
        region = s.region
        host = f"bedrock-runtime.{region}.amazonaws.com" if region else None
    else:
        if (os.environ.get("MSO_LLM_API_KEY") or "").strip():
            source = "MSO_LLM_API_KEY"
        elif s.api_key_ssm:
            source = "SSM parameter"
        elif s.api_key:
            source = "HF_TOKEN"
        else:
            source = None
        url = urlparse(s.base_url)
        host = url.netloc or s.base_url
    outcomes = store.llm_outcomes(tenant)
    return {
        "configured": s.configured,
        "provider": s.provider,
        "model": s.model or None,
        "region": region,
        "endpoint_host": host,
        "key_source": source,
        "timeout_s": s.timeout_s,
        "last_success": outcomes.last_success if outcomes else None,
        "last_failure": outcomes.last_failure if outcomes else None,
    }
