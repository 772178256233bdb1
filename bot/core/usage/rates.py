"""What a thread's tokens cost: a built-in dated rate card, team overrides, Decimal sums.

Prices change and a card silently out of date misleads, so every rate carries the
date it was set on and `stale_models` names the old ones. A model the card does not
know is priced as "unknown", never guessed: its tokens are still reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bot.core.usage.rollout import ThreadUsage

_MILLION = Decimal(1_000_000)
_CENT = Decimal("0.01")
# From GPT-5.6 on, OpenAI bills writes to the prompt cache at 1.25x the input price.
CACHE_WRITE_MULTIPLIER = 1.25
_FIRST_CACHE_WRITE_VERSION = (5, 6)
_GPT_VERSION = re.compile(r"gpt-(\d{1,4})(?:\.(\d{1,4}))?")


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CreditRate(_Frozen):
    """ChatGPT-plan credits per million tokens, for plans billed in credits not dollars."""

    input: Decimal = Field(ge=0)
    cached_input: Decimal = Field(ge=0)
    output: Decimal = Field(ge=0)


class Rate(_Frozen):
    """Dollars per million tokens for one model, and the day these prices were set."""

    input: Decimal = Field(ge=0, description="Dollars per million uncached input tokens.")
    cached_input: Decimal = Field(ge=0, description="Dollars per million cached input tokens.")
    output: Decimal = Field(ge=0, description="Dollars per million output tokens.")
    cache_write_multiplier: float | None = Field(
        None,
        ge=0,
        description="Cache-write tokens bill at this times the input price; "
        "null bills them as plain input.",
    )
    set_on: date = Field(description="When these prices were taken from the price list.")
    credits_per_million: CreditRate | None = None


BUILTIN_SET_ON = date(2026, 1, 15)
BUILTIN_RATES: dict[str, Rate] = {
    "gpt-5-codex": Rate(
        input=Decimal("1.25"),
        cached_input=Decimal("0.125"),
        output=Decimal("10.00"),
        set_on=BUILTIN_SET_ON,
    ),
    "codex-mini-latest": Rate(
        input=Decimal("1.50"),
        cached_input=Decimal("0.375"),
        output=Decimal("6.00"),
        set_on=BUILTIN_SET_ON,
    ),
    "gpt-5.3-codex": Rate(
        input=Decimal("1.75"),
        cached_input=Decimal("0.175"),
        output=Decimal("14.00"),
        set_on=BUILTIN_SET_ON,
    ),
}


def default_cache_write_multiplier(model: str) -> float | None:
    """1.25 for GPT-5.6 and later (`gpt-5.6-codex`, `gpt-5.7`, `gpt-6`), else None."""
    match = _GPT_VERSION.match(model.strip().lower())
    if match is None:
        return None
    end = match.end()
    name = model.strip().lower()
    if end < len(name) and (name[end].isdigit() or name[end] == "."):
        return None  # `gpt-5.6.1x` or a version longer than we read: do not guess
    version = (int(match.group(1)), int(match.group(2) or 0))
    return CACHE_WRITE_MULTIPLIER if version >= _FIRST_CACHE_WRITE_VERSION else None


def _key(model: str) -> str:
    return model.strip().lower()


@dataclass(frozen=True)
class RateCard:
    """The built-in rates overlaid by a team's own: a team entry replaces the built-in."""

    rates: Mapping[str, Rate] = field(default_factory=lambda: dict(BUILTIN_RATES))

    @classmethod
    def with_overrides(cls, overrides: Mapping[str, Rate | Mapping[str, Any]] | None) -> RateCard:
        """Built-ins plus `overrides`; a rate that leaves `cache_write_multiplier` out gets
        the model's default (1.25 from GPT-5.6 on), an explicit null keeps plain input."""
        rates = {_key(m): r for m, r in BUILTIN_RATES.items()}
        for model, given in (overrides or {}).items():
            rate = given if isinstance(given, Rate) else Rate.model_validate(given)
            if "cache_write_multiplier" not in rate.model_fields_set:
                default = default_cache_write_multiplier(model)
                rate = rate.model_copy(update={"cache_write_multiplier": default})
            rates[_key(model)] = rate
        return cls(rates)

    def rate_for(self, model: str | None) -> Rate | None:
        return None if model is None else self.rates.get(_key(model))

    def stale_models(self, today: date, max_age: timedelta = timedelta(days=120)) -> list[str]:
        """Models whose prices were set more than `max_age` before `today`."""
        return sorted(m for m, r in self.rates.items() if today - r.set_on > max_age)


