"""The `costs` section as teams write it: defaults, merging under org defaults, the
errors a typo or a bad budget gives, and the rate card and team lookup built from it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from bot.core.config import (
    DEFAULT_CONFIG,
    DEFAULT_COSTS,
    ConfigError,
    CostsConfig,
    load_config,
    rate_card,
    team_of,
)
from bot.core.usage.rates import BUILTIN_RATES, cost_of
from bot.core.usage.rollout import ThreadUsage

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "configuration.md"

FULL = """
costs:
  artifact_name: team-usage
  default_model: gpt-5-codex
  rates:
    gpt-5-codex:
      input: 2.00
      cached_input: 0.20
      output: 16.00
      set_on: 2026-02-01
    Acme-Codex-FT:
      input: "3.00"
      cached_input: "0.30"
      output: "12.00"
      set_on: 2026-02-01
      credits_per_million: {input: 30, cached_input: 3, output: 120}
  teams:
    platform:
      members: [dana, Lee]
      github_team: platform-eng
    payments:
      members: [sam, lee]
    data:
      github_team: data-eng
  budgets:
    teams:
      platform: {monthly_usd: 500}
      payments: {monthly_usd: "250.50", level: error}
      research: {monthly_usd: 100}
    repos:
      acme/invoices: {monthly_usd: 150, level: warning}
  openai:
    projects: {proj_abc123: payments}
    api_keys: {key_def456: platform}
