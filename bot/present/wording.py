"""The phrases the check run and the PR comment share, so both say a finding alike."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from bot import CHECK_NAME
from bot.core.findings import Finding, Outcome, PracticeResult
from bot.core.sanitize import code_untrusted
from bot.core.usage.rates import dollars
from bot.practices.evaluation import Evaluation
from bot.present.cost_summary import BudgetStatus
from bot.present.safe_text import safe

PRACTICE_NAMES: dict[str, str] = {
    "task-thread": "Task thread",
    "done-when": "Done when",
    "tests": "Passing tests",
    "agents-md": "AGENTS.md",
    "scope": "Scope",
}

STATUS_EMOJI: dict[Outcome, str] = {
    Outcome.PASS: "✅",
    Outcome.FAIL: "❌",
    Outcome.WARN: "⚠️",
    Outcome.SKIP: "⏭️",
    Outcome.PENDING: "⏳",
}

SKIP_HINT = "A maintainer can skip a practice with `/codex-guard skip <practice> <reason>`."


def practice_name(practice_id: str) -> str:
    return PRACTICE_NAMES.get(practice_id, practice_id)


def counts(evaluation: Evaluation) -> tuple[int, int, list[str], list[str]]:
    """(passing, checked, failing ids, warning ids); skipped practices are not counted."""
    checked = [r for r in evaluation.results.values() if r.outcome is not Outcome.SKIP]
    passing = [r for r in checked if r.outcome in (Outcome.PASS, Outcome.WARN)]
    failing = [r.practice for r in checked if r.outcome is Outcome.FAIL]
    warning = [r.practice for r in checked if r.outcome is Outcome.WARN]
    return len(passing), len(checked), failing, warning


def _location(finding: Finding) -> str:
    if finding.path is None:
        return ""
    where = code_untrusted(finding.path, 200)
    if finding.line is not None:
        where += f" line {finding.line}"
    return f" ({where})"


def finding_lines(finding: Finding) -> list[str]:
    lines = [
        f"- **{str(finding.level).capitalize()}** `{finding.rule}`{_location(finding)}: "
        f"{safe(finding.message, 1000)}"
    ]
    if finding.fix:
        lines.append(f"  **How to fix:** {safe(finding.fix, 1000)}")
    return lines


def reason_repeats_finding(result: PracticeResult, findings: Sequence[Finding]) -> bool:
    """A one-finding practice often states the finding as its reason; say it once."""
    return bool(result.reason) and any(f.message == result.reason for f in findings)


# -- cost (informational, not a practice) ---------------------------------------------

COST_ROW_ID = "cost"
MAX_COST_NOTES = 10


@dataclass(frozen=True)
class CostView:
    """What a PR's Codex threads cost so far, and the budgets its team or repository passed.

    Built by the worker (`bot.jobs.costs.collect`); rendered as the check run's `cost` row
    and one line of the PR comment. `dollars` adds up the priced threads only and is None
    when none could be priced; `budgets` holds only those past 80 %.
    """

    threads: int = 0
    input_tokens: int = 0
    cached_input_tokens: int = 0
    output_tokens: int = 0
    dollars: Decimal | None = None
    unpriced_threads: int = 0
    rate_set_on: date | None = None
    notes: tuple[str, ...] = ()
    budgets: tuple[BudgetStatus, ...] = ()

    @property
    def shown(self) -> bool:
        """Whether the check run gets a `cost` row: usage recorded, or something to say."""
        return bool(self.threads or self.notes)

    @property
    def failing_budgets(self) -> tuple[BudgetStatus, ...]:
        """Budgets with level `error` spent in full: these fail the check."""
        return tuple(b for b in self.budgets if b.crossed == "100" and b.level == "error")


def cost_figures(cost: CostView) -> str:
    """`935,040 in (875,306 cached), 11,150 out: **$0.30**` with what could not be priced."""
    tokens = (
        f"{cost.input_tokens:,} tokens in ({cost.cached_input_tokens:,} cached), "
        f"{cost.output_tokens:,} out"
    )
    if cost.threads and cost.unpriced_threads == cost.threads:
        price = "cost **unknown** (the rate card has no price for the model)"
    else:
        price = f"**{dollars(cost.dollars or Decimal(0))}**"
        if cost.unpriced_threads:
            n = cost.unpriced_threads
            price += f" + {n} thread{'s' if n != 1 else ''} of unknown cost"
    threads = f"{cost.threads} thread{'s' if cost.threads != 1 else ''}"
    return f"{threads}, {tokens}: {price}"


def cost_cell(cost: CostView) -> str:
    """The `cost` row's result cell (already safe: only numbers and our own words)."""
    if not cost.threads:
        return "no Codex usage recorded yet (see the notes below)"
    text = cost_figures(cost)
    if cost.rate_set_on is not None:
        text += f"; rates of {cost.rate_set_on.isoformat()}"
    return text


def budget_line(status: BudgetStatus) -> str:
    """One line on a budget past 80 %, saying whether it fails the check."""
    what = f"{status.kind} {code_untrusted(status.name, 100)}"
    spent = f"{dollars(status.spent)} of its {dollars(status.budget)} monthly budget"
    if status.crossed == "100" and status.level == "error":
        return (
            f"❌ **Budget spent:** {what} has spent {spent} ({status.percent} %). Its level is "
            "`error`, so this check fails until the month ends or the budget "
            "(`costs.budgets` in the org's config) is raised."
        )
    if status.crossed == "100":
        return (
            f"⚠️ **Budget spent:** {what} has spent {spent} ({status.percent} %); "
            "level `warning`, so the check does not fail."
        )
    return f"⚠️ **Budget at 80 %:** {what} has spent {spent} ({status.percent} %)."


def cost_note_lines(cost: CostView) -> list[str]:
    """The notes on reading the usage artifacts, bounded, made inert."""
    lines = [f"- {safe(note, 300)}" for note in cost.notes[:MAX_COST_NOTES]]
    extra = len(cost.notes) - MAX_COST_NOTES
    if extra > 0:
        lines.append(f"- … and {extra} more")
    return lines


def cost_comment_line(cost: CostView) -> str | None:
    """The PR comment's one line on cost, or None when there is nothing to say."""
    if not cost.threads and not cost.budgets:
        return None
    parts = []
    if cost.threads:
        parts.append(f"💲 Codex usage on this PR: {cost_figures(cost)}.")
    failing = cost.failing_budgets
    if failing:
        name = code_untrusted(failing[0].name, 100)
        parts.append(f"The monthly budget of {failing[0].kind} {name} is spent.")
    elif cost.budgets:
        parts.append("A monthly budget is past 80 %.")
    return " ".join(parts) + f" Details are in the **{CHECK_NAME}** check."
