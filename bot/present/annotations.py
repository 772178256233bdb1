"""Findings as check-run annotations, within what GitHub takes per request."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from bot.core.findings import Finding, Level, PracticeResult
from bot.practices.evaluation import Evaluation
from bot.present.safe_text import plain
from bot.present.wording import practice_name

MAX_ANNOTATION_TITLE = 255
MAX_ANNOTATION_MESSAGE = 4_000
ANNOTATIONS_PER_REQUEST = 50

ANNOTATION_LEVELS: dict[Level, str] = {
    Level.ERROR: "failure",
    Level.WARNING: "warning",
    Level.NOTICE: "notice",
}

# One check-run request carries 50 annotations; more would cost a PATCH per 50.
MAX_ANNOTATIONS = 50


def batches(
    annotations: Sequence[dict[str, object]], size: int = ANNOTATIONS_PER_REQUEST
) -> list[list[dict[str, object]]]:
    """Split annotations into requests; GitHub takes at most 50 per create/update."""
    if size < 1:
        raise ValueError("batch size must be at least 1")
    return [list(annotations[i : i + size]) for i in range(0, len(annotations), size)]


def annotation(result: PracticeResult, finding: Finding) -> dict[str, object]:
    """A finding as a GitHub annotation; a finding without a line points at line 1."""
    line = finding.line if finding.line and finding.line > 0 else 1
    parts = [plain(finding.message, MAX_ANNOTATION_MESSAGE // 2)]
    if finding.fix:
        parts.append("Fix: " + plain(finding.fix, MAX_ANNOTATION_MESSAGE // 2))
    return {
        "path": finding.path,
        "start_line": line,
        "end_line": line,
        "annotation_level": ANNOTATION_LEVELS[finding.level],
        "message": "\n\n".join(parts),
        "title": f"{practice_name(result.practice)}: {finding.rule}"[:MAX_ANNOTATION_TITLE],
    }


def annotations(evaluation: Evaluation) -> list[dict[str, object]]:
    """The findings that have a file, at most MAX_ANNOTATIONS (the summary lists the rest)."""
    found = (
        annotation(result, finding)
        for result in evaluation.results.values()
        for finding in result.findings
        if finding.path
    )
    return list(itertools.islice(found, MAX_ANNOTATIONS))
