"""Practice `done-when`: a PR says when it is done, in words a reviewer can check."""

from __future__ import annotations

from typing import Any

import pytest

from bot.core.config import GuardConfig
from bot.core.findings import Level, Outcome
from bot.practices.done_when import MAX_UNCHECKED_FINDINGS, evaluate, is_placeholder
from tests.snapshots import body, rules, snap

LINK = "[Codex Task](https://chatgpt.com/codex/tasks/task_e_68a1c0ffee4b8331a0b8d1b2b0a3f8c1)"


def config(**done_when: Any) -> GuardConfig:
    return GuardConfig.model_validate({"practices": {"done-when": done_when}})


DEFAULT = GuardConfig()


@pytest.mark.parametrize(
    ("name", "quoted"),
    [
        (
            "codex2025_done_when.md",
            "`GET /v1/invoices?cursor=...` returns at most `limit` rows and a `next_cursor`",
        ),
        (
            "codex_late2025_footer.md",
            '`curl /healthz` returns `200 {"db": "ok", "redis": "ok"}` on',
        ),
        ("codex_late2025_jira.md", "Refund of more than the captured amount answers"),
        ("codex2026_done_when_linear.md", "A request burst of 1,000 calls makes at most one call"),
        ("human_two_issues.md", "both forms save without a full page reload"),
    ],
)
def test_fixture_bodies_with_done_when_pass(name: str, quoted: str) -> None:
    result = evaluate(snap(body(name)), DEFAULT)
    assert result.outcome is Outcome.PASS, result
    assert result.findings == ()
    assert result.reason.startswith("Done when: “")
    assert quoted in result.reason


@pytest.mark.parametrize(
    "name", ["codex2025_plain_link.md", "codex2026_motivation.md", "codex2026_no_link.md"]
)
def test_fixture_bodies_without_done_when_fail(name: str) -> None:
    result = evaluate(snap(body(name)), DEFAULT)
    assert result.outcome is Outcome.FAIL
    assert rules(result) == ["done-when/missing"]
    assert result.findings[0].level is Level.ERROR
    assert result.findings[0].fix is not None and "## Done when" in result.findings[0].fix


@pytest.mark.parametrize("name", ["codex_late2025_placeholder.md", "human_template.md"])
def test_fixture_templates_left_as_placeholders_fail(name: str) -> None:
    result = evaluate(snap(body(name)), DEFAULT)
    assert rules(result) == ["done-when/placeholder"]


@pytest.mark.parametrize(
    "text",
    [
        "## Done when\n- the banner shows on mobile",
        "# DONE WHEN\n\nthe banner shows on mobile",
        "#### Definition of done:\n1. the banner shows on mobile",
        "## ✅ Acceptance Criteria\n* the banner shows on mobile",
        "## Acceptance criteria (from the ticket)\n- the banner shows on mobile",
        "## Done when: the banner shows on mobile",
        "**Done when:** the banner shows on mobile",
        "**Done when**: the banner shows on mobile",
        "Done when: the banner shows on mobile",
        "done-when: the banner shows on mobile",
        "**Success criteria**\n- the banner shows on mobile",
        "**Done when:**\n- the banner shows on mobile\n- and on desktop",
        "Intro.\n\n- Done when: the banner shows on mobile",
        "## Done when\n### Mobile\n- the banner shows on mobile\n",
    ],
)
def test_label_forms(text: str) -> None:
    result = evaluate(snap(text), DEFAULT)
    assert result.outcome is Outcome.PASS, result
    assert result.reason == "Done when: “the banner shows on mobile”."


@pytest.mark.parametrize(
    "text",
    [
        "We are done when I get to it.",
        "Done when the tests pass",  # prose, not a label
        "## Summary\n- done when ready\n## Testing\n- `pytest`",
        "```\n## Done when\n- inside a code block\n```",
        "`Done when: x`",
        "<!--\n## Done when\n- hidden\n-->",
    ],
)
def test_not_a_done_when(text: str) -> None:
    assert rules(evaluate(snap(text), DEFAULT)) == ["done-when/missing"]


@pytest.mark.parametrize(
    "criterion",
    [
        "TBD",
        "TODO",
        "todo: write this",
        "N/A",
        "n/a",
        "None",
        "-",
        "...",
        "…",
        "<describe the condition>",
        "<...>",
        "<!-- describe the condition -->",
        "[ ]",
        "[fill in]",
        "_No response_",
        "",
    ],
)
def test_placeholders_do_not_count(criterion: str) -> None:
    for text in (
        f"## Done when\n\n{criterion}\n",
        f"## Done when\n- {criterion}\n",
        f"**Done when:** {criterion}",
    ):
        result = evaluate(snap(text), DEFAULT)
        assert rules(result) == ["done-when/placeholder"], (text, result)
        assert result.outcome is Outcome.FAIL


def test_is_placeholder_keeps_real_criteria() -> None:
    for real in [
        "None of the endpoints return 500",
        "TODO list renders",
        "`make test` passes",
        "[Docs] page shows the new flag",
    ]:
        assert not is_placeholder(real), real


def test_placeholder_message_quotes_the_placeholder_safely() -> None:
    result = evaluate(snap("## Done when\n- TBD @team"), DEFAULT)
    assert rules(result) == []  # "TBD @team" is a sentence, not a bare placeholder
    result = evaluate(snap("## Done when\n- TBD"), DEFAULT)
    assert "“TBD”" in result.findings[0].message


