"""Practice `agents-md`: head judged against base, so problems the PR did not
introduce are only warnings (secrets and a missing root never are)."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from bot.core.config import GuardConfig
from bot.core.findings import Finding, Level, PracticeResult, outcome_from_findings
from bot.core.markdown import MAX_PARSE_CHARS
from bot.core.snapshot import PRSnapshot
from bot.practices.agents_md.chain import (
    ChainBudget,
    ancestors,
    candidate_names,
    is_agents_file,
    parent_dir,
)
from bot.practices.agents_md.file_findings import (
    FindingScrubber,
    Found,
    kib,
    secret_findings,
    shown_paths,
)
from bot.practices.agents_md.judge import judge

PRACTICE_ID = "agents-md"
ALWAYS_INTRODUCED = frozenset({"agents-md/missing-root"})
"""Rules never softened as "already there": `require_root` asks for the file
outright, and a repo that never had one would otherwise never be held to it.
(Secrets are not softened either; they are reported apart from the others.)"""


def _base_build_files(snapshot: PRSnapshot) -> dict[str, str]:
    """Build files as at base: the base copy if fetched, else the head copy if untouched."""
    changed = set(snapshot.changed_files)
    files = dict(snapshot.base_files)
    for path, text in snapshot.head_files.items():
        if path not in files and path not in changed:
            files[path] = text
    return files


@dataclass(frozen=True)
class _Changed:
    """The PR's changed files, indexed once for the per-finding questions below."""

    paths: frozenset[str]
    prefixes: frozenset[str]  # every ``x`` such that some changed path starts with ``x/``
    basenames: frozenset[str]

    @classmethod
    def of(cls, changed_files: Iterable[str]) -> _Changed:
        paths = frozenset(changed_files)
        prefixes = {p[:i] for p in paths for i, ch in enumerate(p) if ch == "/"}
        return cls(paths, frozenset(prefixes), frozenset(posixpath.basename(p) for p in paths))


def _paths_changed(changed: _Changed, found: Found, names: list[str]) -> bool:
    """Did the PR touch what a finding is about (the referenced path, the build file)?"""
    rule = found.key[0]
    if rule == "agents-md/missing-root":
        return any(name in changed.paths for name in names)
    if rule == "agents-md/missing-path":
        path, target = found.key[1], found.key[2]
        bases = ancestors(parent_dir(path))
        candidates = {posixpath.normpath(posixpath.join(b, target)) for b in bases}
        return (
            any(c in changed.paths or c.rstrip("/") in changed.prefixes for c in candidates)
            or target in changed.basenames
        )
    return False


def evaluate(snapshot: PRSnapshot, config: GuardConfig) -> PracticeResult:
    """Judge the AGENTS chain of every touched directory as Codex would load it."""
    md = config.practices.agents_md
    names = candidate_names(config)
    head_agents = {p: t for p, t in snapshot.head_files.items() if is_agents_file(p, names)}
    head, chain_map, budgets, secrets = judge(snapshot, config, head_agents, snapshot.head_files)
    base_agents = {p: t for p, t in snapshot.base_files.items() if is_agents_file(p, names)}
    base, *_ = judge(snapshot, config, base_agents, _base_build_files(snapshot), at_base=True)
    base_keys = {f.key for f in base}
    changed = _Changed.of(snapshot.changed_files)
    findings: list[Finding] = []
    seen: set[tuple[object, ...]] = set()
    for item in head:
        finding = item.finding
        if (
            item.key in base_keys
            and item.key[0] not in ALWAYS_INTRODUCED
            and not _paths_changed(changed, item, names)
        ):
            finding = replace(
                finding,
                level=Level.WARNING,
                message=finding.message + " (already so before this PR)",
            )
        ident = (finding.rule, finding.path, finding.line, finding.message)
        if ident not in seen:
            seen.add(ident)
            findings.append(finding)
    scrub = FindingScrubber([s.value for s in secrets])
    findings = [scrub(f) for f in secret_findings(secrets) + findings]
    reason = _reason(chain_map, budgets, md.project_doc_max_bytes)
    reason += _cut_note(chain_map, head_agents)
    return PracticeResult(
        practice=PRACTICE_ID,
        outcome=outcome_from_findings(findings),
        reason=_with_problems(reason, findings),
        findings=tuple(findings),
    )


_PROBLEM_NAMES = {
    "agents-md/secret": "a secret",
    "agents-md/over-budget": "over Codex's budget",
    "agents-md/missing-root": "no root AGENTS.md",
    "agents-md/missing-path": "a stale path",
    "agents-md/missing-target": "a missing build target",
    "agents-md/absolute-path": "a machine-specific path",
    "agents-md/no-test-command": "no test command",
    "agents-md/too-long": "too long",
}


def _with_problems(reason: str, findings: list[Finding]) -> str:
    """The one-line reason names what is wrong, not only the chain's size."""
    for level, word in ((Level.ERROR, "error"), (Level.WARNING, "warning")):
        hits = [f for f in findings if f.level is level]
        if not hits:
            continue
        kinds = list(dict.fromkeys(_PROBLEM_NAMES.get(f.rule, f.rule) for f in hits))
        plural = "" if len(hits) == 1 else "s"
        return f"{len(hits)} {word}{plural}: {', '.join(kinds)} — {reason}"
    return reason


def _cut_note(chain_map: Mapping[str, list[str]], files: Mapping[str, str]) -> str:
    """Said when a file is too long to read whole for paths and commands."""
    cut = sorted({p for chain in chain_map.values() for p in chain if p in files
                  and len(files[p]) > MAX_PARSE_CHARS})  # fmt: skip
    if not cut:
        return ""
    return (
        f"; only the first {kib(MAX_PARSE_CHARS)} of {shown_paths(cut)} read for paths, commands"
        " and secrets; the rest was not read"
    )


def _reason(
    chain_map: Mapping[str, list[str]], budgets: Mapping[str, ChainBudget], limit: int
) -> str:
    files = {p for chain in chain_map.values() for p in chain}
    if not files:
        return "no AGENTS.md in the chain"
    largest = max(chain_map, key=lambda leaf: (budgets[leaf].total, len(chain_map[leaf])))
    chain, size = chain_map[largest], budgets[largest].total
    plural = "file" if len(chain) == 1 else "files"
    if len([c for c in chain_map.values() if c]) <= 1 or len(files) == len(chain):
        return f"{len(chain)} {plural} in the chain, {kib(size)} of {kib(limit)}"
    return (
        f"{len(files)} AGENTS files in {len(chain_map)} chains; the largest has "
        f"{len(chain)} {plural}, {kib(size)} of {kib(limit)}"
    )
