"""Pricing threads (`bot/core/usage/rates.py`): the dated built-in card, team overrides,
cache writes from GPT-5.6 on, exact Decimal sums and the worked example's $0.30."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.core.usage.rates import (
    BUILTIN_RATES,
    Rate,
    RateCard,
    cost_of,
    default_cache_write_multiplier,
    dollars,
    total_cost,
)
from bot.core.usage.rollout import ThreadUsage, parse_jsonl

USAGE = Path(__file__).resolve().parent.parent / "fixtures" / "usage"
WORKED = USAGE / "rollout-2026-01-20T10-04-31-0199a213-81c0-7800-8aa1-bbab2a035a53.jsonl"


def _usage(model: str | None, inp: int, cached: int, write: int, out: int) -> ThreadUsage:
    return ThreadUsage("t", model, inp, cached, write, out, 0)


def test_the_worked_example_costs_thirty_cents():
    (usage,) = parse_jsonl(WORKED.name, WORKED.read_text()).usages
    cost = cost_of(usage, RateCard())
    # (935040-875306)*1.25 + 875306*0.125 + 11150*10 = 295580.75 per million
    assert cost.dollars == Decimal("0.29558075")
    assert dollars(cost.dollars) == "$0.30"
    assert (cost.model, cost.input_tokens, cost.output_tokens) == ("gpt-5-codex", 935_040, 11_150)
    assert cost.rate_set_on == date(2026, 1, 15)
    assert cost.credits is None


def test_the_built_in_card():
    prices = {m: (r.input, r.cached_input, r.output) for m, r in BUILTIN_RATES.items()}
    assert prices == {
        "gpt-5-codex": (Decimal("1.25"), Decimal("0.125"), Decimal("10")),
        "codex-mini-latest": (Decimal("1.50"), Decimal("0.375"), Decimal("6")),
        "gpt-5.3-codex": (Decimal("1.75"), Decimal("0.175"), Decimal("14")),
    }
    assert {r.set_on for r in BUILTIN_RATES.values()} == {date(2026, 1, 15)}
    assert {r.cache_write_multiplier for r in BUILTIN_RATES.values()} == {None}


def test_a_million_of_each_kind_costs_its_price():
    card = RateCard()
    assert cost_of(_usage("gpt-5.3-codex", 1_000_000, 0, 0, 0), card).dollars == Decimal("1.75")
    assert cost_of(_usage("gpt-5.3-codex", 10**6, 10**6, 0, 0), card).dollars == Decimal("0.175")
    assert cost_of(_usage("codex-mini-latest", 0, 0, 0, 10**6), card).dollars == Decimal("6")


def test_cache_writes_bill_as_input_without_a_multiplier_and_scaled_with_one():
    usage = _usage("m", 1_000_000, 0, 400_000, 0)
    plain = RateCard.with_overrides(
        {"m": {"input": 2, "cached_input": 0.2, "output": 8, "set_on": "2026-02-01"}}
    )
    assert cost_of(usage, plain).dollars == Decimal("2")
    scaled = RateCard.with_overrides(
        {
            "m": {
                "input": 2,
                "cached_input": 0.2,
                "output": 8,
                "cache_write_multiplier": 1.25,
                "set_on": "2026-02-01",
            }
        }
    )
    # 600k plain at $2 + 400k written at 1.25 x $2
    assert cost_of(usage, scaled).dollars == Decimal("2.2")


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("gpt-5.6-codex", 1.25),
        ("gpt-5.7", 1.25),
        ("GPT-5.10-codex", 1.25),
        ("gpt-6", 1.25),
        ("gpt-5.5-codex", None),
        ("gpt-5-codex", None),
        ("gpt-5.3-codex", None),
        ("gpt-4.1", None),
        ("codex-mini-latest", None),
        ("gpt-5.6.1", None),
    ],
)
def test_default_cache_write_multiplier(model, expected):
    assert default_cache_write_multiplier(model) == expected


def test_a_team_rate_for_a_new_model_defaults_its_cache_write_multiplier():
    rate = {"input": 2, "cached_input": 0.2, "output": 16, "set_on": date(2026, 3, 1)}
    card = RateCard.with_overrides(
        {
            "gpt-5.6-codex": rate,
            "gpt-5.4": rate,
            "gpt-5.7": {**rate, "cache_write_multiplier": None},
        }
    )
    assert card.rate_for("gpt-5.6-codex").cache_write_multiplier == 1.25
    assert card.rate_for("gpt-5.4").cache_write_multiplier is None
    assert card.rate_for("gpt-5.7").cache_write_multiplier is None  # said so explicitly


def test_an_override_replaces_the_built_in_and_keeps_the_others():
    card = RateCard.with_overrides(
        {"GPT-5-Codex": Rate(input=2, cached_input=1, output=20, set_on=date(2026, 2, 2))}
    )
    assert card.rate_for("gpt-5-codex").input == Decimal("2")
    assert card.rate_for(" gpt-5-codex ").set_on == date(2026, 2, 2)
    assert card.rate_for("codex-mini-latest") == BUILTIN_RATES["codex-mini-latest"]
    assert RateCard().rate_for("gpt-5-codex") == BUILTIN_RATES["gpt-5-codex"]


def test_an_unknown_or_missing_model_is_unknown_but_its_tokens_are_reported():
    for model in (None, "gpt-9-ultra"):
        cost = cost_of(_usage(model, 500, 100, 0, 50), RateCard())
        assert cost.dollars is None
        assert dollars(cost.dollars) == "unknown"
        assert (cost.input_tokens, cost.cached_input_tokens, cost.output_tokens) == (500, 100, 50)
        assert cost.unpriced_threads == 1


def test_credits_use_the_credit_prices_when_a_rate_has_them():
    card = RateCard.with_overrides(
        {
            "gpt-5-codex": {
                "input": 1.25,
                "cached_input": 0.125,
                "output": 10,
                "set_on": "2026-01-15",
                "credits_per_million": {"input": 30, "cached_input": 3, "output": 240},
            }
        }
    )
    cost = cost_of(_usage("gpt-5-codex", 2_000_000, 1_000_000, 0, 500_000), card)
    assert cost.credits == Decimal(30 + 3 + 120)
    assert cost.dollars == Decimal("1.25") + Decimal("0.125") + Decimal(5)


@pytest.mark.parametrize(
    "bad",
    [
        {"input": -1, "cached_input": 0, "output": 0, "set_on": "2026-01-01"},
        {"input": 1, "cached_input": 0, "output": 0},
        {
            "input": 1,
            "cached_input": 0,
            "output": 0,
            "set_on": "2026-01-01",
            "cache_write_multiplier": -1,
        },
        {"input": 1, "cached_input": 0, "output": 0, "set_on": "2026-01-01", "surprise": 1},
        {
            "input": 1,
            "cached_input": 0,
            "output": 0,
            "set_on": "2026-01-01",
            "credits_per_million": {"input": 1},
        },
    ],
)
def test_a_bad_rate_is_refused(bad):
    with pytest.raises(ValidationError):
        RateCard.with_overrides({"m": bad})


def test_stale_rates_are_visible():
    card = RateCard.with_overrides(
        {"fresh": {"input": 1, "cached_input": 0, "output": 1, "set_on": "2026-06-01"}}
    )
    assert card.stale_models(date(2026, 6, 2)) == [
        "codex-mini-latest",
        "gpt-5-codex",
        "gpt-5.3-codex",
    ]
    assert card.stale_models(date(2026, 1, 16)) == []
    assert card.stale_models(date(2026, 6, 2), max_age=timedelta(days=400)) == []


def test_distinct_threads_add_up_and_unpriced_ones_are_counted_not_guessed():
    usages = [
        _usage("gpt-5-codex", 1_000_000, 0, 0, 0),
        _usage("codex-mini-latest", 0, 0, 0, 1_000_000),
        _usage(None, 7, 0, 0, 3),
    ]
    total = total_cost(usages, RateCard())
    assert total.dollars == Decimal("7.25")
    assert (total.threads, total.unpriced_threads) == (3, 1)
    assert (total.input_tokens, total.output_tokens) == (1_000_007, 1_000_003)
    assert total.model is None
    assert total_cost([_usage(None, 1, 0, 0, 1)], RateCard()).dollars is None
    assert total_cost([], RateCard()).dollars is None


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (Decimal("0.29558075"), "$0.30"),
        (Decimal("0.005"), "$0.01"),
        (Decimal("0.00499"), "$0.00"),
        (Decimal("0.125"), "$0.13"),  # half-up, not banker's
        (Decimal("0"), "$0.00"),
        (Decimal("1234.5"), "$1,234.50"),
    ],
)
def test_dollars_rounds_half_up_to_the_cent(amount, text):
    assert dollars(amount) == text
