"""Per-module databases, kernel migrations, scoped SQL and singleton workers (K-13.2, K-13.3, K-14, K-16)."""

from ._database import Database, DatabaseCache, open_database, postgres_connect_config
from ._errors import DbConfigError, DbOpenError, MigrationError, TransactionModeError
from ._filter_sql import SqlColumn, ValueAdapter, compile_filter, sql_value, utc_text
from ._keys import advisory_key, module_schema
from ._migrations import Migration, MigrationContext, history_table_name, migration_status, run_migrations
from ._paginate import decode_value, page_query, paginate, typed_key_of
from ._scope_sql import ScopeColumns, ScopeSql, compile_scope, scope_columns_of
from ._secure import (
    ScopeDbError,
    ScopeDenied,
    ScopedNotFound,
    ScopeError,
    ScopeInvalid,
    TenantNotInScope,
    scoped_delete,
    scoped_get,
    scoped_select,
    scoped_update,
    secure_insert,
)
from ._settings import DbSettings, PoolSettings, SqlitePragmas, redact_dsn, resolve_db_settings
from ._singleton import LEASES_TABLE, Singleton

__all__ = [
    "LEASES_TABLE",
    "Database",
    "DatabaseCache",
    "DbConfigError",
    "DbOpenError",
    "DbSettings",
    "Migration",
    "MigrationContext",
    "MigrationError",
    "PoolSettings",
    "ScopeColumns",
    "ScopeDbError",
    "ScopeDenied",
    "ScopeError",
    "ScopeInvalid",
    "ScopeSql",
    "ScopedNotFound",
    "Singleton",
    "SqlColumn",
    "SqlitePragmas",
    "TenantNotInScope",
    "TransactionModeError",
    "ValueAdapter",
    "advisory_key",
    "compile_filter",
    "compile_scope",
    "decode_value",
    "history_table_name",
    "migration_status",
    "module_schema",
    "open_database",
    "page_query",
    "paginate",
    "postgres_connect_config",
    "redact_dsn",
    "resolve_db_settings",
    "run_migrations",
    "scope_columns_of",
    "scoped_delete",
    "scoped_get",
    "scoped_select",
    "scoped_update",
    "secure_insert",
    "sql_value",
    "typed_key_of",
    "utc_text",
]
