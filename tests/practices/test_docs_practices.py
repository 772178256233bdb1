"""docs/practices.md cannot drift from the code.

Every rule id a practice module can emit is documented, and every example in
the doc marked ``<!-- example: <practice> <outcome> [key=value ...] -->``
directly above its fenced block is evaluated and gives the outcome it claims.

Marker keys:

- ``rule=<id>``: the practice reports this rule (so a failing example fails
  for the reason the doc says, not another one);
- ``path=<file>``: for `agents-md` examples, where the AGENTS file lives
  (default ``AGENTS.md``);
- ``branch=<name>``: the head branch (default ``codex/x``, a Codex signal);
- ``ci=none|success|failure``: the CI on the head commit (default: unknown,
  as in the offline CLI);
- ``shared-with=<n>``: open PR #n links the same body's Codex task;
- any dotted config key, e.g. ``practices.done-when.require_checked=true``
  (the value is read as YAML).

``agents-md`` examples are an AGENTS file; every other example is a PR body.
Examples run in the example repository the doc describes: the paths of the
``<!-- example-tree -->`` block plus each ``<!-- example-file: PATH -->``
block. A PR-body example sees the repository's own AGENTS.md; an `agents-md`
example replaces it, so its AGENTS file is the only one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.core.config import GuardConfig
from bot.core.diff_patch import git_diff_entries
from bot.core.scope_evidence import Review, ScopeEvidence, changed_files_from_api
from bot.core.snapshot import CheckEvidence, PRSnapshot
from bot.practices.evaluation import INTERNAL_ERROR_RULE, PRACTICE_MODULES, Evaluation, evaluate

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "practices.md"


def _sources(module: str) -> list[Path]:
    """A practice is a module or a sub-package; either way, every file of it."""
    path = ROOT.joinpath(*module.split("."))
    return sorted(path.rglob("*.py")) if path.is_dir() else [path.with_suffix(".py")]


PRACTICE_SOURCES = [source for module in PRACTICE_MODULES.values() for source in _sources(module)]

OUTCOMES = {"pass", "fail", "warn", "skip", "pending"}
DETECTION_OUTCOMES = {"codex", "not-codex"}
DEFAULT_BRANCH = "codex/x"

_MARKER = re.compile(r"^<!--\s*example:\s*(?P<spec>.*?)\s*-->\s*$")
_TREE = re.compile(r"^<!--\s*example-tree\s*-->\s*$")
_FILE = re.compile(r"^<!--\s*example-file:\s*(?P<path>\S+)\s*-->\s*$")
_FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})[^`]*$")
_RULE_LITERAL = re.compile(
    r"""["']((?:task-thread|done-when|tests|agents-md|scope)/[a-z][a-z-]*)["']"""
)


@dataclass(frozen=True)
class Example:
    practice: str
    outcome: str
    text: str
    line: int
    options: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        rule = self.options.get("rule")
        return f"L{self.line}-{self.practice}-{self.outcome}" + (f"-{rule}" if rule else "")


@dataclass
class DocExamples:
    examples: list[Example]
    tree: list[str]
    files: dict[str, str]


def _fenced(lines: list[str], start: int, what: str) -> tuple[str, int]:
    """The block whose opening fence is ``lines[start]``, and the index after it."""
    opening = _FENCE.match(lines[start]) if start < len(lines) else None
    if opening is None:
        raise AssertionError(f"docs/practices.md line {start}: {what} is not above a fence")
    fence = opening.group("fence")
    for end in range(start + 1, len(lines)):
        closing = lines[end].strip()
        if closing.startswith(fence[0] * len(fence)) and not closing.strip(fence[0]):
            return "\n".join(lines[start + 1 : end]) + "\n", end + 1
    raise AssertionError(f"docs/practices.md line {start + 1}: the fence is never closed")


def parse_doc(text: str) -> DocExamples:
    lines = text.splitlines()
    found = DocExamples([], [], {})
    index = 0
    while index < len(lines):
        line = lines[index].strip()
        marker, tree, file = _MARKER.match(line), _TREE.match(line), _FILE.match(line)
        if not (marker or tree or file):
            index += 1
            continue
        block, after = _fenced(lines, index + 1, line)
        if tree:
            found.tree.extend(p.strip() for p in block.splitlines() if p.strip())
        elif file:
            found.files[file.group("path")] = block
        else:
            assert marker is not None
            words = marker.group("spec").split()
            assert len(words) >= 2, f"line {index + 1}: say `example: <practice> <outcome>`"
            options = dict(word.split("=", 1) for word in words[2:])
            found.examples.append(Example(words[0], words[1], block, index + 1, options))
        index = after
    return found


def _config(options: dict[str, str]) -> GuardConfig:
    data: dict[str, Any] = {}
    for key, value in options.items():
        if "." not in key:
            continue
        *parents, leaf = key.split(".")
        node = data
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = yaml.safe_load(value)
    return GuardConfig.model_validate(data)


