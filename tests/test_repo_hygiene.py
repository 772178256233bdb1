"""A clone must stand alone: git tracks no installed environment or huge file.

The tracked-file check (`scripts/check-tracked.sh`, run first by `make test`)
is exercised on throwaway repositories that re-add what once slipped in.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

CHECK = ROOT / "scripts" / "check-tracked.sh"


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def _repo(tmp_path: Path, files: dict[str, bytes]) -> Path:
    repo = tmp_path / "clone"
    repo.mkdir()
    _git(repo, "init", "-q")
    for name, content in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    _git(repo, "add", "-f", ".")
    return repo


def _check(repo: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["sh", str(CHECK), str(repo)], capture_output=True, text=True)


def test_this_checkout_tracks_no_environment():
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    result = _check(ROOT)
    assert result.returncode == 0, result.stderr


def test_a_clean_tree_passes(tmp_path):
    result = _check(_repo(tmp_path, {"bot/app.py": b"x = 1\n", "README.md": b"hi\n"}))
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "path",
    [
        ".venv/bin/python3",
        ".venv/pyvenv.cfg",
        "venv/lib/python3.11/site-packages/flask/__init__.py",
        "web/node_modules/left-pad/index.js",
        "bot/__pycache__/web.cpython-311.pyc",
        "codex_guard.egg-info/PKG-INFO",
    ],
)
def test_a_tracked_environment_fails_naming_the_path(tmp_path, path):
    result = _check(_repo(tmp_path, {"README.md": b"hi\n", path: b"#!/somewhere/else/python\n"}))
    assert result.returncode == 1
    assert path in result.stderr


def test_a_file_over_five_megabytes_fails(tmp_path):
    repo = _repo(tmp_path, {"data/dump.bin": b"\0" * (5 * 1024 * 1024 + 1), "ok.txt": b"x"})
    result = _check(repo)
    assert result.returncode == 1
    assert "data/dump.bin" in result.stderr
    assert "ok.txt" not in result.stderr


def test_a_file_of_exactly_five_megabytes_passes(tmp_path):
    result = _check(_repo(tmp_path, {"data/dump.bin": b"\0" * (5 * 1024 * 1024)}))
    assert result.returncode == 0, result.stderr


def test_outside_a_git_checkout_the_check_says_it_skipped(tmp_path):
    plain = tmp_path / "tarball"
    plain.mkdir()
    shutil.copy(CHECK, plain / "check.sh")
    result = subprocess.run(
        ["sh", "check.sh", str(plain)], cwd=plain, capture_output=True, text=True
    )
    assert result.returncode == 0
    assert "skipped" in result.stdout


def _plan(checkout: Path) -> str:
    env = {"PATH": "/usr/bin:/bin", "SETUP_DRY_RUN": "1", "PYTHON": shutil.which("python3") or ""}
    result = subprocess.run(
        ["sh", "scripts/setup.sh", "test"], cwd=checkout, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    line = result.stdout.strip()
    assert line.startswith("codex-guard: make test: Python 3.")
    return line


def _checkout(tmp_path: Path) -> Path:
    checkout = tmp_path / "another-name"
    (checkout / "scripts").mkdir(parents=True)
    for name in ("setup.sh", "env_ok.py", "ensure-redis.sh"):
        shutil.copy(ROOT / "scripts" / name, checkout / "scripts" / name)
    shutil.copy(ROOT / "pyproject.toml", checkout / "pyproject.toml")
    return checkout


def test_setup_creates_a_venv_when_there_is_none(tmp_path):
    checkout = _checkout(tmp_path)
    assert f"creating {checkout}/.venv" in _plan(checkout)


def test_a_venv_whose_interpreter_is_gone_is_rebuilt(tmp_path):
    checkout = _checkout(tmp_path)
    (checkout / ".venv" / "bin").mkdir(parents=True)
    (checkout / ".venv" / "bin" / "python").symlink_to("/nowhere/python3.11")
    assert "rebuilding" in _plan(checkout)


def test_another_checkouts_venv_is_rebuilt_not_reused(tmp_path):
    checkout = _checkout(tmp_path)
    (checkout / ".venv").symlink_to(ROOT / ".venv")
    assert "rebuilding" in _plan(checkout)


def test_a_venv_missing_the_project_is_installed_into(tmp_path):
    checkout = _checkout(tmp_path)
    subprocess.run(["python3", "-m", "venv", "--without-pip", str(checkout / ".venv")], check=True)
    assert f"installing into {checkout}/.venv" in _plan(checkout)


def test_this_checkouts_own_venv_is_reused():
    assert f"reusing {ROOT}/.venv" in _plan(ROOT)
