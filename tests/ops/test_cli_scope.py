"""`codex-guard check --base REF`: the `scope` practice offline, from `git diff REF...HEAD`
of a real git checkout (issue 12)."""

from __future__ import annotations

import json
import secrets
import subprocess
from pathlib import Path

import pytest

from bot.core.diff_patch import git_diff_entries
from bot.ops.cli import main
from tests.snapshots import AGENTS_MD, GOOD_BODY


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        check=True,
        capture_output=True,
    )


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "app").mkdir(parents=True)
    (repo / "AGENTS.md").write_text(AGENTS_MD)
    (repo / "app" / "export.py").write_text("x = 1\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    git(repo, "checkout", "-q", "-b", "codex/change")
    return repo


def check(capsys, repo: Path, tmp_path: Path, *extra: str) -> tuple[int, dict]:
    body = tmp_path / "body.md"
    body.write_text(GOOD_BODY)
    code = main(["check", "--body", str(body), "--repo", str(repo), "--format", "json", *extra])
    out = capsys.readouterr().out
    return code, (json.loads(out) if out.strip() else {})


def test_a_branch_changing_a_workflow_and_adding_a_token_fails_scope(checkout, tmp_path, capsys):
    token = "ghp_" + secrets.token_hex(18)
    (checkout / ".github" / "workflows").mkdir(parents=True)
    (checkout / ".github" / "workflows" / "ci.yml").write_text("on: push\n")
    (checkout / "app" / "export.py").write_text(f'x = 2\nTOKEN = "{token}"\n')
    git(checkout, "add", "-A")
    git(checkout, "commit", "-q", "-m", "change")
    code, report = check(capsys, checkout, tmp_path, "--base", "main")
    scope = report["practices"]["scope"]
    assert code == 1 and scope["outcome"] == "fail"
    rules = {f["rule"]: f for f in scope["findings"]}
    assert set(rules) == {"scope/protected-path", "scope/credential"}
    assert rules["scope/credential"]["path"] == "app/export.py"
    assert rules["scope/credential"]["line"] == 2
    assert token not in json.dumps(report) and token[4:20] not in json.dumps(report)


def test_an_ordinary_branch_passes_scope_and_without_base_it_is_skipped(checkout, tmp_path, capsys):
    (checkout / "app" / "export.py").write_text("x = 3\n")
    git(checkout, "commit", "-q", "-am", "change")
    _, report = check(capsys, checkout, tmp_path, "--base", "main")
    assert report["practices"]["scope"]["outcome"] == "pass"
    _, report = check(capsys, checkout, tmp_path)
    assert report["practices"]["scope"]["outcome"] == "skip"


def test_an_unknown_base_is_a_one_line_usage_error(checkout, tmp_path, capsys):
    body = tmp_path / "body.md"
    body.write_text(GOOD_BODY)
    written = tmp_path / "written"
    for ref in ("no-such-branch", f"--output={written}"):
        code = main(["check", "--body", str(body), "--repo", str(checkout), f"--base={ref}"])
        err = capsys.readouterr().err
        assert code == 2 and len(err.strip().splitlines()) == 1, err
    # An option smuggled in as the ref is refused, not passed to git (which would write
    # the diff to `written...HEAD`).
    assert list(tmp_path.glob("written*")) == []


def test_git_diff_is_read_as_github_lists_pull_request_files():
    diff = (
        "diff --git a/old.py b/new.py\nsimilarity index 90%\nrename from old.py\n"
        "rename to new.py\n--- a/old.py\n+++ b/new.py\n@@ -1 +1,2 @@\n x\n+y\n"
        "diff --git a/logo.png b/logo.png\nnew file mode 100644\n"
        "Binary files /dev/null and b/logo.png differ\n"
        "diff --git a/gone.txt b/gone.txt\ndeleted file mode 100644\n--- a/gone.txt\n"
        "+++ /dev/null\n@@ -1 +0,0 @@\n-bye\n"
    )
    renamed, binary, removed = git_diff_entries(diff)
    assert renamed["status"] == "renamed" and renamed["previous_filename"] == "old.py"
    assert renamed["filename"] == "new.py" and renamed["additions"] == 1
    assert binary == {"filename": "logo.png", "status": "added", "additions": 1}
    assert removed["status"] == "removed" and removed["additions"] == 0