@dataclass(frozen=True)
class Cost:
    """A priced usage: `dollars` is None ("unknown") when the card lacks the model."""

    model: str | None
    input_tokens: int
    cached_input_tokens: int
    cache_write_input_tokens: int
    output_tokens: int
    reasoning_output_tokens: int
    dollars: Decimal | None
    credits: Decimal | None = None
    rate_set_on: date | None = None
    threads: int = 1
    unpriced_threads: int = 0


def _price(
    usage: ThreadUsage, p_in: Decimal, p_cached: Decimal, p_out: Decimal, mult: float | None
) -> Decimal:
    uncached = usage.input_tokens - usage.cached_input_tokens - usage.cache_write_input_tokens
    p_write = p_in * Decimal(str(mult)) if mult is not None else p_in
    total = (
        uncached * p_in
        + usage.cached_input_tokens * p_cached
        + usage.cache_write_input_tokens * p_write
        + usage.output_tokens * p_out
    )
    return total / _MILLION


def cost_of(usage: ThreadUsage, card: RateCard) -> Cost:
    """One thread's exact cost in dollars, and in credits when the rate has credit prices."""
    rate = card.rate_for(usage.model)
    dollars = credits = None
    if rate is not None:
        mult = rate.cache_write_multiplier
        dollars = _price(usage, rate.input, rate.cached_input, rate.output, mult)
        if rate.credits_per_million is not None:
            c = rate.credits_per_million
            credits = _price(usage, c.input, c.cached_input, c.output, mult)
    return Cost(
        model=usage.model,
        input_tokens=usage.input_tokens,
        cached_input_tokens=usage.cached_input_tokens,
        cache_write_input_tokens=usage.cache_write_input_tokens,
        output_tokens=usage.output_tokens,
        reasoning_output_tokens=usage.reasoning_output_tokens,
        dollars=dollars,
        credits=credits,
        rate_set_on=rate.set_on if rate else None,
        unpriced_threads=0 if rate else 1,
    )


def total_cost(usages: Iterable[ThreadUsage], card: RateCard) -> Cost:
    """Distinct threads added up (merge them first): tokens of all, dollars of the priced.

    `dollars` is None only when no thread could be priced; `unpriced_threads` says how
    many were left out, so a partial sum is never mistaken for the whole.
    """
    costs = [cost_of(u, card) for u in usages]
    priced = [c.dollars for c in costs if c.dollars is not None]
    credited = [c.credits for c in costs if c.credits is not None]
    models = {c.model for c in costs}
    dates = [c.rate_set_on for c in costs if c.rate_set_on is not None]
    return Cost(
        model=models.pop() if len(models) == 1 else None,
        input_tokens=sum(c.input_tokens for c in costs),
        cached_input_tokens=sum(c.cached_input_tokens for c in costs),
        cache_write_input_tokens=sum(c.cache_write_input_tokens for c in costs),
        output_tokens=sum(c.output_tokens for c in costs),
        reasoning_output_tokens=sum(c.reasoning_output_tokens for c in costs),
        dollars=sum(priced, Decimal(0)) if priced else None,
        credits=sum(credited, Decimal(0)) if credited else None,
        rate_set_on=min(dates) if dates else None,
        threads=len(costs),
        unpriced_threads=sum(c.unpriced_threads for c in costs),
    )


def dollars(amount: Decimal | None) -> str:
    """`$0.30`: rounded half-up to the cent, thousands grouped; None reads "unknown"."""
    if amount is None:
        return "unknown"
    return f"${amount.quantize(_CENT, rounding=ROUND_HALF_UP):,.2f}"
