"""The practice itself: CI and the Testing notes judged separately, then combined."""

from __future__ import annotations

from bot.core.config import GuardConfig, PracticeLevel
from bot.core.findings import Finding, Level, Outcome, PracticeResult, outcome_from_findings
from bot.core.markdown import parse
from bot.core.sanitize import code_untrusted, quote_untrusted
from bot.core.scrub import Scrubber
from bot.core.snapshot import PRSnapshot
from bot.practices import agents_md
from bot.practices.detection import detect
from bot.practices.passing_tests.agents_checks import (
    AgentsCommand,
    _mentioned,
    _prefix_trie,
    agents_commands,
    command_key,
)
from bot.practices.passing_tests.ci import _ci
from bot.practices.passing_tests.notes import (
    _read_body,
    _section_notes,
    _testing_sections,
    network_notice_lines,
)
from bot.practices.task_thread import MAX_SCAN_CHARS

PRACTICE_ID = "tests"

NO_NETWORK_FIX = (
    "configure a setup script in the Codex environment so dependencies are installed "
    "before the agent runs"
)
OFFLINE_REASON = "CI not checked offline; read the Testing notes only"


def _is_codex(snapshot: PRSnapshot, config: GuardConfig) -> bool:
    """Whether a missing Testing section matters: Codex always writes one."""
    if config.applies_to == "codex":
        return True  # the evaluation only runs practices on Codex PRs then
    return detect(snapshot, config).codex_authored


def _note_findings(
    snapshot: PRSnapshot, config: GuardConfig, level: Level
) -> tuple[list[Finding], str]:
    body = _read_body(snapshot.body)
    doc = parse(body)
    sections = _testing_sections(doc)
    notes = [n for s in sections for n in _section_notes(s)]
    network_lines = network_notice_lines(body)
    network_line = network_lines[0] if network_lines else None
    findings: list[Finding] = []
    if network_line is not None:
        findings.append(
            Finding(
                rule="tests/no-network",
                level=level,
                message=f"Codex reports it had no network access (PR body line {network_line}), "
                "so dependencies may not have been installed and the tests not really run.",
                line=network_line,
                fix=NO_NETWORK_FIX[0].upper() + NO_NETWORK_FIX[1:] + ".",
            )
        )
    for note in notes:
        if note.state not in ("failed", "not_run"):
            continue
        if note.command is None and note.line in network_lines:
            continue  # the network finding already says it
        what = code_untrusted(note.command, limit=80) if note.command else "a test step"
        detail = f": {quote_untrusted(note.detail, limit=80)}" if note.detail else ""
        if note.state == "failed":
            findings.append(
                Finding(
                    rule="tests/command-failed",
                    level=level,
                    message=f"Codex's Testing notes say {what} failed{detail} "
                    f"(PR body line {note.line}).",
                    line=note.line,
                    fix="Fix the failure (or its cause in the environment) and have Codex "
                    "run the command again.",
                )
            )
        else:
            findings.append(
                Finding(
                    rule="tests/command-not-run",
                    level=level,
                    message=f"Codex's Testing notes say {what} was not run{detail} "
                    f"(PR body line {note.line}).",
                    line=note.line,
                    fix="Make the command runnable in the Codex environment and run it, "
                    "or run it yourself and say so in the PR.",
                )
            )
    expected, mask = _root_agents_commands(snapshot)
    has_notes = any(s.items or s.paragraphs or s.code_blocks for s in sections)
    if not has_notes:
        if _is_codex(snapshot, config):
            asked = ", ".join(code_untrusted(mask(c.command), limit=60) for c in expected[:5])
            findings.append(
                Finding(
                    rule="tests/no-testing-notes",
                    level=level,
                    message="The PR body has no Testing section saying which commands were run"
                    + (" (it is empty)." if sections else "."),
                    line=sections[0].line if sections else None,
                    fix="Add a `## Testing` section listing each command run and its result"
                    + (f"; AGENTS.md asks for {asked}." if asked else "."),
                )
            )
        return findings, "no Testing notes" + _cut_note(snapshot)
    note_keys = _prefix_trie(command_key(n.command) for n in notes if n.command)
    words = [w for s in sections for w in s.text.replace("`", " ").casefold().split()]
    prose = f" {' '.join(words)} "
    for command in expected:
        key = command_key(command.command)
        if not key or _mentioned(key, note_keys, prose):
            continue
        shown = code_untrusted(mask(command.command), limit=80)
        findings.append(
            Finding(
                rule="tests/agents-check-missing",
                level=level,
                message=f"AGENTS.md (line {command.line}) asks agents to run {shown}, "
                "but the Testing notes do not mention it.",
                fix="Have Codex run it (or run it yourself) and list the result under Testing.",
            )
        )
    bad = sum(1 for n in notes if n.state in ("failed", "not_run"))
    summary = f"Testing notes: {bad} failed or not run" if bad else "Testing notes look fine"
    return findings, summary + _cut_note(snapshot)


def _cut_note(snapshot: PRSnapshot) -> str:
    """Said in the reason when the body is longer than GitHub allows, so not all was read."""
    if len(snapshot.body or "") <= MAX_SCAN_CHARS:
        return ""
    return f" (read the first {MAX_SCAN_CHARS:,} characters of the PR body)"


def _root_agents_text(snapshot: PRSnapshot) -> str | None:
    """The root AGENTS text the PR is held to: the base branch's, so a PR cannot delete
    the checks it is asked for. Offline (no base known) the checkout's own is all there is."""
    files = snapshot.base_files if snapshot.base_sha else snapshot.head_files
    text = files.get(agents_md.OVERRIDE)
    if not text or not text.strip():
        text = files.get(agents_md.AGENTS)
    return text


def _root_agents_commands(snapshot: PRSnapshot) -> tuple[list[AgentsCommand], Scrubber]:
    """The commands, and the scrubber that masks the file's credentials wherever one is quoted
    (``pytest --token=ghp_…``); matched against the notes unmasked."""
    text = _root_agents_text(snapshot)
    if not text:
        return [], Scrubber()
    return agents_commands(text), Scrubber(s.value for s in agents_md.find_secrets(text))


_LEVELS = {PracticeLevel.ERROR: Level.ERROR, PracticeLevel.WARNING: Level.WARNING}


def evaluate(snapshot: PRSnapshot, config: GuardConfig) -> PracticeResult:
    """CI on the head SHA must pass; Codex's Testing notes must not report failures."""
    tests = config.practices.tests
    findings: list[Finding] = []
    reasons: list[str] = []
    waiting = 0
    if snapshot.checks is None:
        reasons.append(OFFLINE_REASON)
    else:
        ci_findings, waiting, ci_reason = _ci(snapshot.checks, config)
        findings.extend(ci_findings)
        reasons.append(ci_reason)
    notes_level = _LEVELS.get(tests.testing_notes_level)
    if notes_level is not None:
        note_findings, notes_reason = _note_findings(snapshot, config, notes_level)
        findings.extend(note_findings)
        if snapshot.checks is not None:
            reasons.append(notes_reason)
    outcome = Outcome.PENDING if waiting else outcome_from_findings(findings)
    return PracticeResult(
        practice=PRACTICE_ID,
        outcome=outcome,
        reason="; ".join(reasons),
        findings=tuple(findings),
    )
