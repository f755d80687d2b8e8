"""K-4.3: the top-level model, unknown keys with suggestions, entries and database blocks (K-14)."""

from __future__ import annotations

import pathlib

import pytest

from fabrikit.kernel._config import (
    PROCESS_INSTANCE_ID,
    AppConfig,
    ConfigError,
    DbModule,
    DbServer,
    ModuleEntry,
    PluginEntry,
    build_config,
    convert_config,
    engine_from_dsn,
)
from fabrikit.kernel.security import Secret


def errors_of(raw: dict) -> list[str]:
    with pytest.raises(ConfigError) as err:
        build_config(raw)
    return err.value.messages


def test_defaults() -> None:
    cfg = build_config({})
    assert cfg.server.name == "fabrikit"
    assert cfg.server.home_dir == pathlib.Path("./.fabrikit")
    assert cfg.server.instance_id == PROCESS_INSTANCE_ID
    t = cfg.runtime.timeouts
    assert (t.db, t.init, t.plugins, t.post_init, t.start, t.stop) == (300, 30, 10, 60, 30, 30)
    assert cfg.runtime.shutdown_budget == 30
    assert cfg.runtime.on_module_failure == "keep"
    assert (cfg.database.servers, cfg.database.default_server, cfg.database.auto_provision) == (
        {},
        None,
        True,
    )
    assert (cfg.logging.level, cfg.logging.format, cfg.logging.levels, cfg.logging.file) == (
        "info",
        "auto",
        {},
        None,
    )
    assert (cfg.modules, cfg.plugins) == ({}, {})


def test_instance_id_is_one_per_process() -> None:
    assert build_config({}).server.instance_id == build_config({}).server.instance_id


def test_null_sections_and_entries_mean_defaults() -> None:
    cfg = build_config(
        {"server": None, "modules": {"oagw": None, "mini-chat": {"config": None}}, "plugins": None}
    )
    assert cfg.server.name == "fabrikit"
    assert cfg.modules == {"oagw": ModuleEntry(), "mini-chat": ModuleEntry()}
    assert cfg.module_config("oagw") == {}
    assert cfg.plugins == {}


def test_module_config_stays_raw() -> None:
    cfg = build_config({"modules": {"mini-chat": {"config": {"quotas": {"daily": "x"}, "anything": [1]}}}})
    assert cfg.module_config("mini-chat") == {"quotas": {"daily": "x"}, "anything": [1]}
    assert cfg.module_config("absent") == {}


def test_plugin_entries() -> None:
    cfg = build_config(
        {
            "plugins": {
                "static-authn": {
                    "enabled": "false",
                    "vendor": "hyperspot",
                    "priority": "5",
                    "config": {"a": 1},
                }
            }
        }
    )
    assert cfg.plugins["static-authn"] == PluginEntry(
        enabled=False, vendor="hyperspot", priority=5, config={"a": 1}
    )
    assert cfg.plugin_config("static-authn") == {"a": 1}


def test_unknown_top_level_key_with_suggestion() -> None:
    assert errors_of({"modulez": {}}) == ["unknown top-level key 'modulez' (did you mean 'modules'?)"]


def test_unknown_top_level_key_without_close_match() -> None:
    assert errors_of({"zzz": 1}) == ["unknown top-level key 'zzz'"]


def test_unknown_keys_inside_module_and_plugin_entries() -> None:
    assert errors_of(
        {"modules": {"mini-chat": {"confg": {}}}, "plugins": {"log-audit": {"enable": False}}}
    ) == [
        "modules.mini-chat: unknown key 'confg' (did you mean 'config'?)",
        "plugins.log-audit: unknown key 'enable' (did you mean 'enabled'?)",
    ]


def test_all_errors_of_all_sections_are_reported_together() -> None:
    raw = {
        "modulez": {},
        "server": {"nam": "x"},
        "runtime": {
            "timeouts": {"init": "5x"},
            "on_module_failure": "panic",
            "module_timeouts": {"oagw": {"start": "z"}},
        },
        "logging": {"level": "loud", "levels": {"uvicorn.access": "nope"}, "format": "xml"},
        "modules": {"mini-chat": {"config": [1]}},
        "plugins": ["a"],
    }
    assert errors_of(raw) == [
        "unknown top-level key 'modulez' (did you mean 'modules'?)",
        "server: unknown key 'nam' (did you mean 'name'?)",
        "runtime.timeouts.init: Expected a duration (seconds or '<n>ms|s|m|h'), got '5x'",
        "runtime.module_timeouts.oagw.start: Expected a duration (seconds or '<n>ms|s|m|h'), got 'z'",
        "runtime.on_module_failure: Invalid enum value 'panic'",
        "logging.format: Invalid enum value 'xml'",
        "modules.mini-chat.config: Expected object, got array",
        "plugins: Expected a mapping of names to entries, got list",
    ]


