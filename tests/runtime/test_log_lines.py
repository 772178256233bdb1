"""Logs are JSON lines (or plain text for a terminal) carrying the delivery ID,
installation, repository, PR and head SHA (issue 6)."""

from __future__ import annotations

import io
import json
import logging

import pytest

from bot.runtime import logs

# -- log lines carry the delivery's context ---------------------------------------------------


def _capture(fmt: str) -> tuple[logging.Logger, io.StringIO]:
    logs.configure("INFO", fmt)
    stream = io.StringIO()
    handler = logging.getLogger().handlers[0]
    handler.setStream(stream)
    return logging.getLogger("codex_guard.test_log_lines"), stream


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    yield
    for h in list(root.handlers):
        root.removeHandler(h)
    for h in saved[0]:
        root.addHandler(h)
    root.setLevel(saved[1])


def test_json_log_lines_carry_the_delivery_context(restore_logging) -> None:
    log, stream = _capture("json")
    ctx = {"delivery": "d-1", "installation": 7, "repo": "o/r", "pr": 3, "head_sha": "a" * 40}
    with logs.log_context(**ctx):
        with logs.log_context(task="evaluate"):
            log.info("evaluated: %s", "success")
    log.info("outside")
    inside, outside = (json.loads(line) for line in stream.getvalue().splitlines())
    assert inside["message"] == "evaluated: success"
    assert inside["level"] == "info" and inside["logger"] == "codex_guard.test_log_lines"
    assert {k: inside[k] for k in ctx} == ctx
    assert inside["task"] == "evaluate"
    # The context ends with its block: the next line carries none of it.
    assert not set(ctx) & set(outside)


def test_text_log_lines_for_a_terminal(restore_logging) -> None:
    log, stream = _capture("text")
    with logs.log_context(delivery="d-2", repo="o/r", pr=9):
        log.warning("slow")
    line = stream.getvalue().strip()
    assert not line.startswith("{")
    assert "warning" in line and "slow" in line
    assert "delivery=d-2" in line and "repo=o/r" in line and "pr=9" in line
