"""Practice `tests`: CI passed on the head commit, and Codex's own notes agree.

Two sources, judged separately: the check runs and commit statuses on the
head SHA (the evidence that counts), and the Testing section Codex writes in
the PR body (which says what the agent ran, and what it could not run, in its
sandbox). The second catches what CI cannot: a command the agent saw fail, a
setup problem such as no network, or a check AGENTS.md asks for that was never
run. Pure: reads only the snapshot and config.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Literal, TypeAlias

from bot import CHECK_NAME
from bot.config import GuardConfig, PracticeLevel
from bot.detection import detect
from bot.findings import Finding, Level, Outcome, PracticeResult, outcome_from_findings
from bot.markdown_doc import Document, Section, parse
from bot.practices import agents_md
from bot.practices.task_thread import MAX_SCAN_CHARS
from bot.sanitize import code_untrusted, quote_untrusted
from bot.scrub import Scrubber
from bot.snapshot import CheckEvidence, PRSnapshot

PRACTICE_ID = "tests"

OK_CONCLUSIONS = frozenset({"success", "neutral", "skipped"})
"""Check-run conclusions that do not hold a PR."""

TESTING_TITLES = ("Testing", "Tests", "Test", "Testing notes", "Test results", "Tests run")
"""Headings (any level) under which Codex reports what it ran."""

NO_NETWORK_FIX = (
    "configure a setup script in the Codex environment so dependencies are installed "
    "before the agent runs"
)
OFFLINE_REASON = "CI not checked offline; read the Testing notes only"

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


# --- reading the Testing section --------------------------------------------

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


def _split_code(text: str) -> tuple[str, list[str]]:
    """Text with code spans removed, and the spans, from ``markdown_doc``'s `x` form."""
    plain: list[str] = []
    spans: list[str] = []
    inside = False
    start = 0
    for i, ch in enumerate(text):
        if ch != "`":
            continue
        if inside:
            spans.append(text[start:i])
            plain.append(" ")
        else:
            plain.append(text[start:i])
        inside = not inside
        start = i + 1
    plain.append(text[start:] if not inside else "`" + text[start:])
    return "".join(plain), spans


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


KNOWN_TOOLS = frozenset(
    """pytest py.test python python3 py npm pnpm yarn npx bun bunx deno node make just
    cargo go ruff black isort flake8 pylint mypy pyright tox nox uv uvx poetry pipenv
    hatch pre-commit eslint prettier tsc jest vitest mocha playwright cypress gradle
    gradlew mvn mvnw bazel bazelisk buck2 dotnet swift xcodebuild mix rspec rake bundle
    phpunit composer ctest cmake meson ninja shellcheck golangci-lint gofmt rustfmt
    terraform turbo nx lerna sbt stack cabal dune zig bats coverage django-admin
    manage.py biome stylelint markdownlint vale codespell semgrep bandit""".split()
)


def _first_word(command: str) -> str:
    words = command.split(maxsplit=1)
    if not words:
        return ""
    word = words[0].casefold()
    if word.startswith("./"):
        word = word[2:]
    return word.rsplit("/", 1)[-1] if word.startswith(("bin/", "scripts/")) else word


def _looks_like_command(span: str) -> bool:
    """A code span that names a command, not a file, symbol or value."""
    span = span.strip()
    if not span or len(span) > 300 or "\n" in span:
        return False
    first = _first_word(span.removeprefix("$ "))
    if first in KNOWN_TOOLS:
        return True
    return " " in span and "/" not in first.rstrip("/") and not first.endswith((":", ","))


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


def _code_block_commands(block: str) -> Iterator[tuple[int, str]]:
    for offset, raw in enumerate(block.splitlines()):
        text = raw.strip().removeprefix("$ ").strip()
        if text and not text.startswith("#"):
            yield offset, text


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


# --- commands AGENTS.md asks for ---------------------------------------------

_CHECK_HEADING = re.compile(
    r"test|check|validat|verif|lint|\bci\b|before (?:commit|push|submit|open)|pull request"
    r"|\bprs?\b|quality|programmatic|build|format"
)
_RUN_WORD = re.compile(r"\b(?:run|runs|execute|must pass|make sure|ensure)\b")


@dataclass(frozen=True)
class AgentsCommand:
    """A command the root AGENTS.md tells agents to run, and where it says so."""

    command: str
    line: int


def _split_shell(command: str) -> list[str]:
    """``cd api && pytest -q`` is the check ``pytest -q``; ``cd`` is not a check."""
    parts = re.split(r"&&|\|\||;", command)
    return [p.strip() for p in parts if p.strip() and _first_word(p.strip()) != "cd"]


def agents_commands(agents_md: str) -> list[AgentsCommand]:
    """Commands the AGENTS.md text tells agents to run, deduplicated by `command_key`."""
    doc = parse(agents_md or "")
    found: list[AgentsCommand] = []
    seen: set[tuple[str, ...]] = set()

    def add(command: str, line: int) -> None:
        for part in _split_shell(command):
            key = command_key(part)
            if key and key not in seen and _first_word(part) in KNOWN_TOOLS:
                seen.add(key)
                found.append(AgentsCommand(part, line))

    for section in doc.sections:
        checky = bool(_CHECK_HEADING.search(section.title.casefold()))
        units = [(i.line, i.text, i.code) for i in section.items]
        for line, paragraph in section.paragraphs:
            for offset, text in enumerate(paragraph.split("\n")):
                units.append((line + offset, text, tuple(_split_code(text)[1])))
        for line, text, code in units:
            if checky or _RUN_WORD.search(_split_code(text)[0].casefold()):
                for span in code:
                    if _looks_like_command(span):
                        add(span, line)
        if checky:
            for line, block in section.code_blocks:
                for offset, command in _code_block_commands(block):
                    add(command, line + 1 + offset)
    found.sort(key=lambda c: c.line)
    return found


