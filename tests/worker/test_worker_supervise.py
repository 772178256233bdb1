"""The worker process restarts a Celery worker that exits on its own (kombu's Redis
transport can end it with "Unrecoverable error" when Redis goes away mid-ack), and still
shuts down when told to. Real child processes, no mocks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from worker import supervise

ROOT = Path(__file__).resolve().parents[2]


def _child(tmp_path: Path, body: str) -> list[str]:
    script = tmp_path / "child.py"
    script.write_text(body)
    return [sys.executable, str(script), str(tmp_path)]


FAILS_TWICE = """
import sys, pathlib
runs = pathlib.Path(sys.argv[1]) / "runs"
runs.write_text(runs.read_text() + "x" if runs.exists() else "x")
sys.exit(1 if len(runs.read_text()) < 3 else 0)
"""


def test_a_worker_that_exits_with_a_failure_is_started_again(tmp_path, capsys):
    status = supervise.supervise(_child(tmp_path, FAILS_TWICE), sleep=0.01)

    assert status == 0
    assert (tmp_path / "runs").read_text() == "xxx"
    said = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [s["message"] for s in said] == ["worker exited; restarting it"] * 2
    assert said[0]["status"] == 1 and said[0]["level"] == "warning"


def test_a_worker_that_never_starts_is_given_up_on_with_its_status(tmp_path, capsys):
    status = supervise.supervise(_child(tmp_path, "import sys; sys.exit(3)"), sleep=0.01)

    assert status == 3
    out = capsys.readouterr().out
    assert out.count("restarting it") == supervise.MAX_QUICK_EXITS - 1
    assert "giving up" in out


SLEEPS_UNTIL_TERM = """
import signal, sys, time, pathlib
here = pathlib.Path(sys.argv[1])
def done(signum, frame):
    (here / "got").write_text(str(signum))
    sys.exit(0)
signal.signal(signal.SIGTERM, done)
(here / "ready").write_text("1")
time.sleep(60)
"""


def _settings_env(private_pem: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PRIVATE_KEY_PATH"}
    env.update(APP_ID="1", WEBHOOK_SECRET="s3cret", PRIVATE_KEY=private_pem)
    return env


def test_sigterm_reaches_the_worker_and_nothing_is_restarted(tmp_path, app_key):
    proc = subprocess.Popen(
        [sys.executable, "-m", "worker.supervise", *_child(tmp_path, SLEEPS_UNTIL_TERM)],
        cwd=ROOT,
        env=_settings_env(app_key[0]),
        stdout=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 20
    while not (tmp_path / "ready").exists():
        assert time.monotonic() < deadline, "the child never started"
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)

    assert proc.wait(timeout=20) == 0
    assert (tmp_path / "got").read_text() == str(int(signal.SIGTERM))
    assert "restarting" not in (proc.stdout.read() if proc.stdout else "")


def test_a_bad_setting_is_one_line_and_no_worker_is_started(tmp_path, app_key):
    env = _settings_env(app_key[0])
    del env["APP_ID"]
    done = subprocess.run(
        [sys.executable, "-m", "worker.supervise", *_child(tmp_path, FAILS_TWICE)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == ["codex-guard: APP_ID is not set"]
    assert not (tmp_path / "runs").exists()


def test_without_a_command_it_says_how_to_call_it(capsys):
    assert supervise.main([]) == 2
    assert "usage: python -m worker.supervise" in capsys.readouterr().err
