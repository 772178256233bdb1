"""File texts are cached by blob SHA, but not without a size bound (review finding):
a PR pushing a many-megabyte AGENTS.md on every commit must not fill Redis for a week."""

from __future__ import annotations

from bot.jobs import snapshot_builder
from bot.jobs.store import Store

REPO = "octo-org/app"


class BlobGateway:
    def __init__(self, texts: dict[str, str]) -> None:
        self.texts = texts
        self.reads = 0

    def blob_text(self, repo: str, sha: str) -> str:
        self.reads += 1
        return self.texts[sha]


def test_a_huge_file_is_read_but_not_cached(redis_client):
    huge = "x" * (snapshot_builder.MAX_CACHED_BYTES + 1)
    gw = BlobGateway({"big": huge, "small": "# AGENTS.md\n"})
    tree = {"AGENTS.md": "big", "docs/AGENTS.md": "small"}
    texts = snapshot_builder._texts(gw, Store(redis_client), REPO, tree, list(tree))
    assert texts == {"AGENTS.md": huge, "docs/AGENTS.md": "# AGENTS.md\n"}
    assert redis_client.get("codex-guard:cache:blob:big") is None
    assert redis_client.get("codex-guard:cache:blob:small") is not None


def test_a_file_holding_a_credential_is_read_but_not_cached(redis_client):
    leaky = "# Agents\nUse key AKIAIOSFODNN7EXAMPLE for the staging bucket.\n"
    gw = BlobGateway({"leaky": leaky})
    texts = snapshot_builder._texts(gw, Store(redis_client), REPO, {"AGENTS.md": "leaky"},
                                    ["AGENTS.md"])  # fmt: skip
    assert texts == {"AGENTS.md": leaky}
    assert redis_client.get("codex-guard:cache:blob:leaky") is None
    assert not any(b"AKIA" in (redis_client.get(k) or b"") for k in redis_client.keys("*"))
