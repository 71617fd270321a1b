"""Key layout of the single table. Every key starts with the tenant (or is a token hash).

Numbers are zero-padded to 6 digits so that string order is numeric order.
"""

from __future__ import annotations

import hashlib

PAD = 6


def num(n: int) -> str:
    return f"{n:0{PAD}d}"


def token_pk(token_hash: str) -> str:
    return f"TOKEN#{token_hash}"


TOKEN_SK = "TOKEN"


def tenant_pk(tenant: str) -> str:
    return f"T#{tenant}"


def project_sk(project_id: str) -> str:
    return f"PROJECT#{project_id}"


PROJECT_PREFIX = "PROJECT#"


def account_sk(account_id: str) -> str:
    return f"ACCOUNT#{account_id}"


ACCOUNT_PREFIX = "ACCOUNT#"


def project_pk(tenant: str, project_id: str) -> str:
    """The partition holding everything of one project (sessions, handoffs, files, ...)."""
    return f"T#{tenant}#P#{project_id}"


SESSION_PREFIX = "SESSION#"


def session_sk(n: int) -> str:
    return f"SESSION#{num(n)}"


EXTERNAL_PREFIX = "EXT#"


def external_sk(external_id: str) -> str:
    """The uniqueness item of an agent's session id (ids are at most 200 characters: schemas.py)."""
    return f"EXT#{external_id}"


HANDOFF_PREFIX = "HANDOFF#"


def handoff_sk(n: int) -> str:
    return f"HANDOFF#{num(n)}"


def handoff_version_prefix(n: int) -> str:
    """Every ready version of session n's handoff (not under HANDOFF#: "the newest handoff" stays one Query)."""
    return f"HANDOFFV#{num(n)}#"


def handoff_version_sk(n: int, version: int) -> str:
    return f"HANDOFFV#{num(n)}#{num(version)}"


LLM_STATUS_SK = "LLMSTATUS"


FILE_PREFIX = "FILE#"


def file_prefix(n: int) -> str:
    return f"{FILE_PREFIX}{num(n)}#"


def file_sk(n: int, path: str) -> str:
    # Sort keys are capped at 1 KB; very long paths are stored by digest (path kept as attribute).
    p = path if len(path.encode()) <= 800 else "sha256:" + hashlib.sha256(path.encode()).hexdigest()
    return f"FILE#{num(n)}#{p}"


def file_history_gsi1pk(tenant: str, project_id: str, path: str) -> str:
    p = path if len(path.encode()) <= 1500 else "sha256:" + hashlib.sha256(path.encode()).hexdigest()
    return f"T#{tenant}#P#{project_id}#F#{p}"


def transcript_prefix(n: int, upload_id: str | None = None) -> str:
    return f"TRANSCRIPT#{num(n)}#" + (f"{upload_id}#" if upload_id else "")


def transcript_sk(n: int, upload_id: str, chunk: int) -> str:
    return f"TRANSCRIPT#{num(n)}#{upload_id}#{chunk:05d}"


NOTE_PREFIX = "NOTE#"


def note_prefix(n: int) -> str:
    """Every version of session n's account (the agent's notes and compaction summaries), oldest first."""
    return f"NOTE#{num(n)}#"


def note_sk(n: int, version: int) -> str:
    return f"NOTE#{num(n)}#{num(version)}"


ITEM_PREFIX = "ITEM#"


def item_id(text_key: str) -> str:
    """An open item's id: a digest of its normalized text, so the same item added twice (by a retry
    or by two sessions at once) is one item, and a text names the same id everywhere."""
    return hashlib.sha256(text_key.encode("utf-8")).hexdigest()[:10]


def item_sk(item_id: str) -> str:
    return f"ITEM#{item_id}"


KNOW_PREFIX = "KNOW#"


def know_sk(item_id: str) -> str:
    return f"KNOW#{item_id}"


def tenant_knowledge_gsi1pk(tenant: str) -> str:
    return f"T#{tenant}#KNOW"


def in_progress_gsi1pk(tenant: str) -> str:
    return f"T#{tenant}#STATUS#in_progress"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def upload_pk(upload_id: str) -> str:
    return f"UPLOAD#{upload_id}"


UPLOAD_SK = "UPLOAD"


# `make dev` only: which data folder a DynamoDB Local belongs to (one item, checked at start).
DEV_OWNER_PK = DEV_OWNER_SK = "DEV#OWNER"
