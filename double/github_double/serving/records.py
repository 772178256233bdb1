"""What the double remembers about requests and what tests arm it with."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RequestRecord:
    """One request the double answered (for counting calls per evaluation)."""

    method: str
    path: str
    template: str | None
    query: dict[str, list[str]]
    status: int
    auth: str
    installation_id: int | None
    injected: bool = False
    body: Any = None
    duration: float = 0.0


@dataclass
class Fault:
    """An injected failure or delay for the next `times` matching requests."""

    method: str
    regex: re.Pattern[str]
    status: int | None
    times: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    delay: float = 0.0

    def matches(self, method: str, path: str) -> bool:
        return self.times > 0 and self.method in ("*", method) and bool(self.regex.search(path))


@dataclass
class Tamper:
    """A debug hook that rewrites a response body before it is checked and sent."""

    method: str
    regex: re.Pattern[str]
    mutate: Callable[[Any], Any]
    times: int
