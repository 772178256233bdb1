"""The audit trail: one record per evaluation, kept in a bounded Redis stream.

It answers "what are our agents doing, and are they following our rules?"
after the fact, without asking GitHub: who ran which Codex task, what each
practice said, and who overrode what and why. The stream is trimmed to about
`MAX_RECORDS` entries so it can never grow Redis without bound.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import redis

from bot.core import scrub
from bot.core.audit_record import AuditOverride, AuditRecord  # noqa: F401 - re-exported
from bot.practices.evaluation import Evaluation
from bot.present.audit_summary import (  # noqa: F401 - re-exported for the CLI and tests
    GroupSummary,
    OverrideEntry,
    PracticeStats,
    Summary,
    percent,
    practice_ids,
    summarise,
    summary_text,
)

log = logging.getLogger("codex_guard.audit")

STREAM = "codex-guard:audit"
MAX_RECORDS = 100_000
_BATCH = 1000
_VERSION = "1"


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
