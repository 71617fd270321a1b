"""pynamodb models over the one table.

Every model shares the `PK`/`SK` keys and the overloaded `GSI1` index, and one connection
(one botocore client: cheap on Lambda, and one place to hook for request counting).
Attributes are per entity; see keys.py for the layout and docs/data-model.md for the access
patterns.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    BinaryAttribute,
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    VersionAttribute,
)
from pynamodb.connection import TableConnection
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.config import settings

GSI1_NAME = "GSI1"


class GSI1(GlobalSecondaryIndex):
    """Overloaded index: sessions in progress, a file's history, a tenant's knowledge."""

    class Meta:
        index_name = GSI1_NAME
        projection = AllProjection()

    GSI1PK = UnicodeAttribute(hash_key=True)
    GSI1SK = UnicodeAttribute(range_key=True)


class BaseItem(Model):
    """Keys shared by every item; also used to address any item generically (deletes)."""

    class Meta:
        table_name = "mso"
        region = "us-east-1"
        host = None
        max_retry_attempts = 8

    PK = UnicodeAttribute(hash_key=True)
    SK = UnicodeAttribute(range_key=True)
    # Sparse overloaded index: set only on items that belong in it.
    GSI1PK = UnicodeAttribute(null=True)
    GSI1SK = UnicodeAttribute(null=True)
    gsi1 = GSI1()

    @classmethod
    def _get_connection(cls) -> TableConnection:  # one connection for all models
        base = BaseItem
        if base._connection is None or base._connection.table_name != base.Meta.table_name:
            Model._get_connection.__func__(base)  # type: ignore[attr-defined]
        return base._connection  # type: ignore[return-value]


class TokenItem(BaseItem):
    tenant = UnicodeAttribute()
    label = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()


class ProjectItem(BaseItem):
    id = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    goal = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    state = UnicodeAttribute(default="active")  # active | deleting
    pins = ListAttribute(of=UnicodeAttribute, null=True)
    # Counters and totals: changed in the same transaction as the session they count.
    session_count = NumberAttribute(default=0)  # also the last session number
    sessions_in_progress = NumberAttribute(default=0)
    sessions_completed = NumberAttribute(default=0)
    sessions_failed = NumberAttribute(default=0)
    credits_used = NumberAttribute(default=0)
    credit_budget = NumberAttribute(default=0)
    tasks_planned = NumberAttribute(default=0)
    tasks_completed = NumberAttribute(default=0)
    duration_s = NumberAttribute(default=0)
    errors = NumberAttribute(default=0)
    handoffs_ready = NumberAttribute(default=0)
    latest_handoff = NumberAttribute(null=True)  # number of the session whose handoff is the latest ready one
    knowledge_count = NumberAttribute(default=0)
    last_reserved_at = UnicodeAttribute(null=True)  # when the last session number was taken


class AccountItem(BaseItem):
    id = UnicodeAttribute()
    name = UnicodeAttribute()
    provider = UnicodeAttribute()
    credit_budget = NumberAttribute(default=0)
    credits_used = NumberAttribute(default=0)
    sessions = NumberAttribute(default=0)
    created_at = UnicodeAttribute()


class TranscriptInfo(MapAttribute):
    """Pointer to the current transcript upload plus its stats (the chunks live beside)."""

    upload_id = UnicodeAttribute()
    chunks = NumberAttribute()
    format = UnicodeAttribute()
    messages = NumberAttribute(default=0)
    chars = NumberAttribute(default=0)
    tool_calls = NumberAttribute(default=0)
    tool_errors = NumberAttribute(default=0)
    tokens = NumberAttribute(default=0)  # input + output, without cached prompt tokens
    input_tokens = NumberAttribute(null=True)
    output_tokens = NumberAttribute(null=True)
    cache_read_tokens = NumberAttribute(null=True)
    cache_write_tokens = NumberAttribute(null=True)
    usage_by_model = JSONAttribute(null=True)  # {model: {input_tokens, ...}}: priced on read (chalicelib.pricing)
    peak_context_tokens = NumberAttribute(null=True)  # the largest prompt one call sent
    started_at = UnicodeAttribute(null=True)  # the transcript's first and last timestamps: the real span
    ended_at = UnicodeAttribute(null=True)
    redactions = JSONAttribute(null=True)
    uploaded_at = UnicodeAttribute(null=True)
    s3_key = UnicodeAttribute(null=True)
    index = ListAttribute(of=NumberAttribute, null=True)  # first message index of each chunk


class SessionItem(BaseItem):
    project_id = UnicodeAttribute()
    number = NumberAttribute()
    status = UnicodeAttribute()  # in_progress | completed | failed
    title = UnicodeAttribute(null=True)
    goal = UnicodeAttribute(null=True)
    ai_account = UnicodeAttribute(null=True)
    model = UnicodeAttribute(null=True)
    credit_budget = NumberAttribute(default=0)
    credits_used = NumberAttribute(default=0)
    tasks_planned = NumberAttribute(default=0)
    tasks_completed = NumberAttribute(default=0)
    started_at = UnicodeAttribute()
    ended_at = UnicodeAttribute(null=True)
    duration_s = NumberAttribute(null=True)
    record = JSONAttribute(null=True)  # accomplishments, blockers, decisions, learnings, next_steps, errors, links, done_items
    transcript = TranscriptInfo(null=True)
    files = NumberAttribute(default=0)
    handoff_mode = UnicodeAttribute(null=True)
    handoff = JSONAttribute(null=True)  # {status, method, version, finished_at} of its handoff job, for lists
    starting_handoff = NumberAttribute(null=True)  # which handoff this session started from
    # {commits, checks_pass, checks_fail} from its latest ready handoff's facts, for the project timeline
    activity = JSONAttribute(null=True)
    start_warnings = JSONAttribute(null=True)  # [{code, message}] said when it was started
    updated_at = UnicodeAttribute(null=True)
    # Optimistic lock (pynamodb adds `rev = <read value>` to every save/update/delete and bumps it);
    # writers that must not wait for it bump it without the check (storage.sessions.session_ref).
    rev = VersionAttribute()
    external_id = UnicodeAttribute(null=True)  # the agent's own session id (unique per project: ExternalIdItem)
    agent = UnicodeAttribute(null=True)  # claude, codex, aider, ... (who ran the session)
    # The transcript import in progress (one at a time): its upload id and since when (see
    # storage/transcripts.claim_import).
    importing_upload = UnicodeAttribute(null=True)
    importing_since = UnicodeAttribute(null=True)


class ExternalIdItem(BaseItem):
    """Uniqueness guard: an agent's session id -> the session number, written in the session's
    creating transaction under `attribute_not_exists`, so two racing creations cannot both win."""

    project_id = UnicodeAttribute()
    external_id = UnicodeAttribute()
    number = NumberAttribute()  # 0 while claimed by a creation still being written
    agent = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    claim = UnicodeAttribute(null=True)  # the claiming creation's token, removed when `number` is set


class HandoffItem(BaseItem):
    """The handoff written from session `number` for session `number + 1`."""

    project_id = UnicodeAttribute()
    number = NumberAttribute()
    status = UnicodeAttribute()  # pending | running | ready | failed
    mode = UnicodeAttribute()  # auto | llm | rules (asked for)
    method = UnicodeAttribute(null=True)  # rules | llm | llm+rules (how it was made)
    reason = UnicodeAttribute(null=True)
    job_id = UnicodeAttribute()
    version = NumberAttribute(default=1)
    budget_chars = NumberAttribute(null=True)
    markdown = UnicodeAttribute(null=True)
    data = JSONAttribute(null=True)
    must_keep = JSONAttribute(null=True)
    layout = BinaryAttribute(null=True, legacy_encoding=False)  # zlib'd rules layout: any max_chars later
    input_chars = NumberAttribute(null=True)
    output_chars = NumberAttribute(null=True)
    requested_at = UnicodeAttribute()
    started_at = UnicodeAttribute(null=True)
    finished_at = UnicodeAttribute(null=True)
    timings = JSONAttribute(null=True)
    attempts = NumberAttribute(default=0)
    expires_at = TTLAttribute(null=True)
    retryable = BooleanAttribute(null=True)  # failed because the database was out of reach: run again
    # when the session's transcript was replaced after this document was made from the older one
    # (cleared when a regeneration that read the new transcript finishes)
    transcript_replaced_at = UnicodeAttribute(null=True)


class HandoffVersionItem(BaseItem):
    """One ready version of a handoff, kept when a regeneration replaces it (HANDOFFV#{n}#{version})."""

    project_id = UnicodeAttribute()
    number = NumberAttribute()
    version = NumberAttribute()
    mode = UnicodeAttribute(null=True)
    method = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    markdown = UnicodeAttribute(null=True)
    data = JSONAttribute(null=True)
    must_keep = JSONAttribute(null=True)
    input_chars = NumberAttribute(null=True)
    output_chars = NumberAttribute(null=True)
    requested_at = UnicodeAttribute(null=True)
    finished_at = UnicodeAttribute(null=True)


class LLMStatusItem(BaseItem):
    """A tenant's last LLM outcomes (success, failure with its reason), for the Settings page."""

    last_success = JSONAttribute(null=True)
    last_failure = JSONAttribute(null=True)


class OpenItem(BaseItem):
    """One entry of a project's open-items ledger (next step, blocker or todo) until it is done."""

    id = UnicodeAttribute()
    text = UnicodeAttribute()
    kind = UnicodeAttribute()  # next_step | blocker | todo
    status = UnicodeAttribute()  # open | closed
    source = UnicodeAttribute(null=True)  # session | transcript | carried (how it entered)
    opened_by = NumberAttribute()  # session number
    opened_at = UnicodeAttribute()
    closed_by = NumberAttribute(null=True)
    closed_at = UnicodeAttribute(null=True)


class NoteItem(BaseItem):
    """One version of a session's account: the agent's handoff note or a compaction summary (redacted).

    A session may have several; the newest counts (keys.note_sk sorts by version)."""

    project_id = UnicodeAttribute()
    number = NumberAttribute()
    version = NumberAttribute()
    kind = UnicodeAttribute()  # handoff | compact_summary
    source = UnicodeAttribute(null=True)  # mso note | mcp | post-compact | transcript
    text = UnicodeAttribute()
    created_at = UnicodeAttribute()


class FileChangeItem(BaseItem):
    project_id = UnicodeAttribute()
    number = NumberAttribute()
    path = UnicodeAttribute()
    kind = UnicodeAttribute()
    lines_added = NumberAttribute(null=True)
    lines_removed = NumberAttribute(null=True)
    summary = UnicodeAttribute(null=True)
    old_path = UnicodeAttribute(null=True)
    source = UnicodeAttribute(null=True)


class TranscriptChunkItem(BaseItem):
    """A gzip-compressed slice of normalized messages (JSON lines), under the item size limit."""

    number = NumberAttribute()
    upload_id = UnicodeAttribute()
    chunk = NumberAttribute()
    first = NumberAttribute()  # index of the first message in the chunk
    count = NumberAttribute()
    data = BinaryAttribute(legacy_encoding=False)


class UploadItem(BaseItem):
    """A large-upload slot: the presigned URL's upload id -> where the transcript goes.

    Keyed by the unguessable upload id (like tokens), so the S3 event handler and the local upload
    route learn the tenant from the table, never from the object key or the URL.
    """

    tenant = UnicodeAttribute()
    project_id = UnicodeAttribute()
    number = NumberAttribute()
    format = UnicodeAttribute()
    conversation = UnicodeAttribute(null=True)
    status = UnicodeAttribute(default="waiting")  # waiting | importing | done | failed
    claimed_at = UnicodeAttribute(null=True)  # when its import started (a stale claim may be retaken)
    result = JSONAttribute(null=True)
    created_at = UnicodeAttribute()
    expires_at = TTLAttribute(null=True)


class KnowledgeItem(BaseItem):
    id = UnicodeAttribute()
    project_id = UnicodeAttribute()
    kind = UnicodeAttribute()  # pattern | solution | lesson
    title = UnicodeAttribute()
    body = UnicodeAttribute(null=True)  # None when the title says it all (a one-line learning)
    tags = ListAttribute(of=UnicodeAttribute, null=True)
    source_session = NumberAttribute(null=True)
    uses = NumberAttribute(default=0)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute(null=True)
    pinned = BooleanAttribute(default=False)
    search = UnicodeAttribute(null=True)  # lowercased title, body and tags, for contains() filters


ALL_MODELS: tuple[type[BaseItem], ...] = (
    TokenItem, ProjectItem, AccountItem, SessionItem, HandoffItem, HandoffVersionItem, LLMStatusItem, OpenItem,
    FileChangeItem,
    TranscriptChunkItem, KnowledgeItem, UploadItem, ExternalIdItem,
)


def configure() -> None:
    """Point every model at the table and endpoint of the current settings."""
    s = settings()
    BaseItem.Meta.table_name = s.table_name
    BaseItem.Meta.region = s.region
    BaseItem.Meta.host = s.dynamodb_endpoint
    BaseItem._connection = None
    for m in ALL_MODELS:
        m._connection = None


def client() -> Any:
    """The botocore DynamoDB client every model uses (hook point for request counting)."""
    return BaseItem._get_connection().connection.client
