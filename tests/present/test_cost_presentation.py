"""The check run's informational `cost` row, budget lines, and the comment's one line.

Cost is not a practice: titles, counts and practice ids stay as they were; only a spent
budget whose level is `error` fails the check, and the comment never appears for cost.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from bot.core.config.costs import Budget
from bot.core.findings import PRACTICE_IDS, Outcome, PracticeResult
from bot.core.snapshot import PRSnapshot
from bot.practices.detection import Detection
from bot.practices.evaluation import Evaluation
from bot.present.check_run import check_run_output, conclusion
from bot.present.comment import COMMENT_MARKER, comment_body, should_comment
from bot.present.cost_summary import budget_status
from bot.present.wording import CostView
from tests.present.test_link_injection import links
from tests.snapshots import OCTO_APP

SNAPSHOT = PRSnapshot(**OCTO_APP)
WORKED = CostView(
    threads=1,
    input_tokens=935_040,
    cached_input_tokens=875_306,
    output_tokens=11_150,
    dollars=Decimal("0.2956"),
    rate_set_on=date(2026, 1, 15),
)


def evaluation(failing: str | None = None) -> Evaluation:
    results = {
        pid: PracticeResult(pid, Outcome.FAIL if pid == failing else Outcome.PASS, "ok")
        for pid in PRACTICE_IDS
    }
    return Evaluation(
        detection=Detection(True, ("a Codex task link",)),
        results=results,
        conclusion="failure" if failing else "success",
    )


def spent(kind: str, amount: str, level: str = "warning", name: str = "payments"):
    budget = Budget(monthly_usd=Decimal("100"), level=level)
    return budget_status(name, kind, Decimal(amount), budget)  # type: ignore[arg-type]


def cost_row(summary: str) -> str:
    (row,) = [line for line in summary.splitlines() if "(`cost`" in line]
    return row


def test_the_worked_example_is_a_row_of_the_summary_table_to_the_cent():
    out = check_run_output(evaluation(), SNAPSHOT, WORKED)
    row = cost_row(out.summary)
    assert "935,040 tokens in (875,306 cached), 11,150 out" in row
    assert "**$0.30**" in row and "rates of 2026-01-15" in row
    assert row.startswith("| 💲 | Cost (`cost`, informational) |")
    # The row sits inside the practice table: right after the last practice's row.
    lines = out.summary.splitlines()
    assert lines[lines.index(row) - 1].startswith("| ✅ | Scope (`scope`)")


def test_cost_is_not_a_practice_titles_and_counts_stay():
    assert check_run_output(evaluation(), SNAPSHOT, WORKED).title == "All 5 practices pass"
    failing = check_run_output(evaluation("scope"), SNAPSHOT, WORKED)
    assert failing.title == "4 of 5 practices pass — scope fails"
    assert conclusion(evaluation(), WORKED) == "success"
    ids = [line.split("(`")[1].split("`")[0] for line in failing.summary.splitlines()
           if line.startswith("| ") and "(`" in line]  # fmt: skip
    assert ids == [*PRACTICE_IDS, "cost"]


def test_no_usage_and_nothing_to_say_adds_no_row():
    out = check_run_output(evaluation(), SNAPSHOT, CostView())
    assert "(`cost`" not in out.summary
    assert out.summary == check_run_output(evaluation(), SNAPSHOT).summary


def test_a_model_without_a_price_reads_unknown_with_its_tokens():
    unknown = CostView(threads=1, input_tokens=1000, cached_input_tokens=0, output_tokens=10,
                       dollars=None, unpriced_threads=1)  # fmt: skip
    row = cost_row(check_run_output(evaluation(), SNAPSHOT, unknown).summary)
    assert "1,000 tokens in (0 cached), 10 out" in row and "**unknown**" in row
    assert "$" not in row
    partial = CostView(threads=2, input_tokens=2000, output_tokens=20,
                       dollars=Decimal("1.005"), unpriced_threads=1)  # fmt: skip
    row = cost_row(check_run_output(evaluation(), SNAPSHOT, partial).summary)
    assert "**$1.01** + 1 thread of unknown cost" in row


def test_a_budget_at_80_percent_is_said_and_fails_nothing():
    cost = CostView(**{**WORKED.__dict__, "budgets": (spent("team", "85"),)})
    out = check_run_output(evaluation(), SNAPSHOT, cost)
    assert "**Budget at 80 %:** team `payments` has spent $85.00 of its $100.00 monthly budget" in (
        out.summary
    )
    assert out.title == "All 5 practices pass"
    assert conclusion(evaluation(), cost) == "success"
    assert cost_row(out.summary).startswith("| ⚠️ |")


def test_a_warning_budget_spent_in_full_never_fails():
    cost = CostView(**{**WORKED.__dict__, "budgets": (spent("repo", "120", name="octo/app"),)})
    out = check_run_output(evaluation(), SNAPSHOT, cost)
    assert "repo `octo/app` has spent $120.00 of its $100.00 monthly budget (120 %)" in out.summary
    assert "level `warning`, so the check does not fail" in out.summary
    assert conclusion(evaluation(), cost) == "success"
    assert out.title == "All 5 practices pass"


def test_an_error_budget_spent_in_full_fails_the_check_and_says_why():
    cost = CostView(**{**WORKED.__dict__, "budgets": (spent("team", "100", level="error"),)})
    out = check_run_output(evaluation(), SNAPSHOT, cost)
    assert conclusion(evaluation(), cost) == "failure"
    assert out.title == "All 5 practices pass — monthly budget spent"
    assert "❌ **Budget spent:** team `payments` has spent $100.00" in out.summary
    assert "Its level is `error`, so this check fails" in out.summary
    assert cost_row(out.summary).startswith("| ❌ |")
    # ... but a budget is no reason to post a comment where none exists.
    assert should_comment(evaluation(), "on_failure", has_existing=False) == "none"


def test_notes_are_inert_and_bounded():
    notes = tuple(
        f"run {i}: `x.jsonl` @octocat <b>hi</b> [a](https://e.example)" for i in range(13)
    )
    out = check_run_output(evaluation(), SNAPSHOT, CostView(notes=notes))
    assert "no Codex usage recorded yet" in cost_row(out.summary)
    assert "**Cost notes**" in out.summary and "… and 3 more" in out.summary
    assert "@octocat" not in out.summary and "<b>" not in out.summary
    assert links(out.summary) == []


def test_the_comment_gets_one_line_only_with_usage():
    body = comment_body(evaluation("scope"), SNAPSHOT, WORKED)
    assert body.startswith(COMMENT_MARKER)
    (line,) = [x for x in body.splitlines() if "Codex usage on this PR" in x]
    assert "**$0.30**" in line and "935,040 tokens in" in line
    assert comment_body(evaluation("scope"), SNAPSHOT, CostView()) == comment_body(
        evaluation("scope"), SNAPSHOT
    )
    spent_in_full = CostView(**{**WORKED.__dict__, "budgets": (spent("team", "101", "error"),)})
    assert "The monthly budget of team `payments` is spent." in comment_body(
        evaluation(), SNAPSHOT, spent_in_full
    )
