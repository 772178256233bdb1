"""Rendering: check-run output, annotations, the PR comment, and what it may echo."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from bot.core.config import GuardConfig, load_config
from bot.core.findings import PRACTICE_IDS, Finding, Level, Outcome, PracticeResult
from bot.core.snapshot import CheckEvidence, PRSnapshot
from bot.practices.evaluation import Evaluation, Override, config_error_evaluation, evaluate
from bot.present.annotations import batches
from bot.present.check_run import RERUN_ACTION, check_run_output
from bot.present.comment import COMMENT_MARKER, comment_body, should_comment
from bot.present.safe_text import MAX_OUTPUT_CHARS, safe, truncate
from tests.snapshots import ACME_WIDGETS, pr_snapshot

HOSTILE = "@octocat <script>alert(1)</script> <img src=x onerror=alert(2)>"
_MD = MarkdownIt("commonmark", {"html": True}).enable("table")


def snapshot(**overrides: object) -> PRSnapshot:
    return pr_snapshot(
        ACME_WIDGETS,
        **{"title": "Add retry", "head_sha": "0123456789abcdef" * 2 + "01234567", **overrides},
    )


def run(
    results: dict[str, PracticeResult] | None = None,
    *,
    snap: PRSnapshot | None = None,
    cfg: GuardConfig | None = None,
    overrides: tuple[Override, ...] = (),
) -> Evaluation:
    table = {}
    for pid in PRACTICE_IDS:
        result = (results or {}).get(pid, PracticeResult(pid, Outcome.PASS, f"{pid} is fine"))
        table[pid] = lambda s, c, result=result: result
    return evaluate(snap or snapshot(), cfg or load_config(None), overrides, practices=table)


def fail(pid: str, *findings: Finding, reason: str = "broken") -> PracticeResult:
    return PracticeResult(pid, Outcome.FAIL, reason, findings)


def finding(message: str = "missing", **kw: object) -> Finding:
    return Finding(
        rule=str(kw.pop("rule", "done-when/missing")),
        level=kw.pop("level", Level.ERROR),  # type: ignore[arg-type]
        message=message,
        **kw,  # type: ignore[arg-type]
    )


def rendered_html(markdown: str) -> list[str]:
    """Raw HTML tokens GitHub would render from this Markdown."""
    found = []
    for token in _MD.parse(markdown):
        if token.type == "html_block":
            found.append(token.content)
        for child in token.children or []:
            if child.type == "html_inline":
                found.append(child.content)
    return found


def mentions(markdown: str) -> list[str]:
    """@-mentions outside code, as GitHub would link them."""
    found = []
    for token in _MD.parse(markdown):
        for child in token.children or []:
            if child.type == "text":
                found += re.findall(r"(?<![\w`])@[A-Za-z0-9]", child.content)
    return found


# ---------------------------------------------------------------- title & summary


def test_title_names_the_failing_practice() -> None:
    ev = run({"done-when": fail("done-when", finding())})
    assert check_run_output(ev, snapshot()).title == "4 of 5 practices pass — done-when fails"


def test_title_for_all_passing_and_not_codex() -> None:
    assert check_run_output(run(), snapshot()).title == "All 5 practices pass"
    human = snapshot(body="typo", labels=(), head_ref="fix")
    assert check_run_output(run(snap=human), human).title == "Not a Codex PR — passing"


def test_title_counts_running_ci_checks_but_not_itself() -> None:
    checks = (
        CheckEvidence("ci / test", "check_run", "in_progress"),
        CheckEvidence("ci / lint", "check_run", "queued"),
        CheckEvidence("build", "status", "completed", "success"),
        CheckEvidence("codex-guard", "check_run", "in_progress"),
    )
    snap = snapshot(checks=checks)
    ev = run({"tests": PracticeResult("tests", Outcome.PENDING, "waiting")}, snap=snap)
    assert check_run_output(ev, snap).title == "Waiting for CI (2 checks running)"


def test_summary_has_signal_and_one_row_per_practice() -> None:
    ev = run({"tests": fail("tests", finding(rule="tests/ci-failed"), reason="CI failed")})
    summary = check_run_output(ev, snapshot()).summary
    assert "Codex PR" in summary and "label" in summary
    rows = [line for line in summary.splitlines() if line.startswith("| ") and "`" in line]
    assert len(rows) == len(PRACTICE_IDS)
    by_id = {pid: row for pid in PRACTICE_IDS for row in rows if f"(`{pid}`)" in row}
    assert by_id["tests"].startswith("| ❌ |") and "CI failed" in by_id["tests"]
    assert by_id["done-when"].startswith("| ✅ |")


def test_summary_says_why_a_pr_is_not_codex() -> None:
    human = snapshot(body="typo", labels=(), head_ref="fix")
    summary = check_run_output(run(snap=human), human).summary
    assert "Not a Codex PR" in summary and "applies_to: codex" in summary


def test_summary_lists_overrides_with_who_and_why() -> None:
    ev = run(
        {"tests": fail("tests", finding())},
        overrides=(Override("tests", "bob", "CI outage, see #12"),),
    )
    summary = check_run_output(ev, snapshot()).summary
    assert "`tests` skipped by @bob: CI outage, see #12" in summary
    assert "| ⏭️ |" in summary


def test_a_pipe_in_a_reason_does_not_break_the_table() -> None:
    ev = run({"tests": fail("tests", finding(), reason="a | b")})
    summary = check_run_output(ev, snapshot()).summary
    row = next(line for line in summary.splitlines() if "(`tests`)" in line)
    assert "a \\| b" in row


def test_text_says_how_to_fix_each_finding() -> None:
    problem = finding("No Done-when section", fix="Add a `## Done when` section", line=4)
    out = check_run_output(run({"done-when": fail("done-when", problem)}), snapshot())
    assert "No Done-when section" in out.text
    assert "**How to fix:** Add a `## Done when` section" in out.text


def test_config_error_output_names_the_key() -> None:
    from bot.practices.detection import detect

    message = ".github/codex-guard.yml: `practices.tests.levle`: Extra inputs are not permitted"
    ev = config_error_evaluation(detect(snapshot(), load_config(None)), message)
    out = check_run_output(ev, snapshot())
    assert "config" in out.title.lower()
    assert "practices.tests.levle" in out.summary


# ---------------------------------------------------------------- annotations


def test_annotations_have_githubs_shape() -> None:
    ev = run(
        {
            "agents-md": fail(
                "agents-md",
                finding("too long", rule="agents-md/too-long", path="AGENTS.md", line=201),
                finding("no line", rule="agents-md/x", level=Level.WARNING, path="docs/AGENTS.md"),
                finding("no path", rule="agents-md/y"),
            )
        }
    )
    annotations = check_run_output(ev, snapshot()).annotations
    assert len(annotations) == 2
    first, second = annotations
    assert set(first) == {"path", "start_line", "end_line", "annotation_level", "message", "title"}
    assert first["path"] == "AGENTS.md"
    assert first["start_line"] == first["end_line"] == 201
    assert first["annotation_level"] == "failure"
    assert second["start_line"] == 1 and second["annotation_level"] == "warning"
    assert "agents-md/too-long" in str(first["title"])


def test_notice_findings_annotate_as_notice() -> None:
    note = finding("fyi", level=Level.NOTICE, path="a.py", line=2)
    ev = run({"tests": PracticeResult("tests", Outcome.PASS, "ok", (note,))})
    assert check_run_output(ev, snapshot()).annotations[0]["annotation_level"] == "notice"


def test_batches_of_fifty() -> None:
    items = [{"i": i} for i in range(120)]
    groups = batches(items)
    assert [len(g) for g in groups] == [50, 50, 20]
    assert [a for g in groups for a in g] == items
    assert batches([]) == []
    assert [len(g) for g in batches(items[:7], size=3)] == [3, 3, 1]
    with pytest.raises(ValueError):
        batches(items, size=0)


# ---------------------------------------------------------------- limits


def test_huge_output_is_truncated_cleanly() -> None:
    many = tuple(
        finding("x" * 400 + f" number {i}", rule="tests/command-failed", path=f"f{i}.py", line=i)
        for i in range(400)
    )
    reasons = {pid: fail(pid, *many, reason="r" * 5000) for pid in PRACTICE_IDS}
    out = check_run_output(run(reasons), snapshot())
    assert len(out.text) <= MAX_OUTPUT_CHARS
    assert len(out.summary) <= MAX_OUTPUT_CHARS
    assert "Truncated" in out.text
    assert out.text.rstrip().endswith("full report.")


def test_truncate_keeps_short_text_and_closes_fences() -> None:
    assert truncate("short") == "short"
    text = "intro\n```\n" + "line\n" * 20_000
    cut = truncate(text, 1000)
    assert len(cut) <= 1000
    assert cut.count("```") % 2 == 0
    assert "Truncated" in cut
    exact = "y" * MAX_OUTPUT_CHARS
    assert truncate(exact) == exact
    assert len(truncate(exact + "z")) <= MAX_OUTPUT_CHARS


def test_rerun_action_fits_githubs_limits() -> None:
    assert len(RERUN_ACTION["label"]) <= 20
    assert len(RERUN_ACTION["description"]) <= 40
    assert len(RERUN_ACTION["identifier"]) <= 20


# ---------------------------------------------------------------- comment


def test_failing_comment_lists_failures_and_fixes() -> None:
    problem = finding("No Done-when section", fix="Add a `## Done when` section")
    body = comment_body(run({"done-when": fail("done-when", problem)}), snapshot())
    assert body.startswith(COMMENT_MARKER + "\n")
    assert "1 of 5 practices fail" in body
    assert "Done when" in body and "No Done-when section" in body
    assert "Add a `## Done when` section" in body
    assert "/codex-guard skip" in body


def test_passing_comment_is_short() -> None:
    body = comment_body(run(), snapshot())
    assert body.startswith(COMMENT_MARKER)
    assert "All practices pass" in body
    assert len(body) < 300


def test_pr_text_is_neutralised_everywhere() -> None:
    problem = finding(
        f"Testing says {HOSTILE}",
        fix=f"ask {HOSTILE}",
        path="AGENTS.md",
        line=1,
    )
    ev = run(
        {"done-when": fail("done-when", problem, reason=f"quoted {HOSTILE}")},
        overrides=(Override("tests", "bob", f"because {HOSTILE}"),),
        snap=snapshot(labels=("codex",)),
    )
    out = check_run_output(ev, snapshot())
    for markdown in (comment_body(ev, snapshot()), out.summary, out.text):
        ours = {COMMENT_MARKER + "\n", "<sub>", "</sub>"}
        assert set(rendered_html(markdown)) <= ours, markdown
        assert "<script>" not in markdown and "<img" not in markdown
        assert "@octocat" not in markdown
        assert set(mentions(markdown)) <= {"@b"}  # only the overrider, in the check run


def test_the_comment_never_pings_the_person_who_overrode() -> None:
    ev = run(
        {"done-when": fail("done-when", finding())},
        overrides=(Override("tests", "bob", "flaky"),),
    )
    body = comment_body(ev, snapshot())
    assert "@bob" not in body


def test_commands_in_code_spans_stay_readable() -> None:
    problem = finding("`cd app && pytest -k 'a<b'` failed for @team")
    body = comment_body(run({"tests": fail("tests", problem)}), snapshot())
    assert "`cd app && pytest -k 'a<b'`" in body
    assert "@team" not in body


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="`\\<>&@ab |*_[]()!\n;#", max_size=60))
def test_safe_is_inert_and_idempotent(text: str) -> None:
    once = safe(text)
    assert safe(once) == once
    assert rendered_html(once) == []
    assert "\n" not in once


# ---------------------------------------------------------------- should_comment


@pytest.mark.parametrize(
    ("mode", "failing", "existing", "expected"),
    [
        ("on_failure", True, False, "create"),
        ("on_failure", False, False, "none"),
        ("on_failure", True, True, "update"),
        ("on_failure", False, True, "update"),
        ("always", False, False, "create"),
        ("always", True, False, "create"),
        ("always", False, True, "update"),
        ("never", True, False, "none"),
        ("never", True, True, "none"),
        ("never", False, True, "none"),
    ],
)
def test_should_comment_matrix(mode: str, failing: bool, existing: bool, expected: str) -> None:
    ev = run({"tests": fail("tests", finding())} if failing else None)
    assert should_comment(ev, mode, existing) == expected  # type: ignore[arg-type]


def test_fixed_pr_updates_the_comment_to_all_pass() -> None:
    ev = run()
    assert should_comment(ev, "on_failure", True) == "update"
    assert "All practices pass" in comment_body(ev, snapshot())


def test_no_new_comment_on_a_pr_nobody_checked() -> None:
    human = snapshot(body="typo", labels=(), head_ref="fix")
    ev = run(snap=human)
    assert should_comment(ev, "always", False) == "none"
    assert should_comment(ev, "always", True) == "update"
