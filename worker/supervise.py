"""Keep the Celery worker running across a broker outage, even when Celery gives up.

Celery reconnects to Redis by itself, but a connection lost at the wrong moment (an ack
in flight while Redis goes away) can end the worker with "Unrecoverable error" from
kombu's Redis transport. Platforms that run a Procfile differ on whether they restart a
process that exits (Heroku does, honcho and foreman do not), so the worker process
supervises its own Celery worker: it restarts one that exits on its own with a failure,
and passes SIGTERM/SIGINT on so a deploy still gets Celery's warm shutdown.

A bad setting is reported once, before any worker starts (one line naming the variable,
exit status 2), and a worker that keeps failing within seconds of starting is not
restarted for ever: after a few such exits the supervisor exits with its status.

    python -m worker.supervise celery --app worker.main worker ...
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from types import FrameType

from bot.runtime.settings import SettingsError, load_settings

QUICK_EXIT_SECONDS = 10.0  # a child that dies sooner than this counts as a quick failure
MAX_QUICK_EXITS = 5
MAX_BACKOFF_SECONDS = 30.0


def _say(level: str, message: str, **fields: object) -> None:
    """One JSON line, the shape the rest of the worker logs in."""
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    record = {"time": now, "level": level, "logger": "codex_guard.supervise", "message": message}
    print(json.dumps({**record, **fields}), flush=True)


def supervise(command: list[str], *, sleep: float = 1.0) -> int:
    """Run ``command``, restarting it after a failed exit; return the final exit status."""
    stopping = False
    child: subprocess.Popen[bytes] | None = None

    def forward(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    quick_exits, backoff = 0, sleep
    while True:
        started = time.monotonic()
        child = subprocess.Popen(command)  # noqa: S603 - the Procfile's own command line
        status = child.wait()
        if stopping or status == 0:
            return status
        lived = time.monotonic() - started
        quick_exits = quick_exits + 1 if lived < QUICK_EXIT_SECONDS else 0
        if lived >= QUICK_EXIT_SECONDS:
            backoff = sleep
        if quick_exits >= MAX_QUICK_EXITS:
            _say("error", "worker keeps exiting right after start; giving up", status=status)
            return status
        _say("warning", "worker exited; restarting it", status=status, after_seconds=backoff)
        deadline = time.monotonic() + backoff
        while not stopping and time.monotonic() < deadline:
            time.sleep(0.1)
        if stopping:
            return status
        backoff = min(MAX_BACKOFF_SECONDS, backoff * 2)


def main(argv: list[str] | None = None) -> int:
    command = list(sys.argv[1:] if argv is None else argv)
    if not command:
        print("usage: python -m worker.supervise COMMAND [ARG...]", file=sys.stderr)
        return 2
    try:
        load_settings()
    except SettingsError as exc:
        print(str(exc), file=sys.stderr, flush=True)
        return 2
    return supervise(command)


if __name__ == "__main__":
    sys.exit(main())
