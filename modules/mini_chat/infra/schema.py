"""mini-chat's schema (CI-2) as raw DDL with the per-dialect type map; partial indexes via ``create_index``."""

from __future__ import annotations

from fabrikit.kernel.db import Migration, MigrationContext
from fabrikit.kernel.outbox import outbox_migration

TYPES = {
    "postgres": {
        "uuid": "UUID",
        "ts": "TIMESTAMPTZ",
        "date": "DATE",
        "int": "INTEGER",
        "bigint": "BIGINT",
        "bool": "BOOLEAN",
        "text": "TEXT",
        "json": "JSONB",
        "bytes": "BYTEA",
        "false": "FALSE",
        "vc": "VARCHAR",
        "json_empty": "'[]'::jsonb",
    },
    "sqlite": {
        "uuid": "TEXT",
        "ts": "TEXT",
        "date": "TEXT",
        "int": "INTEGER",
        "bigint": "INTEGER",
        "bool": "INTEGER",
        "text": "TEXT",
        "json": "TEXT",
        "bytes": "BLOB",
        "false": "0",
        "vc": "TEXT",
        "json_empty": "'[]'",
    },
}


def _vc(dialect: str, n: int) -> str:
    return f"VARCHAR({n})" if dialect == "postgres" else "TEXT"


