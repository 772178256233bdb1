"""Gunicorn settings for the `web` process.

Settings are checked when gunicorn reads this file, before the master starts,
so a deployer's mistake is one line naming the variable, not a traceback per
worker.
"""

import os
import sys

from bot.runtime.logs import configure
from bot.runtime.settings import SettingsError, load_settings, window_from_env

try:
    _settings = load_settings()
except SettingsError as _exc:
    print(str(_exc), file=sys.stderr, flush=True)
    sys.exit(2)
try:
    window_from_env()
except ValueError as _exc:
    print(f"codex-guard: {_exc}", file=sys.stderr, flush=True)
    sys.exit(2)

workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# gevent: a connection is a greenlet, not one of a few threads, so clients that trickle
# a body (or never finish it) cannot starve deliveries; bot.web.body_deadline ends them.
worker_class = "gevent"
worker_connections = int(os.environ.get("WEB_CONNECTIONS", "1000"))
threads = 1
timeout = 30
graceful_timeout = 10
loglevel = _settings.log_level.lower()


def on_starting(server: object) -> None:
    configure(_settings.log_level, _settings.log_format)


def post_fork(server: object, worker: object) -> None:
    configure(_settings.log_level, _settings.log_format)
