"""The CLI reads no file whose real path leaves the checkout (issue 11, item 10)."""

from __future__ import annotations

import subprocess
import sys

from bot.ops.local_snapshot import snapshot_from_checkout
from tests.conftest import ROOT

OUTSIDE = "the operator's private notes: hunter2-do-not-share\n/etc/shadow-ish path\n"


def _checkout_linking_out(tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "notes.md").write_text(OUTSIDE)
    repo = tmp_path / "untrusted"
    repo.mkdir()
    (repo / "AGENTS.md").symlink_to(outside / "notes.md")
    (repo / "docs").mkdir()
    (repo / "docs" / "AGENTS.md").write_text("# Docs\nRun `pytest -q`.\n")
    (repo / "linked").symlink_to(outside, target_is_directory=True)
    return repo


def test_a_symlink_out_of_the_checkout_is_not_read(tmp_path):
    repo = _checkout_linking_out(tmp_path)
    snapshot = snapshot_from_checkout(repo, body="x", branch="codex/x")
    assert all("hunter2" not in text for text in snapshot.head_files.values())
    assert "docs/AGENTS.md" in snapshot.head_files


def test_agents_md_lint_never_quotes_a_file_outside(tmp_path):
    repo = _checkout_linking_out(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "bot.ops.cli", "agents-md", str(repo), "--format", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode in (0, 1), result.stderr
    assert "hunter2" not in result.stdout + result.stderr
    assert "shadow-ish" not in result.stdout + result.stderr


def test_a_symlink_inside_the_checkout_is_still_read(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "real.md").write_text("# Agents\nRun `pytest -q`.\n")
    (repo / "AGENTS.md").symlink_to(repo / "real.md")
    snapshot = snapshot_from_checkout(repo, body="x", branch="codex/x")
    assert "pytest -q" in snapshot.head_files.get("AGENTS.md", "")