"""

RATE = "{input: 1, cached_input: 0.1, output: 8, set_on: 2026-02-01}"


def _usage(model: str | None, **tokens: int) -> ThreadUsage:
    counts = dict.fromkeys(
        ("input_tokens", "cached_input_tokens", "cache_write_input_tokens", "output_tokens"), 0
    )
    return ThreadUsage("t1", model, **{**counts, "reasoning_output_tokens": 0, **tokens})


def _error(repo: str, org: str | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(repo, org)
    return str(info.value)


def test_defaults() -> None:
    costs = load_config(None).costs
    assert costs == DEFAULT_COSTS == DEFAULT_CONFIG.costs == CostsConfig()
    assert costs.artifact_name == "codex-usage"
    assert costs.default_model is None
    assert costs.rates == {} and costs.teams == {}
    assert costs.budgets.teams == {} and costs.budgets.repos == {}
    assert costs.openai.projects == {} and costs.openai.api_keys == {}
    assert rate_card(DEFAULT_CONFIG).rates.keys() == BUILTIN_RATES.keys()
    assert team_of(DEFAULT_CONFIG, "dana") is None


def test_full_example() -> None:
    costs = load_config(FULL).costs
    assert costs.artifact_name == "team-usage"
    assert costs.default_model == "gpt-5-codex"
    assert costs.rates["gpt-5-codex"].output == Decimal("16.00")
    assert costs.rates["Acme-Codex-FT"].set_on == date(2026, 2, 1)
    assert costs.teams["platform"].github_team == "platform-eng"
    assert costs.teams["data"].members == []
    assert costs.budgets.teams["payments"].monthly_usd == Decimal("250.50")
    assert costs.budgets.teams["payments"].level == "error"
    assert costs.budgets.teams["platform"].level == "warning"
    assert "research" not in costs.teams  # a budget for a GitHub-only team is allowed
    assert costs.budgets.repos["acme/invoices"].monthly_usd == Decimal(150)
    assert costs.openai.projects == {"proj_abc123": "payments"}
    assert costs.openai.api_keys == {"key_def456": "platform"}


def test_docs_costs_example_loads() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    assert "| `costs.teams` |" in docs
    block = docs.split("<!-- costs-example -->", 1)[1].split("```yaml\n", 1)[1].split("```")[0]
    costs = load_config(block).costs
    assert costs != DEFAULT_COSTS
    assert team_of(costs, "lee") == "platform"  # what the example's comment says
    assert "data" in costs.budgets.teams and "data" not in costs.teams


def test_unknown_key_is_named_with_its_path() -> None:
    message = _error(
        "costs:\n  budgets:\n    teams:\n      platform: {monthly_usd: 5, levle: error}\n"
    )
    assert message.startswith(".github/codex-guard.yml:")
    assert "`costs.budgets.teams.platform.levle`" in message
    assert "Extra inputs are not permitted" in message
    assert "`costs.artifact`" in _error("costs:\n  artifact: usage\n")
    assert "`costs.rates.gpt-x.price`" in _error(
        "costs:\n  rates:\n    gpt-x: {input: 1, cached_input: 0, output: 2, set_on: 2026-02-01, "
        "price: 3}\n"
    )


@pytest.mark.parametrize("amount", ["-5", "0", '"-0.01"', ".nan", ".inf"])
def test_budget_must_be_a_positive_finite_amount(amount: str) -> None:
    message = _error(f"costs:\n  budgets:\n    repos:\n      acme/x: {{monthly_usd: {amount}}}\n")
    assert "`costs.budgets.repos.acme/x.monthly_usd`" in message


def test_negative_budget_says_why() -> None:
    message = _error("costs:\n  budgets:\n    teams:\n      platform: {monthly_usd: -100}\n")
    assert "`costs.budgets.teams.platform.monthly_usd`: Input should be greater than 0" in message


@pytest.mark.parametrize(
    ("costs", "key", "words"),
    [
        ("{budgets: {repos: {invoices: {monthly_usd: 1}}}}", "budgets.repos", "owner/name"),
        (
            "{budgets: {teams: {platform: {monthly_usd: 1, level: off}}}}",
            "budgets.teams.platform.level",
            "'warning' or 'error'",
        ),
        ("{teams: {platform: {}}}", "teams.platform", "members"),
        ("{teams: {platform: {members: ['@dana']}}}", "teams.platform.members", "without `@`"),
        ("{teams: {platform: {github_team: acme/eng}}}", "teams.platform.github_team", "slug"),
        ("{teams: {platform: {members: dana}}}", "teams.platform.members", "list"),
        ("{artifact_name: a/b}", "artifact_name", "artifact name"),
        ("{artifact_name: ''}", "artifact_name", "empty"),
        ("{default_model: ' '}", "default_model", "empty"),
        (f"{{rates: {{GPT-X: {RATE}, gpt-x: {RATE}}}}}", "rates", "same model"),
        ("{rates: {gpt-x: {input: 1, output: 2}}}", "rates.gpt-x.set_on", "required"),
        (
            "{rates: {gpt-x: {input: -1, cached_input: 0, output: 2, set_on: 2026-02-01}}}",
            "rates.gpt-x.input",
            "greater than or equal to 0",
        ),
        ("{openai: {projects: {proj_1: ''}}}", "openai.projects", "empty"),
        ("{teams: {'plat form': {members: [dana]}}}", "teams", "a team name cannot contain"),
        ("{budgets: {teams: {' ': {monthly_usd: 1}}}}", "budgets.teams", "team name cannot be"),
    ],
)
def test_bad_values_name_the_key(costs: str, key: str, words: str) -> None:
    message = _error(f"costs: {costs}\n")
    assert f"`costs.{key}" in message
    assert words in message


def test_org_costs_apply_when_the_repo_has_none() -> None:
    cfg = load_config("comment: never\n", FULL)
    assert cfg.costs == load_config(FULL).costs
    assert cfg.comment == "never"


def test_repo_costs_merge_over_the_org_key_by_key() -> None:
    repo = f"""
costs:
  artifact_name: repo-usage
  rates:
    gpt-9: {RATE}
  teams:
    payments:
      members: [kim]
    mobile:
      members: [dana]
  budgets:
    teams:
      platform: {{monthly_usd: 900}}
    repos:
      acme/app: {{monthly_usd: 10}}
