"""The check run: where a PR's verdict, every finding and its fix are read in full."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bot import CHECK_NAME
from bot.core import scrub
from bot.core.findings import PracticeResult
from bot.core.snapshot import PRSnapshot
from bot.practices.evaluation import Evaluation, safe_login
from bot.present.annotations import annotations
from bot.present.safe_text import cell, safe, truncate
from bot.present.wording import (
    COST_ROW_ID,
    SKIP_HINT,
    STATUS_EMOJI,
    CostView,
    budget_line,
    cost_cell,
    cost_note_lines,
    counts,
    finding_lines,
    practice_name,
    reason_repeats_finding,
)

RERUN_ACTION: dict[str, str] = {
    "label": "Re-run",
    "description": "Evaluate this PR again",
    "identifier": "rerun",
}
"""Check-run button; GitHub caps label at 20, description at 40, identifier at 20 chars."""


@dataclass(frozen=True)
class CheckOutput:
    """A check run's ``output``; annotations are sent in `batches` of 50."""

    title: str
    summary: str
    text: str
    annotations: list[dict[str, object]] = field(default_factory=list)

    def as_payload(self, annotations: Sequence[dict[str, object]] = ()) -> dict[str, object]:
        """The ``output`` object of a create/update check-run request."""
        payload: dict[str, object] = {
            "title": self.title,
            "summary": self.summary,
            "text": self.text,
        }
        if annotations:
            payload["annotations"] = list(annotations)
        return payload


def running_checks(snapshot: PRSnapshot) -> int:
    """CI checks on the head commit not yet completed, codex-guard's own excluded."""
    return sum(1 for c in snapshot.checks or () if c.status != "completed" and c.name != CHECK_NAME)


def _fails_phrase(failing: list[str]) -> str:
    verb = "fails" if len(failing) == 1 else "fail"
    return f"{', '.join(failing)} {verb}"


def title(evaluation: Evaluation, snapshot: PRSnapshot, cost: CostView | None = None) -> str:
    """The one-line verdict shown next to the check's name; a spent `error` budget adds why
    the check fails after the practices' own words."""
    text = _practices_title(evaluation, snapshot)
    if cost is not None and cost.failing_budgets and not evaluation.pending:
        text += " — monthly budget spent"
    return text


def conclusion(evaluation: Evaluation, cost: CostView | None = None) -> str:
    """The check's conclusion: the practices', or failure when an `error` budget is spent."""
    if cost is not None and cost.failing_budgets and evaluation.config_error is None:
        return "failure"
    return evaluation.conclusion


def _practices_title(evaluation: Evaluation, snapshot: PRSnapshot) -> str:
    if evaluation.config_error is not None:
        return "Invalid codex-guard config — nothing checked"
    if evaluation.skipped_not_codex:
        return "Not a Codex PR — passing"
    passing, checked, failing, warning = counts(evaluation)
    if evaluation.pending:
        running = running_checks(snapshot)
        head = (
            f"Waiting for CI ({running} check{'s' if running != 1 else ''} running)"
            if running
            else "Waiting for CI"
        )
        return f"{head} — {_fails_phrase(failing)}" if failing else head
    if checked == 0:
        return "No practices checked — passing"
    if failing:
        return f"{passing} of {checked} practices pass — {_fails_phrase(failing)}"
    text = f"All {checked} practices pass" if checked > 1 else "The practice passes"
    if warning:
        text += f" — {', '.join(warning)} with warnings"
    return text


def _detection_line(evaluation: Evaluation) -> str:
    detection = evaluation.detection
    signals = ", ".join(safe(s, 120) for s in detection.signals)
    if evaluation.config_error is not None:
        return "The configuration could not be read, so no practice was checked."
    if detection.codex_authored:
        return f"**Codex PR** — matched: {signals}." if signals else "**Codex PR**."
    if evaluation.skipped_not_codex:
        return (
            "**Not a Codex PR** — no Codex signal matched (task link in the body, "
            "a Codex label, a Codex branch name, or a `Co-authored-by: Codex` commit "
            "trailer), and this repository checks Codex PRs only (`applies_to: codex`)."
        )
    return "**Not a Codex PR**, checked anyway because the config says `applies_to: all`."


