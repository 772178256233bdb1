"""Logging as JSON lines (or text for a terminal), carrying delivery context.

Every line about a delivery carries its ID, installation, repository, PR and
head SHA so one delivery can be followed from webhook to check run. Lines
written during an evaluation are scrubbed of the PR's secrets (`bot.core.scrub`).
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bot.core import scrub

_context: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "codex_guard_log_context", default=None
)
CONTEXT_KEYS = ("delivery", "event", "installation", "repo", "pr", "head_sha", "task")


@contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    merged = {**(_context.get() or {}), **{k: v for k, v in fields.items() if v is not None}}
    token = _context.set(merged)
    try:
        yield
    finally:
        _context.reset(token)


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (_context.get() or {}).items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in CONTEXT_KEYS:
            value = getattr(record, key, None)
            if value is not None:
                data[key] = value
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            data.update(extra)
        if record.exc_info:
            data["error"] = self.formatException(record.exc_info).splitlines()[-1]
        return json.dumps(scrub.current().data(data), default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        ctx = " ".join(
            f"{k}={getattr(record, k)}"
            for k in CONTEXT_KEYS
            if getattr(record, k, None) is not None
        )
        line = f"{record.levelname.lower():7} {record.name}: {record.getMessage()}"
        return scrub.current()(f"{line} [{ctx}]" if ctx else line)


def configure(level: str = "INFO", fmt: str = "json") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(_ContextFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("urllib3", "github", "werkzeug"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
