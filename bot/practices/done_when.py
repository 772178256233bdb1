"""Practice `done-when`: the PR states the condition under which it is finished.

A reviewer cannot tell whether an agent's diff is complete without knowing
what "complete" meant. The condition lives under a heading or a label from
`aliases` (`## Done when`, `**Acceptance criteria:**`, `Done when: ...`), in
the body or, failing that, in the issue the PR closes. PR templates leave
placeholders behind (`TBD`, `<!-- ... -->`, empty boxes), which do not count.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from bot.core.config import GuardConfig
from bot.core.findings import Finding, Level, PracticeResult, outcome_from_findings
from bot.core.markdown import Section, parse
from bot.core.sanitize import quote_untrusted
from bot.core.snapshot import PRSnapshot
from bot.practices.task_thread import MAX_SCAN_CHARS, body_cut_note, thread_issue_numbers

PRACTICE_ID = "done-when"

# Compared after casefolding and trimming spaces and `.:;!`.
_PLACEHOLDERS = frozenset(
    "|-|--|---|—|–|*|.|..|...|…|?|??|???|tbd|tbc|todo|to do|n/a|na|none|nothing"
    "|no response|xxx|fill in|fill me in|fill this in|placeholder".split("|")
)
_PLACEHOLDER_PREFIX = re.compile(r"(?:tbd|todo|fixme)\b[ \t]{0,5}[:(-]", re.IGNORECASE)
# One finding per unchecked box, up to this many; the reason gives the total.
MAX_UNCHECKED_FINDINGS = 20
_LABEL_SEP = re.compile(r"[ \t]{0,5}[:：][ \t]{0,5}")


@dataclass(frozen=True)
class Criterion:
    text: str
    checked: bool | None = None


@dataclass
class DoneWhen:
    """What one Markdown document says about its success condition."""

    labelled: bool = False
    criteria: list[Criterion] = field(default_factory=list)
    placeholders: list[str] = field(default_factory=list)

    def add(self, text: str, checked: bool | None = None) -> None:
        text = " ".join(text.split())
        if is_placeholder(text):
            self.placeholders.append(text)
        else:
            self.criteria.append(Criterion(text, checked))


def is_placeholder(text: str) -> bool:
    """Template leftovers: `TBD`, `N/A`, `...`, `<describe>`, `[fill in]`, empty boxes."""
    t = " ".join(text.split()).strip(" .:;!").casefold()
    t = t.strip("*_~` ")
    if t in _PLACEHOLDERS or _PLACEHOLDER_PREFIX.match(t):
        return True
    # `<describe it>`, `[fill in]`, `{condition}`, and an empty `[ ]` box.
    return len(t) >= 2 and (t[0], t[-1]) in (("<", ">"), ("[", "]"), ("{", "}"))


@lru_cache(maxsize=32)
def _alias_patterns(aliases: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    """Aliases as patterns that accept any case and `Done-when` / `done_when` spellings."""
    patterns = []
    for alias in sorted(aliases, key=len, reverse=True):
        words = alias.replace("*", " ").strip(" :").split()
        if words:
            body = r"[\s_-]{1,5}".join(re.escape(w) for w in words[:20])
            patterns.append(re.compile(body + r"(?!\w)", re.IGNORECASE))
    return tuple(patterns)


def match_label(line: str, aliases: Iterable[str], *, heading: bool = False) -> str | None:
    """If ``line`` is labelled with an alias, the text after the label, else None.

    The bare alias is a label (a heading, or a bold line over a list);
    otherwise a colon must follow it, so prose such as "done when I get to
    it" is no label. A heading may add a parenthetical. Leading emoji or
    markup before the label is ignored; a code span is not a label.
    """
    start = 0
    while start < len(line) and start < 16 and not (line[start].isalnum() or line[start] == "`"):
        start += 1
    for pattern in _alias_patterns(tuple(aliases)):
        m = pattern.match(line, start)
        if m is None:
            continue
        rest = line[m.end() :]
        if not rest.strip(" *_"):
            return ""
        rest = rest.lstrip("*_")
        sep = _LABEL_SEP.match(rest)
        if sep:
            return rest[sep.end() :].strip()
        if heading and rest.lstrip().startswith("("):
            return ""  # `## Acceptance criteria (from PROJ-12)`
        return None
    return None


def _scan_paragraphs(section: Section, aliases: list[str], found: DoneWhen) -> None:
    """Labelled lines: `Done when: x`, or a bold label followed by lines or a list."""
    item_lines = [item.line for item in section.items]
    for index, (line, text) in enumerate(section.paragraphs):
        first, _, more = text.partition("\n")
        rest = match_label(first, aliases)
        if rest is None:
            continue
        found.labelled = True
        if rest:
            found.add(rest)
        for extra in more.split("\n") if more else []:
            if _looks_like_label(extra):
                break
            found.add(extra)
        # The list right after the label, up to the next paragraph of the section.
        following = section.paragraphs[index + 1 : index + 2]
        until = following[0][0] if following else section.end_line + 1
        start = bisect_right(item_lines, line)
        for item in section.items[start : bisect_left(item_lines, until)]:
            found.add(item.text, item.checked)
    for item in section.items:
        rest = match_label(item.text, aliases)
        if rest:
            found.labelled = True
            found.add(rest, item.checked)


def _looks_like_label(line: str) -> bool:
    head, sep, _ = line.partition(":")
    return bool(sep) and 0 < len(head) <= 40 and "  " not in head


def _add_section_body(section: Section, found: DoneWhen) -> None:
    for _, text in section.paragraphs:
        found.add(text)
    for item in section.items:
        found.add(item.text, item.checked)
    for _, code in section.code_blocks:
        first = next((ln for ln in code.splitlines() if ln.strip()), "")
        found.add(first)


def extract(text: str, aliases: list[str]) -> DoneWhen:
    """Collect the Done-when criteria (and placeholders) of one Markdown document."""
    found = DoneWhen()
    sections = parse(text[:MAX_SCAN_CHARS]).sections
    index = 0
    while index < len(sections):
        section = sections[index]
        rest = match_label(section.title, aliases, heading=True) if section.title else None
        if rest is None:
            _scan_paragraphs(section, aliases, found)
            index += 1
            continue
        found.labelled = True
        if rest:
            found.add(rest)
        _add_section_body(section, found)
        index += 1
        # Sub-headings belong to the Done-when section.
        while index < len(sections) and sections[index].level > section.level:
            _add_section_body(sections[index], found)
            index += 1
    return found


def _quote(criterion: Criterion) -> str:
    return "“" + quote_untrusted(criterion.text, 80) + "”"


def _missing_fix(aliases: list[str]) -> str:
    label = aliases[0] if aliases else "Done when"
    return (
        f"Add a `## {quote_untrusted(label, 40)}` section to the PR description with "
        "at least one concrete, checkable condition, e.g. `- pytest passes and "
        "/health returns 200`."
    )


def evaluate(snapshot: PRSnapshot, config: GuardConfig) -> PracticeResult:
    """Pass when the body (or the linked issue) states at least one real criterion."""
    settings = config.practices.done_when
    aliases = list(settings.aliases)
    found = extract(snapshot.body, aliases)
    source = ""
    fallback: tuple[str, DoneWhen] | None = None
    if not found.criteria and settings.read_linked_issue and snapshot.issue_bodies:
        for number in thread_issue_numbers(snapshot, config):
            issue_body = snapshot.issue_bodies.get(number)
            if issue_body is None:
                continue
            from_issue = extract(issue_body, aliases)
            if from_issue.criteria:
                found, source = from_issue, f" (from issue #{number})"
                break
            if from_issue.labelled and fallback is None:
                fallback = (f" in issue #{number}", from_issue)

    if not found.criteria:
        where, placeholder = "", found
        if not found.labelled and fallback is not None:
            where, placeholder = fallback
        if placeholder.labelled:
            sample = placeholder.placeholders[0] if placeholder.placeholders else ""
            shown = f" (“{quote_untrusted(sample, 40)}”)" if sample else " (it is empty)"
            finding = Finding(
                rule="done-when/placeholder",
                level=Level.ERROR,
                message=f"The Done-when section{where} has only placeholders{shown}.",
                fix="Replace the placeholder with the condition that makes this PR done.",
            )
        else:
            finding = Finding(
                rule="done-when/missing",
                level=Level.ERROR,
                message="The PR does not say when it is done." + body_cut_note(snapshot.body),
                fix=_missing_fix(aliases),
            )
        return PracticeResult(
            PRACTICE_ID, outcome_from_findings([finding]), finding.message, (finding,)
        )

    findings: list[Finding] = []
    unchecked = [c for c in found.criteria if c.checked is False]
    if settings.require_checked:
        for criterion in unchecked[:MAX_UNCHECKED_FINDINGS]:
            findings.append(
                Finding(
                    rule="done-when/unchecked",
                    level=Level.ERROR,
                    message=f"Done-when criterion not checked off{source}: {_quote(criterion)}",
                    fix="Check the box once the condition holds, or explain why it does not apply.",
                )
            )
    if findings:
        more = len(unchecked) - len(findings)
        shown = f" (first {len(findings)} listed)" if more else ""
        noun = "criterion" if len(unchecked) == 1 else "criteria"
        reason = f"{len(unchecked)} Done-when {noun} not checked off{source}{shown}."
    else:
        reason = f"Done when: {_quote(found.criteria[0])}{source}."
    return PracticeResult(PRACTICE_ID, outcome_from_findings(findings), reason, tuple(findings))