def tables(dialect: str) -> list[str]:
    t = TYPES[dialect]
    u, ts, d, i, bi, b, tx, js, by, f = (
        t["uuid"],
        t["ts"],
        t["date"],
        t["int"],
        t["bigint"],
        t["bool"],
        t["text"],
        t["json"],
        t["bytes"],
        t["false"],
    )

    def vc(n: int) -> str:
        return _vc(dialect, n)

    return [
        f"""CREATE TABLE IF NOT EXISTS chats (
            id {u} PRIMARY KEY,
            tenant_id {u} NOT NULL,
            user_id {u} NOT NULL,
            model {vc(1024)} NOT NULL,
            title {vc(255)},
            is_temporary {b} NOT NULL DEFAULT {f},
            created_at {ts} NOT NULL,
            updated_at {ts} NOT NULL,
            deleted_at {ts}
        )""",
        f"""CREATE TABLE IF NOT EXISTS messages (
            id {u} PRIMARY KEY,
            tenant_id {u} NOT NULL,
            chat_id {u} NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
            request_id {u},
            role {vc(16)} NOT NULL CHECK (role IN ('user', 'assistant', 'system')),
            content {tx} NOT NULL DEFAULT '',
            content_type {vc(32)} NOT NULL DEFAULT 'text',
            token_estimate {i} NOT NULL DEFAULT 0,
            provider_response_id {vc(128)},
            request_kind {vc(16)} NOT NULL DEFAULT 'chat' CHECK (request_kind IN ('chat', 'summary', 'doc_summary')),
            features_used {js} NOT NULL DEFAULT {t["json_empty"]},
            input_tokens {bi} NOT NULL DEFAULT 0,
            output_tokens {bi} NOT NULL DEFAULT 0,
            cache_read_input_tokens {bi} NOT NULL DEFAULT 0,
            cache_write_input_tokens {bi} NOT NULL DEFAULT 0,
            reasoning_tokens {bi} NOT NULL DEFAULT 0,
            model {vc(1024)},
            is_compressed {b} NOT NULL DEFAULT {f},
            created_at {ts} NOT NULL,
            deleted_at {ts}
        )""",
        f"""CREATE TABLE IF NOT EXISTS chat_turns (
            id {u} PRIMARY KEY,
            tenant_id {u} NOT NULL,
            chat_id {u} NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
            request_id {u} NOT NULL,
            requester_type {vc(8)} NOT NULL CHECK (requester_type IN ('user', 'system')),
            requester_user_id {u},
            state {vc(16)} NOT NULL CHECK (state IN ('running', 'completed', 'failed', 'cancelled')),
            assistant_message_id {u} REFERENCES messages(id) ON DELETE SET NULL,
            error_code {vc(64)},
            error_detail {tx},
            provider_name {vc(64)},
            provider_response_id {vc(128)},
            reserve_tokens {bi},
            max_output_tokens_applied {i},
            reserved_credits_micro {bi},
            policy_version_applied {bi},
            effective_model {vc(1024)},
            minimal_generation_floor_applied {i},
            effective_tier {vc(16)},
            input_multiplier_micro {bi},
            output_multiplier_micro {bi},
            quota_period_daily {d},
            quota_period_monthly {d},
            quota_decision {vc(16)},
            downgrade_reason {vc(32)},
            settlement_method {vc(16)},
            committed_credits_micro {bi},
            overshoot_capped {b},
            completion_reason {vc(32)},
            web_search_enabled {b} NOT NULL DEFAULT {f},
            web_search_completed_count {i} NOT NULL DEFAULT 0,
            code_interpreter_completed_count {i} NOT NULL DEFAULT 0,
            file_search_completed_count {i} NOT NULL DEFAULT 0,
            image_count {i} NOT NULL DEFAULT 0,
            replaced_by_request_id {u},
            started_at {ts} NOT NULL,
            last_progress_at {ts},
            completed_at {ts},
            updated_at {ts} NOT NULL,
            deleted_at {ts},
            UNIQUE (chat_id, request_id),
            CHECK (state <> 'running' OR (completed_at IS NULL AND last_progress_at IS NOT NULL)),
            CHECK (state = 'running' OR completed_at IS NOT NULL)
        )""",
        f"""CREATE TABLE IF NOT EXISTS attachments (
            id {u} PRIMARY KEY,
            tenant_id {u} NOT NULL,
            chat_id {u} NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
            uploaded_by_user_id {u} NOT NULL,
            filename {vc(255)} NOT NULL,
            content_type {vc(128)} NOT NULL,
            size_bytes {bi} NOT NULL DEFAULT 0,
            storage_backend {vc(64)} NOT NULL,
            provider_file_id {vc(128)},
            status {vc(16)} NOT NULL CHECK (status IN ('pending', 'uploaded', 'ready', 'failed')),
            error_code {vc(64)},
            attachment_kind {vc(16)} NOT NULL CHECK (attachment_kind IN ('document', 'image')),
            for_file_search {b} NOT NULL DEFAULT {f},
            for_code_interpreter {b} NOT NULL DEFAULT {f},
            doc_summary {tx},
            summary_model {vc(1024)},
            summary_updated_at {ts},
            img_thumbnail {by},
            img_thumbnail_width {i},
            img_thumbnail_height {i},
            cleanup_status {vc(16)} CHECK (cleanup_status IS NULL OR cleanup_status IN ('pending', 'done', 'failed')),
            cleanup_attempts {i} NOT NULL DEFAULT 0,
            last_cleanup_error {tx},
            cleanup_updated_at {ts},
            created_at {ts} NOT NULL,
            updated_at {ts} NOT NULL,
            deleted_at {ts},
            UNIQUE (id, chat_id)
        )""",
        f"""CREATE TABLE IF NOT EXISTS message_attachments (
            tenant_id {u} NOT NULL,
            chat_id {u} NOT NULL,
            message_id {u} NOT NULL,
            attachment_id {u} NOT NULL,
            created_at {ts} NOT NULL,
            PRIMARY KEY (chat_id, message_id, attachment_id),
            FOREIGN KEY (message_id, chat_id) REFERENCES messages(id, chat_id) ON DELETE CASCADE,
            FOREIGN KEY (attachment_id, chat_id) REFERENCES attachments(id, chat_id) ON DELETE CASCADE
        )""",
        f"""CREATE TABLE IF NOT EXISTS message_reactions (
            id {u} PRIMARY KEY,
            tenant_id {u} NOT NULL,
            chat_id {u} NOT NULL,
            message_id {u} NOT NULL,
            user_id {u} NOT NULL,
            reaction {vc(8)} NOT NULL CHECK (reaction IN ('like', 'dislike')),
            created_at {ts} NOT NULL,
            UNIQUE (message_id, user_id),
            FOREIGN KEY (message_id, chat_id) REFERENCES messages(id, chat_id) ON DELETE CASCADE
        )""",
        f"""CREATE TABLE IF NOT EXISTS quota_usage (
            id {u} PRIMARY KEY,
            tenant_id {u} NOT NULL,
            user_id {u} NOT NULL,
            period_type {vc(8)} NOT NULL CHECK (period_type IN ('daily', 'monthly')),
            period_start {d} NOT NULL,
            bucket {vc(32)} NOT NULL CHECK (bucket IN ('total', 'tier:premium')),
            spent_credits_micro {bi} NOT NULL DEFAULT 0 CHECK (spent_credits_micro >= 0),
            reserved_credits_micro {bi} NOT NULL DEFAULT 0 CHECK (reserved_credits_micro >= 0),
            calls {bi} NOT NULL DEFAULT 0,
            input_tokens {bi} NOT NULL DEFAULT 0,
            output_tokens {bi} NOT NULL DEFAULT 0,
            file_search_calls {bi} NOT NULL DEFAULT 0,
            web_search_calls {bi} NOT NULL DEFAULT 0,
            code_interpreter_calls {bi} NOT NULL DEFAULT 0,
            rag_retrieval_calls {bi} NOT NULL DEFAULT 0,
            image_inputs {bi} NOT NULL DEFAULT 0,
            image_upload_bytes {bi} NOT NULL DEFAULT 0,
            updated_at {ts} NOT NULL,
            UNIQUE (tenant_id, user_id, period_type, period_start, bucket)
        )""",
        f"""CREATE TABLE IF NOT EXISTS thread_summaries (
            id {u} PRIMARY KEY,
            tenant_id {u} NOT NULL,
            chat_id {u} NOT NULL UNIQUE REFERENCES chats(id) ON DELETE CASCADE,
            summary_text {tx} NOT NULL,
            summarized_up_to_message_id {u} NOT NULL,
            summarized_up_to_created_at {ts} NOT NULL,
            token_estimate {i} NOT NULL DEFAULT 0,
            created_at {ts} NOT NULL,
            updated_at {ts} NOT NULL
        )""",
        f"""CREATE TABLE IF NOT EXISTS chat_vector_stores (
            id {u} PRIMARY KEY,
            tenant_id {u} NOT NULL,
            chat_id {u} NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
            vector_store_id {vc(128)},
            provider {vc(64)} NOT NULL,
            file_count {i} NOT NULL DEFAULT 0,
            created_at {ts} NOT NULL,
            UNIQUE (tenant_id, chat_id)
        )""",
    ]


