"""Team configuration: `.github/codex-guard.yml`, merged over org defaults.

The pydantic models (`models`, with the shared pieces in `base` and the `scope`
practice's model in `scope`) are the single definition of every key; the JSON
Schema users' editors validate against is generated from them. Part of `bot.core`:
imports nothing from the layers above.
"""

from bot.core.config.base import Level, PracticeLevel
from bot.core.config.models import (
    CONFIG_PATH,
    DEFAULT_CONFIG,
    AgentsMdConfig,
    ConfigError,
    DetectionConfig,
    DoneWhenConfig,
    GuardConfig,
    PracticesConfig,
    TaskThreadConfig,
    TestsConfig,
    TrackerConfig,
    compile_linear,
    json_schema,
    load_config,
    parse_yaml,
)
from bot.core.config.scope import ScopeConfig

__all__ = [
    "CONFIG_PATH",
    "DEFAULT_CONFIG",
    "AgentsMdConfig",
    "ConfigError",
    "DetectionConfig",
    "DoneWhenConfig",
    "GuardConfig",
    "Level",
    "PracticeLevel",
    "PracticesConfig",
    "ScopeConfig",
    "TaskThreadConfig",
    "TestsConfig",
    "TrackerConfig",
    "compile_linear",
    "json_schema",
    "load_config",
    "parse_yaml",
]
