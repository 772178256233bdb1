"""Practice `agents-md`: the AGENTS.md files Codex will load are sound.

Codex reads one instruction file per directory from the repo root down to the
directory it works in, and stops at a byte budget without saying so. This
practice rebuilds that chain for every directory the PR touches and checks what
Codex would actually get: the budget (`chain`), stale paths (`paths`), build
targets and a runnable check (`commands`), and no committed secrets
(`bot.core.secrets`). Pure: may import only `bot.core` and `bot.practices`. The
jobs layer calls `chain_paths` and `referenced_build_files` first to know what
to fetch.
"""

from bot.core.secrets import find_secrets, mask, secrets_cut
from bot.practices.agents_md.chain import (
    AGENTS,
    MAX_TREE_PATHS,
    OVERRIDE,
    candidate_names,
    chain_paths,
    chains,
)
from bot.practices.agents_md.commands import referenced_build_files
from bot.practices.agents_md.practice import ALWAYS_INTRODUCED, PRACTICE_ID, evaluate

__all__ = [
    "AGENTS",
    "ALWAYS_INTRODUCED",
    "MAX_TREE_PATHS",
    "OVERRIDE",
    "PRACTICE_ID",
    "candidate_names",
    "chain_paths",
    "chains",
    "evaluate",
    "find_secrets",
    "mask",
    "referenced_build_files",
    "secrets_cut",
]
