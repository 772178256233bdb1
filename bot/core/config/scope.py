"""`practices.scope` in `.github/codex-guard.yml`, modelled like the other practices.

Plugged into `bot.core.config.PracticesConfig` as ``scope``; patterns are checked
here so a bad one is a config error naming the key, not a crash at evaluation time.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from bot.core.config.base import Level, PracticeLevel, _Model

MAX_PATTERNS = 200
MAX_PATTERN_CHARS = 300


def _checked(patterns: list[str]) -> list[str]:
    # Imported here so `bot.core.config` users who never read scope do not pay for pathspec.
    from pathspec import GitIgnoreSpec

    if len(patterns) > MAX_PATTERNS:
        raise ValueError(f"at most {MAX_PATTERNS} patterns")
    for pattern in patterns:
        if not pattern.strip():
            raise ValueError("a pattern cannot be empty")
        if len(pattern) > MAX_PATTERN_CHARS:
            raise ValueError(f"a pattern is at most {MAX_PATTERN_CHARS} characters")
    GitIgnoreSpec.from_lines(patterns)  # raises ValueError on a pattern pathspec cannot read
    return patterns


class ScopeConfig(_Model):
    level: Level = PracticeLevel.ERROR
    protected_paths: list[str] = Field(
        [],
        description="Gitignore-style patterns a Codex PR may change only with a person's "
        "approval on its head commit, in addition to the built-in ones (workflows, "
        "actions, CODEOWNERS, this config, and the files Codex reads as configuration).",
    )
    allowed_paths: list[str] | None = Field(
        None,
        description="Gitignore-style patterns; when set, a Codex PR that changes anything "
        "else needs a person's approval on its head commit. Null allows every path.",
    )

    @field_validator("protected_paths")
    @classmethod
    def _protected(cls, value: list[str]) -> list[str]:
        return _checked(value)

    @field_validator("allowed_paths")
    @classmethod
    def _allowed(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _checked(value)
