"""The LLM clients (OpenAI-compatible and Amazon Bedrock), their settings, the factory that picks
one (`make_client`), and their named errors.

It knows nothing of handoffs; the handoff writer that calls it is `chalicelib.handoff.llm_writer`.

Nothing here imports Chalice; boto3 is imported only when an SSM-held key or Bedrock is first needed.
"""

from chalicelib.llm.bedrock import BedrockClient
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
from chalicelib.llm.factory import LLMClient, make_client
from chalicelib.llm.settings import LLMSettings, clear_ssm_cache, fetch_ssm_parameter

__all__ = [
    "BedrockClient",
    "ChatClient",
    "LLMAuthError",
    "LLMBadResponse",
    "LLMClient",
    "LLMError",
    "LLMNotConfigured",
    "LLMRateLimited",
    "LLMRequestRejected",
    "LLMSettings",
    "LLMTimeout",
    "LLMUnavailable",
    "clear_ssm_cache",
    "fetch_ssm_parameter",
    "make_client",
    "parse_retry_after",
]
