"""How an `Evaluation` reaches people: the check run and the one PR comment.

Everything here is rendering. Text that may come from the PR (finding
messages quote it, label names become signals, override reasons are typed by
people) goes through `bot.sanitize` so it can never ping someone or inject
HTML, and every output is held to GitHub's size limits.
"""

from __future__ import annotations

import itertools
import re
import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from bot import CHECK_NAME, scrub
from bot.evaluation import Evaluation, safe_login
from bot.findings import Finding, Level, Outcome, PracticeResult
from bot.sanitize import code_untrusted, quote_untrusted
from bot.snapshot import PRSnapshot

MAX_OUTPUT_CHARS = 65_535
"""GitHub's limit for a check run's ``output.summary`` and ``output.text``."""
MAX_COMMENT_CHARS = 65_536
MAX_ANNOTATION_TITLE = 255
MAX_ANNOTATION_MESSAGE = 4_000
ANNOTATIONS_PER_REQUEST = 50

COMMENT_MARKER = "<!-- codex-guard:pr-comment -->"
"""First line of codex-guard's PR comment, so it is found and edited, never duplicated."""

RERUN_ACTION: dict[str, str] = {
    "label": "Re-run",
    "description": "Evaluate this PR again",
    "identifier": "rerun",
}
"""Check-run button; GitHub caps label at 20, description at 40, identifier at 20 chars."""

PRACTICE_NAMES: dict[str, str] = {
    "task-thread": "Task thread",
    "done-when": "Done when",
    "tests": "Passing tests",
    "agents-md": "AGENTS.md",
}

STATUS_EMOJI: dict[Outcome, str] = {
    Outcome.PASS: "✅",
    Outcome.FAIL: "❌",
    Outcome.WARN: "⚠️",
    Outcome.SKIP: "⏭️",
    Outcome.PENDING: "⏳",
}

ANNOTATION_LEVELS: dict[Level, str] = {
    Level.ERROR: "failure",
    Level.WARNING: "warning",
    Level.NOTICE: "notice",
}

_SKIP_HINT = "A maintainer can skip a practice with `/codex-guard skip <practice> <reason>`."


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


# ---------------------------------------------------------------- helpers


