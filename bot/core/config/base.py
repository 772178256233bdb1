"""The pieces every config model shares, apart so that a practice's own model
(`scope_config`) and `config` can both build on them without importing each other."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict


class PracticeLevel(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    OFF = "off"


def _yaml_off(value: Any) -> Any:
    """YAML 1.1 reads a bare `off` as false; a level of false means off."""
    return "off" if value is False else value


Level = Annotated[PracticeLevel, BeforeValidator(_yaml_off)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)
