"""The config models and their loading: merged over org defaults, validated whole.

The pydantic models are the single definition of every key; the JSON Schema
users' editors validate against is generated from them (`codex-guard schema`).
Unknown keys are errors, so a typo never silently turns a rule off.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import re2
import yaml
from pydantic import (
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from bot.core.config.base import Level, PracticeLevel, _Model
from bot.core.config.costs import CostsConfig
from bot.core.config.scope import ScopeConfig

CONFIG_PATH = ".github/codex-guard.yml"


def compile_linear(pattern: str) -> re2._Regexp:
    """A team's regex in RE2: its time is linear in the input whatever the pattern,
    so a pattern from config cannot be made to backtrack on an attacker's branch name."""
    options = re2.Options()
    options.log_errors = False
    return re2.compile(pattern, options)


class DetectionConfig(_Model):
    """Which signals mark a PR as written by Codex."""

    task_link: bool = Field(True, description="A Codex task link in the PR body.")
    labels: list[str] = Field(["codex"], description="Labels that mark a Codex PR.")
    branch_pattern: str | None = Field(
        "(^|-)codex/",
        description="Regular expression (RE2 syntax: no backreferences or lookaround, "
        "linear time) matched against the head branch; null turns it off.",
    )

    @field_validator("branch_pattern")
    @classmethod
    def _linear_pattern(cls, value: str | None) -> str | None:
        if value:
            try:
                compile_linear(value)
            except re2.error as exc:
                why = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else exc
                raise ValueError(
                    f"not a pattern codex-guard can run in linear time (RE2 syntax): {why}"
                ) from None
        return value

    commit_trailer: bool = Field(
        True,
        description="Look for `Co-authored-by: Codex <noreply@openai.com>` in the PR's "
        "commits (one API call, made only when the cheaper signals are absent).",
    )


class TrackerConfig(_Model):
    """Which references count as a task thread besides a Codex task link."""

    github_issues: bool = Field(True, description="`#12`, `owner/repo#12`, issue URLs.")
    jira_keys: list[str] = Field(
        [], description="Jira project keys, e.g. `[PROJ, OPS]`; `PROJ-123` then counts."
    )
    linear: bool = Field(
        True, description="Linear issue URLs (`https://linear.app/.../issue/ABC-1`)."
    )


class TaskThreadConfig(_Model):
    level: Level = PracticeLevel.ERROR
    trackers: TrackerConfig = TrackerConfig()
    shared_thread_level: Level = Field(
        PracticeLevel.WARNING,
        description="Level of the finding when another open PR links the same Codex task.",
    )


DEFAULT_DONE_WHEN_ALIASES = [
    "Done when",
    "Definition of done",
    "Acceptance criteria",
    "Success criteria",
]


class DoneWhenConfig(_Model):
    level: Level = PracticeLevel.ERROR
    aliases: list[str] = Field(
        DEFAULT_DONE_WHEN_ALIASES,
        description="Heading or line labels that introduce the success condition.",
    )
    require_checked: bool = Field(False, description="Unchecked `- [ ]` criteria block the PR.")
    read_linked_issue: bool = Field(
        True,
        description="When the body has no Done-when, read it from the GitHub issue the PR links.",
    )


class TestsConfig(_Model):
    level: Level = PracticeLevel.ERROR
    required_checks: list[str] = Field(
        [],
        description="Glob patterns of check and status names that must pass; empty means all.",
    )
    when_no_ci: Literal["fail", "warn"] = Field(
        "fail", description="What to do when the head commit has no CI at all."
    )
    testing_notes_level: Level = Field(
        PracticeLevel.WARNING,
        description="Level of findings from Codex's Testing notes (failed or skipped commands).",
    )


class AgentsMdConfig(_Model):
    level: Level = PracticeLevel.ERROR
    require_root: bool = Field(True, description="A root AGENTS.md must exist.")
    project_doc_max_bytes: int = Field(
        32768, ge=1, description="Codex's budget for the whole AGENTS.md chain, in bytes."
    )
    max_lines: int = Field(200, ge=1, description="A file longer than this gets a warning.")
    max_file_bytes: int | None = Field(
        None, ge=1, description="A file larger than this gets a warning; null for no limit."
    )
    fallback_filenames: list[str] = Field(
        [], description="Other names Codex is configured to read when AGENTS.md is absent."
    )


class PracticesConfig(_Model):
    task_thread: TaskThreadConfig = Field(TaskThreadConfig(), alias="task-thread")
    done_when: DoneWhenConfig = Field(DoneWhenConfig(), alias="done-when")
    tests: TestsConfig = TestsConfig()
    agents_md: AgentsMdConfig = Field(AgentsMdConfig(), alias="agents-md")
    scope: ScopeConfig = ScopeConfig()

    def level_of(self, practice_id: str) -> PracticeLevel:
        return {
            "task-thread": self.task_thread.level,
            "done-when": self.done_when.level,
            "tests": self.tests.level,
            "agents-md": self.agents_md.level,
            "scope": self.scope.level,
        }[practice_id]


class GuardConfig(_Model):
    """The whole of `.github/codex-guard.yml`."""

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        frozen=True,
        title="codex-guard configuration",
        json_schema_extra={
            "$id": "https://codex-guard.dev/schema/codex-guard.schema.json",
        },
    )

    applies_to: Literal["codex", "all"] = Field(
        "codex", description="`codex`: only PRs with a Codex signal; `all`: every PR."
    )
    detection: DetectionConfig = DetectionConfig()
    practices: PracticesConfig = PracticesConfig()
    comment: Literal["on_failure", "always", "never"] = Field(
        "on_failure", description="When to keep a comment on the PR."
    )
    costs: CostsConfig = CostsConfig()


DEFAULT_CONFIG = GuardConfig()


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the key and why."""

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source
        self.detail = message


def _deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def parse_yaml(text: str, source: str) -> dict[str, Any]:
    """YAML text to a mapping; an empty file is an empty mapping."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ConfigError(source, f"not valid YAML{where}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(source, "the top level must be a mapping of keys")
    return data


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        parts.append(f"`{key}`: {err['msg']}")
    return "; ".join(parts)


def load_config(
    repo_text: str | None,
    org_text: str | None = None,
    *,
    repo_source: str = CONFIG_PATH,
    org_source: str = f".github/{CONFIG_PATH}",
) -> GuardConfig:
    """Repo config merged over org defaults merged over built-in defaults."""
    merged: dict[str, Any] = {}
    if org_text is not None:
        org = parse_yaml(org_text, org_source)
        _validate(org, org_source)
        merged = _deep_merge(merged, org)
    if repo_text is not None:
        repo = parse_yaml(repo_text, repo_source)
        _validate(repo, repo_source)
        merged = _deep_merge(merged, repo)
    return _validate(merged, repo_source if repo_text is not None else org_source)


def _validate(data: Mapping[str, Any], source: str) -> GuardConfig:
    try:
        return GuardConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(source, _describe(exc)) from None


def json_schema() -> dict[str, Any]:
    """The JSON Schema for `.github/codex-guard.yml`, by alias (as users write keys)."""
    schema = GuardConfig.model_json_schema(by_alias=True)
    schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    return schema
