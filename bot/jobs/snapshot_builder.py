"""Gathering a PRSnapshot from GitHub with as few calls as possible.

The practices decide what matters (which AGENTS.md files, which issues, which
build files); their pure helpers are asked first, and only that is fetched.
File contents are cached by blob SHA, which never changes meaning.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from bot.core.config import GuardConfig, PracticeLevel
from bot.core.scope_evidence import ScopeEvidence, changed_files_from_api, reviews_from_api
from bot.core.snapshot import CheckEvidence, PRSnapshot
from bot.github.gateway import MAX_PULL_FILES, Gateway
from bot.jobs.store import Store
from bot.practices import agents_md, scope, task_thread
from bot.practices.detection import needs_commit_messages
from bot.practices.scope.approvals import APPROVER_PERMISSIONS

BLOB_CACHE_SECONDS = 7 * 24 * 3600
TREE_CACHE_SECONDS = 24 * 3600
MAX_CACHED_BYTES = 2 * 1024 * 1024
MAX_LINKED_ISSUES = 3


def _texts(
    gw: Gateway, store: Store, repo: str, tree: dict[str, str], paths: list[str]
) -> dict[str, str]:
    texts: dict[str, str] = {}
    for path in paths:
        sha = tree.get(path)
        if sha is None:
            continue
        key = f"blob:{sha}"
        text = store.cached(key)
        if text is None:
            text = gw.blob_text(repo, sha)
            # Not cached: a huge file (a PR could push one per commit), or one holding a
            # credential, which must not sit in Redis for a week.
            if len(text) <= MAX_CACHED_BYTES and not agents_md.find_secrets(text):
                store.cache(key, text, BLOB_CACHE_SECONDS)
        texts[path] = text
    return texts


def _tree(gw: Gateway, store: Store, repo: str, sha: str) -> dict[str, str]:
    """A commit's tree never changes, so it is read from GitHub once per SHA."""
    key = f"tree:{repo}:{sha}"
    cached = store.cached(key)
    if cached is not None:
        return json.loads(cached)
    tree = gw.tree(repo, sha)
    encoded = json.dumps(tree, separators=(",", ":"))
    if len(encoded) <= MAX_CACHED_BYTES:
        store.cache(key, encoded, TREE_CACHE_SECONDS)
    return tree


def _changed_files(
    gw: Gateway, store: Store, repo: str, number: int, head: str, base: str
) -> list[dict[str, Any]]:
    """The PR's file entries (names, status, patches) are fixed by its head and base SHAs:
    read once per pair."""
    key = f"pull-files:{repo}#{number}:{head}:{base}"
    cached = store.cached(key) if base else None
    if cached is not None:
        return list(json.loads(cached))
    files = gw.pull_files(repo, number)
    encoded = json.dumps(files, separators=(",", ":"))
    if base and len(encoded) <= MAX_CACHED_BYTES:
        store.cache(key, encoded, TREE_CACHE_SECONDS)
    return files


def _scope_evidence(
    gw: Gateway, repo: str, base: PRSnapshot, entries: list[dict[str, Any]], config: GuardConfig
) -> ScopeEvidence:
    """The diff, and only when a person's approval is needed, its reviews and the
    permissions of the reviewers who could give it (most recent first, until one can)."""
    evidence = ScopeEvidence(
        author=base.author,
        head_sha=base.head_sha,
        files=changed_files_from_api(entries),
        files_complete=len(entries) < MAX_PULL_FILES,
    )
    scope_config = config.practices.scope
    if scope_config.level is PracticeLevel.OFF or not scope.needs_reviews(evidence, scope_config):
        return evidence
    evidence = replace(evidence, reviews=reviews_from_api(gw.pull_reviews(repo, base.number)))
    permissions: dict[str, str | None] = {}
    for login in scope.reviewers_needing_permission(evidence):
        permissions[login.lower()] = gw.permission(repo, login)
        if permissions[login.lower()] in APPROVER_PERMISSIONS:
            break
    return replace(evidence, permissions=permissions)


