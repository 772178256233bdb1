"""One way to write a priced Codex thread in tests, so each test module names only
what its cases vary (the person, the team, the tokens, the dollars, when)."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from bot.core.usage.record import UsageRecord


def usage_record(
    thread: str,
    *,
    recorded_at: datetime,
    tokens: tuple[int, int, int, int] = (1000, 250, 100, 0),
    dollars: str | None = None,
    repo: str = "octo-org/app",
    pr: int = 1,
    person: str = "alice",
    team: str | None = "web",
    model: str | None = "gpt-5-codex",
    run_id: int | None = None,
) -> UsageRecord:
    """``tokens``: input, cached input, output, reasoning output."""
    tokens_in, cached, tokens_out, reasoning = tokens
    return UsageRecord(
        repo=repo,
        pr=pr,
        person=person,
        team=team,
        thread_id=thread,
        model=model,
        input_tokens=tokens_in,
        cached_input_tokens=cached,
        cache_write_input_tokens=0,
        output_tokens=tokens_out,
        reasoning_output_tokens=reasoning,
        dollars=None if dollars is None else Decimal(dollars),
        recorded_at=recorded_at,
        run_id=run_id,
    )


def zipped(*files: Path, extra: dict[str, bytes] | None = None) -> bytes:
    """A `codex-usage` artifact as actions/upload-artifact stores it: rollout files under
    `sessions/`, plus any ``extra`` members by name (hostile ones included)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(path, f"sessions/2026/01/20/{path.name}")
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()
