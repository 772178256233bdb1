"""The `tests` practice: CI evidence on the head SHA and Codex's Testing notes."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.config import GuardConfig, load_config
from bot.core.findings import Level, Outcome
from bot.core.snapshot import CheckEvidence, PRSnapshot
from bot.practices.passing_tests import (
    OFFLINE_REASON,
    TestingNote,
    agents_commands,
    command_key,
    evaluate,
    testing_notes,
)
from tests.snapshots import BODIES, OCTO_APP, pr_snapshot, rules

PASSED_BODY = (BODIES / "testing_2025_passed.md").read_text()


def body(name: str) -> str:
    return (BODIES / f"testing_{name}.md").read_text()


def config(yaml: str = "") -> GuardConfig:
    return load_config(yaml or None)


SHOP = {
    **OCTO_APP,
    "repo": "acme/shop",
    "number": 7,
    "title": "Fix pagination",
    "author": "dev",
    "head_ref": "codex/fix-pagination",
}


def snap(
    text: str = PASSED_BODY,
    checks: tuple[CheckEvidence, ...] | None = (),
    head_files: dict[str, str] | None = None,
) -> PRSnapshot:
    return pr_snapshot(SHOP, body=text, checks=checks, head_files=head_files or {})


def run(name: str, conclusion: str | None = "success", status: str = "completed",
        **kw: str) -> CheckEvidence:  # fmt: skip
    return CheckEvidence(name=name, source="check_run", status=status,
                         conclusion=conclusion, **kw)  # fmt: skip


# --- Testing notes ---------------------------------------------------------------


def test_notes_2025_format_with_failure() -> None:
    notes = testing_notes(body("2025_failed"))
    assert notes == [
        TestingNote("pytest -q", "passed", 6),
        TestingNote("npm test", "failed", 7, "Cannot find module 'vitest'"),
    ]


def test_notes_2025_all_passed_including_plain_command_lines() -> None:
    notes = testing_notes(body("2025_passed"))
    assert [(n.command, n.state) for n in notes] == [
        ("pytest -q", "passed"),
        ("ruff check .", "passed"),
        ("mypy src", "passed"),
    ]


def test_notes_2026_prose_splits_commands_and_keeps_failure_with_its_command() -> None:
    notes = testing_notes(body("2026_prose"))
    assert [(n.command, n.state, n.line) for n in notes] == [
        ("pytest -q tests/test_export.py", "passed", 5),
        ("pytest -q", "failed", 5),
        ("npm run e2e", "not_run", 6),
    ]


def test_notes_not_run_with_and_without_command() -> None:
    notes = testing_notes(body("2026_not_run"))
    assert [(n.command, n.state) for n in notes] == [(None, "not_run"), ("make lint", "not_run")]


@pytest.mark.parametrize(
    ("line", "state"),
    [
        ("- ✅ `pytest -q`", "passed"),
        ("- ❌ `pytest -q`", "failed"),
        ("- ⚠️ `pytest -q`", "failed"),
        ("- `pytest -q` (failed)", "failed"),
        ("- `pytest -q` fails on `test_x`", "failed"),
        ("- `pytest -q` (not run)", "not_run"),
        ("- Could not run `pytest -q`", "not_run"),
        ("- `pytest -q` (12 passed, 0 failed, 2 skipped)", "passed"),
        ("- `pytest -q`", "passed"),
        ("- Ran `pytest -q`", "passed"),
        ("- `npm test` exited with code 1", "failed"),
        ("Ran `pytest -q` ... (failed)", "failed"),
    ],
)
def test_note_states(line: str, state: str) -> None:
    (note,) = testing_notes(f"## Testing\n{line}\n")
    assert note.command == ("npm test" if "npm" in line else "pytest -q")
    assert note.state == state


def test_testing_heading_at_any_level_and_tests_alias() -> None:
    for heading in ("## Testing", "### Testing", "# Tests", "**Testing**\n\n## Testing:"):
        assert testing_notes(f"{heading}\n- ❌ `make test`\n")[0].state == "failed"


def test_fenced_commands_in_testing_are_mentions() -> None:
    notes = testing_notes("## Testing\n```\n$ pytest -q\n# comment\n```\n")
    assert notes == [TestingNote("pytest -q", "unknown", 3)]


def test_other_sections_are_ignored() -> None:
    assert testing_notes("## Summary\n- ❌ `npm test` fails\n") == []


# --- findings from the notes ----------------------------------------------------------


def test_failed_command_is_a_warning_by_default_naming_the_command() -> None:
    result = evaluate(snap(body("2025_failed"), checks=None), config())
    (finding,) = result.findings
    assert finding.rule == "tests/command-failed"
    assert finding.level is Level.WARNING
    assert "`npm test`" in finding.message and "Cannot find module" in finding.message
    assert finding.line == 7
    assert result.outcome is Outcome.WARN
    assert result.reason == OFFLINE_REASON


def test_notes_level_error_and_off() -> None:
    failing = snap(body("2025_failed"), checks=None)
    error = evaluate(failing, config("practices: {tests: {testing_notes_level: error}}"))
    assert error.outcome is Outcome.FAIL and error.findings[0].level is Level.ERROR
    off = evaluate(failing, config("practices: {tests: {testing_notes_level: 'off'}}"))
    assert off.findings == () and off.outcome is Outcome.PASS


def test_network_message_becomes_a_setup_script_fix() -> None:
    result = evaluate(snap(body("2025_network"), checks=None), config())
    network = [f for f in result.findings if f.rule == "tests/no-network"]
    assert len(network) == 1
    assert "setup script in the Codex environment" in (network[0].fix or "")
    assert "dependencies are installed before the agent runs" in (network[0].fix or "")
    assert rules(result).count("tests/command-failed") == 1  # pip install
    assert rules(result).count("tests/command-not-run") == 1  # pytest; notice line not doubled


@pytest.mark.parametrize(
    "sentence",
    [
        "The environment doesn't have network access, so `npm ci` failed.",
        "Network access is disabled in this environment.",
        "- ⚠️ Could not download `torch` due to network restrictions",
        "Tests could not run: the sandbox does not have internet access.",
    ],
)
def test_network_variants(sentence: str) -> None:
    result = evaluate(snap(f"## Testing\n{sentence}\n", checks=None), config())
    assert "tests/no-network" in rules(result)


def test_missing_or_empty_testing_section() -> None:
    for name in ("missing", "empty"):
        result = evaluate(snap(body(name), checks=None), config())
        assert rules(result) == ["tests/no-testing-notes"], name
        assert result.findings[0].level is Level.WARNING


def test_no_testing_notes_fix_lists_agents_commands() -> None:
    agents = {"AGENTS.md": "## Testing\n\nRun `pytest -q` before committing.\n"}
    result = evaluate(snap(body("missing"), checks=None, head_files=agents), config())
    assert "`pytest -q`" in (result.findings[0].fix or "")


ROOT_AGENTS = """# Guide

