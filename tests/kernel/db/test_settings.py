"""K-14, K-14.1, K-14.3: merging a module's database block over its server."""

from __future__ import annotations

from pathlib import Path

import pytest

from fabrikit.kernel.db import DbConfigError, PoolSettings, SqlitePragmas, redact_dsn, resolve_db_settings
from fabrikit.kernel.security import Secret

HOME = Path("/srv/home")
PG = {
    "main": {"engine": "postgres", "dsn": "postgresql://app:pw@db:5432/app", "params": {"sslmode": "require"}}
}


def test_no_block_without_default_server_is_module_sqlite_file() -> None:
    settings = resolve_db_settings("mini-chat", None, {}, None, HOME)
    assert settings.engine == "sqlite"
    assert settings.sqlite_path == HOME / "mini-chat" / "mini-chat.sqlite"
    assert settings.pragmas == SqlitePragmas("WAL", "NORMAL", 5000)


def test_no_block_uses_default_server() -> None:
    settings = resolve_db_settings("oagw", None, PG, "main", HOME)
    assert settings.engine == "postgres"
    assert settings.server == "main"
    assert settings.params == {"sslmode": "require"}


def test_block_naming_no_target_tunes_the_default_server() -> None:
    settings = resolve_db_settings("oagw", {"pool": {"max_size": 3}}, PG, "main", HOME)
    assert settings.engine == "postgres"
    assert settings.pool == PoolSettings(min_size=1, max_size=3)


def test_module_block_applies_without_servers() -> None:
    settings = resolve_db_settings("oagw", {"file": "gw.db"}, {}, None, HOME)
    assert settings.sqlite_path == HOME / "oagw" / "gw.db"


def test_module_fields_beat_server_fields_and_params_merge() -> None:
    block = {"server": "main", "dbname": "other", "user": "mod", "params": {"application_name": "x"}}
    settings = resolve_db_settings("oagw", block, PG, None, HOME)
    assert settings.dbname == "other"
    assert settings.user == "mod"
    assert settings.params == {"sslmode": "require", "application_name": "x"}


def test_module_param_wins_over_server_param() -> None:
    settings = resolve_db_settings(
        "oagw", {"server": "main", "params": {"sslmode": "disable"}}, PG, None, HOME
    )
    assert settings.params == {"sslmode": "disable"}


def test_pool_is_replaced_whole() -> None:
    servers = {"main": {**PG["main"], "pool": {"min_size": 2, "max_size": 20, "acquire_timeout": "2s"}}}
    assert resolve_db_settings("oagw", {"server": "main"}, servers, None, HOME).pool == PoolSettings(
        min_size=2, max_size=20, acquire_timeout=2.0
    )
    replaced = resolve_db_settings(
        "oagw", {"server": "main", "pool": {"max_size": 5}}, servers, None, HOME
    ).pool
    assert replaced == PoolSettings(min_size=1, max_size=5)


def test_file_and_path_are_not_inherited_from_server() -> None:
    servers = {"lite": {"engine": "sqlite"}}
    settings = resolve_db_settings("a", {"server": "lite"}, servers, None, HOME)
    assert settings.sqlite_path == HOME / "a" / "a.sqlite"
    with pytest.raises(DbConfigError, match="unknown key"):
        resolve_db_settings("a", {"server": "lite"}, {"lite": {"engine": "sqlite", "file": "x"}}, None, HOME)


def test_engine_inferred_from_dsn_and_conflict_rejected() -> None:
    assert resolve_db_settings("a", {"dsn": "postgres://h/db"}, {}, None, HOME).engine == "postgres"
    assert resolve_db_settings("a", {"dsn": "sqlite:///tmp/x.db"}, {}, None, HOME).sqlite_path == Path(
        "/tmp/x.db"
    )
    with pytest.raises(DbConfigError, match="conflicts"):
        resolve_db_settings("a", {"engine": "sqlite", "dsn": "postgresql://h/db"}, {}, None, HOME)
    with pytest.raises(DbConfigError, match="unsupported scheme"):
        resolve_db_settings("a", {"dsn": "mysql://h/db"}, {}, None, HOME)


def test_memory_sqlite_rejected() -> None:
    for block in ({"path": ":memory:"}, {"dsn": "sqlite://:memory:"}):
        with pytest.raises(DbConfigError, match="in-memory"):
            resolve_db_settings("a", block, {}, None, HOME)


def test_sqlite_params_are_limited_and_validated() -> None:
    settings = resolve_db_settings(
        "a", {"params": {"synchronous": "full", "busy_timeout": 100, "wal": False}}, {}, None, HOME
    )
    assert settings.pragmas == SqlitePragmas("DELETE", "FULL", 100)
    with pytest.raises(DbConfigError, match="SQLite accepts only"):
        resolve_db_settings("a", {"params": {"cache_size": 1}}, {}, None, HOME)
    with pytest.raises(DbConfigError, match="synchronous"):
        resolve_db_settings("a", {"params": {"synchronous": "sometimes"}}, {}, None, HOME)


def test_unknown_server_and_sqlite_only_fields_on_postgres() -> None:
    with pytest.raises(DbConfigError, match="unknown database server 'nope'"):
        resolve_db_settings("a", {"server": "nope"}, PG, None, HOME)
    with pytest.raises(DbConfigError, match="SQLite only"):
        resolve_db_settings("a", {"server": "main", "file": "x.db"}, PG, None, HOME)


def test_password_never_in_repr() -> None:
    block = {"host": "db", "user": "u", "password": Secret("hunter2"), "dsn": "postgresql://u:hunter2@db/x"}
    settings = resolve_db_settings("a", block, {}, None, HOME)
    assert settings.password == "hunter2"
    assert "hunter2" not in repr(settings)
    assert "hunter2" not in settings.describe()
    assert redact_dsn("postgresql://u:pw@h/db?sslmode=x") == "postgresql://u:[REDACTED]@h/db"
