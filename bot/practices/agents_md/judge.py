"""One version of the files (head, or base for comparison) judged whole: the
chains, their budgets, and each file's findings."""

from __future__ import annotations

import posixpath
from collections.abc import Collection, Mapping
from dataclasses import replace

from bot.core.config import GuardConfig
from bot.core.findings import Finding, Level
from bot.core.sanitize import code_untrusted
from bot.core.secrets import Secret, find_secrets
from bot.core.snapshot import PRSnapshot
from bot.practices.agents_md.chain import (
    ChainBudget,
    bounded,
    budget_of,
    candidate_names,
    chain_of,
    is_agents_file,
    leaf_dirs,
    line_at_byte,
    parent_dir,
    visible_text,
)
from bot.practices.agents_md.commands import (
    build_lookup,
    has_test_command,
)
from bot.practices.agents_md.file_findings import (
    Found,
    file_findings,
    shown_paths,
)
from bot.practices.agents_md.paths import directories


def judge(
    snapshot: PRSnapshot,
    config: GuardConfig,
    files: Mapping[str, str],
    build_files: Mapping[str, str],
    *,
    at_base: bool = False,
) -> tuple[list[Found], dict[str, list[str]], dict[str, ChainBudget], list[Secret]]:
    """All findings for one version of the files (head, or base for comparison)."""
    md = config.practices.agents_md
    names = candidate_names(config)
    tree = snapshot.head_tree
    present: Collection[str] = (
        bounded(tree) if tree is not None else {p for p in files if files[p] is not None}
    )
    if at_base:
        # What the chain was at base: files the PR added were not there.
        present = {p for p in present if not is_agents_file(p, names) or p in files}
    leaves = leaf_dirs(snapshot.changed_files) | {
        parent_dir(p) for p in files if is_agents_file(p, names)
    }
    chain_map = {leaf: chain_of(present, leaf, names) for leaf in sorted(leaves)}
    found: list[Found] = []
    root_known = tree is not None or bool(files)
    if md.require_root and root_known and not any(n in present for n in names):
        found.append(
            Found(
                Finding(
                    rule="agents-md/missing-root",
                    level=Level.ERROR,
                    message="The repository has no root AGENTS.md, so Codex starts every task "
                    "without the team's instructions.",
                    fix="Add an AGENTS.md at the repository root with how to build, test and "
                    "lint, and the conventions Codex should follow.",
                ),
                ("agents-md/missing-root",),
            )
        )
    budgets: dict[str, ChainBudget] = {}
    for leaf, chain in chain_map.items():
        budgets[leaf] = budget_of(chain, files, md.project_doc_max_bytes)
    found.extend(over_budget(chain_map, budgets, files, md.project_doc_max_bytes))
    in_chain = sorted({p for chain in chain_map.values() for p in chain if p in files})
    secrets: list[Secret] = []
    dirs = directories(present) if tree is not None else frozenset()
    basenames = (
        frozenset(posixpath.basename(p) for p in present) if tree is not None else (frozenset())
    )
    lookup = build_lookup(present if tree is not None else None, build_files)
    for path in in_chain:
        text = files[path]
        file_secrets = [replace(s, path=path) for s in find_secrets(text)]
        secrets.extend(file_secrets)
        found.extend(
            file_findings(
                path,
                text,
                md,
                present if tree is not None else None,
                dirs,
                basenames,
                lookup,
                {s.line for s in file_secrets},
            )
        )
    judged: set[tuple[str, ...]] = set()
    for leaf, chain in chain_map.items():
        budget = budgets[leaf]
        readable = [p for p in chain if p in files]
        if not readable or len(readable) < len(chain) or tuple(chain) in judged:
            continue  # nothing fetched to judge, part of it unknown, or already judged
        judged.add(tuple(chain))
        visible = [visible_text(p, files[p], budget) for p, _ in budget.loaded]
        if any(has_test_command(v) for v in visible):
            continue
        last = readable[-1]
        loads = shown_paths(p for p, _ in budget.loaded) or shown_paths(readable)
        found.append(
            Found(
                Finding(
                    rule="agents-md/no-test-command",
                    level=Level.WARNING,
                    message=f"The instructions Codex loads from {loads} name no test or "
                    "check command it can run (such as `pytest`, `npm test` or `make check`).",
                    path=last,
                    line=1,
                    fix="Add a Testing section with the exact commands that must pass "
                    "before a change is done.",
                ),
                ("agents-md/no-test-command", last),
            )
        )
    return found, chain_map, budgets, secrets


def over_budget(
    chain_map: Mapping[str, list[str]],
    budgets: Mapping[str, ChainBudget],
    files: Mapping[str, str],
    limit: int,
) -> list[Found]:
    """One finding per file where the budget runs out, naming every file lost after it."""
    groups: dict[str, list[str]] = {}
    for leaf in chain_map:
        budget = budgets[leaf]
        if budget.cut is not None or budget.dropped:
            where = budget.cut[0] if budget.cut is not None else budget.dropped[0]
            groups.setdefault(where, []).append(leaf)
    found = []
    for where, leaves in groups.items():
        worst = max(leaves, key=lambda leaf: (budgets[leaf].total, len(budgets[leaf].dropped)))
        budget = budgets[worst]
        dropped: list[str] = []
        for leaf in leaves:
            dropped.extend(p for p in budgets[leaf].dropped if p not in dropped)
        if budget.cut is not None:
            at = budget.cut[1]
            line = line_at_byte(files[where], at)
            what = f"Codex cuts {code_untrusted(where, 120)} at byte {at} (line {line})"
            lost = f" and never reads {shown_paths(dropped)}" if dropped else ""
        else:
            line = 1
            what = "the files before it use the whole budget"
            lost = f", so Codex never reads {shown_paths(dropped)}"
        directory = code_untrusted(worst or "/", 120)
        found.append(
            Found(
                Finding(
                    rule="agents-md/over-budget",
                    level=Level.ERROR,
                    message=f"The AGENTS chain for {directory} is {budget.total} bytes, over "
                    f"the {limit}-byte `project_doc_max_bytes` budget: {what}{lost}, "
                    "without telling anyone.",
                    path=where,
                    line=line,
                    fix="Shorten the files earlier in the chain (the root most of all) or "
                    "move guidance closer to the code it is about.",
                ),
                ("agents-md/over-budget", where),
            )
        )
    return found