def _unescape(text: str) -> str:
    """Exactly undo `quote_untrusted`'s entity escaping (``&lt;`` and ``&gt;`` before ``&amp;``)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


_PUNCTUATION = frozenset(string.punctuation)
_PROSE_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "[": "\\[", "]": "\\]"}
"""HTML and entities made literal, and brackets escaped so no link or image can form."""


def _closing_run(text: str, start: int, length: int) -> int | None:
    """Index of the next run of exactly ``length`` backticks, as CommonMark pairs them."""
    match = re.compile("(?<!`)" + "`" * length + "(?!`)").search(text, start)
    return match.start() if match else None


def safe(text: str, limit: int = 500) -> str:
    """PR-derived Markdown made inert, on one line: no @-mentions, HTML, links or images.

    `quote_untrusted` cleans and shortens the whole text and breaks mentions;
    then code spans (practices quote commands with `code_untrusted`) are
    re-emitted as code spans, where GitHub renders neither HTML nor mentions
    and ``&&`` must stay ``&&``, and everything else is entity-escaped with
    stray backticks escaped so nothing can open a span GitHub would pair
    differently. Brackets are escaped too: a quote of ``\\[text](url)`` (whose
    backslash the Markdown reader of a practice consumed) or ``![x](url)`` must not
    become a live link or image in codex-guard's own voice. Idempotent, so
    already-quoted text is not escaped twice.
    """
    cleaned = _unescape(quote_untrusted(_unescape(str(text)), limit=limit))
    out: list[str] = []
    i, end = 0, len(cleaned)
    while i < end:
        ch = cleaned[i]
        if ch == "\\" and i + 1 < end and cleaned[i + 1] in _PUNCTUATION:
            out.append(cleaned[i : i + 2])  # an escaped character is always literal
            i += 2
        elif ch == "`":
            j = i
            while j < end and cleaned[j] == "`":
                j += 1
            close = _closing_run(cleaned, j, j - i)
            if close is None:
                out.append("\\`" * (j - i))
                i = j
            else:
                out.append(code_untrusted(cleaned[j:close], limit=limit))
                i = close + (j - i)
        else:
            out.append(_PROSE_ESCAPES.get(ch, ch))
            i += 1
    return "".join(out)


def plain(text: str, limit: int = 500) -> str:
    """Inert text for places GitHub shows verbatim (annotations): no entities needed."""
    return _unescape(quote_untrusted(_unescape(str(text)), limit=limit))


def _cell(text: str, limit: int = 200) -> str:
    """Safe text for a Markdown table cell: pipes would split the cell."""
    return safe(text, limit).replace("|", "\\|")


def practice_name(practice_id: str) -> str:
    return PRACTICE_NAMES.get(practice_id, practice_id)


def truncate(text: str, limit: int = MAX_OUTPUT_CHARS) -> str:
    """Cut at a line boundary with a note saying how much is missing.

    An unclosed code fence is closed so the rest of the page still renders.
    """
    if len(text) <= limit:
        return text
    note_template = (
        "\n\n**Truncated:** {n} more characters not shown (GitHub's limit). "
        "Run `codex-guard check` locally for the full report.\n"
    )
    reserve = len(note_template.format(n=len(text))) + len("\n```")
    cut = text[: max(0, limit - reserve)]
    newline = cut.rfind("\n")
    if newline > len(cut) // 2:
        cut = cut[:newline]
    if cut.count("```") % 2:
        cut += "\n```"
    note = note_template.format(n=len(text) - len(cut))
    return (cut + note)[:limit]


def batches(
    annotations: Sequence[dict[str, object]], size: int = ANNOTATIONS_PER_REQUEST
) -> list[list[dict[str, object]]]:
    """Split annotations into requests; GitHub takes at most 50 per create/update."""
    if size < 1:
        raise ValueError("batch size must be at least 1")
    return [list(annotations[i : i + size]) for i in range(0, len(annotations), size)]


def _counts(evaluation: Evaluation) -> tuple[int, int, list[str], list[str]]:
    """(passing, checked, failing ids, warning ids); skipped practices are not counted."""
    checked = [r for r in evaluation.results.values() if r.outcome is not Outcome.SKIP]
    passing = [r for r in checked if r.outcome in (Outcome.PASS, Outcome.WARN)]
    failing = [r.practice for r in checked if r.outcome is Outcome.FAIL]
    warning = [r.practice for r in checked if r.outcome is Outcome.WARN]
    return len(passing), len(checked), failing, warning


def running_checks(snapshot: PRSnapshot) -> int:
    """CI checks on the head commit not yet completed, codex-guard's own excluded."""
    return sum(1 for c in snapshot.checks or () if c.status != "completed" and c.name != CHECK_NAME)


def _fails_phrase(failing: list[str]) -> str:
    verb = "fails" if len(failing) == 1 else "fail"
    return f"{', '.join(failing)} {verb}"


# ---------------------------------------------------------------- check run


def title(evaluation: Evaluation, snapshot: PRSnapshot) -> str:
    """The one-line verdict shown next to the check's name."""
    if evaluation.config_error is not None:
        return "Invalid codex-guard config — nothing checked"
    if evaluation.skipped_not_codex:
        return "Not a Codex PR — passing"
    passing, checked, failing, warning = _counts(evaluation)
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


def practice_table(evaluation: Evaluation) -> str:
    """One row per practice: status, practice, one-line reason."""
    rows = ["| | Practice | Result |", "|:-:|---|---|"]
    for pid, result in evaluation.results.items():
        emoji = STATUS_EMOJI[result.outcome]
        rows.append(f"| {emoji} | {practice_name(pid)} (`{pid}`) | {_cell(result.reason) or '—'} |")
    return "\n".join(rows)


def _override_lines(evaluation: Evaluation) -> list[str]:
    return [
        f"- `{o.practice}` skipped by @{safe_login(o.by)}: {safe(o.reason, 200) or '(no reason)'}"
        for o in evaluation.overrides
    ]


