"""The `codex-guard` command: output shapes, exit codes, and errors users will hit."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.core.config import json_schema
from bot.core.findings import PRACTICE_IDS
from bot.ops.cli import main
from tests.snapshots import AGENTS_MD, GOOD_BODY, TASK_URL

ROOT = Path(__file__).resolve().parents[2]

NO_DONE_WHEN = f"""## Summary
- Retry the fetcher.

Task: {TASK_URL}

## Testing
- ✅ `pytest -q`
"""

OUTCOMES = {"pass", "fail", "warn", "skip", "pending"}
LEVELS = {"error", "warning", "notice"}


@pytest.fixture
def local_snapshot() -> None:
    # Imported, not importorskip'd: a broken module must fail these tests, never skip them.
    import bot.ops.local_snapshot  # noqa: F401


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    checkout = tmp_path / "widgets"
    (checkout / "widgets").mkdir(parents=True)
    (checkout / "AGENTS.md").write_text(AGENTS_MD, encoding="utf-8")
    (checkout / "widgets" / "fetch.py").write_text("def fetch():\n    pass\n", encoding="utf-8")
    return checkout


def write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def check_json_shape(data: dict) -> None:
    """Exactly the documented CLI shape."""
    assert set(data) == {"codex_authored", "signals", "conclusion", "practices"}
    assert isinstance(data["codex_authored"], bool)
    assert isinstance(data["signals"], list)
    assert data["conclusion"] in ("success", "failure")
    assert list(data["practices"]) == list(PRACTICE_IDS)
    for practice in data["practices"].values():
        assert {"outcome", "findings"} <= set(practice)
        assert practice["outcome"] in OUTCOMES
        for finding in practice["findings"]:
            assert {"rule", "level", "message", "path", "line"} <= set(finding)
            assert finding["level"] in LEVELS


# ---------------------------------------------------------------- check


def test_check_passes_a_good_codex_pr(local_snapshot, repo, tmp_path, capsys) -> None:
    body = write(tmp_path / "body.md", GOOD_BODY)
    code, out, err = run_cli(
        ["check", "--body", body, "--repo", str(repo), "--label", "codex", "--format", "json"],
        capsys,
    )
    data = json.loads(out)
    check_json_shape(data)
    assert data["codex_authored"] is True
    assert data["conclusion"] == "success", data
    assert code == 0
    assert err == ""


def test_check_fails_without_done_when(local_snapshot, repo, tmp_path, capsys) -> None:
    body = write(tmp_path / "body.md", NO_DONE_WHEN)
    code, out, _ = run_cli(["check", "--body", body, "--repo", str(repo)], capsys)
    assert code == 1
    lines = out.splitlines()
    assert any(line.startswith("FAIL") and "done-when" in line for line in lines), out
    assert any(line.startswith("  ") and "[done-when/" in line for line in lines), out
    assert "conclusion: failure" in out
    assert "Testing section only" in out


def test_check_reads_the_body_from_stdin(local_snapshot, repo, capsys, monkeypatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(NO_DONE_WHEN))
    code, out, _ = run_cli(
        ["check", "--body", "-", "--repo", str(repo), "--format", "json"], capsys
    )
    data = json.loads(out)
    check_json_shape(data)
    assert data["practices"]["done-when"]["outcome"] == "fail"
    assert code == 1


def test_check_skips_a_human_pr(local_snapshot, repo, tmp_path, capsys) -> None:
    body = write(tmp_path / "body.md", "Fix a typo in the README.\n")
    code, out, _ = run_cli(
        ["check", "--body", body, "--repo", str(repo), "--branch", "fix-typo", "--format", "json"],
        capsys,
    )
    data = json.loads(out)
    assert data["codex_authored"] is False
    assert {p["outcome"] for p in data["practices"].values()} == {"skip"}
    assert code == 0


def test_check_uses_the_checkouts_config(local_snapshot, repo, tmp_path, capsys) -> None:
    (repo / ".github").mkdir()
    write(repo / ".github" / "codex-guard.yml", 'practices:\n  done-when:\n    level: "off"\n')
    body = write(tmp_path / "body.md", NO_DONE_WHEN)
    code, out, _ = run_cli(
        ["check", "--body", body, "--repo", str(repo), "--format", "json"], capsys
    )
    assert json.loads(out)["practices"]["done-when"]["outcome"] == "skip"
    assert code == 0, out


def test_explicit_config_wins(local_snapshot, repo, tmp_path, capsys) -> None:
    config = write(tmp_path / "guard.yml", "practices:\n  done-when:\n    level: warning\n")
    body = write(tmp_path / "body.md", NO_DONE_WHEN)
    code, out, _ = run_cli(
        ["check", "--body", body, "--repo", str(repo), "--config", config, "--format", "json"],
        capsys,
    )
    assert json.loads(out)["practices"]["done-when"]["outcome"] == "warn"
    assert code == 0


def test_unreadable_body_is_a_usage_error(repo, tmp_path, capsys) -> None:
    missing = tmp_path / "nope.md"
    code, out, err = run_cli(["check", "--body", str(missing), "--repo", str(repo)], capsys)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert "cannot read PR body file" in err and str(missing) in err


def test_invalid_config_is_a_usage_error_naming_the_key(repo, tmp_path, capsys) -> None:
    config = write(tmp_path / "guard.yml", "practices:\n  tests:\n    levle: error\n")
    body = write(tmp_path / "body.md", GOOD_BODY)
    code, _, err = run_cli(
        ["check", "--body", body, "--repo", str(repo), "--config", config], capsys
    )
    assert code == 2
    assert err.count("\n") == 1
    assert "practices.tests.levle" in err and "invalid config" in err


def test_bad_yaml_config_is_a_usage_error(repo, tmp_path, capsys) -> None:
    (repo / ".github").mkdir()
    write(repo / ".github" / "codex-guard.yml", "practices: [\n")
    body = write(tmp_path / "body.md", GOOD_BODY)
    code, _, err = run_cli(["check", "--body", body, "--repo", str(repo)], capsys)
    assert code == 2
    assert "not valid YAML" in err


def test_missing_repo_dir_is_a_usage_error(tmp_path, capsys) -> None:
    body = write(tmp_path / "body.md", GOOD_BODY)
    code, _, err = run_cli(["check", "--body", body, "--repo", str(tmp_path / "x")], capsys)
    assert code == 2 and "not a directory" in err


@pytest.mark.parametrize(
    "args",
    [[], ["check"], ["frobnicate"], ["check", "--body", "b.md", "--format", "yaml"]],
)
def test_bad_arguments_exit_2(args: list[str], capsys) -> None:
    assert main(args) == 2


def test_help_exits_0(capsys) -> None:
    assert main(["--help"]) == 0
    assert "check" in capsys.readouterr().out


# ---------------------------------------------------------------- agents-md and schema


def test_agents_md_lint_passes_a_good_file(local_snapshot, repo, capsys) -> None:
    code, out, _ = run_cli(["agents-md", str(repo), "--format", "json"], capsys)
    data = json.loads(out)
    assert data["outcome"] in ("pass", "warn"), data
    assert code == 0


def test_agents_md_lint_fails_without_a_root_file(local_snapshot, tmp_path, capsys) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("print(1)\n", encoding="utf-8")
    code, out, _ = run_cli(["agents-md", str(tmp_path)], capsys)
    assert code == 1
    assert "agents-md/missing-root" in out
    assert out.startswith("FAIL")


def test_agents_md_lint_bad_dir_is_a_usage_error(tmp_path, capsys) -> None:
    code, _, err = run_cli(["agents-md", str(tmp_path / "missing")], capsys)
    assert code == 2 and "not a directory" in err


def test_schema_prints_the_json_schema(capsys) -> None:
    code, out, _ = run_cli(["schema"], capsys)
    assert code == 0
    assert json.loads(out) == json_schema()


# ---------------------------------------------------------------- as a real process


def _command() -> list[str]:
    script = ROOT / ".venv" / "bin" / "codex-guard"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "bot.ops.cli"]


def run_process(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """`codex-guard ARGS` as its own process, from the repository root."""
    return subprocess.run(
        [*_command(), *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
        check=False,
    )


def test_runs_as_a_subprocess_with_stdin(local_snapshot, repo) -> None:
    proc = run_process(
        "check", "--body", "-", "--repo", str(repo), "--format", "json", stdin=NO_DONE_WHEN
    )
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    check_json_shape(data)
    assert data["practices"]["done-when"]["outcome"] == "fail"


def test_subprocess_usage_error_is_one_line() -> None:
    proc = run_process("check", "--body", "/nonexistent/body.md")
    assert proc.returncode == 2
    assert proc.stderr.startswith("codex-guard: cannot read PR body file")
    assert "Traceback" not in proc.stderr


def test_text_output_strips_terminal_escapes() -> None:
    from bot.core.findings import Finding, Level, Outcome, PracticeResult
    from bot.ops.cli import format_finding, format_result

    finding = Finding("tests/x", Level.ERROR, "ran `make \x1b[2J`\nfailed", "a\x1b]0;t\x07.py", 3)
    lines = format_result("tests", PracticeResult("tests", Outcome.FAIL, "bad\x1b[31m", (finding,)))
    assert lines[1] == format_finding(finding)
    assert all("\x1b" not in line and "\x07" not in line and "\n" not in line for line in lines)
    assert lines[1] == "  a]0;t.py:3: error [tests/x] ran `make [2J` failed"
