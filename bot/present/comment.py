"""The one PR comment: found by its marker and edited in place, never posted twice."""

from __future__ import annotations

from typing import Literal

from bot import CHECK_NAME
from bot.core import scrub
from bot.core.findings import Level
from bot.core.snapshot import PRSnapshot
from bot.practices.evaluation import Evaluation
from bot.present.safe_text import safe, truncate
from bot.present.wording import (
    SKIP_HINT,
    CostView,
    cost_comment_line,
    counts,
    finding_lines,
    practice_name,
    reason_repeats_finding,
)

MAX_COMMENT_CHARS = 65_536

COMMENT_MARKER = "<!-- codex-guard:pr-comment -->"
"""First line of codex-guard's PR comment, so it is found and edited, never duplicated."""


def comment_body(evaluation: Evaluation, snapshot: PRSnapshot, cost: CostView | None = None) -> str:
    """The PR comment, scrubbed with the job's `scrub.current` scrubber.

    ``cost`` adds one line on the PR's Codex usage; it never decides whether a comment
    is written (`should_comment` does, from the practices alone)."""
    return scrub.current()(_comment_body(evaluation, snapshot, cost))


def _comment_body(
    evaluation: Evaluation, snapshot: PRSnapshot, cost: CostView | None = None
) -> str:
    """What fails and how to fix it, or a short all-clear."""
    sha = f" at `{snapshot.head_sha[:7]}`" if snapshot.head_sha else ""
    footer = f"\n\n<sub>{CHECK_NAME} checked{sha}; this comment updates itself.</sub>\n"
    line = cost_comment_line(cost) if cost is not None else None
    if line and evaluation.config_error is None and not evaluation.skipped_not_codex:
        footer = f"\n\n{line}" + footer
    lines = [COMMENT_MARKER]
    if evaluation.config_error is not None:
        lines += [
            "### ❌ codex-guard: the configuration is invalid",
            "",
            safe(evaluation.config_error, 2000),
            "",
            "Fix the file named above (the repository's `.github/codex-guard.yml` on the base "
            "branch, or the org defaults in the org's `.github` repository); no practice is "
            "checked until then.",
        ]
        return truncate("\n".join(lines) + footer, MAX_COMMENT_CHARS)
    if evaluation.skipped_not_codex:
        lines.append("codex-guard: not a Codex PR — nothing to check.")
        return "\n".join(lines) + footer
    _, checked, failing, warning = counts(evaluation)
    if failing:
        lines.append(f"### ❌ codex-guard: {len(failing)} of {checked} practices fail")
        for result in evaluation.failing():
            shown = [f for f in result.findings if f.level is Level.ERROR] or result.findings
            heading = f"**{practice_name(result.practice)}**"
            if not reason_repeats_finding(result, shown):
                heading += f" — {safe(result.reason, 300)}"
            lines += ["", heading]
            for finding in shown:
                lines.extend(finding_lines(finding))
        if evaluation.pending:
            lines += ["", "⏳ CI is still running; `tests` will be checked when it finishes."]
        lines += ["", f"Details are in the **{CHECK_NAME}** check. {SKIP_HINT}"]
    elif evaluation.pending:
        lines.append("⏳ codex-guard: waiting for CI; the other practices pass.")
    else:
        text = "✅ codex-guard: All practices pass."
        if warning:
            count = len(warning)
            text += f" ({count} with warnings — see the check.)"
        lines.append(text)
    return truncate("\n".join(lines) + footer, MAX_COMMENT_CHARS)


def should_comment(
    evaluation: Evaluation,
    mode: Literal["on_failure", "always", "never"],
    has_existing: bool,
) -> Literal["create", "update", "none"]:
    """Whether to create, edit or leave the PR comment.

    An existing comment is always kept current (so a fixed PR reads "All
    practices pass"); a new one is created on failure, or on every checked PR
    with ``always``. A PR nobody checked (not Codex) never gets a new comment.
    """
    if mode == "never":
        return "none"
    if has_existing:
        return "update"
    if evaluation.skipped_not_codex:
        return "none"
    if mode == "always" or evaluation.conclusion == "failure":
        return "create"
    return "none"
