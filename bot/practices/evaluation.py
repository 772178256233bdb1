"""Run the practices on one PR and combine their results into one verdict.

The practices are pure and know nothing about configuration levels, human
overrides or each other; this module applies all three, so the check run, the
PR comment and the CLI render one and the same `Evaluation`.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from bot.core.config import GuardConfig, PracticeLevel
from bot.core.findings import (
    PRACTICE_IDS,
    Finding,
    Level,
    Outcome,
    Override,
    PracticeResult,
)
from bot.core.sanitize import quote_untrusted
from bot.core.snapshot import PRSnapshot
from bot.practices.detection import Detection, detect

log = logging.getLogger(__name__)

Practice = Callable[[PRSnapshot, GuardConfig], PracticeResult]

PRACTICE_MODULES: Mapping[str, str] = {
    "task-thread": "bot.practices.task_thread",
    "done-when": "bot.practices.done_when",
    "tests": "bot.practices.passing_tests",
    "agents-md": "bot.practices.agents_md",
    "scope": "bot.practices.scope",
}
"""Where each practice's ``evaluate`` lives; imported lazily so one broken
module costs one practice, not the whole evaluation."""

NEVER_DOWNGRADED_RULES: frozenset[str] = frozenset({"agents-md/secret", "scope/credential"})
"""Rules whose errors stay errors under ``level: warning`` and survive a
human override: a committed secret is never a matter of team taste."""

NOT_CODEX_REASON = "not a Codex PR"
OFF_REASON = "turned off in config"
CONFIG_ERROR_REASON = "not evaluated: the configuration is invalid"
INTERNAL_ERROR_RULE = "internal-error"
OVERRIDE_REASON_LIMIT = 200

_LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?$")


@dataclass(frozen=True)
class Evaluation:
    """The combined verdict; ``results`` is ordered like `PRACTICE_IDS`.

    ``pending`` means the `tests` practice still waits for CI, so the check
    run stays in progress whatever ``conclusion`` says so far.
    """

    detection: Detection
    results: dict[str, PracticeResult]
    conclusion: Literal["success", "failure"]
    pending: bool = False
    overrides: tuple[Override, ...] = ()
    config_error: str | None = None

    @property
    def skipped_not_codex(self) -> bool:
        """True when nothing was checked because no Codex signal matched."""
        return not self.detection.codex_authored and all(
            r.outcome is Outcome.SKIP and r.reason == NOT_CODEX_REASON
            for r in self.results.values()
        )

    def failing(self) -> list[PracticeResult]:
        return [r for r in self.results.values() if r.outcome is Outcome.FAIL]

    def as_json(self) -> dict[str, object]:
        """The CLI's ``--format json`` shape; other renderers read the objects."""
        return {
            "codex_authored": bool(self.detection.codex_authored),
            "signals": list(self.detection.signals),
            "conclusion": self.conclusion,
            "practices": {pid: result_json(r) for pid, r in self.results.items()},
        }


def finding_json(finding: Finding) -> dict[str, object]:
    """A finding with ``path`` and ``line`` always present, so consumers need no guards."""
    data: dict[str, object] = {
        "rule": finding.rule,
        "level": str(finding.level),
        "message": finding.message,
        "path": finding.path,
        "line": finding.line,
    }
    if finding.fix is not None:
        data["fix"] = finding.fix
    return data


def result_json(result: PracticeResult) -> dict[str, object]:
    return {
        "outcome": str(result.outcome),
        "reason": result.reason,
        "findings": [finding_json(f) for f in result.findings],
    }


def _load_practice(practice_id: str) -> Practice:
    module = importlib.import_module(PRACTICE_MODULES[practice_id])
    return module.evaluate  # type: ignore[no-any-return]


def _internal_error(practice_id: str) -> PracticeResult:
    """What people see when a practice crashed: no traceback, which may quote PR text."""
    return PracticeResult(
        practice=practice_id,
        outcome=Outcome.FAIL,
        reason="codex-guard hit an internal error while checking this practice",
        findings=(
            Finding(
                rule=INTERNAL_ERROR_RULE,
                level=Level.ERROR,
                message=f"The `{practice_id}` practice could not be evaluated because of "
                "an error in codex-guard; the details are in the app's logs.",
                fix="Re-run the check; if it keeps failing, report it to whoever runs "
                "codex-guard, or skip the practice with an override.",
            ),
        ),
    )


def run_practice(
    practice_id: str,
    snapshot: PRSnapshot,
    config: GuardConfig,
    practice: Practice | None = None,
) -> PracticeResult:
    """Run one practice, turning any exception into a FAIL with an internal-error finding."""
    try:
        func = practice if practice is not None else _load_practice(practice_id)
        result = func(snapshot, config)
        if not isinstance(result, PracticeResult):
            raise TypeError(f"practice returned {type(result).__name__}, not PracticeResult")
    except Exception:
        log.exception(
            "practice %s failed on %s#%s (head %s)",
            practice_id,
            snapshot.repo,
            snapshot.number,
            snapshot.head_sha,
        )
        return _internal_error(practice_id)
    if result.practice != practice_id:
        result = dataclasses.replace(result, practice=practice_id)
    return cap_findings(result)


# A hostile file can yield a finding per line; people read a few, GitHub takes 50
# annotations a request. Beyond these, one finding counts the rest.
MAX_FINDINGS_PER_RULE_AND_FILE = 5
MAX_FINDINGS_PER_PRACTICE = 30


