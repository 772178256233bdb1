"""Audit summaries: per repository and per person, how Codex PRs fared against each
practice. Pure over records, so the CLI, the HTML page and tests share one reading."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.core.audit_record import AuditRecord
from bot.core.findings import PRACTICE_IDS


@dataclass
class PracticeStats:
    """Counts of each practice's outcome over Codex PRs (each PR's latest evaluation)."""

    passed: int = 0
    warned: int = 0
    failed: int = 0
    skipped: int = 0
    pending: int = 0

    @property
    def evaluated(self) -> int:
        return self.passed + self.warned + self.failed

    @property
    def pass_rate(self) -> float | None:
        """Share of PRs where the practice passed, of those where it was judged."""
        return self.passed / self.evaluated if self.evaluated else None

    def add(self, outcome: str) -> None:
        name = {
            "pass": "passed",
            "warn": "warned",
            "fail": "failed",
            "skip": "skipped",
            "pending": "pending",
        }.get(outcome)
        if name is not None:
            setattr(self, name, getattr(self, name) + 1)


@dataclass(frozen=True)
class OverrideEntry:
    repository: str
    pr: int
    practice: str
    by: str
    reason: str


@dataclass
class GroupSummary:
    """One repository's or one person's Codex PRs."""

    name: str
    codex_prs: int = 0
    other_prs: int = 0
    evaluations: int = 0
    passing_prs: int = 0
    """Codex PRs whose latest evaluation concluded success."""
    practices: dict[str, PracticeStats] = field(default_factory=dict)
    findings: Counter[str] = field(default_factory=Counter)
    """Rule id -> number of Codex PRs where it was found at least once."""
    overrides: list[OverrideEntry] = field(default_factory=list)

    def top_findings(self, n: int = 5) -> list[tuple[str, int]]:
        return sorted(self.findings.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


@dataclass
class Summary:
    since: datetime | None
    until: datetime
    records: int
    overall: GroupSummary
    by_repository: dict[str, GroupSummary]
    by_person: dict[str, GroupSummary]


def summarise(
    records: Iterable[AuditRecord], since: datetime | None = None, until: datetime | None = None
) -> Summary:
    """Per repository and per person: Codex PRs, each practice's pass rate, findings, overrides.

    A PR is evaluated again on every push, so practice outcomes are taken from each
    PR's latest settled evaluation in the window (what the PR ended as; one still
    waiting for CI does not hide the verdict before it), while findings and
    overrides count every PR they appeared on at any point.
    """
    ordered = sorted(records, key=lambda r: r.time)
    per_pr: dict[tuple[str, int], list[AuditRecord]] = {}
    for record in ordered:
        per_pr.setdefault((record.repository.lower(), record.pr), []).append(record)

    overall = GroupSummary(name="all repositories")
    by_repo: dict[str, GroupSummary] = {}
    by_person: dict[str, GroupSummary] = {}
    for history in per_pr.values():
        settled = [r for r in history if r.conclusion != "pending"]
        latest = settled[-1] if settled else history[-1]
        codex = any(r.codex for r in history)
        person = latest.person or "(unknown)"
        groups = (
            overall,
            by_repo.setdefault(latest.repository, GroupSummary(name=latest.repository)),
            by_person.setdefault(person, GroupSummary(name=person)),
        )
        for group in groups:
            group.evaluations += len(history)
            if not codex:
                group.other_prs += 1
                continue
            _add_pr(group, history, latest)
    return Summary(
        since=since,
        until=until or datetime.now(UTC),
        records=len(ordered),
        overall=overall,
        by_repository=dict(sorted(by_repo.items(), key=lambda kv: kv[0].lower())),
        by_person=dict(sorted(by_person.items(), key=lambda kv: kv[0].lower())),
    )


def _add_pr(group: GroupSummary, history: list[AuditRecord], latest: AuditRecord) -> None:
    group.codex_prs += 1
    if latest.conclusion == "success":
        group.passing_prs += 1
    for practice, outcome in latest.outcomes.items():
        group.practices.setdefault(practice, PracticeStats()).add(outcome)
    for rule in {rule for r in history for rule in r.findings}:
        group.findings[rule] += 1
    for o in dict.fromkeys(o for record in history for o in record.overrides):
        group.overrides.append(
            OverrideEntry(latest.repository, latest.pr, o.practice, o.by, o.reason)
        )


def practice_ids(summary: Summary) -> list[str]:
    """Practices in the order the app runs them, then any others alphabetically."""
    seen = {
        p
        for g in (summary.overall, *summary.by_repository.values(), *summary.by_person.values())
        for p in g.practices
    }
    return [p for p in PRACTICE_IDS if p in seen] + sorted(seen - set(PRACTICE_IDS))


def percent(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate * 100:.0f}%"


def summary_text(summary: Summary, top: int = 5) -> str:
    """The summary as a person would read it in a terminal."""
    window = (
        f"since {summary.since:%Y-%m-%d %H:%M} UTC" if summary.since is not None else "all time"
    )
    lines = [f"codex-guard audit report ({window}; {summary.records} evaluations)"]
    order = practice_ids(summary)
    overall = summary.overall
    if not overall.codex_prs:
        lines.append("")
        lines.append(
            f"No Codex pull requests in this window ({overall.other_prs} other PRs evaluated)."
        )
        return "\n".join(lines) + "\n"
    sections = [
        ("Overall", {"": overall}),
        ("By repository", summary.by_repository),
        ("By person", summary.by_person),
    ]
    for title, groups in sections:
        lines += ["", title, "-" * len(title)]
        for group in groups.values():
            if not group.codex_prs:
                continue
            lines.extend(_group_text(group, order, top, with_name=bool(title != "Overall")))
    return "\n".join(lines) + "\n"


def _group_text(group: GroupSummary, order: list[str], top: int, with_name: bool) -> list[str]:
    passing = percent(group.passing_prs / group.codex_prs if group.codex_prs else None)
    head = f"{group.codex_prs} Codex PRs, {passing} passing"
    if group.other_prs:
        head += f" ({group.other_prs} other PRs)"
    lines = [f"{one_line(group.name)}: {head}" if with_name else head]
    rates = []
    for practice in order:
        stats = group.practices.get(practice)
        if stats and stats.evaluated:
            rates.append(f"{practice} {percent(stats.pass_rate)}")
    if rates:
        lines.append("  pass rate: " + ", ".join(rates))
    findings = group.top_findings(top)
    if findings:
        lines.append("  most common findings: " + ", ".join(f"{r} ({n})" for r, n in findings))
    for o in group.overrides:
        lines.append(
            f"  override: {one_line(o.repository)}#{o.pr} {o.practice} by @{one_line(o.by)}"
            + (f": {one_line(o.reason, 120)}" if o.reason else "")
        )
    if with_name:
        lines.append("")
    return lines


def one_line(text: str, limit: int = 80) -> str:
    """Untrusted text made safe for a terminal: no control characters, one line, bounded."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in text)
    cleaned = " ".join(cleaned.split())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"
