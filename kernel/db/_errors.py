"""Errors raised by the database layer."""

from __future__ import annotations

from fabrikit.kernel.errors import DomainError, InvalidArgument


class DbConfigError(InvalidArgument):
    """A module's effective database settings are contradictory or unsupported (K-14)."""

    code, title = "invalid_db_config", "Invalid database configuration"


class DbOpenError(DomainError):
    """A database could not be opened or provisioned."""

    code, status, title = "db_unavailable", 503, "Database unavailable"


class TransactionModeError(DomainError):
    """A write transaction was requested inside a read-only SQLite transaction (it could not be IMMEDIATE)."""

    code, status, title = "transaction_mode_error", 500, "Transaction mode error"


class MigrationError(DomainError):
    """A migration could not run; ``module`` and ``migration`` say which, ``__cause__`` says why."""

    code, status, title = "migration_failed", 500, "Migration failed"

    def __init__(self, detail: str, *, module: str, migration: str | None = None) -> None:
        super().__init__(detail)
        self.module = module
        self.migration = migration
