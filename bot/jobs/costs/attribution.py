"""Whose Codex usage a PR's is, and what the check run says about it.

The person is the PR's author: Codex cloud opens its PRs under the person who pressed
"Create PR". Their team comes from `costs.teams` in config first (`members`), then from
GitHub team membership (`github_team`), which needs the organisation permission
`members: read`. codex-guard does not ask for it by default (least privilege): without
it GitHub answers 403, the config mapping alone counts, and the check says what to
grant. Membership answers are cached in Redis, so a PR costs at most one lookup per
team an hour.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import redis
from github import GithubException

from bot.core.config import GuardConfig
from bot.core.config.costs import CostsConfig, rate_card, team_of
from bot.core.snapshot import CheckEvidence
from bot.core.usage.record import UsageRecord
from bot.github.gateway import Gateway
from bot.jobs.costs.collect import (
    Owner,
    actions_denied,
    actions_run_ids,
    collect_runs,
    pr_notes,
    unscanned,
)
from bot.jobs.costs.ledger import PREFIX, month_spend, pr_usage
from bot.present.cost_summary import BudgetStatus, budget_status
from bot.present.wording import CostView

log = logging.getLogger("codex_guard.costs")

MEMBERSHIP_CACHE_SECONDS = 3600
MEMBERS_PERMISSION_NOTE = (
    "GitHub team membership could not be read (GitHub answered 403): to attribute usage "
    "by `costs.teams.*.github_team`, grant codex-guard the organisation permission "
    "`members: read`; until then only `costs.teams.*.members` counts"
)


def _membership_key(org: str, slug: str, login: str) -> str:
    return f"{PREFIX}member:{org.lower()}/{slug.lower()}:{login.lower()}"


def _membership(gw: Gateway, client: redis.Redis, org: str, slug: str, login: str) -> str:
    """``member``, ``none`` or ``denied``, from Redis when asked within the last hour."""
    key = _membership_key(org, slug, login)
    cached = client.get(key)
    if cached is not None:
        return cached.decode() if isinstance(cached, bytes) else str(cached)
    try:
        answer = gw.team_membership(org, slug, login)
    except GithubException as exc:  # a 5xx after retries: unknown, ask again next time
        log.warning("team membership lookup failed (GitHub answered %s)", exc.status)
        return "none"
    client.set(key, answer, ex=MEMBERSHIP_CACHE_SECONDS)
    return answer


def resolve_team(
    gw: Gateway, client: redis.Redis, costs: CostsConfig, org: str, login: str
) -> tuple[str | None, str | None]:
    """(team, note): the config's `members` first, then each `github_team` in order.

    The note is `MEMBERS_PERMISSION_NOTE` when GitHub refused a lookup and no team was
    found; a 404 means "not a member" (or a team the App cannot see) and says nothing."""
    team = team_of(costs, login)
    if team is not None or not login:
        return team, None
    denied = False
    for name, mapping in costs.teams.items():
        if mapping.github_team is None:
            continue
        answer = _membership(gw, client, org, mapping.github_team, login)
        if answer == "member":
            return name, None
        denied = denied or answer == "denied"
    return None, MEMBERS_PERMISSION_NOTE if denied else None


def budgets_passed(
    client: redis.Redis, costs: CostsConfig, repo: str, team: str | None
) -> tuple[BudgetStatus, ...]:
    """This month's team and repository budgets the PR falls under, those past 80 %."""
    found: list[BudgetStatus] = []
    budgets = costs.budgets
    if team is not None and team in budgets.teams:
        spent = month_spend(client, team=team)
        found.append(budget_status(team, "team", spent, budgets.teams[team]))
    for name, budget in budgets.repos.items():
        if name.lower() == repo.lower():
            spent = month_spend(client, repo=repo)
            found.append(budget_status(name, "repo", spent, budget))
            break
    return tuple(s for s in found if s.crossed != "none")


def cost_view(
    records: Sequence[UsageRecord],
    costs: CostsConfig,
    notes: Sequence[str] = (),
    budgets: Sequence[BudgetStatus] = (),
) -> CostView:
    """The PR's threads added up for the check run; the rate card's oldest date among the
    models priced, so a stale card shows."""
    card = rate_card(costs)
    priced = [r.dollars for r in records if r.dollars is not None]
    dates = [rate.set_on for r in records if (rate := card.rate_for(r.model)) is not None]
    return CostView(
        threads=len(records),
        input_tokens=sum(r.input_tokens for r in records),
        cached_input_tokens=sum(r.cached_input_tokens for r in records),
        output_tokens=sum(r.output_tokens for r in records),
        dollars=sum(priced, Decimal(0)) if priced else None,
        unpriced_threads=sum(1 for r in records if r.dollars is None),
        rate_set_on=min(dates) if dates else None,
        notes=tuple(dict.fromkeys(notes)),
        budgets=tuple(budgets),
    )


def pr_cost(
    gw: Gateway,
    client: redis.Redis,
    pr: dict[str, Any],
    repo: str,
    config: GuardConfig,
    evidence: Sequence[CheckEvidence],
) -> CostView:
    """Collect the usage of the head's completed, unscanned workflow runs, then say what
    the PR's Codex threads cost and which budgets its team or repository passed.

    Never raises: a failure here is a note in the check, and the practices still report.
    """
    costs = config.costs
    number = int(pr["number"])
    try:
        runs = (
            []
            if actions_denied(client, repo)
            else unscanned(client, repo, actions_run_ids(evidence))
        )
        team, team_note = None, None
        if runs or costs.budgets.teams:
            team, team_note = resolve_team(gw, client, costs, repo.split("/")[0], pr["user"])
        if runs:
            collect_runs(gw, client, costs, Owner(repo, number, pr["user"], team), runs)
        notes = pr_notes(client, repo, number)
        if team_note:
            notes.append(team_note)
        budgets = budgets_passed(client, costs, repo, team)
        return cost_view(pr_usage(client, repo, number), costs, notes, budgets)
    except Exception:
        log.exception("Codex cost not worked out")
        note = (
            "the Codex cost could not be worked out this time; the practices are "
            "unaffected and the next evaluation tries again"
        )
        return CostView(notes=(note,))
