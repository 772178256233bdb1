"""Reading Codex's Testing section: each command it mentions and what happened to it.

The body is untrusted text, so every pattern here stays linear in its input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from bot.core.markdown import Document, Section, parse
from bot.practices.passing_tests.command_spans import (
    _code_block_commands,
    _looks_like_command,
    _split_code,
)
from bot.practices.task_thread import MAX_SCAN_CHARS

TESTING_TITLES = ("Testing", "Tests", "Test", "Testing notes", "Test results", "Tests run")
"""Headings (any level) under which Codex reports what it ran."""

NoteState = Literal["passed", "failed", "not_run", "unknown"]


@dataclass(frozen=True)
class TestingNote:
    """One command (or command-less statement) from a Testing section.

    ``command`` is the code span's text, or None for prose such as "tests
    could not be run"; ``line`` is 1-based in the PR body; ``detail`` is what
    follows the failure word, e.g. the error Codex quoted.
    """

    __test__ = False  # not a pytest test class, despite the name

    command: str | None
    state: NoteState
    line: int
    detail: str = ""


# Every pattern below runs on one line or clause of untrusted text: no nested
# quantifiers, repetition bounded, so each is linear in the input.
_FAIL = re.compile(
    r"\bfail(?:s|ed|ing|ures?)?\b|\berrored\b|\(error\b|\bbroken\b|\bcrash(?:es|ed)?\b"
    r"|\bexit(?:ed)? (?:with )?(?:code|status) [1-9]|\bnon-zero exit|❌|✗|✖|🔴|⛔"
)
_NOT_RUN = re.compile(
    r"\bnot (?:be )?(?:run|ran|executed)\b"
    r"|\b(?:could ?n[o']t|can't|cannot|can not|unable to|did ?n[o']t|was ?n[o']t"
    r"|were ?n[o']t|not able to) (?:be )?(?:run|ran|execute|executed)\b"
    r"|\bskipped\b|\bnot available\b|\bcommand not found\b|\bnot installed\b|⏭|🚫"
)
_PASS = re.compile(
    r"\b(?:pass(?:es|ed|ing)?|succeed(?:s|ed)?|success(?:ful|fully)?|ok|green)\b|✅|✔|🟢"
)
# Summary counts that contain a status word without meaning it ("0 failed").
_HARMLESS_COUNTS = re.compile(
    r"\b(?:0|no|zero|without) (?:tests? )?(?:any )?(?:failed|failures?|failing|errors?)\b"
    r"|\b\d{1,9} (?:skipped|deselected|xfailed|xpassed|warnings?)\b"
)
_RAN = re.compile(r"^(?:ran|run|running|executed|tested with|checked with)\b")
_NETWORK = re.compile(
    r"\b(?:does ?n[o']t|did ?n[o']t|do ?n[o']t|has no|have no|had no|without|lacks?|no)"
    r"\s{1,3}(?:have\s{1,3})?(?:any\s{1,3})?(?:internet|network|outbound)\s{1,3}"
    r"(?:access|connectivity|connection)"
    r"|\b(?:network|internet)\s{1,3}(?:access\s{1,3})?(?:is|was|being)\s{1,3}"
    r"(?:disabled|unavailable|blocked|restricted|not\s{1,3}available|off)\b"
    r"|\b(?:network|internet|sandbox|proxy)\s{1,3}restrictions?\b"
    r"|\benvironment(?:al)?\s{1,3}limitations?\b"
)
_LEAD_MARKS = "✅❌⚠️✔✗✖🟢🔴⛔⏭🚫️ \t-*_:•"


def _clauses(text: str) -> list[str]:
    """Split prose at ``.``/``;`` outside code spans, where a new command starts.

    "Ran `a` (passed). Ran `b` (failed)." is two notes; "Ran `a`; 3 tests
    failed" stays one, so the failure belongs to `a`.
    """
    pieces: list[str] = []
    inside = False
    start = 0
    for i, ch in enumerate(text):
        if ch == "`":
            inside = not inside
        elif not inside and ch in ".;" and (i + 1 == len(text) or text[i + 1] in " \t"):
            pieces.append(text[start : i + 1])
            start = i + 1
    pieces.append(text[start:])
    clauses: list[list[str]] = []  # pieces joined at the end: no quadratic `+=`
    for piece in pieces:
        if not piece.strip():
            continue
        if clauses and not any(_looks_like_command(s) for s in _split_code(piece)[1]):
            clauses[-1].append(piece)
        else:
            clauses.append([piece])
    return ["".join(parts) for parts in clauses]


def _state(plain: str) -> NoteState | None:
    """Status of one clause from its words; None when it states none."""
    lowered = _HARMLESS_COUNTS.sub(" ", plain.casefold())
    head = lowered.lstrip(" \t-*_:•")
    if head.startswith(("✅", "✔", "🟢")):
        return "passed"
    if head.startswith(("❌", "✗", "✖", "🔴", "⛔")):
        return "failed"
    fail = _FAIL.search(lowered)
    not_run = _NOT_RUN.search(lowered)
    if fail and not_run:
        return "failed" if fail.start() < not_run.start() else "not_run"
    if fail:
        return "failed"
    if not_run:
        return "not_run"
    if _PASS.search(lowered):
        return "passed"
    if "⚠" in lowered:
        return "failed"
    return None


def _detail(plain: str) -> str:
    """The error text after the failure word, e.g. ``Cannot find module 'x'``."""
    lowered = plain.casefold()
    words = (m for m in _FAIL.finditer(lowered) if m.group()[0].isalnum() or m.group()[0] == "(")
    match = next(words, None) or _NOT_RUN.search(lowered)
    if match is None:
        return ""
    detail = " ".join(plain[match.end() :].strip(" \t:;,.-—()*_").split())
    folded = detail.casefold()
    if _FAIL.fullmatch(folded) or _NOT_RUN.fullmatch(folded) or _PASS.fullmatch(folded):
        return ""  # "(failed)" after "3 failures": nothing more to say
    return detail


def _notes_from_clause(clause: str, line: int) -> list[TestingNote]:
    plain, spans = _split_code(clause)
    state = _state(plain)
    # One command per clause: later spans are mostly files, tools or output.
    commands = [s.strip() for s in spans if _looks_like_command(s)][:1] or [
        s.strip() for s in spans[:1] if s.strip()
    ]
    if state is None:
        if not commands:
            return []
        head = plain.casefold().lstrip(_LEAD_MARKS)
        starts_with_code = clause.lstrip(_LEAD_MARKS).startswith("`")
        state = "passed" if starts_with_code or _RAN.match(head) else "unknown"
    detail = _detail(plain) if state in ("failed", "not_run") else ""
    if not commands:
        return [TestingNote(None, state, line, detail)]
    return [TestingNote(c, state, line, detail) for c in commands]


def _section_notes(section: Section) -> list[TestingNote]:
    notes: list[TestingNote] = []
    units: list[tuple[int, str]] = [(item.line, item.text) for item in section.items]
    for line, paragraph in section.paragraphs:
        units.extend((line + i, text) for i, text in enumerate(paragraph.split("\n")))
    for line, text in units:
        for clause in _clauses(" ".join(text.split())):
            notes.extend(_notes_from_clause(clause, line))
    for line, block in section.code_blocks:
        for offset, command in _code_block_commands(block):
            notes.append(TestingNote(command, "unknown", line + 1 + offset))
    notes.sort(key=lambda n: n.line)
    return notes


def _testing_sections(doc: Document) -> list[Section]:
    return doc.find(*TESTING_TITLES)


def _read_body(body: str | None) -> str:
    """The part of a PR body that is read: GitHub's cap, like the other practices."""
    return (body or "")[:MAX_SCAN_CHARS]


def testing_notes(body: str) -> list[TestingNote]:
    """Every command Codex's Testing section(s) mention, with what happened to it."""
    notes: list[TestingNote] = []
    for section in _testing_sections(parse(_read_body(body))):
        notes.extend(_section_notes(section))
    return notes


testing_notes.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


def network_notice_lines(body: str) -> list[int]:
    """Lines of the body where Codex says it had no network access."""
    return [
        number
        for number, line in enumerate((body or "").splitlines(), start=1)
        if _NETWORK.search(line.casefold())
    ]