_UNWRAP = {
    ("python", "-m"),
    ("python3", "-m"),
    ("py", "-m"),
    ("uv", "run"),
    ("poetry", "run"),
    ("pipenv", "run"),
    ("pdm", "run"),
    ("hatch", "run"),
    ("pnpm", "exec"),
    ("yarn", "exec"),
    ("bundle", "exec"),
}


def command_key(command: str) -> tuple[str, ...]:
    """A command reduced to what identifies it: no flags, paths, env or runner wrappers.

    ``python -m pytest -q tests/`` and ``pytest`` share the key ``("pytest",)``;
    ``npm run test`` is ``npm test``.
    """
    tokens = command.casefold().removeprefix("$ ").split()
    while tokens and "=" in tokens[0] and not tokens[0].startswith("-"):
        tokens.pop(0)  # FOO=1 pytest
    while len(tokens) >= 2 and (tokens[0], tokens[1]) in _UNWRAP:
        tokens = tokens[2:]
    if tokens and tokens[0] in ("npx", "bunx", "uvx"):
        tokens = tokens[1:]
    key: list[str] = []
    for word in tokens:
        if word == "--":
            break
        if word.startswith("-"):
            continue
        pathish = word in (".", "..") or "/" in word or "::" in word
        if key and (pathish or word.endswith((".py", ".ts", ".js"))):
            continue
        key.append(word.removeprefix("./") if not key else word)
    scripts = ("npm", "pnpm", "yarn", "bun")
    if len(key) >= 3 and key[0] in scripts and key[1] in ("run", "run-script"):
        if key[2] in ("test", "start"):
            key = [key[0], key[2], *key[3:]]
        else:
            key[1] = "run"
    return tuple(key)


_Trie: TypeAlias = dict[str, "_Trie"]


def _prefix_trie(keys: Iterable[tuple[str, ...]]) -> _Trie:
    """Every key as a path of words, so "is a prefix of some key" is one walk."""
    root: _Trie = {}
    for key in keys:
        node = root
        for word in key:
            node = node.setdefault(word, {})
    return root


def _mentioned(key: tuple[str, ...], note_keys: _Trie, prose: str) -> bool:
    """A note's command starts with ``key``, or the prose names it word for word."""
    node: _Trie | None = note_keys
    for word in key:
        node = node.get(word) if node is not None else None
    if node is not None:
        return True
    return f" {' '.join(key)} " in prose


# --- CI ----------------------------------------------------------------------


def _own(check: CheckEvidence) -> bool:
    return check.name == CHECK_NAME or check.app_slug == CHECK_NAME


def _matches(name: str, patterns: Iterable[str]) -> bool:
    folded = name.casefold()
    return any(fnmatchcase(folded, p.casefold()) for p in patterns)


def _label(check: CheckEvidence) -> str:
    return quote_untrusted(check.name, limit=80)


def _ci(checks: Sequence[CheckEvidence], config: GuardConfig) -> tuple[list[Finding], int, str]:
    """Findings, number of counted checks still running (or not started), reason."""
    tests = config.practices.tests
    others = [c for c in checks if not _own(c)]
    required = tests.required_checks
    counted = [c for c in others if _matches(c.name, required)] if required else others
    missing = [p for p in required if not any(_matches(c.name, [p]) for c in others)]
    if not others and not required:
        level = Level.ERROR if tests.when_no_ci == "fail" else Level.WARNING
        finding = Finding(
            rule="tests/no-ci",
            level=level,
            message="No CI check run or commit status reported on the head commit.",
            fix="Add a CI workflow that runs the tests on pull requests, or set "
            "`practices.tests.when_no_ci: warn`.",
        )
        return [finding], 0, "no CI on the head commit"
    running = [c for c in counted if c.status != "completed"]
    failed = [
        c for c in counted if c.status == "completed" and (c.conclusion or "") not in OK_CONCLUSIONS
    ]
    findings = []
    for check in failed:
        conclusion = quote_untrusted(check.conclusion or "no conclusion", limit=40)
        where = f" ({quote_untrusted(check.url, limit=200)})" if check.url else ""
        findings.append(
            Finding(
                rule="tests/ci-failed",
                level=Level.ERROR,
                message=f"CI check {_label(check)} completed with {conclusion}{where}.",
                fix="Open the check's log, fix the failure and push again.",
            )
        )
    waiting = len(running) + len(missing)
    parts: list[str] = []
    total = len(counted)
    if failed:
        parts.append(f"{len(failed)} of {total} CI checks failed")
    if running:
        parts.append(f"{len(running)} of {total} CI checks still running")
    if missing:
        names = ", ".join(quote_untrusted(p, limit=40) for p in missing[:3])
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        parts.append(f"waiting for required check {names}{more}")
    if not parts:
        parts.append(f"all {total} CI checks passed" if total != 1 else "the CI check passed")
    return findings, waiting, "; ".join(parts)


# --- notes findings -------------------------------------------------------------


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
