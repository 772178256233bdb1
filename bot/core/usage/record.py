"""One Codex thread's usage on one pull request, as the cost ledger keeps it.

A `ThreadUsage` says what a thread spent; a `UsageRecord` adds whose it was (the
repository, PR, person and team it is attributed to), what it cost and when it was
first seen. It lives in the core so the ledger (`bot.jobs.costs.ledger`) and the
summaries (`bot.present.cost_summary`) share one type without the presentation layer
reaching into jobs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from bot.core.usage.rollout import MAX_TOKENS, ThreadUsage

TOKEN_FIELDS = (
    "input_tokens",
    "cached_input_tokens",
    "cache_write_input_tokens",
    "output_tokens",
    "reasoning_output_tokens",
)


@dataclass(frozen=True)
class UsageRecord:
    """A thread's cumulative tokens and cost, attributed to a PR, a person and a team.

    `dollars` is None when the rate card does not know the model. `recorded_at` is
    when the ledger first saw the thread, in UTC (a naive time is taken as UTC).
    """

    repo: str
    pr: int
    person: str
    team: str | None
    thread_id: str
    model: str | None
    input_tokens: int
    cached_input_tokens: int
    cache_write_input_tokens: int
    output_tokens: int
    reasoning_output_tokens: int
    dollars: Decimal | None
    recorded_at: datetime
    run_id: int | None = None

    def __post_init__(self) -> None:
        if not self.repo or not self.thread_id:
            raise ValueError("a usage record needs a repository and a thread id")
        for name in ("pr", *TOKEN_FIELDS):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{name} is not an integer")
            if value < 0 or value > MAX_TOKENS:
                raise ValueError(f"{name} is out of range ({value})")
        if self.run_id is not None and (
            isinstance(self.run_id, bool) or not isinstance(self.run_id, int)
        ):
            raise ValueError("run_id is not an integer")
        if self.dollars is not None and (
            not isinstance(self.dollars, Decimal)
            or not self.dollars.is_finite()
            or self.dollars < 0
        ):
            raise ValueError(f"dollars must be a finite, non-negative Decimal: {self.dollars!r}")
        if not isinstance(self.recorded_at, datetime):
            raise ValueError("recorded_at is not a datetime")
        at = self.recorded_at
        at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
        object.__setattr__(self, "recorded_at", at)

    @property
    def total_tokens(self) -> int:
        """Input plus output: what grows as a thread goes on (cached and reasoning are inside)."""
        return self.input_tokens + self.output_tokens

    @classmethod
    def of(
        cls,
        usage: ThreadUsage,
        *,
        repo: str,
        pr: int,
        person: str,
        team: str | None,
        dollars: Decimal | None,
        recorded_at: datetime | None = None,
        run_id: int | None = None,
    ) -> UsageRecord:
        """A record of a parsed thread (price it first with `bot.core.usage.rates.cost_of`)."""
        return cls(
            repo=repo,
            pr=pr,
            person=person,
            team=team,
            thread_id=usage.thread_id,
            model=usage.model,
            input_tokens=usage.input_tokens,
            cached_input_tokens=usage.cached_input_tokens,
            cache_write_input_tokens=usage.cache_write_input_tokens,
            output_tokens=usage.output_tokens,
            reasoning_output_tokens=usage.reasoning_output_tokens,
            dollars=dollars,
            recorded_at=recorded_at or datetime.now(UTC),
            run_id=run_id,
        )
