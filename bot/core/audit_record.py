"""One evaluation's audit record: shared by the worker that writes the audit stream
and the pages and CLI that read it, so both sides agree on its JSON shape."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.core.findings import Override

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
