"""`make run` without credentials: the sandbox demo over the real path."""

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.e2e


def test_sandbox_demo_prints_the_check_run_and_comment(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("APP_ID", "WEBHOOK_SECRET")}
    env["PORT"] = "0"
    result = subprocess.run(
        [sys.executable, "-m", "bot.ops.devserver", "--once"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    out = result.stdout
    assert result.returncode == 0, result.stdout + result.stderr
    assert "running against the built-in GitHub sandbox" in out
    assert "sent a signed pull_request.opened delivery: HTTP 202" in out
    assert "Check run `codex-guard` on Codertocat/Hello-World@5f3c2a1: failure" in out
    assert "done-when/missing" in out
    assert "<!-- codex-guard:pr-comment -->" in out
    assert "checked against GitHub's OpenAPI description" in out
