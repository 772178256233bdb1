"""The phrases the check run and the PR comment share, so both say a finding alike."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.findings import Finding, Outcome, PracticeResult
from bot.core.sanitize import code_untrusted
from bot.practices.evaluation import Evaluation
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
