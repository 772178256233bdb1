"""`costs` in `.github/codex-guard.yml`: where Codex usage is found, how it is priced,
who it is attributed to and what each team or repository may spend.

Plugged into `bot.core.config.GuardConfig` as ``costs``. Rates reuse the usage core's
`Rate`, so a rate in config is checked exactly as the rate card will read it. Team
mappings and budgets are org-level in spirit (they normally live in the org's
`.github` repository) but a repository file may set them too.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Literal, Protocol

from pydantic import AfterValidator, Field, field_validator, model_validator

from bot.core.config.base import _Model
from bot.core.usage.rates import Rate, RateCard

# Characters GitHub refuses in an Actions artifact name.
_ARTIFACT_FORBIDDEN = set('":<>|*?\\/\r\n')
MAX_NAME_CHARS = 200


def _name(value: str, what: str) -> str:
    """A name from config: not blank, no surrounding or inner whitespace, not huge."""
    if not value.strip():
        raise ValueError(f"{what} cannot be empty")
    if value != value.strip() or any(c.isspace() for c in value):
        raise ValueError(f"{what} cannot contain whitespace: {value!r}")
    if len(value) > MAX_NAME_CHARS:
        raise ValueError(f"{what} is at most {MAX_NAME_CHARS} characters")
    return value


# A team's name, as the keys of `costs.teams` and `costs.budgets.teams` spell it.
TeamName = Annotated[str, AfterValidator(lambda value: _name(value, "a team name"))]


class TeamMapping(_Model):
    """Who belongs to one team, for attributing Codex usage to it."""

    members: list[str] = Field(
        [],
        description="GitHub logins of the team's people (case-insensitive). A person "
        "listed in two teams counts for the first team listed.",
    )
    github_team: str | None = Field(
        None,
        description="Slug of an org team on GitHub whose members also count for this team.",
    )

    @field_validator("members")
    @classmethod
    def _logins(cls, value: list[str]) -> list[str]:
        for login in value:
            _name(login, "a GitHub login")
            if login.startswith("@"):
                raise ValueError(f"write the login without `@`: {login[1:]!r}")
        return value

    @field_validator("github_team")
    @classmethod
    def _slug(cls, value: str | None) -> str | None:
        if value is not None:
            _name(value, "a team slug")
            if "/" in value:
                raise ValueError(f"give the team's slug alone, without the org: {value!r}")
        return value

    @model_validator(mode="after")
    def _someone(self) -> TeamMapping:
        if not self.members and self.github_team is None:
            raise ValueError("a team needs `members`, a `github_team`, or both")
        return self


class Budget(_Model):
    """A monthly spending limit and how loudly to report going over it."""

    monthly_usd: Decimal = Field(
        gt=0, allow_inf_nan=False, description="Dollars per calendar month."
    )
    level: Literal["warning", "error"] = Field(
        "warning", description="Level of the finding when the month's spend passes the budget."
    )


class BudgetsConfig(_Model):
    teams: dict[TeamName, Budget] = Field(
        {},
        description="Budget per team name: a team of `costs.teams`, or one known only "
        "from GitHub team membership.",
    )
    repos: dict[str, Budget] = Field({}, description="Budget per repository, as `owner/name`.")

    @field_validator("repos")
    @classmethod
    def _repo_names(cls, value: dict[str, Budget]) -> dict[str, Budget]:
        for repo in value:
            _name(repo, "a repository")
            owner, _, name = repo.partition("/")
            if not owner or not name or "/" in name:
                raise ValueError(f"name a repository as `owner/name`: {repo!r}")
        return value


class OpenAIConfig(_Model):
    """Org spend reported by OpenAI, attributed to teams by project or API key."""

    projects: dict[str, str] = Field(
        {}, description="OpenAI project id (`proj_…`) to the team its spend counts for."
    )
    api_keys: dict[str, str] = Field(
        {}, description="OpenAI API key id (`key_…`) to the team its spend counts for."
    )

    @field_validator("projects", "api_keys")
    @classmethod
    def _ids_and_teams(cls, value: dict[str, str]) -> dict[str, str]:
        for key, team in value.items():
            _name(key, "an id")
            _name(team, "a team name")
        return value


class CostsConfig(_Model):
    """What Codex costs, per thread, team and repository."""

    artifact_name: str = Field(
        "codex-usage",
        description="Name of the GitHub Actions artifact holding the Codex usage JSONL.",
    )
    default_model: str | None = Field(
        None, description="Model to price a rollout with when it names none; null: unknown."
    )
    rates: dict[str, Rate] = Field(
        {},
        description="Dollars per million tokens by model name (case-insensitive); an entry "
        "replaces the built-in rate of that model or adds a model.",
    )
    teams: dict[TeamName, TeamMapping] = Field(
        {}, description="Team name to its people, for attribution; the first match wins."
    )
    budgets: BudgetsConfig = BudgetsConfig()
    openai: OpenAIConfig = OpenAIConfig()

    @field_validator("artifact_name")
    @classmethod
    def _artifact(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the artifact name cannot be empty")
        bad = sorted(_ARTIFACT_FORBIDDEN.intersection(value))
        if bad:
            shown = " ".join(repr(c) for c in bad)
            raise ValueError(f"GitHub does not allow {shown} in an artifact name")
        if len(value) > MAX_NAME_CHARS:
            raise ValueError(f"the artifact name is at most {MAX_NAME_CHARS} characters")
        return value

    @field_validator("default_model")
    @classmethod
    def _model(cls, value: str | None) -> str | None:
        return None if value is None else _name(value, "a model name")

    @field_validator("rates")
    @classmethod
    def _rate_models(cls, value: dict[str, Rate]) -> dict[str, Rate]:
        seen: dict[str, str] = {}
        for model in value:
            _name(model, "a model name")
            key = model.lower()
            if key in seen:
                raise ValueError(f"{seen[key]!r} and {model!r} name the same model")
            seen[key] = model
        return value


DEFAULT_COSTS = CostsConfig()


class _HasCosts(Protocol):
    @property
    def costs(self) -> CostsConfig: ...


def _costs(config: CostsConfig | _HasCosts) -> CostsConfig:
    return config if isinstance(config, CostsConfig) else config.costs


def rate_card(config: CostsConfig | _HasCosts) -> RateCard:
    """The built-in rate card with the config's `costs.rates` laid over it.

    Takes the whole `GuardConfig` or its `costs`. A configured rate that leaves
    `cache_write_multiplier` out gets the model's default, as `RateCard.with_overrides`
    does for any override."""
    return RateCard.with_overrides(_costs(config).rates)


def team_of(costs: CostsConfig | _HasCosts, login: str) -> str | None:
    """The team a GitHub login counts for by `costs.teams.*.members`, or None.

    Logins compare case-insensitively, as GitHub's do; a person listed in two teams
    counts for the first one listed. `github_team` memberships are not looked up
    here (that needs the GitHub API): callers resolve those when this gives None."""
    wanted = login.strip().lower()
    if not wanted:
        return None
    teams: Mapping[str, TeamMapping] = _costs(costs).teams
    for team, mapping in teams.items():
        if any(member.lower() == wanted for member in mapping.members):
            return team
    return None
