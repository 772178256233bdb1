"""One scrub for everything codex-guard writes: no secret from the PR leaves, not even part.

A practice may quote a line that holds a credential (``pytest --token=ghp_…``),
and a quote cut to fit, or a code span split over two lines, shows a piece
from the middle of it. Check runs cannot be deleted, so a leak outlives a
history rewrite. Every secret found anywhere in the snapshot is therefore
collected once per evaluation, and every outgoing text (check run, comment,
cached comment body, audit record, log line, CLI output) passes through a
`Scrubber`, which masks every fragment of `MIN_FRAGMENT` or more characters of
any of them. Practices still mask what they quote; this is the net behind them.

The pipeline makes the job's scrubber `current` for the rest of the job, so
log lines and audit records written deep inside are scrubbed without being
handed it.
"""

from __future__ import annotations

import contextvars
import dataclasses
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from itertools import pairwise
from typing import Any, TypeVar

from bot.core.findings import Finding, PracticeResult
from bot.core.snapshot import PRSnapshot

MIN_FRAGMENT = 8
"""Shortest piece of a secret that is masked; shorter ones say too little to use."""
MASK = "…"
_SHOWN = 4
"""Characters kept where a secret's own start is shown, as ``agents-md`` masks it."""

T = TypeVar("T")


class Scrubber:
    """Masks every run of text made of `MIN_FRAGMENT`-character pieces of known secrets.

    Each secret's every 8-character window goes into one set, so a text is
    scanned once, window by window, whatever the number of secrets: linear in
    the text and in the total length of the secrets.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._grams: set[str] = set()
        self._heads: set[str] = set()
        for secret in secrets:
            if len(secret) < MIN_FRAGMENT:
                continue
            self._heads.add(secret[:MIN_FRAGMENT])
            for i in range(len(secret) - MIN_FRAGMENT + 1):
                self._grams.add(secret[i : i + MIN_FRAGMENT])

    def __bool__(self) -> bool:
        return bool(self._grams)

    def __call__(self, text: str) -> str:
        """``text`` with each run covered by secret fragments replaced by a mask."""
        if not self._grams or not isinstance(text, str) or len(text) < MIN_FRAGMENT:
            return text
        grams, size = self._grams, MIN_FRAGMENT
        runs: list[tuple[int, int]] = []
        for i in range(len(text) - size + 1):
            if text[i : i + size] in grams:
                if runs and i <= runs[-1][1]:
                    runs[-1] = (runs[-1][0], i + size)
                else:
                    runs.append((i, i + size))
        if not runs:
            return text
        out: list[str] = []
        last = 0
        for start, end in runs:
            out.append(text[last:start])
            head = text[start : start + size] in self._heads
            out.append((text[start : start + _SHOWN] if head else "") + MASK)
            last = end
        out.append(text[last:])
        return "".join(out)

    def optional(self, text: str | None) -> str | None:
        return None if text is None else self(text)

    def finding(self, finding: Finding) -> Finding:
        message, fix = self(finding.message), self.optional(finding.fix)
        if (message, fix) == (finding.message, finding.fix):
            return finding
        return dataclasses.replace(finding, message=message, fix=fix)

    def result(self, result: PracticeResult) -> PracticeResult:
        if not self:
            return result
        return dataclasses.replace(
            result,
            reason=self(result.reason),
            findings=tuple(self.finding(f) for f in result.findings),
        )

    def evaluation(self, evaluation: T) -> T:
        """An `bot.practices.evaluation.Evaluation` with every text in it scrubbed."""
        if not self:
            return evaluation
        ev: Any = evaluation
        detection = dataclasses.replace(
            ev.detection, signals=tuple(self(s) for s in ev.detection.signals)
        )
        overrides = tuple(dataclasses.replace(o, reason=self(o.reason)) for o in ev.overrides)
        return dataclasses.replace(  # type: ignore[no-any-return]
            ev,
            detection=detection,
            results={pid: self.result(r) for pid, r in ev.results.items()},
            overrides=overrides,
            config_error=self.optional(ev.config_error),
        )

    def data(self, value: T) -> T:
        """JSON-like data (dicts, lists, strings) with every string scrubbed."""
        if not self:
            return value
        if isinstance(value, str):
            return self(value)  # type: ignore[return-value]
        if isinstance(value, dict):
            return {k: self.data(v) for k, v in value.items()}  # type: ignore[return-value]
        if isinstance(value, (list, tuple)):
            return type(value)(self.data(v) for v in value)  # type: ignore[return-value]
        return value


NO_SECRETS = Scrubber()


def _joined_lines(text: str) -> str:
    """Each line joined to the next, so a token broken over a line break is found whole.

    Markdown joins a code span's lines, so a quote can carry both halves; masking
    the whole token masks each half. Twice the text, whatever the line count.
    """
    lines = text.splitlines()
    return "\n".join(a.rstrip() + b.lstrip() for a, b in pairwise(lines))


def _secret_values(text: str) -> list[str]:
    """Values of the credentials in one text, by the same finder `agents-md` reports with."""
    from bot.core.secrets import find_secrets  # late: `bot.runtime.logs` needs this module light

    found = [s.value for s in find_secrets(text)]
    if "\n" in text.strip():
        found.extend(s.value for s in find_secrets(_joined_lines(text)))
    return found


def snapshot_texts(snapshot: PRSnapshot) -> Iterator[str]:
    """Every text in the snapshot a practice may quote."""
    yield snapshot.title
    yield snapshot.body
    yield snapshot.head_ref
    yield from snapshot.labels
    yield from snapshot.commit_messages or ()
    yield from snapshot.head_files.values()
    yield from snapshot.base_files.values()
    yield from snapshot.issue_bodies.values()


def for_snapshot(snapshot: PRSnapshot) -> Scrubber:
    """A scrubber for every secret found in the snapshot (each distinct text scanned once)."""
    seen: set[int] = set()
    values: list[str] = []
    for text in snapshot_texts(snapshot):
        if not text or id(text) in seen:
            continue
        seen.add(id(text))
        values.extend(_secret_values(text))
    return Scrubber(dict.fromkeys(values)) if values else NO_SECRETS


_current: contextvars.ContextVar[Scrubber] = contextvars.ContextVar(
    "codex_guard_scrubber", default=NO_SECRETS
)


def current() -> Scrubber:
    """The scrubber of the job running in this context (one that masks nothing outside a job)."""
    return _current.get()


@contextmanager
def using(scrubber: Scrubber) -> Iterator[Scrubber]:
    """Make ``scrubber`` `current` inside the block (log lines and audit records use it)."""
    token = _current.set(scrubber)
    try:
        yield scrubber
    finally:
        _current.reset(token)
