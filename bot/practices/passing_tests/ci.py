"""CI evidence on the head SHA: check runs and commit statuses, minus our own."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from fnmatch import fnmatchcase

from bot import CHECK_NAME
from bot.core.config import GuardConfig
from bot.core.findings import Finding, Level
from bot.core.sanitize import quote_untrusted
from bot.core.snapshot import CheckEvidence

OK_CONCLUSIONS = frozenset({"success", "neutral", "skipped"})
"""Check-run conclusions that do not hold a PR."""


def _own(check: CheckEvidence) -> bool:
    return check.name == CHECK_NAME or check.app_slug == CHECK_NAME


def _matches(name: str, patterns: Iterable[str]) -> bool:
    folded = name.casefold()
    return any(fnmatchcase(folded, p.casefold()) for p in patterns)


def _label(check: CheckEvidence) -> str:
    return quote_untrusted(check.name, limit=80)


def _ci(checks: Sequence[CheckEvidence], config: GuardConfig) -> tuple[list[Finding], int, str]:
    """Findings, number of counted checks still running (or not started), reason."""
    tests = config.practices.tests
    others = [c for c in checks if not _own(c)]
    required = tests.required_checks
    counted = [c for c in others if _matches(c.name, required)] if required else others
    missing = [p for p in required if not any(_matches(c.name, [p]) for c in others)]
    if not others and not required:
        level = Level.ERROR if tests.when_no_ci == "fail" else Level.WARNING
        finding = Finding(
            rule="tests/no-ci",
            level=level,
            message="No CI check run or commit status reported on the head commit.",
            fix="Add a CI workflow that runs the tests on pull requests, or set "
            "`practices.tests.when_no_ci: warn`.",
        )
        return [finding], 0, "no CI on the head commit"
    running = [c for c in counted if c.status != "completed"]
    failed = [
        c for c in counted if c.status == "completed" and (c.conclusion or "") not in OK_CONCLUSIONS
    ]
    findings = []
    for check in failed:
        conclusion = quote_untrusted(check.conclusion or "no conclusion", limit=40)
        where = f" ({quote_untrusted(check.url, limit=200)})" if check.url else ""
        findings.append(
            Finding(
                rule="tests/ci-failed",
                level=Level.ERROR,
                message=f"CI check {_label(check)} completed with {conclusion}{where}.",
                fix="Open the check's log, fix the failure and push again.",
            )
        )
    waiting = len(running) + len(missing)
    parts: list[str] = []
    total = len(counted)
    if failed:
        parts.append(f"{len(failed)} of {total} CI checks failed")
    if running:
        parts.append(f"{len(running)} of {total} CI checks still running")
    if missing:
        names = ", ".join(quote_untrusted(p, limit=40) for p in missing[:3])
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        parts.append(f"waiting for required check {names}{more}")
    if not parts:
        parts.append(f"all {total} CI checks passed" if total != 1 else "the CI check passed")
    return findings, waiting, "; ".join(parts)
