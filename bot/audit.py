"""The audit trail: one record per evaluation, kept in a bounded Redis stream.

It answers "what are our agents doing, and are they following our rules?"
after the fact, without asking GitHub: who ran which Codex task, what each
practice said, and who overrode what and why. The stream is trimmed to about
`MAX_RECORDS` entries so it can never grow Redis without bound.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import redis

from bot import scrub
from bot.evaluation import Evaluation, Override
from bot.findings import PRACTICE_IDS

log = logging.getLogger("codex_guard.audit")

STREAM = "codex-guard:audit"
MAX_RECORDS = 100_000
_BATCH = 1000
_VERSION = "1"


AuditOverride = Override
"""A maintainer's ``/codex-guard skip`` as recorded: the evaluation's own `Override`."""


@dataclass(frozen=True)
class AuditRecord:
    """What one evaluation decided, with enough context to follow it back to GitHub."""

    time: datetime
    repository: str
    pr: int
    head_sha: str
    person: str
    """The login the PR belongs to (who ran the Codex task and opened the PR)."""
    codex: bool
    signals: tuple[str, ...] = ()
    outcomes: dict[str, str] = field(default_factory=dict)
    """Practice id -> outcome (pass, fail, warn, skip, pending)."""
    findings: tuple[str, ...] = ()
    """Rule ids of the findings, one entry per finding."""
    overrides: tuple[AuditOverride, ...] = ()
    delivery: str | None = None
    conclusion: str = ""
    installation: int | None = None

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["time"] = self.time.astimezone(UTC).isoformat(timespec="seconds")
        data["signals"] = list(self.signals)
        data["findings"] = list(self.findings)
        data["overrides"] = [asdict(o) for o in self.overrides]
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AuditRecord:
        when = datetime.fromisoformat(str(data["time"]))
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        installation = data.get("installation")
        return cls(
            time=when,
            repository=str(data["repository"]),
            pr=int(data["pr"]),
            head_sha=str(data.get("head_sha") or ""),
            person=str(data.get("person") or ""),
            codex=bool(data.get("codex")),
            signals=tuple(str(s) for s in data.get("signals") or ()),
            outcomes={str(k): str(v) for k, v in (data.get("outcomes") or {}).items()},
            findings=tuple(str(f) for f in data.get("findings") or ()),
            overrides=tuple(
                AuditOverride(str(o["practice"]), str(o["by"]), str(o.get("reason") or ""))
                for o in data.get("overrides") or ()
            ),
            delivery=data.get("delivery"),
            conclusion=str(data.get("conclusion") or ""),
            installation=int(installation) if installation is not None else None,
        )


def from_evaluation(
    evaluation: Evaluation,
    *,
    repository: str,
    pr: int,
    head_sha: str,
    person: str,
    delivery: str | None = None,
    installation: int | None = None,
    at: datetime | None = None,
) -> AuditRecord:
    """Build a record from an evaluation."""
    results = evaluation.results
    return AuditRecord(
        time=at or datetime.now(UTC),
        repository=repository,
        pr=pr,
        head_sha=head_sha,
        person=person,
        codex=bool(evaluation.detection.codex_authored),
        signals=tuple(evaluation.detection.signals),
        outcomes={pid: str(r.outcome) for pid, r in results.items()},
        findings=tuple(f.rule for r in results.values() for f in r.findings),
        overrides=tuple(evaluation.overrides),
        delivery=delivery,
        conclusion="pending" if evaluation.pending else str(evaluation.conclusion),
        installation=installation,
    )


def append(client: redis.Redis, record: AuditRecord, maxlen: int = MAX_RECORDS) -> str | None:
    """Add a record (trimming the stream to about ``maxlen``); its stream id, or None.

    Never raises: the audit trail must not fail the evaluation it describes. Every
    text is scrubbed with the job's `scrub.current` scrubber: the trail outlives the PR.
    """
    data = scrub.current().data(record.as_json())
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    try:
        entry = client.xadd(
            STREAM, {"v": _VERSION, "record": payload}, maxlen=maxlen, approximate=True
        )
    except redis.RedisError as exc:
        log.warning("audit record not written: %s", type(exc).__name__)
        return None
    return entry.decode() if isinstance(entry, bytes) else str(entry)


def read(
    client: redis.Redis,
    since: timedelta | None = None,
    repo: str | None = None,
    *,
    now: datetime | None = None,
) -> list[AuditRecord]:
    """Records oldest first, from ``since`` ago (all when None), optionally for one repo.

    Raises RedisError: the CLI reports it. Entries that do not parse are skipped.
    """
    now = now or datetime.now(UTC)
    cutoff = now - since if since is not None else None
    start = f"{int(cutoff.timestamp() * 1000)}-0" if cutoff is not None else "-"
    wanted = repo.lower() if repo else None
    records: list[AuditRecord] = []
    while True:
        batch = client.xrange(STREAM, min=start, max="+", count=_BATCH)
        for _entry_id, fields in batch:
            record = _decode(fields)
            if record is None:
                continue
            if cutoff is not None and record.time < cutoff:
                continue
            if wanted is not None and record.repository.lower() != wanted:
                continue
            records.append(record)
        if len(batch) < _BATCH:
            return records
        last = batch[-1][0].decode() if isinstance(batch[-1][0], bytes) else batch[-1][0]
        start = "(" + last


def _decode(fields: Mapping[bytes, bytes]) -> AuditRecord | None:
    raw = fields.get(b"record")
    if raw is None:
        return None
    try:
        return AuditRecord.from_json(json.loads(raw))
    except (ValueError, KeyError, TypeError):
        log.warning("skipped an audit entry that does not parse")
        return None


# ---------------------------------------------------------------- summary


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
    lines = [f"{_one_line(group.name)}: {head}" if with_name else head]
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
            f"  override: {_one_line(o.repository)}#{o.pr} {o.practice} by @{_one_line(o.by)}"
            + (f": {_one_line(o.reason, 120)}" if o.reason else "")
        )
    if with_name:
        lines.append("")
    return lines


def _one_line(text: str, limit: int = 80) -> str:
    """Untrusted text made safe for a terminal: no control characters, one line, bounded."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in text)
    cleaned = " ".join(cleaned.split())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"
