"""Where a repository's rules come from: its base branch and its org's `.github` repo.

Never from the PR head: a PR must not be able to relax its own rules.

Cached in two steps so an event costs no API call and no parse once a config is known:
a ref's pointer (`config:<repo>:…` → the config file's blob SHA, or "missing"), which
a `push` touching the config drops, and the blob's text (`config-blob:<sha>`), which
never goes stale because a blob SHA names its content. Parsed configs are kept in
process by their pair of blob SHAs: merging and validating two YAML files costs
milliseconds, and every event for a repository asks for the same pair.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

from bot.core.config import CONFIG_PATH, ConfigError, GuardConfig, load_config
from bot.github.gateway import Gateway
from bot.jobs.store import Store

ORG_CACHE_SECONDS = 300
# A push that touches the config on any branch drops the pointers (see bot/web/handlers.py
# on_push); the TTL only bounds how long a missed push could leave a stale pointer.
REPO_CACHE_SECONDS = 600
BLOB_CACHE_SECONDS = 7 * 24 * 3600
PARSED_MAX = 256
_MISSING = "\0missing"


class _Parsed:
    """A small LRU of parsed configs (or their errors) by (repo blob, org blob, sources)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, ...], GuardConfig | ConfigError] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, ...]) -> GuardConfig | ConfigError | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: tuple[str, ...], value: GuardConfig | ConfigError) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


PARSED = _Parsed(PARSED_MAX)


def _cached_blob(
    gw: Gateway, store: Store, key: str, repo: str, ref: str | None, ttl: int
) -> tuple[str, str] | None:
    """(blob SHA, text) of ``CONFIG_PATH`` in ``repo`` at ``ref``; None when absent."""
    pointer = store.cached(key)
    if pointer == _MISSING:
        return None
    if pointer is not None:
        text = store.cached(f"config-blob:{pointer}")
        if text is not None:
            return pointer, text
    found = gw.file_blob(repo, CONFIG_PATH, ref)
    if found is None:
        store.cache(key, _MISSING, ttl)
        return None
    sha, text = found
    if not sha:  # the contents API always names the blob; without it, name it by its text
        sha = "text-" + hashlib.sha256(text.encode("utf-8")).hexdigest()
        found = sha, text
    # The text first: a pointer is only ever read back next to its blob.
    store.cache(f"config-blob:{sha}", text, BLOB_CACHE_SECONDS)
    store.cache(key, sha, ttl)
    return found


def _org_key(owner: str) -> str:
    # Under the `.github` repo's `config:` prefix: a push that changes the org defaults
    # there drops this pointer (the `push` handler forgets `config:<repo>*`).
    return f"config:{owner}/.github:org-defaults"


def org_config_blob(gw: Gateway, store: Store, owner: str) -> tuple[str, str] | None:
    """The org defaults on the `.github` repo's default branch, as (blob SHA, text)."""
    return _cached_blob(gw, store, _org_key(owner), f"{owner}/.github", None, ORG_CACHE_SECONDS)


def repo_config_blob(gw: Gateway, store: Store, repo: str, base_ref: str) -> tuple[str, str] | None:
    """The repo's config on ``base_ref``, as (blob SHA, text)."""
    key = f"config:{repo}:ref:{base_ref}"
    return _cached_blob(gw, store, key, repo, base_ref, REPO_CACHE_SECONDS)


def org_config_text(gw: Gateway, store: Store, owner: str) -> str | None:
    found = org_config_blob(gw, store, owner)
    return None if found is None else found[1]


def repo_config_text(gw: Gateway, store: Store, repo: str, base_ref: str) -> str | None:
    found = repo_config_blob(gw, store, repo, base_ref)
    return None if found is None else found[1]


def load_for(gw: Gateway, store: Store, repo: str, base_ref: str) -> GuardConfig:
    """The config in force for a PR into ``base_ref``; raises ConfigError when invalid."""
    repo_blob = repo_config_blob(gw, store, repo, base_ref)
    owner = repo.split("/", 1)[0]
    org_blob = None if repo.split("/", 1)[-1] == ".github" else org_config_blob(gw, store, owner)
    # In code spans: the reports quote this, and a bare `@branch` would read as a mention.
    repo_source = f"`{repo}@{base_ref}:{CONFIG_PATH}`"
    org_source = f"`{owner}/.github:{CONFIG_PATH}`"
    key = (
        repo_blob[0] if repo_blob else "-",
        org_blob[0] if org_blob else "-",
        repo_source,
        org_source,
    )
    parsed = PARSED.get(key)
    if parsed is None:
        try:
            parsed = load_config(
                repo_blob[1] if repo_blob else None,
                org_blob[1] if org_blob else None,
                repo_source=repo_source,
                org_source=org_source,
            )
        except ConfigError as exc:
            parsed = exc
        PARSED.put(key, parsed)
    if isinstance(parsed, ConfigError):
        raise ConfigError(parsed.source, parsed.detail)  # a fresh one: no traceback carried over
    return parsed
