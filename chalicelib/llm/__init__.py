"""The LLM path: settings, an OpenAI-compatible chat client, and its named errors.

Nothing here imports Chalice; boto3 is imported only when an SSM-held key is first needed.
"""

from chalicelib.llm.client import ChatClient, parse_retry_after
from chalicelib.llm.errors import (
    LLMAuthError,
    LLMBadResponse,
    LLMError,
    LLMNotConfigured,
    LLMRateLimited,
    LLMRequestRejected,
    LLMTimeout,
    LLMUnavailable,
)
from chalicelib.llm.settings import LLMSettings, clear_ssm_cache, fetch_ssm_parameter

__all__ = [
    "ChatClient",
    "LLMAuthError",
    "LLMBadResponse",
    "LLMError",
    "LLMNotConfigured",
    "LLMRateLimited",
    "LLMRequestRejected",
    "LLMSettings",
    "LLMTimeout",
    "LLMUnavailable",
    "clear_ssm_cache",
    "fetch_ssm_parameter",
    "parse_retry_after",
]