def _checks(ci: str | None) -> tuple[CheckEvidence, ...] | None:
    if ci is None:
        return None
    if ci == "none":
        return ()
    assert ci in ("success", "failure"), f"unknown ci={ci}"
    return (CheckEvidence("ci / test", "check_run", "completed", ci),)


def repo_files(doc: DocExamples, example: Example) -> dict[str, str]:
    """Path -> text of the example repository this example runs in."""
    files = {path: "" for path in doc.tree}
    files.update(doc.files)
    if example.practice == "agents-md":
        names = ("AGENTS.md", "AGENTS.override.md")
        for path in [p for p in files if p.rsplit("/", 1)[-1] in names]:
            del files[path]
        files[example.options.get("path", "AGENTS.md")] = example.text
    return files


def scope_of(example: Example, author: str, head_sha: str) -> ScopeEvidence | None:
    if example.practice != "scope":
        return None
    approver = example.options.get("approved-by")
    reviews = (Review(approver, "APPROVED", head_sha),) if approver else ()
    return ScopeEvidence(
        author=author,
        head_sha=head_sha,
        files=changed_files_from_api(git_diff_entries(example.text)),
        reviews=reviews,
        permissions={approver: "write"} if approver else {},
    )


def body_of(doc: DocExamples, example: Example) -> str:
    if example.practice not in ("agents-md", "scope"):
        return example.text
    return "Docs example.\n\nCloses #7\n"


def snapshot_for(doc: DocExamples, example: Example) -> PRSnapshot:
    """The PR the offline CLI would build: a checkout as head, no base, CI as the marker says."""
    files = repo_files(doc, example)
    body = body_of(doc, example)
    shared = example.options.get("shared-with")
    return PRSnapshot(
        repo="octo/invoices",
        number=101,
        title="Docs example",
        body=body,
        author="dana",
        head_sha="a" * 40,
        head_ref=example.options.get("branch", DEFAULT_BRANCH),
        base_ref="main",
        checks=_checks(example.options.get("ci")),
        head_tree=frozenset(files),
        head_files={p: t for p, t in files.items() if t},
        other_open_prs={int(shared): body} if shared else None,
        scope=scope_of(example, "dana", "a" * 40),
    )


def run_example(doc: DocExamples, example: Example) -> Evaluation:
    return evaluate(snapshot_for(doc, example), _config(example.options))


DOC_TEXT = DOC.read_text(encoding="utf-8")
PARSED = parse_doc(DOC_TEXT)


def emitted_rules() -> set[str]:
    rules: set[str] = {INTERNAL_ERROR_RULE}
    for source in PRACTICE_SOURCES:
        rules.update(_RULE_LITERAL.findall(source.read_text(encoding="utf-8")))
    return rules


def test_rule_scan_finds_every_practice() -> None:
    rules = emitted_rules()
    for practice in PRACTICE_MODULES:
        assert any(r.startswith(f"{practice}/") for r in rules), practice


@pytest.mark.parametrize("rule", sorted(emitted_rules()))
def test_every_rule_is_documented(rule: str) -> None:
    assert f"`{rule}`" in DOC_TEXT, f"docs/practices.md does not mention `{rule}`"


@pytest.mark.parametrize("rule", sorted(emitted_rules() - {INTERNAL_ERROR_RULE}))
def test_every_rule_has_an_example(rule: str) -> None:
    assert any(e.options.get("rule") == rule for e in PARSED.examples), (
        f"no `<!-- example: ... rule={rule} -->` in docs/practices.md"
    )


@pytest.mark.parametrize("practice", list(PRACTICE_MODULES))
def test_every_practice_has_a_passing_example(practice: str) -> None:
    assert any(e.practice == practice and e.outcome == "pass" for e in PARSED.examples)


def test_examples_are_well_formed() -> None:
    assert len(PARSED.examples) >= 20
    assert "AGENTS.md" in PARSED.files, "the example repository needs an AGENTS.md"
    known = {*PRACTICE_MODULES, "detection"}
    for example in PARSED.examples:
        assert example.practice in known, example.id
        allowed = DETECTION_OUTCOMES if example.practice == "detection" else OUTCOMES
        assert example.outcome in allowed, example.id
        assert example.text.strip(), example.id


@pytest.mark.parametrize("example", PARSED.examples, ids=lambda e: e.id)
def test_example_gives_the_stated_outcome(example: Example) -> None:
    evaluation = run_example(PARSED, example)
    if example.practice == "detection":
        assert evaluation.detection.codex_authored is (example.outcome == "codex"), evaluation
        return
    result = evaluation.results[example.practice]
    assert str(result.outcome) == example.outcome, result
    rules = [f.rule for f in result.findings]
    if "rule" in example.options:
        assert example.options["rule"] in rules, result
    if example.outcome == "pass":
        assert rules == [], result