def test_log_levels_are_checked_after_conversion() -> None:
    assert errors_of({"logging": {"level": "loud", "levels": {"uvicorn.access": "nope", "x": "DEBUG"}}}) == [
        "logging.level: unknown log level 'loud'; expected one of debug, info, warning, error, critical",
        "logging.levels.uvicorn.access: unknown log level 'nope'; expected one of debug, info, warning, error, critical",
    ]


def test_logging_file_block() -> None:
    cfg = build_config({"logging": {"file": {"path": "logs/f.log", "max_bytes": "1MiB"}}})
    assert cfg.logging.file is not None
    assert (cfg.logging.file.path, cfg.logging.file.max_bytes, cfg.logging.file.backups) == (
        pathlib.Path("logs/f.log"),
        1024 * 1024,
        5,
    )
    assert errors_of({"logging": {"file": {}}}) == ["logging.file: missing required key 'path'"]


def test_phase_timeout_precedence() -> None:
    cfg = build_config(
        {"runtime": {"timeouts": {"init": "45s"}, "module_timeouts": {"oagw": {"init": "2m"}}}}
    )
    rt = cfg.runtime
    assert rt.phase_timeout("init", "oagw", {"init": 5}) == 120
    assert rt.phase_timeout("start", "oagw", {"start": "7s"}) == 7
    assert rt.phase_timeout("init", "mini-chat") == 45
    assert rt.phase_timeout("db") == 300
    with pytest.raises(ValueError, match="unknown phase"):
        rt.phase_timeout("warmup")


def test_database_servers_and_default_server() -> None:
    cfg = build_config(
        {
            "database": {
                "servers": {"main": {"dsn": "postgresql://app:pw@db:5432/app", "pool": {"max_size": "20"}}},
                "default_server": "main",
                "auto_provision": False,
            }
        }
    )
    server = cfg.database.servers["main"]
    assert isinstance(server.dsn, Secret)
    assert server.effective_engine == "postgres"
    assert server.pool.max_size == 20
    assert server.pool.acquire_timeout == 10
    assert server.pool.max_inactive_lifetime == 300
    assert "pw" not in repr(cfg)


def test_database_errors() -> None:
    raw = {
        "database": {
            "servers": {
                "a": {"dsn": "mysql://x/y"},
                "b": {"dsn": "sqlite:///x.db", "engine": "postgres"},
                "c": {"host": "h"},
                "d": {"engine": "postgres", "pool": {"min_size": 20}, "port": 70000},
            },
            "default_server": "pg",
        },
        "modules": {"m": {"database": {"file": "a.db", "path": "/b.db", "serverr": "a"}}},
    }
    assert errors_of(raw) == [
        "database.servers.a.dsn: unknown DSN scheme 'mysql'; use sqlite:// or postgresql:// (postgres://)",
        "database.servers.b.engine: engine 'postgres' conflicts with the DSN, which names 'sqlite'",
        "database.servers.c.engine: set 'engine' (sqlite or postgres) or a 'dsn'",
        "database.servers.d.pool.min_size: must not exceed max_size (10)",
        "database.servers.d.port: must be between 1 and 65535, got 70000",
        "database.default_server: 'pg' is not a server under database.servers (a, b, c, d)",
        "modules.m.database: unknown key 'serverr' (did you mean 'server'?)",
    ]


def test_module_database_block() -> None:
    block = convert_config({"server": "main", "file": "chat.db", "params": {"busy_timeout": 1000}}, DbModule)
    assert (block.server, block.file, block.path, block.pool, block.params) == (
        "main",
        "chat.db",
        None,
        None,
        {"busy_timeout": 1000},
    )
    with pytest.raises(ConfigError, match=r"^modules\.m\.database\.path: set either 'file'"):
        convert_config({"file": "a", "path": "b"}, DbModule, "modules.m.database")


@pytest.mark.parametrize(
    ("dsn", "engine"),
    [
        ("postgres://h/d", "postgres"),
        ("postgresql+asyncpg://h/d", "postgres"),
        ("sqlite:///a.db", "sqlite"),
        ("x://", None),
    ],
)
def test_engine_from_dsn(dsn: str, engine: str | None) -> None:
    assert engine_from_dsn(dsn) == engine


def test_db_server_is_frozen_with_secret_password() -> None:
    server = convert_config({"engine": "postgres", "password": "pw"}, DbServer)
    assert isinstance(server.password, Secret)
    assert server.password.reveal() == "pw"


def test_app_config_keeps_raw_and_source() -> None:
    raw = {"modules": {"oagw": None}}
    cfg = build_config(raw, source="x.yaml")
    assert isinstance(cfg, AppConfig)
    assert (cfg.raw, cfg.source) == (raw, "x.yaml")
    assert cfg.raw is not raw


def test_reprs_never_show_raw_secrets() -> None:
    cfg = build_config(
        {
            "modules": {"oagw": {"config": {"api_key": "sk-live"}}},
            "plugins": {"p": {"config": {"token": "t0k3n"}}},
        }
    )
    text = repr(cfg)
    assert "sk-live" not in text
    assert "t0k3n" not in text
    assert "api_key" in text
    assert "sk-live" not in repr(cfg.modules["oagw"])
