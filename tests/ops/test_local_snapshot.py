"""The offline snapshot the CLI builds from a checkout."""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.core.config import load_config
from bot.core.findings import Level, Outcome
from bot.ops.local_snapshot import snapshot_from_checkout, walk_tree
from bot.practices import agents_md, passing_tests

CASES = Path(__file__).resolve().parents[1] / "fixtures" / "agents"


def checkout(tmp_path: Path, case: str) -> Path:
    repo = tmp_path / case
    shutil.copytree(CASES / case, repo)
    for junk in (".git/objects/ab", "node_modules/left-pad", ".venv/lib"):
        (repo / junk).mkdir(parents=True)
        (repo / junk / "AGENTS.md").write_text("ignored\n")
    return repo


def test_monorepo_lints_every_agents_file(tmp_path: Path) -> None:
    repo = checkout(tmp_path, "monorepo")
    snapshot = snapshot_from_checkout(repo, "## Testing\n- `npm test`\n", branch="codex/x",
                                      labels=("codex",))  # fmt: skip
    assert "services/api/src/server.ts" in snapshot.head_tree
    assert not any(p.startswith(("node_modules", ".git/", ".venv")) for p in snapshot.head_tree)
    assert sorted(snapshot.head_files) == [
        "AGENTS.md",
        "Makefile",
        "package.json",
        "services/api/AGENTS.override.md",  # services/api/AGENTS.md is shadowed
        "services/api/package.json",
        "services/web/AGENTS.md",
        "services/web/package.json",
    ]
    assert snapshot.checks is None
    assert snapshot.base_files == {}  # offline: every problem counts as introduced
    assert snapshot.head_ref == "codex/x" and snapshot.labels == ("codex",)
    assert snapshot.changed_files == ()


def test_changed_files_restrict_the_chain(tmp_path: Path) -> None:
    repo = checkout(tmp_path, "monorepo")
    snapshot = snapshot_from_checkout(repo, "", changed_files=["services/web/src/app.tsx"])
    assert sorted(p for p in snapshot.head_files if p.endswith(".md")) == [
        "AGENTS.md",
        "services/web/AGENTS.md",
    ]
    assert snapshot.changed_files == ("services/web/src/app.tsx",)


def test_offline_lint_is_strict_and_masks_secrets(tmp_path: Path) -> None:
    stale = agents_md.evaluate(snapshot_from_checkout(checkout(tmp_path, "stale"), ""),
                               load_config(None))  # fmt: skip
    assert stale.outcome is Outcome.FAIL
    assert Level.ERROR in {f.level for f in stale.findings}
    assert {"agents-md/missing-path", "agents-md/missing-target"} <= {
        f.rule for f in stale.findings
    }
    secrets = agents_md.evaluate(snapshot_from_checkout(checkout(tmp_path, "secrets"), ""),
                                 load_config(None))  # fmt: skip
    assert secrets.outcome is Outcome.FAIL
    assert "AKIAIOSFODNN7EXAMPLE" not in "".join(f.message for f in secrets.findings)


def test_tests_practice_reads_notes_only_offline(tmp_path: Path) -> None:
    snapshot = snapshot_from_checkout(checkout(tmp_path, "tiny"), "## Testing\n- ✅ `pytest -q`\n")
    result = passing_tests.evaluate(snapshot, load_config(None))
    assert result.reason == passing_tests.OFFLINE_REASON
    assert [f.rule for f in result.findings] == ["tests/agents-check-missing"]  # ruff check .


def test_fallback_filenames_need_the_config(tmp_path: Path) -> None:
    (tmp_path / "CLAUDE.md").write_text("Run `pytest`.\n")
    cfg = load_config("practices: {agents-md: {fallback_filenames: [CLAUDE.md]}}")
    assert list(snapshot_from_checkout(tmp_path, "", config=cfg).head_files) == ["CLAUDE.md"]
    assert dict(snapshot_from_checkout(tmp_path, "").head_files) == {}


def test_walk_is_bounded(tmp_path: Path) -> None:
    for i in range(30):
        (tmp_path / f"f{i}.txt").write_text("")
    assert len(walk_tree(tmp_path, limit=10)) == 10
