"""A deadline on reading a request body, so a slow sender cannot hold the receiver.

Under gunicorn's gevent worker (the Procfile's) each connection is a greenlet, so a
client that trickles its body costs a little memory, not a thread; the deadline then
frees even that after ``BODY_TIMEOUT_SECONDS`` with a 408. Elsewhere (Flask's test
client, ``flask run``) there is no cooperative socket to interrupt and reading is
unbounded, which is why the Procfile and the deployment docs run gevent.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager


class BodyTimeout(Exception):
    """The body did not arrive within the deadline."""


def _cooperative() -> bool:
    monkey = sys.modules.get("gevent.monkey")
    return monkey is not None and bool(monkey.is_module_patched("socket"))


@contextmanager
def body_deadline(seconds: float) -> Iterator[None]:
    """Raise ``BodyTimeout`` if the block (a body read) takes longer than ``seconds``."""
    if not _cooperative():
        yield
        return
    from gevent import Timeout

    timer = Timeout(seconds, BodyTimeout)
    timer.start()
    try:
        yield
    finally:
        timer.close()
