"""Clients that trickle a request body cannot starve real deliveries (issue 11 item 5).

The attack from the review: connections that announce ``Content-Length: 1000000``
and then send one byte every few seconds. Under the old gthread worker, ten of them
held every thread and real deliveries timed out at GitHub's 10 s. Here the Procfile's
``web`` process runs as deployed; forty slow clients stay connected while GitHub's
real ``pull_request`` deliveries are posted, and each slow client is answered 408
and disconnected once ``BODY_TIMEOUT_SECONDS`` passes.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from tests.e2e_rig import *  # noqa: F403 - fixtures
from tests.e2e_rig import Stack, wait_for
from tests.receiver_rig import queued

pytestmark = pytest.mark.e2e

SLOW_CLIENTS = 40
BODY_TIMEOUT = 3


class SlowClients:
    """Sockets that send headers promising a 1 MB body, then one byte every half second."""

    def __init__(self, port: int, count: int) -> None:
        self.port = port
        self.sockets = [self._open() for _ in range(count)]
        self.answers: dict[int, bytes] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._trickle, daemon=True)
        self._thread.start()

    def _open(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        sock.sendall(
            b"POST /api/github/webhooks HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"X-GitHub-Event: pull_request\r\nX-GitHub-Delivery: slow\r\n"
            b"Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{"
        )
        sock.setblocking(False)
        return sock

    def _trickle(self) -> None:
        """Trickle until answered; an answer is what arrived before the server closed
        (it may come in more than one segment: headers, then the body)."""
        received: dict[int, bytes] = {}
        while not self._stop.is_set():
            for i, sock in enumerate(self.sockets):
                if i in self.answers:
                    continue
                try:
                    data = sock.recv(4096)
                except BlockingIOError:
                    data = None
                except OSError:
                    data = b""
                if data:
                    received[i] = received.get(i, b"") + data
                    continue
                if data == b"":  # closed: the whole answer is in
                    self.answers[i] = received.get(i, b"")
                    continue
                if i not in received:
                    try:
                        sock.send(b" ")
                    except OSError:
                        self.answers[i] = b""
            self._stop.wait(0.5)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        for sock in self.sockets:
            sock.close()


@pytest.fixture
def web(redis_server, double, app_key) -> Iterator[Stack]:
    stack = Stack(redis_server, double, app_key[0])
    stack.env["BODY_TIMEOUT_SECONDS"] = str(BODY_TIMEOUT)
    stack.start("web")
    yield stack
    stack.stop()


def test_deliveries_are_queued_while_slow_clients_hold_connections(web, prs, redis_client):
    redis_client.delete("codex-guard")
    slow = SlowClients(web.port, SLOW_CLIENTS)
    try:
        time.sleep(0.5)  # every slow client is connected and mid-body
        assert not slow.answers, "a slow client was answered before its deadline"
        for _ in range(5):
            response = web.send("pull_request", prs.open())
            assert response.status_code == 202, response.text
        assert len(queued(redis_client)) == 5
        wait_for(
            lambda: len(slow.answers) == SLOW_CLIENTS,
            BODY_TIMEOUT + 10,
            "every slow client to be answered",
        )
    finally:
        slow.close()
    statuses = {answer.split(b"\r\n", 1)[0] for answer in slow.answers.values()}
    assert statuses == {b"HTTP/1.1 408 Request Timeout"}, statuses
    assert all(b"request body not received in time" in a for a in slow.answers.values())


def test_a_delivery_sent_in_pieces_within_the_deadline_is_accepted(web, prs, redis_client):
    """The deadline is on the whole body, not on each read: a slow but honest sender passes."""
    import json

    from bot.web import signature
    from tests.conftest import WEBHOOK_SECRET

    redis_client.delete("codex-guard")
    body = json.dumps(prs.open()).encode()
    head = (
        "POST /api/github/webhooks HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        "X-GitHub-Event: pull_request\r\nX-GitHub-Delivery: pieces-1\r\n"
        f"X-Hub-Signature-256: {signature.sign(WEBHOOK_SECRET, body)}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", web.port), timeout=10) as sock:
        sock.sendall(head)
        third = len(body) // 3 + 1
        for start in range(0, len(body), third):
            sock.sendall(body[start : start + third])
            time.sleep(0.4)
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 202"), answer[:200]
    assert len(queued(redis_client)) == 1