def cap_findings(result: PracticeResult) -> PracticeResult:
    """A few findings per rule and file, then one "and N more", so output stays bounded."""
    if len(result.findings) <= MAX_FINDINGS_PER_RULE_AND_FILE:
        return result
    kept: list[Finding] = []
    dropped: dict[tuple[str, str | None], list[Finding]] = {}
    seen: dict[tuple[str, str | None], int] = {}
    for finding in result.findings:
        key = (finding.rule, finding.path)
        seen[key] = seen.get(key, 0) + 1
        if seen[key] <= MAX_FINDINGS_PER_RULE_AND_FILE and len(kept) < MAX_FINDINGS_PER_PRACTICE:
            kept.append(finding)
        else:
            dropped.setdefault(key, []).append(finding)
    if not dropped:
        return result
    for (rule, path), rest in dropped.items():
        where = f" in `{path}`" if path else ""
        plural = "" if len(rest) == 1 else "s"
        kept.append(
            Finding(
                rule=rule,
                level=min((f.level for f in rest), key=_LEVEL_ORDER.index),
                message=f"…and {len(rest)} more `{rule}` finding{plural}{where} not listed.",
            )
        )
    return dataclasses.replace(result, findings=tuple(kept))


_LEVEL_ORDER = (Level.ERROR, Level.WARNING, Level.NOTICE)


def apply_level(result: PracticeResult, level: PracticeLevel) -> PracticeResult:
    """``warning``: errors become warnings (except never-downgraded rules), FAIL becomes WARN."""
    if level is not PracticeLevel.WARNING:
        return result
    findings = tuple(
        dataclasses.replace(f, level=Level.WARNING)
        if f.level is Level.ERROR and f.rule not in NEVER_DOWNGRADED_RULES
        else f
        for f in result.findings
    )
    outcome = result.outcome
    if outcome is Outcome.FAIL and not any(f.level is Level.ERROR for f in findings):
        outcome = Outcome.WARN
    return dataclasses.replace(result, outcome=outcome, findings=findings)


def safe_login(login: str) -> str:
    """A GitHub login as-is, anything else neutralised (it came from a comment)."""
    if _LOGIN.match(login):
        return login
    return quote_untrusted(login, limit=40)


def override_reason(override: Override) -> str:
    """``skipped by @login: reason``, the reason made inert (it was typed in a comment)."""
    text = f"skipped by @{safe_login(override.by)}"
    reason = quote_untrusted(override.reason, limit=OVERRIDE_REASON_LIMIT)
    return f"{text}: {reason}" if reason else text


def apply_override(result: PracticeResult, override: Override) -> PracticeResult:
    """SKIP with who and why; a never-downgraded finding still fails the practice."""
    kept = tuple(
        f for f in result.findings if f.rule in NEVER_DOWNGRADED_RULES and f.level is Level.ERROR
    )
    reason = override_reason(override)
    if kept:
        return dataclasses.replace(
            result,
            outcome=Outcome.FAIL,
            reason=f"{reason} — but an override cannot waive a committed secret",
            findings=kept,
        )
    return dataclasses.replace(result, outcome=Outcome.SKIP, reason=reason, findings=())


def _skip(practice_id: str, reason: str) -> PracticeResult:
    return PracticeResult(practice=practice_id, outcome=Outcome.SKIP, reason=reason)


def _applicable_overrides(overrides: Iterable[Override]) -> dict[str, Override]:
    """The last override per known practice; unknown practice ids are logged and dropped."""
    chosen: dict[str, Override] = {}
    for override in overrides:
        if override.practice not in PRACTICE_MODULES:
            log.warning("ignoring override for unknown practice %r", override.practice)
            continue
        chosen[override.practice] = override
    return chosen


def _conclusion(results: Mapping[str, PracticeResult]) -> Literal["success", "failure"]:
    failed = any(r.outcome is Outcome.FAIL for r in results.values())
    return "failure" if failed else "success"


def evaluate(
    snapshot: PRSnapshot,
    config: GuardConfig,
    overrides: Iterable[Override] = (),
    *,
    detection: Detection | None = None,
    practices: Mapping[str, Practice] | None = None,
) -> Evaluation:
    """Detect, run each practice at its configured level, apply overrides, conclude.

    ``detection`` may be passed when the caller already has it; ``practices``
    replaces practice functions by id (tests, or a caller with its own set).
    """
    if detection is None:
        detection = detect(snapshot, config)
    if config.applies_to == "codex" and not detection.codex_authored:
        skipped = {pid: _skip(pid, NOT_CODEX_REASON) for pid in PRACTICE_IDS}
        return Evaluation(detection=detection, results=skipped, conclusion="success")

    chosen = _applicable_overrides(overrides)
    replacements = practices or {}
    results: dict[str, PracticeResult] = {}
    applied: list[Override] = []
    for pid in PRACTICE_IDS:
        level = config.practices.level_of(pid)
        if level is PracticeLevel.OFF:
            results[pid] = _skip(pid, OFF_REASON)
            continue
        result = apply_level(run_practice(pid, snapshot, config, replacements.get(pid)), level)
        if pid in chosen:
            result = apply_override(result, chosen[pid])
            applied.append(chosen[pid])
        results[pid] = result

    pending = results["tests"].outcome is Outcome.PENDING
    return Evaluation(
        detection=detection,
        results=results,
        conclusion=_conclusion(results),
        pending=pending,
        overrides=tuple(applied),
    )


def config_error_evaluation(detection: Detection, message: str) -> Evaluation:
    """A failing verdict for a config that cannot be used; ``message`` names key and why.

    Nothing is checked: guessing what a broken config meant could pass a PR the
    team wanted held.
    """
    results = {pid: _skip(pid, CONFIG_ERROR_REASON) for pid in PRACTICE_IDS}
    return Evaluation(
        detection=detection,
        results=results,
        conclusion="failure",
        config_error=message,
    )
