"""Configuration: YAML loading, ``${VAR}`` expansion, ``FABRIKIT__`` overrides, typed validation (K-4)."""

from .db import DbModule, DbServer, Engine, PoolConfig, engine_from_dsn
from .errors import ConfigError, did_you_mean, format_path, suggestion
from .expand import expand_env, expand_string
from .loader import CONFIG_ENV_VAR, DEFAULT_PROFILE_SOURCE, build_config, load_config
from .model import (
    LOG_LEVELS,
    PHASES,
    PROCESS_INSTANCE_ID,
    TOP_LEVEL_KEYS,
    AppConfig,
    DatabaseConfig,
    LogFileConfig,
    LoggingConfig,
    ModuleEntry,
    ModuleTimeouts,
    PhaseTimeouts,
    PluginEntry,
    RuntimeConfig,
    ServerConfig,
)
from .overrides import apply_overrides
from .redact import SENSITIVE_KEY_RE, is_sensitive_key, redact, redact_string
from .types import ByteSize, ConfigStruct, Duration, InvalidConfigValue, config_dec_hook
from .validate import convert_config
from .yaml_loader import load_yaml, parse_flow_value, read_yaml_file

__all__ = [
    "CONFIG_ENV_VAR",
    "DEFAULT_PROFILE_SOURCE",
    "LOG_LEVELS",
    "PHASES",
    "PROCESS_INSTANCE_ID",
    "SENSITIVE_KEY_RE",
    "TOP_LEVEL_KEYS",
    "AppConfig",
    "ByteSize",
    "ConfigError",
    "ConfigStruct",
    "DatabaseConfig",
    "DbModule",
    "DbServer",
    "Duration",
    "Engine",
    "InvalidConfigValue",
    "LogFileConfig",
    "LoggingConfig",
    "ModuleEntry",
    "ModuleTimeouts",
    "PhaseTimeouts",
    "PluginEntry",
    "PoolConfig",
    "RuntimeConfig",
    "ServerConfig",
    "apply_overrides",
    "build_config",
    "config_dec_hook",
    "convert_config",
    "did_you_mean",
    "engine_from_dsn",
    "expand_env",
    "expand_string",
    "format_path",
    "is_sensitive_key",
    "load_config",
    "load_yaml",
    "parse_flow_value",
    "read_yaml_file",
    "redact",
    "redact_string",
    "suggestion",
]