INDEXES: list[tuple[str, str, tuple[str, ...], bool, str | None]] = [
    ("ix_chats_owner", "chats", ("tenant_id", "user_id", "updated_at", "id"), False, "deleted_at IS NULL"),
    (
        "ux_messages_turn_role",
        "messages",
        ("chat_id", "request_id", "role"),
        True,
        "request_id IS NOT NULL AND deleted_at IS NULL",
    ),
    ("ix_messages_order", "messages", ("chat_id", "created_at", "id"), False, "deleted_at IS NULL"),
    ("ux_messages_id_chat", "messages", ("id", "chat_id"), True, None),
    ("ux_turns_one_running", "chat_turns", ("chat_id",), True, "state = 'running' AND deleted_at IS NULL"),
    ("ix_turns_order", "chat_turns", ("chat_id", "started_at", "id"), False, "deleted_at IS NULL"),
    (
        "ix_turns_progress",
        "chat_turns",
        ("last_progress_at",),
        False,
        "state = 'running' AND deleted_at IS NULL",
    ),
    ("ix_attachments_chat", "attachments", ("tenant_id", "chat_id"), False, "deleted_at IS NULL"),
    (
        "ix_attachments_cleanup",
        "attachments",
        ("cleanup_status", "cleanup_updated_at"),
        False,
        "cleanup_status = 'pending'",
    ),
    ("ix_attachments_provider_file", "attachments", ("chat_id", "provider_file_id"), False, None),
    ("ix_message_attachments_attachment", "message_attachments", ("attachment_id", "chat_id"), False, None),
]


async def _create_schema(mctx: MigrationContext) -> None:
    # messages(id, chat_id) must be unique before the composite foreign keys that point at it.
    statements = tables(mctx.dialect)
    for ddl in statements[:2]:
        await mctx.execute(ddl)
    await mctx.create_index("ux_messages_id_chat", "messages", ["id", "chat_id"], unique=True)
    for ddl in statements[2:]:
        await mctx.execute(ddl)
    for name, table, cols, unique, where in INDEXES:
        await mctx.create_index(name, table, list(cols), unique=unique, where=where)


def migrations() -> list[Migration]:
    return [Migration("m000_mini_chat_schema", _create_schema), outbox_migration()]