"""
    costs = load_config(repo, FULL).costs
    assert costs.artifact_name == "repo-usage"  # repo wins
    assert costs.default_model == "gpt-5-codex"  # from the org
    assert set(costs.rates) == {"gpt-5-codex", "Acme-Codex-FT", "gpt-9"}
    assert costs.teams["payments"].members == ["kim"]  # a list is replaced
    assert costs.teams["platform"].github_team == "platform-eng"
    assert list(costs.teams) == ["platform", "payments", "data", "mobile"]
    assert team_of(costs, "dana") == "platform"  # org's team listed first
    assert team_of(costs, "sam") is None  # the repo's payments list replaced the org's
    assert costs.budgets.teams["platform"].monthly_usd == Decimal(900)
    assert costs.budgets.teams["payments"].level == "error"  # kept from the org
    assert set(costs.budgets.repos) == {"acme/invoices", "acme/app"}
    assert costs.openai.projects == {"proj_abc123": "payments"}


def test_repo_rate_keeps_org_fields_it_does_not_write() -> None:
    org = "costs:\n  rates:\n    gpt-x: {input: 1, cached_input: 0, output: 2, set_on: 2026-01-01, "
    org += "cache_write_multiplier: 2}\n"
    repo = (
        "costs:\n  rates:\n    gpt-x: {input: 5, cached_input: 0, output: 2, set_on: 2026-02-01}\n"
    )
    rate = rate_card(load_config(repo, org)).rate_for("gpt-x")
    assert rate is not None
    assert rate.input == Decimal(5) and rate.cache_write_multiplier == 2


def test_invalid_org_costs_are_blamed_on_the_org() -> None:
    with pytest.raises(ConfigError) as info:
        load_config(None, "costs:\n  budgets:\n    teams:\n      x: {monthly_usd: 0}\n")
    assert info.value.source == ".github/.github/codex-guard.yml"
    assert "costs.budgets.teams.x.monthly_usd" in info.value.detail


def test_rate_card_prices_a_custom_model_and_overrides_a_builtin() -> None:
    cfg = load_config(FULL)
    card = rate_card(cfg)
    assert rate_card(cfg.costs) == card
    builtin = card.rate_for("gpt-5.3-codex")
    assert builtin == BUILTIN_RATES["gpt-5.3-codex"]  # untouched built-ins stay
    overridden = card.rate_for("GPT-5-Codex")
    assert overridden is not None and overridden.input == Decimal("2.00")
    assert overridden != BUILTIN_RATES["gpt-5-codex"]

    usage = _usage("acme-codex-ft", input_tokens=1_000_000, output_tokens=500_000)
    cost = cost_of(usage, card)
    assert cost.dollars == Decimal("3.00") + Decimal("6.00")
    assert cost.credits == Decimal(30) + Decimal(60)
    assert cost.rate_set_on == date(2026, 2, 1)
    assert cost_of(usage, rate_card(DEFAULT_CONFIG)).dollars is None  # unknown without config


def test_rate_card_gives_a_new_model_its_cache_write_default() -> None:
    cfg = load_config(f"costs:\n  rates:\n    gpt-5.6-codex: {RATE}\n    gpt-4x: {RATE}\n")
    card = rate_card(cfg)
    assert card.rates["gpt-5.6-codex"].cache_write_multiplier == 1.25
    assert card.rates["gpt-4x"].cache_write_multiplier is None


def test_team_of() -> None:
    cfg = load_config(FULL)
    assert team_of(cfg, "dana") == "platform"
    assert team_of(cfg.costs, "DANA") == "platform"  # logins are case-insensitive
    assert team_of(cfg, "lee") == "platform"  # in two teams: the first listed wins
    assert team_of(cfg, "sam") == "payments"
    assert team_of(cfg, "someone-else") is None
    assert team_of(cfg, "") is None
    assert team_of(cfg, "data-eng") is None  # github_team is not looked up here