def test_empty_heading_is_a_placeholder_finding() -> None:
    result = evaluate(snap("## Done when\n\n## Testing\n- `pytest -q`"), DEFAULT)
    assert rules(result) == ["done-when/placeholder"]
    assert "empty" in result.findings[0].message


def test_one_real_criterion_among_placeholders_passes() -> None:
    result = evaluate(snap("## Done when\n- [ ]\n- TBD\n- `/health` answers 200\n"), DEFAULT)
    assert result.outcome is Outcome.PASS
    assert result.reason == "Done when: “`/health` answers 200”."


def test_configured_aliases_replace_the_defaults() -> None:
    cfg = config(aliases=["Exit criteria"])
    assert evaluate(snap("## Exit criteria\n- ships"), cfg).outcome is Outcome.PASS
    assert rules(evaluate(snap("## Done when\n- ships"), cfg)) == ["done-when/missing"]
    (finding,) = evaluate(snap("nothing"), cfg).findings
    assert finding.fix is not None and "## Exit criteria" in finding.fix


def test_reason_is_shortened_and_sanitised() -> None:
    text = "## Done when\n- <b>@octocat</b> approves " + "and more " * 30
    result = evaluate(snap(text), DEFAULT)
    assert result.outcome is Outcome.PASS
    assert "@octocat" not in result.reason
    assert "<b>" not in result.reason
    assert "…" in result.reason
    assert len(result.reason) < 130


def test_require_checked_flags_each_unchecked_box() -> None:
    cfg = config(require_checked=True)
    result = evaluate(snap(body("codex2025_done_when.md")), cfg)
    assert result.outcome is Outcome.FAIL
    assert rules(result) == ["done-when/unchecked"]
    assert "the mobile client is switched over to cursors" in result.findings[0].message
    assert result.findings[0].level is Level.ERROR


def test_unchecked_findings_are_capped_and_the_reason_counts_all() -> None:
    text = "## Done when\n" + "".join(f"- [ ] step {n} works\n" for n in range(50))
    result = evaluate(snap(text), config(require_checked=True))
    assert len(result.findings) == MAX_UNCHECKED_FINDINGS
    assert result.reason == "50 Done-when criteria not checked off (first 20 listed)."
    one = evaluate(snap("## Done when\n- [ ] a works"), config(require_checked=True))
    assert one.reason == "1 Done-when criterion not checked off."


def test_require_checked_passes_when_all_are_checked() -> None:
    cfg = config(require_checked=True)
    text = "## Done when\n- [x] a works\n- [X] b works\n- plain criterion"
    assert evaluate(snap(text), cfg).outcome is Outcome.PASS


def test_unchecked_boxes_are_fine_without_require_checked() -> None:
    assert evaluate(snap(body("codex2025_done_when.md")), DEFAULT).outcome is Outcome.PASS


ISSUE_58 = """### Problem

Finance needs invoices as CSV.

### Done when

- [ ] `/invoices.csv` downloads all invoices of the current month
"""


def test_reads_the_linked_issue_when_the_body_has_none() -> None:
    result = evaluate(snap(body("human_issue_done_when.md"), issue_bodies={58: ISSUE_58}), DEFAULT)
    assert result.outcome is Outcome.PASS
    assert "from issue #58" in result.reason
    assert "`/invoices.csv` downloads all invoices" in result.reason


def test_linked_issue_not_read_when_turned_off() -> None:
    result = evaluate(
        snap(body("human_issue_done_when.md"), issue_bodies={58: ISSUE_58}),
        config(read_linked_issue=False),
    )
    assert rules(result) == ["done-when/missing"]


def test_unlinked_issue_bodies_are_ignored() -> None:
    result = evaluate(snap("Closes #7", issue_bodies={8: ISSUE_58}), DEFAULT)
    assert rules(result) == ["done-when/missing"]


def test_body_criteria_win_over_the_issue() -> None:
    text = "Closes #58\n\nDone when: the export button is visible"
    result = evaluate(snap(text, issue_bodies={58: ISSUE_58}), DEFAULT)
    assert result.reason == "Done when: “the export button is visible”."


def test_placeholder_body_falls_back_to_the_issue() -> None:
    text = "Closes #58\n\n## Done when\nTBD"
    result = evaluate(snap(text, issue_bodies={58: ISSUE_58}), DEFAULT)
    assert result.outcome is Outcome.PASS and "from issue #58" in result.reason


def test_issue_form_left_empty_is_a_placeholder_in_the_issue() -> None:
    issue = "### Done when\n\n_No response_\n"
    result = evaluate(snap("Closes #58", issue_bodies={58: issue}), DEFAULT)
    assert rules(result) == ["done-when/placeholder"]
    assert "in issue #58" in result.findings[0].message


def test_closing_issue_is_preferred_over_mentioned_issue() -> None:
    issues = {3: "## Done when\n- the old thing", 58: ISSUE_58}
    result = evaluate(snap("See #3.\n\nCloses #58", issue_bodies=issues), DEFAULT)
    assert "from issue #58" in result.reason


def test_require_checked_applies_to_issue_criteria() -> None:
    result = evaluate(snap("Closes #58", issue_bodies={58: ISSUE_58}), config(require_checked=True))
    assert rules(result) == ["done-when/unchecked"]
    assert "issue #58" in result.findings[0].message


def test_findings_are_errors_regardless_of_practice_level() -> None:
    result = evaluate(snap("nothing"), config(level="warning"))
    assert result.findings[0].level is Level.ERROR
