"""Team configuration: `.github/codex-guard.yml`, merged over org defaults.

The pydantic models (`models`, with the shared pieces in `base`, the `scope`
practice's model in `scope` and the `costs` section in `costs`) are the single
definition of every key; the JSON Schema users' editors validate against is
generated from them. Part of `bot.core`: imports nothing from the layers above.
"""

from bot.core.config.base import Level, PracticeLevel
from bot.core.config.costs import (
    DEFAULT_COSTS,
    Budget,
    BudgetsConfig,
    CostsConfig,
    OpenAIConfig,
    TeamMapping,
    rate_card,
    team_of,
)
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
    "DEFAULT_COSTS",
    "AgentsMdConfig",
    "Budget",
    "BudgetsConfig",
    "ConfigError",
    "CostsConfig",
    "DetectionConfig",
    "DoneWhenConfig",
    "GuardConfig",
    "Level",
    "OpenAIConfig",
    "PracticeLevel",
    "PracticesConfig",
    "ScopeConfig",
    "TaskThreadConfig",
    "TeamMapping",
    "TestsConfig",
    "TrackerConfig",
    "compile_linear",
    "json_schema",
    "load_config",
    "parse_yaml",
    "rate_card",
    "team_of",
]