def practice_table(evaluation: Evaluation, cost: CostView | None = None) -> str:
    """One row per practice: status, practice, one-line reason; then the informational
    `cost` row when the PR's Codex usage is known (not a practice: never counted)."""
    rows = ["| | Practice | Result |", "|:-:|---|---|"]
    for pid, result in evaluation.results.items():
        emoji = STATUS_EMOJI[result.outcome]
        rows.append(f"| {emoji} | {practice_name(pid)} (`{pid}`) | {cell(result.reason) or '—'} |")
    if cost is not None and cost.shown:
        emoji = "❌" if cost.failing_budgets else ("⚠️" if cost.budgets else "💲")
        rows.append(f"| {emoji} | Cost (`{COST_ROW_ID}`, informational) | {cost_cell(cost)} |")
    return "\n".join(rows)


def _cost_parts(cost: CostView | None) -> list[str]:
    if cost is None:
        return []
    parts = [budget_line(b) for b in cost.budgets]
    notes = cost_note_lines(cost)
    if notes:
        parts.append("**Cost notes**\n" + "\n".join(notes))
    return parts


def _override_lines(evaluation: Evaluation) -> list[str]:
    return [
        f"- `{o.practice}` skipped by @{safe_login(o.by)}: {safe(o.reason, 200) or '(no reason)'}"
        for o in evaluation.overrides
    ]


def _summary(evaluation: Evaluation, cost: CostView | None = None) -> str:
    parts = [_detection_line(evaluation)]
    if evaluation.config_error is not None:
        parts.append(f"**Config error:** {safe(evaluation.config_error, 2000)}")
    parts.append(practice_table(evaluation, cost))
    parts.extend(_cost_parts(cost))
    overrides = _override_lines(evaluation)
    if overrides:
        parts.append("**Overrides**\n" + "\n".join(overrides))
    return "\n\n".join(parts) + "\n"


def _practice_details(result: PracticeResult) -> str:
    head = (
        f"### {STATUS_EMOJI[result.outcome]} {practice_name(result.practice)} "
        f"(`{result.practice}`) — {result.outcome}"
    )
    body = [head]
    if not reason_repeats_finding(result, result.findings):
        body += ["", f"**Why:** {safe(result.reason, 300) or '—'}"]
    if result.findings:
        body.append("")
        for finding in result.findings:
            body.extend(finding_lines(finding))
    return "\n".join(body)


def _text(evaluation: Evaluation) -> str:
    if evaluation.config_error is not None:
        return (
            "## How to fix\n\n"
            "Correct `.github/codex-guard.yml` on the base branch (or the org defaults in "
            "the organisation's `.github` repository). Every key is described in "
            "`docs/configuration.md`; `codex-guard schema` prints the JSON Schema your "
            "editor can validate against.\n"
        )
    if evaluation.skipped_not_codex:
        return (
            "codex-guard checks only pull requests written by Codex. Add the `codex` label "
            "(or the label your config names) to have this PR checked.\n"
        )
    sections = [_practice_details(r) for r in evaluation.results.values()]
    return "## Details\n\n" + "\n\n".join(sections) + f"\n\n{SKIP_HINT}\n"


def check_run_output(
    evaluation: Evaluation, snapshot: PRSnapshot, cost: CostView | None = None
) -> CheckOutput:
    """Title, summary (signal, table with the `cost` row, budgets, overrides), details with
    fixes, annotations.

    Scrubbed with the job's `scrub.current` scrubber as the last step, so no
    secret fragment survives however a quote was cut or escaped.
    """
    scrubber = scrub.current()
    return CheckOutput(
        title=scrubber(title(evaluation, snapshot, cost)),
        summary=scrubber(truncate(_summary(evaluation, cost))),
        text=scrubber(truncate(_text(evaluation))),
        annotations=scrubber.data(annotations(evaluation)),
    )
