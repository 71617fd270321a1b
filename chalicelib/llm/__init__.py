"""The OpenAI-compatible chat client: its settings, the client, and its named errors.

It knows nothing of handoffs; the handoff writer that calls it is `chalicelib.handoff.llm_writer`.

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
