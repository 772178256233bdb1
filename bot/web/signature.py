"""Webhook signature verification (`X-Hub-Signature-256`).

Only HMAC-SHA256 is accepted: the legacy SHA-1 header is ignored even when
valid, and the digest is compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid

PREFIX = "sha256="


def sign(secret: str, body: bytes) -> str:
    """The header value GitHub would send for ``body``."""
    return PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secrets: tuple[str, ...] | list[str], body: bytes, header: str | None) -> bool:
    """True when ``header`` is a valid SHA-256 signature of ``body`` under any secret."""
    if not header or not header.startswith(PREFIX):
        return False
    given = header.encode("ascii", "replace")
    ok = False
    for secret in secrets:
        # Check every secret so timing does not reveal which one matched.
        ok |= hmac.compare_digest(sign(secret, body).encode(), given)
    return ok


def delivery_headers(
    event: str, body: bytes, secret: str, delivery: str | None = None, agent: str | None = None
) -> dict[str, str]:
    """The headers of a signed delivery as GitHub sends them, for whatever plays GitHub:
    the dev server's demo, the tests and the benchmarks."""
    headers = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": sign(secret, body),
        "Content-Type": "application/json",
    }
    if agent is not None:
        headers["User-Agent"] = f"GitHub-Hookshot/{agent}"
    return headers