def build_snapshot(
    gw: Gateway,
    store: Store,
    repo: str,
    pr: dict[str, Any],
    config: GuardConfig,
    checks: list[CheckEvidence],
    *,
    practices_apply: bool,
    probe: PRSnapshot | None = None,
) -> PRSnapshot:
    """The snapshot; for a PR the practices will not run, only what detection needs.

    ``probe``: the detection-only snapshot of the same PR built before, whose reads
    (commit messages) are reused instead of asked for again.
    """
    if probe is not None:
        base = replace(probe, checks=tuple(checks))
    else:
        number = pr["number"]
        base = PRSnapshot(
            repo=repo,
            number=number,
            title=pr.get("title") or "",
            body=pr.get("body") or "",
            author=pr.get("user") or "",
            head_sha=pr["head_sha"],
            head_ref=pr.get("head_ref") or "",
            base_ref=pr.get("base_ref") or "",
            labels=tuple(pr.get("labels") or ()),
            draft=bool(pr.get("draft")),
            checks=tuple(checks),
        )
        if needs_commit_messages(base, config):
            base = replace(base, commit_messages=tuple(gw.pull_commit_messages(repo, number)))
    if not practices_apply:
        return base
    return _complete(gw, store, repo, pr, config, base)


ROOT_AGENTS = (agents_md.OVERRIDE, agents_md.AGENTS)
"""The root files whose commands the `tests` practice holds a PR to, read as at base."""


def _root_agents_at_base(
    head_tree: dict[str, str], changed: set[str], chain: list[str]
) -> list[str]:
    """Root AGENTS files to read from the base tree, so a PR cannot drop its own checks.

    Those the PR touched, and ``AGENTS.md`` when the head has none (deleted, or
    renamed away); an untouched file is the same at base and is read from the head.
    """
    wanted = [p for p in ROOT_AGENTS if p in changed and p not in chain]
    if agents_md.AGENTS not in head_tree and agents_md.AGENTS not in wanted:
        wanted.append(agents_md.AGENTS)
    return wanted


def _complete(
    gw: Gateway, store: Store, repo: str, pr: dict[str, Any], config: GuardConfig, base: PRSnapshot
) -> PRSnapshot:
    """``base`` with the files, issues and other PRs the practices read."""
    number = base.number
    head_tree = _tree(gw, store, repo, base.head_sha)
    entries = _changed_files(gw, store, repo, number, base.head_sha, pr.get("base_sha") or "")
    changed = tuple(str(e.get("filename") or "") for e in entries)
    chain = agents_md.chain_paths(head_tree.keys(), changed, config)
    head_files = _texts(gw, store, repo, head_tree, chain)
    build_files = agents_md.referenced_build_files(head_files.values(), head_tree.keys())
    head_files.update(_texts(gw, store, repo, head_tree, sorted(build_files)))
    base_files: dict[str, str] = {}
    base_sha = pr.get("base_sha") or ""
    changed_set = set(changed)
    for path in chain:
        if path not in changed_set and path in head_files:
            base_files[path] = head_files[path]  # untouched by the PR: same at base
    touched_chain = [p for p in chain if p in changed_set]
    at_base = touched_chain + _root_agents_at_base(head_tree, changed_set, chain)
    if at_base and base_sha:
        base_tree = _tree(gw, store, repo, base_sha)
        base_files.update(_texts(gw, store, repo, base_tree, at_base))
    same = [p for p in ROOT_AGENTS if p in head_tree and p not in changed_set and p not in chain]
    base_files.update(_texts(gw, store, repo, head_tree, same))  # untouched: as at base
    issues: dict[int, str] = {}
    if config.practices.done_when.read_linked_issue:
        for issue in task_thread.linked_issue_numbers(base.body, repo)[:MAX_LINKED_ISSUES]:
            if issue == number:
                continue
            text = gw.issue_body(repo, issue)
            if text is not None:
                issues[issue] = text
    others = {
        other: " ".join(f"https://chatgpt.com/codex/tasks/{t}" for t in ids)
        for other, ids in store.open_pr_tasks(repo).items()
        if other != number and ids
    }
    return replace(
        base,
        base_sha=base_sha,
        changed_files=changed,
        head_tree=frozenset(head_tree),
        head_files=head_files,
        base_files=base_files,
        issue_bodies=issues,
        other_open_prs=others,
        scope=_scope_evidence(gw, repo, base, entries, config),
    )
