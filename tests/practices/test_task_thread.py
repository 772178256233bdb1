"""Practice `task-thread` and the reference helpers the gateway calls first."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.config import GuardConfig
from bot.core.findings import Level, Outcome
from bot.core.snapshot import PRSnapshot
from bot.practices import done_when
from bot.practices.detection import detect, needs_commit_messages
from bot.practices.task_thread import codex_task_ids, evaluate, linked_issue_numbers
from tests.snapshots import body, rules, snap

HEX = "68a1c0ffee4b8331a0b8d1b2b0a3f8c1"
TASK = f"task_e_{HEX}"
OTHER = "task_e_68a2aa01bb4c8331a0b8d1b2b0a3f8c2"
LINK = f"https://chatgpt.com/codex/tasks/{TASK}"


def config(**task_thread: Any) -> GuardConfig:
    return GuardConfig.model_validate({"practices": {"task-thread": task_thread}})


DEFAULT = GuardConfig()


# ------------------------------------------------------------ codex_task_ids


@pytest.mark.parametrize(
    "text",
    [
        LINK,
        f"[Codex Task]({LINK})",
        f"<{LINK}>",
        f"https://chatgpt.com/codex/cloud/tasks/{TASK}",
        f"https://www.chatgpt.com/codex/tasks/{TASK}.",
        f"({LINK})",
        f"https://chatgpt.com/codex/tasks/task_e{HEX}",
        f"https://chatgpt.com/codex/tasks/task_E_{HEX.upper()}",
        f"chatgpt.com/codex/tasks/{TASK}",
        f"{LINK}?tab=diff",
    ],
)
def test_task_link_forms(text: str) -> None:
    assert codex_task_ids(text) == (TASK,)


@pytest.mark.parametrize(
    "text",
    [
        "https://chatgpt.com/codex/tasks/task_e_68a1c0ffee",  # too short
        f"https://chatgpt.com/codex/tasks/{TASK}0",  # too long
        f"https://evilchatgpt.com/codex/tasks/{TASK}",
        f"https://chatgpt.com/c/{TASK}",
        f"`{LINK}`",
        f"```\n{LINK}\n```",
        f"<!-- {LINK} -->",
        "## Summary\n- did it\n\n## Testing\n- `pytest -q`",
    ],
)
def test_not_task_links(text: str) -> None:
    assert codex_task_ids(text) == ()


def test_task_ids_are_deduplicated_in_order() -> None:
    text = f"{LINK}\n[Codex Task](https://chatgpt.com/codex/tasks/{OTHER})\n{LINK.upper()}"
    assert codex_task_ids(text) == (TASK, OTHER)


def test_fixture_footers() -> None:
    assert codex_task_ids(body("codex_late2025_footer.md")) == (
        "task_e_68f3a1b2c4d58332b9e0f1a2b3c4d5e6",
    )
    assert codex_task_ids(body("codex_late2025_cloud_link.md")) == (
        "task_b_68f6d4e5f7a88332c2b3d4e5f6a7b8c9",
    )
    assert codex_task_ids(body("codex2025_mangled_link.md")) == (
        "task_e_68a1c0ffee4b8331a0b8d1b2b0a3f8c9",
    )
    assert len(codex_task_ids(body("codex2025_two_tasks.md"))) == 2


# ------------------------------------------------------- linked_issue_numbers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Closes #7", (7,)),
        ("fixes: #7", (7,)),
        ("RESOLVED #7.", (7,)),
        ("See #3 and #4", (3, 4)),
        ("(#12)", (12,)),
        ("octo/app#12", (12,)),
        ("Octo/App#12", (12,)),
        ("other/app#12", ()),
        ("https://github.com/octo/app/issues/12", (12,)),
        ("https://github.com/OCTO/app/issues/12#issuecomment-99", (12,)),
        ("[the bug](https://github.com/octo/app/issues/12)", (12,)),
        ("https://github.com/other/app/issues/12", ()),
        ("https://github.com/octo/app/pull/12", ()),
        ("https://example.com/docs#12", ()),
        ("https://example.com/#12", ()),
        ("`#12`", ()),
        ("```\nCloses #12\n```", ()),
        ("    Closes #12", ()),
        ("<!-- Closes #12 -->", ()),
        ("abc#12 C#12", ()),
        ("#12abc", ()),
        ("#7 #7 https://github.com/octo/app/issues/7", (7,)),
        ("See #3. Closes #7", (7, 3)),
    ],
)
def test_linked_issue_numbers(text: str, expected: tuple[int, ...]) -> None:
    assert linked_issue_numbers(text, "octo/app") == expected


def test_linked_issue_numbers_exclude() -> None:
    assert linked_issue_numbers("#5 and #6", "octo/app", exclude=[5]) == (6,)


def test_linked_issue_numbers_fixtures() -> None:
    assert linked_issue_numbers(body("codex2025_closes_issue.md"), "octo/app") == (7,)
    assert linked_issue_numbers(body("human_issue_done_when.md"), "octo/app") == (58,)
    assert linked_issue_numbers(body("human_template.md"), "octo/app") == ()
    assert linked_issue_numbers(body("human_summary_testing.md"), "octo/app") == ()


# ------------------------------------------------------------------ evaluate


@pytest.mark.parametrize(
    "name",
    [
        "codex2025_plain_link.md",
        "codex2025_done_when.md",
        "codex2025_closes_issue.md",
        "codex2025_mangled_link.md",
        "codex_late2025_footer.md",
        "codex_late2025_cloud_link.md",
        "codex2026_motivation.md",
        "codex2026_done_when_linear.md",
        "human_issue_done_when.md",
    ],
)
def test_one_thread_passes(name: str) -> None:
    result = evaluate(snap(body(name)), DEFAULT)
    assert result.outcome is Outcome.PASS, result
    assert result.findings == ()
    assert result.reason.startswith("Links one task thread")


def test_codex_link_plus_one_issue_is_one_thread() -> None:
    result = evaluate(snap(body("codex2025_closes_issue.md")), DEFAULT)
    assert "Codex task task_e_68a9e1f2…" in result.reason
    assert "`#7`" in result.reason


def test_missing_link_fails_with_how_to_fix() -> None:
    result = evaluate(snap(body("codex2026_no_link.md")), DEFAULT)
    assert result.outcome is Outcome.FAIL
    assert rules(result) == ["task-thread/missing"]
    (finding,) = result.findings
    assert finding.level is Level.ERROR
    assert finding.fix is not None
    assert "[Codex Task](https://chatgpt.com/codex/tasks/" in finding.fix
    assert "Closes #123" in finding.fix


def test_missing_fix_mentions_configured_trackers_only() -> None:
    cfg = config(trackers={"github_issues": False, "jira_keys": ["PAY"], "linear": False})
    (finding,) = evaluate(snap("no link"), cfg).findings
    assert finding.fix is not None
    assert "PAY-123" in finding.fix
    assert "Closes" not in finding.fix and "linear.app" not in finding.fix


def test_template_comment_reference_does_not_count() -> None:
    result = evaluate(snap(body("human_template.md")), DEFAULT)
    assert rules(result) == ["task-thread/missing"]


def test_two_codex_tasks_fail() -> None:
    result = evaluate(snap(body("codex2025_two_tasks.md")), DEFAULT)
    assert result.outcome is Outcome.FAIL
    assert rules(result) == ["task-thread/multiple"]
    assert "one thread per task" in result.findings[0].message
    assert "task_e_68a1c0ff…" in result.findings[0].message
    assert "task_e_68a2aa01…" in result.findings[0].message


def test_two_issues_fail() -> None:
    result = evaluate(snap(body("human_two_issues.md")), DEFAULT)
    assert rules(result) == ["task-thread/multiple"]
    assert "`#12`" in result.findings[0].message and "`#13`" in result.findings[0].message


@pytest.mark.parametrize("text", ["Fixes #1, #2", "Fixes #1 and #2", "Closes #1 & octo/app#2"])
def test_closing_lists_are_two_tasks(text: str) -> None:
    assert rules(evaluate(snap(text), DEFAULT)) == ["task-thread/multiple"]


def test_bare_mentions_without_closing_keyword_are_two_tasks() -> None:
    assert rules(evaluate(snap(f"Relates to #3 and #4\n\n{LINK}"), DEFAULT)) == [
        "task-thread/multiple"
    ]


def test_closing_reference_is_the_thread_and_mentions_are_context() -> None:
    result = evaluate(
        snap(f"Closes #7. Background in #3 and PAY-9.\n\n{LINK}"),
        config(trackers={"jira_keys": ["PAY"]}),
    )
    assert result.outcome is Outcome.PASS
    assert "`#7`" in result.reason and "#3" not in result.reason


def test_same_issue_in_several_forms_is_one_item() -> None:
    text = "Closes #7\n\nSee https://github.com/octo/app/issues/7 and octo/app#7"
    assert evaluate(snap(text), DEFAULT).outcome is Outcome.PASS


def test_own_pr_number_does_not_count() -> None:
    text = f"Follow-up in #5 itself.\n\n{LINK}"
    result = evaluate(snap(text, number=5), DEFAULT)
    assert result.outcome is Outcome.PASS
    assert rules(evaluate(snap("Just #5", number=5), DEFAULT)) == ["task-thread/missing"]


def test_other_open_pull_requests_are_not_tracker_items() -> None:
    text = f"Stacked on #9; closes #7.\n\nSee #9 too.\n{LINK}"
    result = evaluate(snap(text, other_open_prs={9: "unrelated"}), DEFAULT)
    assert result.outcome is Outcome.PASS


def test_issue_references_off() -> None:
    cfg = config(trackers={"github_issues": False})
    assert rules(evaluate(snap("Closes #7"), cfg)) == ["task-thread/missing"]
    assert evaluate(snap("Closes #7 and #8"), cfg).findings[0].rule == "task-thread/missing"


def test_cross_repo_issue_is_a_tracker_item() -> None:
    result = evaluate(snap("Closes octo/planning#31"), DEFAULT)
    assert result.outcome is Outcome.PASS
    assert "`octo/planning#31`" in result.reason


def test_jira_keys_only_when_configured() -> None:
    text = body("codex_late2025_jira.md")
    assert evaluate(snap(text), DEFAULT).outcome is Outcome.PASS  # the Codex link alone
    cfg = config(trackers={"jira_keys": ["PAY"]})
    result = evaluate(snap(text), cfg)
    assert result.outcome is Outcome.PASS
    assert "`PAY-412`" in result.reason
    assert rules(evaluate(snap("PAY-412 and PAY-413"), cfg)) == ["task-thread/multiple"]
    assert rules(evaluate(snap("PAY-412 and PAY-0412"), cfg)) == []
    assert rules(evaluate(snap("xPAY-412 pay-412 PAYX-1"), cfg)) == ["task-thread/missing"]


def test_jira_browse_url_counts() -> None:
    cfg = config(trackers={"jira_keys": ["OPS"]})
    result = evaluate(snap("https://acme.atlassian.net/browse/OPS-77"), cfg)
    assert "`OPS-77`" in result.reason


def test_linear_urls() -> None:
    result = evaluate(snap(body("codex2026_done_when_linear.md")), DEFAULT)
    assert "`Linear ENG-1287`" in result.reason
    two = "https://linear.app/acme/issue/ENG-1/a and https://linear.app/acme/issue/ENG-2/b"
    assert rules(evaluate(snap(two), DEFAULT)) == ["task-thread/multiple"]
    off = config(trackers={"linear": False})
    assert rules(evaluate(snap(two), off)) == ["task-thread/missing"]


def test_linear_url_is_not_also_a_jira_key() -> None:
    cfg = config(trackers={"jira_keys": ["ENG"]})
    text = "https://linear.app/acme/issue/ENG-1/a"
    assert evaluate(snap(text), cfg).outcome is Outcome.PASS


def test_shared_task_warns_by_default_naming_the_other_prs() -> None:
    text = body("codex2026_shared.md")
    others = {12: text, 3: f"[Codex Task]({LINK})", 15: text.upper()}
    result = evaluate(snap(text, other_open_prs=others), DEFAULT)
    assert result.outcome is Outcome.WARN
    (finding,) = result.findings
    assert finding.rule == "task-thread/shared"
    assert finding.level is Level.WARNING
    assert "#12, #15" in finding.message and "#3" not in finding.message


def test_shared_level_error_and_off() -> None:
    text = f"[Codex Task]({LINK})"
    others = {12: LINK}
    as_error = evaluate(snap(text, other_open_prs=others), config(shared_thread_level="error"))
    assert as_error.outcome is Outcome.FAIL
    assert as_error.findings[0].level is Level.ERROR
    off = evaluate(snap(text, other_open_prs=others), config(shared_thread_level="off"))
    assert off.outcome is Outcome.PASS and off.findings == ()


def test_shared_ignores_own_number_and_unknown_other_prs() -> None:
    text = f"[Codex Task]({LINK})"
    assert evaluate(snap(text, other_open_prs={5: LINK}), DEFAULT).findings == ()
    assert evaluate(snap(text, other_open_prs=None), DEFAULT).findings == ()


def test_findings_are_errors_regardless_of_practice_level() -> None:
    """The combiner applies `level`; the practice reports natural levels."""
    result = evaluate(snap("nothing"), config(level="warning"))
    assert result.findings[0].level is Level.ERROR


# ------------------------------------------------- robustness on hostile text

_FRAGMENTS = [
    "#",
    "12",
    "5",
    " ",
    "\n",
    "Closes ",
    "fixes: ",
    " and ",
    ", ",
    "`",
    "```\n",
    "    ",
    "[",
    "](",
    ")",
    "<",
    ">",
    "<!--",
    "-->",
    "**",
    "_",
    "\\",
    "&#35;",
    "@",
    "> ",
    "- ",
    "1. ",
    "- [ ] ",
    "- [x] ",
    "## Done when\n",
    "Done when:",
    "**Acceptance criteria**\n",
    "TBD",
    "https://github.com/octo/app/issues/",
    "octo/app#",
    "other/x#",
    "https://chatgpt.com/codex/tasks/task_e_",
    "/codex/cloud/tasks/task_",
    HEX,
    HEX.upper(),
    "https://linear.app/acme/issue/ENG-",
    "PROJ-",
    "www.",
    "Co-authored-by: Codex",
]
_MARKDOWNISH = st.one_of(
    st.text(max_size=300),
    st.lists(st.sampled_from(_FRAGMENTS), max_size=60).map("".join),
    st.lists(st.one_of(st.sampled_from(_FRAGMENTS), st.text(max_size=5)), max_size=40).map("".join),
)
_ALL = GuardConfig.model_validate(
    {
        "practices": {
            "task-thread": {"trackers": {"jira_keys": ["PROJ", "ENG"]}},
            "done-when": {"require_checked": True},
        }
    }
)


def _run_everything(snapshot: PRSnapshot) -> None:
    for cfg in (DEFAULT, _ALL):
        detection = detect(snapshot, cfg)
        assert all(isinstance(s, str) for s in detection.signals)
        needs_commit_messages(snapshot, cfg)
        assert evaluate(snapshot, cfg).practice == "task-thread"
        assert done_when.evaluate(snapshot, cfg).practice == "done-when"
    codex_task_ids(snapshot.body)
    linked_issue_numbers(snapshot.body, snapshot.repo)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=_MARKDOWNISH,
    other=_MARKDOWNISH,
    branch=st.text(max_size=40),
    label=st.text(max_size=20),
    number=st.integers(min_value=1, max_value=10**9),
)
def test_never_raises_on_arbitrary_text(
    text: str, other: str, branch: str, label: str, number: int
) -> None:
    snapshot = snap(
        text,
        number=number,
        head_ref=branch,
        labels=(label,),
        commit_messages=(text, other),
        issue_bodies={7: other, 12: text},
        other_open_prs={number + 1: other, 7: text},
    )
    _run_everything(snapshot)
    ids = codex_task_ids(text)
    assert len(set(ids)) == len(ids)
    assert all(len(i) == len("task_e_") + 32 and i == i.lower() for i in ids)
    issues = linked_issue_numbers(text, "octo/app")
    assert len(set(issues)) == len(issues)


MEGABYTE = 1_000_000


@pytest.mark.parametrize(
    "hostile",
    [
        "`" * 100_000,
        "[" * 200_000,
        "[\n" * 200_000,
        "#1 " * 300_000,
        "x" * MEGABYTE,
        "Closes #1, " * 90_000,
        "https://chatgpt.com/codex/tasks/task_" * 25_000,
        "> " * 50_000 + "Done when: x",
        "".join("  " * (i % 400) + "- [ ] a\n" for i in range(4_000)),
        "`" * 100_000 + "\n" + "[" * 200_000 + "\n" + "y" * 600_000 + "\n" + "> - " * 25_000,
    ],
    ids=[
        "backticks",
        "brackets",
        "bracket-lines",
        "refs",
        "long-line",
        "closing-list",
        "task-prefixes",
        "deep-quote",
        "deep-list",
        "mixed",
    ],
)
def test_adversarial_bodies_finish(hostile: str) -> None:
    snapshot = snap(
        hostile,
        head_ref="codex/" + "a" * 10_000,
        commit_messages=(hostile,),
        issue_bodies={1: hostile},
        other_open_prs={9: hostile},
    )
    _run_everything(snapshot)