Run `make test` before committing.

## Checks

```sh
cd web && npm run lint
python -m pytest -q
```

- `ruff check .` must be clean.
- Keep `src/app.py` small.
"""


def test_agents_commands_from_headings_fences_and_run_lines() -> None:
    commands = [c.command for c in agents_commands(ROOT_AGENTS)]
    assert commands == ["make test", "npm run lint", "python -m pytest -q", "ruff check ."]


def test_command_key_is_loose() -> None:
    assert command_key("python -m pytest -q tests/") == ("pytest",)
    assert command_key("npm run test -- --watch") == ("npm", "test")
    assert command_key("CI=1 npx eslint .") == ("eslint",)
    assert command_key("make lint") != command_key("make test")


def test_agents_checks_missing_from_testing_notes() -> None:
    text = "## Testing\n- ✅ `pytest tests/unit -x`\n- ✅ `make test -j4`\n"
    result = evaluate(snap(text, checks=None, head_files={"AGENTS.md": ROOT_AGENTS}), config())
    missing = [f for f in result.findings if f.rule == "tests/agents-check-missing"]
    assert len(missing) == 2
    assert "`npm run lint`" in missing[0].message and "`ruff check .`" in missing[1].message
    assert all(f.level is Level.WARNING for f in missing)


def test_agents_check_mentioned_in_prose_counts() -> None:
    text = (
        "### Testing\nRan ruff check . and the npm run lint script, then `make test`, "
        "then `pytest` (passed).\n"
    )
    result = evaluate(snap(text, checks=None, head_files={"AGENTS.md": ROOT_AGENTS}), config())
    assert "tests/agents-check-missing" not in rules(result)


def test_agents_override_is_preferred() -> None:
    files = {"AGENTS.md": ROOT_AGENTS, "AGENTS.override.md": "Run `cargo test` first.\n"}
    result = evaluate(snap(PASSED_BODY, checks=None, head_files=files), config())
    (finding,) = result.findings
    assert "`cargo test`" in finding.message


def test_untrusted_command_is_sanitised() -> None:
    text = "## Testing\n- ❌ `npm test @octocat <img src=x>` *(fails: @admin <b>x</b>)*\n"
    result = evaluate(snap(text, checks=None), config())
    message = result.findings[0].message
    assert "@admin" not in message and "<b>" not in message
    assert "`npm test @octocat <img src=x>`" in message  # inert inside a code span


# --- CI evidence -------------------------------------------------------------------------


def test_all_checks_passed() -> None:
    checks = (run("build"), run("lint", "neutral"), run("docs", "skipped"))
    result = evaluate(snap(checks=checks), config())
    assert result.outcome is Outcome.PASS
    assert result.reason.startswith("all 3 CI checks passed")


def test_failure_names_check_conclusion_and_link() -> None:
    url = "https://github.com/acme/shop/actions/runs/1/job/2"
    checks = (run("build"), run("test (3.11)", "failure", url=url), run("codex-guard", "failure"))
    result = evaluate(snap(checks=checks), config())
    assert result.outcome is Outcome.FAIL
    (finding,) = result.findings
    assert finding.rule == "tests/ci-failed" and finding.level is Level.ERROR
    assert "test (3.11)" in finding.message and "failure" in finding.message
    assert url in finding.message
    assert "1 of 2 CI checks failed" in result.reason


def test_status_error_and_timeouts_fail() -> None:
    checks = (
        CheckEvidence("ci/jenkins", "status", "completed", "failure", "https://ci.example/1"),
        run("e2e", "timed_out"),
        run("deploy-preview", "cancelled"),
    )
    result = evaluate(snap(checks=checks), config())
    assert rules(result) == ["tests/ci-failed"] * 3


def test_pending_while_running() -> None:
    checks = (run("build"), run("test", None, "in_progress"), run("lint", None, "queued"))
    result = evaluate(snap(checks=checks), config())
    assert result.outcome is Outcome.PENDING
    assert "2 of 3 CI checks still running" in result.reason


def test_pending_keeps_known_failures_visible() -> None:
    checks = (run("build", "failure"), run("test", None, "in_progress"))
    result = evaluate(snap(checks=checks), config())
    assert result.outcome is Outcome.PENDING
    assert rules(result) == ["tests/ci-failed"]


def test_own_check_does_not_count() -> None:
    checks = (run("codex-guard", None, "in_progress"), run("build"))
    assert evaluate(snap(checks=checks), config()).outcome is Outcome.PASS
    only_ours = (run("codex-guard", None, "in_progress"),)
    assert rules(evaluate(snap(checks=only_ours), config())) == ["tests/no-ci"]


def test_required_checks_narrow_and_wait() -> None:
    cfg = config("practices: {tests: {required_checks: ['test*', 'build']}}")
    checks = (run("test (3.12)"), run("build"), run("flaky-e2e", "failure"))
    assert evaluate(snap(checks=checks), cfg).outcome is Outcome.PASS
    missing_build = (run("test (3.12)"),)
    result = evaluate(snap(checks=missing_build), cfg)
    assert result.outcome is Outcome.PENDING
    assert "build" in result.reason


def test_no_ci_fails_or_warns() -> None:
    result = evaluate(snap(checks=()), config())
    assert rules(result) == ["tests/no-ci"] and result.outcome is Outcome.FAIL
    warned = evaluate(snap(checks=()), config("practices: {tests: {when_no_ci: warn}}"))
    assert warned.findings[0].level is Level.WARNING and warned.outcome is Outcome.WARN


def test_offline_does_not_judge_ci() -> None:
    result = evaluate(snap(checks=None), config())
    assert result.outcome is Outcome.PASS
    assert result.reason == "CI not checked offline; read the Testing notes only"


def test_check_name_is_sanitised() -> None:
    checks = (run("@team <script>", "failure"),)
    message = evaluate(snap(checks=checks), config()).findings[0].message
    assert "@team" not in message and "<script>" not in message


# --- robustness ----------------------------------------------------------------------------

fuzz = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
markdownish = st.text(
    alphabet=st.sampled_from(list("`[]()*_-#>!|:;.\n \t✅❌⚠️abcfilnrstuxy0123456789/\\<>@")),
    max_size=400,
)


@fuzz
@given(st.one_of(st.text(max_size=400), markdownish.map(lambda t: "## Testing\n" + t)))
def test_testing_notes_never_raise(text: str) -> None:
    for note in testing_notes(text):
        assert note.state in ("passed", "failed", "not_run", "unknown")
        assert note.line >= 1


@fuzz
@given(
    markdownish.map(lambda t: "## Testing\n" + t),
    markdownish,
    st.sampled_from([None, (), (CheckEvidence("x", "status", "completed", "error"),)]),
)
def test_evaluate_never_raises(text: str, agents: str, checks) -> None:
    result = evaluate(snap(text, checks=checks, head_files={"AGENTS.md": agents}), config())
    assert result.practice == "tests"


ADVERSARIAL = [
    "`" * 100_000,
    "[" * 200_000,
    "## Testing\n- " + "a" * 1_000_000,
    "## Testing\n" + "- " * 2_000 + "❌ `x`" + "\n" + "> " * 2_000 + "y",
    "## Testing\n" + "Ran `pytest` (failed). " * 20_000,
    "## Testing\n" + "no network access " * 50_000,
    "## Testing\n- `" + "a " * 400_000 + "`",
]


@pytest.mark.parametrize("text", ADVERSARIAL, ids=range(len(ADVERSARIAL)))
def test_adversarial_bodies_complete(text: str) -> None:
    agents = {"AGENTS.md": text}
    result = evaluate(snap(text, checks=None, head_files=agents), config())
    assert result.practice == "tests"
