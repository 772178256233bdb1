"""What a practice says about a pull request.

Kept free of GitHub types so the CLI, the check run and the comment all render
the same results.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Level(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    NOTICE = "notice"


class Outcome(StrEnum):
    PASS = "pass"  # noqa: S105 (an outcome, not a password)
    FAIL = "fail"
    WARN = "warn"
    SKIP = "skip"
    PENDING = "pending"


PRACTICE_IDS: tuple[str, ...] = ("task-thread", "done-when", "tests", "agents-md", "scope")


@dataclass(frozen=True)
class Finding:
    """One problem, with where it is and how to fix it.

    ``message`` must never contain a secret's value: practices mask before
    building a finding.
    """

    rule: str
    level: Level
    message: str
    path: str | None = None
    line: int | None = None
    fix: str | None = None

    def as_json(self) -> dict[str, object]:
        data: dict[str, object] = {
            "rule": self.rule,
            "level": str(self.level),
            "message": self.message,
        }
        if self.path is not None:
            data["path"] = self.path
        if self.line is not None:
            data["line"] = self.line
        if self.fix is not None:
            data["fix"] = self.fix
        return data


@dataclass(frozen=True)
class PracticeResult:
    """The verdict of one practice: an outcome, a one-line reason, findings."""

    practice: str
    outcome: Outcome
    reason: str
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    def as_json(self) -> dict[str, object]:
        return {
            "outcome": str(self.outcome),
            "reason": self.reason,
            "findings": [f.as_json() for f in self.findings],
        }


def outcome_from_findings(findings: list[Finding] | tuple[Finding, ...]) -> Outcome:
    """A practice fails on any error, warns on any warning, passes otherwise."""
    levels = {f.level for f in findings}
    if Level.ERROR in levels:
        return Outcome.FAIL
    if Level.WARNING in levels:
        return Outcome.WARN
    return Outcome.PASS


@dataclass(frozen=True)
class Override:
    """A maintainer's decision to stop one practice from holding this PR."""

    practice: str
    by: str
    reason: str