def _summary(evaluation: Evaluation) -> str:
    parts = [_detection_line(evaluation)]
    if evaluation.config_error is not None:
        parts.append(f"**Config error:** {safe(evaluation.config_error, 2000)}")
    parts.append(practice_table(evaluation))
    overrides = _override_lines(evaluation)
    if overrides:
        parts.append("**Overrides**\n" + "\n".join(overrides))
    return "\n\n".join(parts) + "\n"


def _location(finding: Finding) -> str:
    if finding.path is None:
        return ""
    where = code_untrusted(finding.path, 200)
    if finding.line is not None:
        where += f" line {finding.line}"
    return f" ({where})"


def _finding_lines(finding: Finding) -> list[str]:
    lines = [
        f"- **{str(finding.level).capitalize()}** `{finding.rule}`{_location(finding)}: "
        f"{safe(finding.message, 1000)}"
    ]
    if finding.fix:
        lines.append(f"  **How to fix:** {safe(finding.fix, 1000)}")
    return lines


def _reason_repeats_finding(result: PracticeResult, findings: Sequence[Finding]) -> bool:
    """A one-finding practice often states the finding as its reason; say it once."""
    return bool(result.reason) and any(f.message == result.reason for f in findings)


def _practice_details(result: PracticeResult) -> str:
    head = (
        f"### {STATUS_EMOJI[result.outcome]} {practice_name(result.practice)} "
        f"(`{result.practice}`) — {result.outcome}"
    )
    body = [head]
    if not _reason_repeats_finding(result, result.findings):
        body += ["", f"**Why:** {safe(result.reason, 300) or '—'}"]
    if result.findings:
        body.append("")
        for finding in result.findings:
            body.extend(_finding_lines(finding))
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
    return "## Details\n\n" + "\n\n".join(sections) + f"\n\n{_SKIP_HINT}\n"


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


# One check-run request carries 50 annotations; more would cost a PATCH per 50.
MAX_ANNOTATIONS = 50


def annotations(evaluation: Evaluation) -> list[dict[str, object]]:
    """The findings that have a file, at most MAX_ANNOTATIONS (the summary lists the rest)."""
    found = (
        annotation(result, finding)
        for result in evaluation.results.values()
        for finding in result.findings
        if finding.path
    )
    return list(itertools.islice(found, MAX_ANNOTATIONS))


def check_run_output(evaluation: Evaluation, snapshot: PRSnapshot) -> CheckOutput:
    """Title, summary (signal, table, overrides), details with fixes, annotations.

    Scrubbed with the job's `scrub.current` scrubber as the last step, so no
    secret fragment survives however a quote was cut or escaped.
    """
    scrubber = scrub.current()
    return CheckOutput(
        title=scrubber(title(evaluation, snapshot)),
        summary=scrubber(truncate(_summary(evaluation))),
        text=scrubber(truncate(_text(evaluation))),
        annotations=scrubber.data(annotations(evaluation)),
    )


# ---------------------------------------------------------------- PR comment


def comment_body(evaluation: Evaluation, snapshot: PRSnapshot) -> str:
    """The PR comment, scrubbed with the job's `scrub.current` scrubber."""
    return scrub.current()(_comment_body(evaluation, snapshot))


def _comment_body(evaluation: Evaluation, snapshot: PRSnapshot) -> str:
    """What fails and how to fix it, or a short all-clear."""
    sha = f" at `{snapshot.head_sha[:7]}`" if snapshot.head_sha else ""
    footer = f"\n\n<sub>{CHECK_NAME} checked{sha}; this comment updates itself.</sub>\n"
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
    _, checked, failing, warning = _counts(evaluation)
    if failing:
        lines.append(f"### ❌ codex-guard: {len(failing)} of {checked} practices fail")
        for result in evaluation.failing():
            shown = [f for f in result.findings if f.level is Level.ERROR] or result.findings
            heading = f"**{practice_name(result.practice)}**"
            if not _reason_repeats_finding(result, shown):
                heading += f" — {safe(result.reason, 300)}"
            lines += ["", heading]
            for finding in shown:
                lines.extend(_finding_lines(finding))
        if evaluation.pending:
            lines += ["", "⏳ CI is still running; `tests` will be checked when it finishes."]
        lines += ["", f"Details are in the **{CHECK_NAME}** check. {_SKIP_HINT}"]
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
