"""Entry point of the `worker` process: check settings, then serve the tasks.

`celery -A worker.main worker` imports this module first; a bad setting stops
the process here with one line naming the variable.
"""

import sys

from bot.runtime.logs import configure
from bot.runtime.settings import SettingsError, load_settings

try:
    _settings = load_settings()
except SettingsError as exc:
    print(str(exc), file=sys.stderr, flush=True)
    sys.exit(2)

configure(_settings.log_level, _settings.log_format)

from worker import cost_tasks, tasks  # noqa: E402,F401  (registers the tasks)
from worker.celery_app import celery_app  # noqa: E402

app = celery_app
