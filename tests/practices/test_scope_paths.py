"""Protected paths and the allowlist, over "list pull request files" entries."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.core.config import PracticeLevel
from bot.core.config.scope import ScopeConfig
from bot.core.diff_patch import AddedLine, added_lines
from bot.core.findings import Outcome
from bot.core.scope_evidence import changed_file_from_api
from bot.practices.scope import evaluate, needs_reviews
from bot.practices.scope.paths import is_protected, protected_changes
from bot.practices.scope.practice import (
    RULE_OUTSIDE,
    RULE_PROTECTED,
    RULE_UNSCANNED,
    evaluate_scope,
)
from tests.practices.scope_payloads import _example, evidence, file_entry

CONFIG = ScopeConfig()


@pytest.mark.parametrize(
    "path",
    [
        ".github/workflows/ci.yml",
        ".github/workflows/nested/release.yaml",
        ".github/actions/setup/action.yml",
        "CODEOWNERS",
        ".github/CODEOWNERS",
        "docs/CODEOWNERS",
        "services/api/CODEOWNERS",
        ".github/codex-guard.yml",
        "AGENTS.override.md",
        "services/api/AGENTS.override.md",
        "services/api/agents.override.md",
        ".codex/config.toml",
        ".codex/rules/default.rules",
        "services/web/.codex/config.toml",
        ".agents/skills/deploy/SKILL.md",
        "tools/.agents/skills/x/scripts/run.sh",
    ],
)
def test_default_protected_paths(path: str) -> None:
    assert is_protected(path)


@pytest.mark.parametrize(
    "path",
    [
        "src/settings.py",
        "tests/test_app.py",
        "AGENTS.md",
        "docs/workflows.md",
        "x/.github/workflows/ci.yml",  # not a workflow: GitHub reads only the root's
        ".github/ISSUE_TEMPLATE/bug.md",
        "CODEOWNERS.md",
        ".codex",  # a file, not the folder Codex reads
    ],
)
def test_ordinary_paths_are_not_protected(path: str) -> None:
    assert not is_protected(path)


def test_a_workflow_edit_is_blocked_and_names_the_file() -> None:
    ev = evidence([file_entry(".github/workflows/ci.yml"), file_entry("src/app.py")], reviews=[])
    result = evaluate_scope(ev, CONFIG)
    assert result.outcome is Outcome.FAIL
    (finding,) = result.findings
    assert finding.rule == RULE_PROTECTED
    assert "`.github/workflows/ci.yml`" in finding.message
    assert "src/app.py" not in finding.message
    assert finding.path == ".github/workflows/ci.yml"
    assert "write access" in (finding.fix or "")
    assert "/codex-guard skip scope <reason>" in (finding.fix or "")


def test_a_code_only_change_passes_and_needs_no_reviews() -> None:
    ev = evidence([file_entry("src/app.py"), file_entry("tests/test_app.py", status="added")])
    assert not needs_reviews(ev, CONFIG)
    result = evaluate_scope(ev, CONFIG)
    assert result.outcome is Outcome.PASS
    assert result.findings == ()


def test_a_file_renamed_out_of_a_protected_path_still_counts() -> None:
    entry = file_entry(
        "docs/old-ci.yml", status="renamed", previous_filename=".github/workflows/ci.yml"
    )
    files = changed_file_from_api(entry)
    assert files.names == ("docs/old-ci.yml", ".github/workflows/ci.yml")
    assert protected_changes([files]) == [".github/workflows/ci.yml"]
    result = evaluate_scope(evidence([entry], reviews=[]), CONFIG)
    assert result.outcome is Outcome.FAIL
    assert "`.github/workflows/ci.yml`" in result.findings[0].message


def test_a_removed_codeowners_counts() -> None:
    ev = evidence([file_entry("CODEOWNERS", status="removed", patch="@@ -1 +0,0 @@\n-* @team")])
    assert evaluate_scope(ev, CONFIG).findings[0].rule == RULE_PROTECTED


def test_team_patterns_add_to_the_defaults_and_cannot_negate_them() -> None:
    config = ScopeConfig(protected_paths=["deploy/**", "!.github/workflows/**"])
    assert is_protected("deploy/prod.tf", config.protected_paths)
    assert is_protected(".github/workflows/ci.yml", config.protected_paths)
    assert not is_protected("Deploy/prod.tf", config.protected_paths)  # team patterns: exact case
    ev = evidence([file_entry("deploy/prod.tf")], reviews=[])
    assert evaluate_scope(ev, config).findings[0].rule == RULE_PROTECTED


def test_allowed_paths_narrow_what_codex_may_change_alone() -> None:
    config = ScopeConfig(allowed_paths=["src/**", "tests/**"])
    inside = evidence([file_entry("src/app.py"), file_entry("tests/test_app.py")])
    assert evaluate_scope(inside, config).outcome is Outcome.PASS
    outside = evidence([file_entry("src/app.py"), file_entry("Makefile")], reviews=[])
    result = evaluate_scope(outside, config)
    assert result.outcome is Outcome.FAIL
    (finding,) = result.findings
    assert finding.rule == RULE_OUTSIDE
    assert "`Makefile`" in finding.message and "src/app.py" not in finding.message
    # A rename out of the allowlist touches a path outside it too.
    moved = evidence(
        [file_entry("src/build.py", status="renamed", previous_filename="scripts/build.py")],
        reviews=[],
    )
    assert "`scripts/build.py`" in evaluate_scope(moved, config).findings[0].message


def test_an_empty_allowlist_allows_nothing() -> None:
    config = ScopeConfig(allowed_paths=[])
    result = evaluate_scope(evidence([file_entry("src/app.py")], reviews=[]), config)
    assert result.findings[0].rule == RULE_OUTSIDE


def test_a_diff_github_did_not_send_needs_a_person() -> None:
    large = file_entry("src/huge.py", patch=None, additions=5000)
    binary = file_entry("img/logo.png", patch=None, additions=0, deletions=0)
    assert evaluate_scope(evidence([binary]), CONFIG).outcome is Outcome.PASS
    result = evaluate_scope(evidence([large, binary], reviews=[]), CONFIG)
    assert [f.rule for f in result.findings] == [RULE_UNSCANNED]
    assert "`src/huge.py`" in result.findings[0].message
    assert "logo.png" not in result.findings[0].message


def test_the_spec_example_patch_parses_to_no_added_lines() -> None:
    # GitHub's own example runs two hunk headers together on one line.
    (entry,) = _example("diff-entry-items")
    assert added_lines(entry["patch"]) == ()


def test_patch_parser_numbers_added_lines_on_the_head_side() -> None:
    patch = (
        "@@ -10,4 +10,5 @@ def f():\n"
        " keep\n"
        "-gone\n"
        "+new one\r\n"
        "+new two\n"
        " keep\n"
        "\\ No newline at end of file\n"
        "@@ -40,2 +41,3 @@\n"
        " ctx\n"
        "++@@ not a header\n"
    )
    assert added_lines(patch) == (
        AddedLine(11, "new one"),
        AddedLine(12, "new two"),
        AddedLine(42, "+@@ not a header"),
    )
    assert added_lines(patch, limit=1) == (AddedLine(11, "new one"),)


def test_config_rejects_patterns_pathspec_cannot_read() -> None:
    with pytest.raises(ValidationError, match="protected_paths"):
        ScopeConfig(protected_paths=["\\"])
    with pytest.raises(ValidationError, match="allowed_paths"):
        ScopeConfig(allowed_paths=[" "])
    with pytest.raises(ValidationError):
        ScopeConfig(protected_path=["typo"])  # type: ignore[call-arg]
    assert ScopeConfig(level=False).level is PracticeLevel.OFF  # type: ignore[arg-type]


def test_engine_entry_point_skips_without_evidence() -> None:
    class Snapshot:
        scope = None

    assert evaluate(Snapshot(), object()).outcome is Outcome.SKIP
