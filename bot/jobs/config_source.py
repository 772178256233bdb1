"""Where a repository's rules come from: its base branch and its org's `.github` repo.

Never from the PR head: a PR must not be able to relax its own rules.
"""

from __future__ import annotations

from bot.core.config import CONFIG_PATH, GuardConfig, load_config
from bot.github.gateway import Gateway
from bot.jobs.store import Store

ORG_CACHE_SECONDS = 300
# A push that touches the config on any branch drops these (see bot/web/handlers.py on_push);
# the TTL only bounds how long a missed push could leave a stale copy.
REPO_CACHE_SECONDS = 600
_MISSING = "\0missing"


def _cached_file(
    gw: Gateway, store: Store, key: str, repo: str, ref: str | None, ttl: int
) -> str | None:
    """``CONFIG_PATH`` in ``repo`` at ``ref``, absence cached too (as ``_MISSING``)."""
    cached = store.cached(key)
    if cached is not None:
        return None if cached == _MISSING else cached
    text = gw.file_text(repo, CONFIG_PATH, ref)
    store.cache(key, _MISSING if text is None else text, ttl)
    return text


def org_config_text(gw: Gateway, store: Store, owner: str) -> str | None:
    # Under the `.github` repo's `config:` prefix: a push that changes the org defaults
    # there drops this copy (the `push` handler forgets `config:<repo>*`).
    key = f"config:{owner}/.github:org-defaults"
    return _cached_file(gw, store, key, f"{owner}/.github", None, ORG_CACHE_SECONDS)


def repo_config_text(gw: Gateway, store: Store, repo: str, base_ref: str) -> str | None:
    """The repo's config on ``base_ref``, cached until a push changes it (or a short TTL)."""
    key = f"config:{repo}:ref:{base_ref}"
    return _cached_file(gw, store, key, repo, base_ref, REPO_CACHE_SECONDS)


def load_for(gw: Gateway, store: Store, repo: str, base_ref: str) -> GuardConfig:
    """The config in force for a PR into ``base_ref``; raises ConfigError when invalid."""
    repo_text = repo_config_text(gw, store, repo, base_ref)
    owner = repo.split("/", 1)[0]
    org_text = None if repo.split("/", 1)[-1] == ".github" else org_config_text(gw, store, owner)
    return load_config(
        repo_text,
        org_text,
        # In code spans: the reports quote this, and a bare `@branch` would read as a mention.
        repo_source=f"`{repo}@{base_ref}:{CONFIG_PATH}`",
        org_source=f"`{owner}/.github:{CONFIG_PATH}`",
    )
