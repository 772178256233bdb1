"""Declarative event routing: one small handler per event and action.

Handlers are pure: they read the payload and return the jobs to queue. The
receiver owns I/O (de-duplication, queueing), so adding an event is one
decorated function and never touches the request path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

Payload = Mapping[str, Any]


class PayloadError(ValueError):
    """A signed payload without the fields its handler needs (answered 400)."""


@dataclass(frozen=True)
class Job:
    """A unit of work for the worker: a Celery task name and JSON-safe kwargs.

    ``countdown``: seconds before the worker may run it (a coalesced job waits out its
    window); None runs it as soon as a worker is free.
    """

    task: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    countdown: float | None = None


@dataclass(frozen=True)
class RouteContext:
    """What a handler may know besides the payload: who the App itself is."""

    app_id: int | None = None


Handler = Callable[[Payload, RouteContext], list[Job]]


class Router:
    """Maps (event, action) to handlers; ``None`` as action means any action."""

    def __init__(self) -> None:
        self._routes: dict[tuple[str, str | None], list[Handler]] = {}

    def register(self, event: str, *actions: str) -> Callable[[Handler], Handler]:
        def decorator(handler: Handler) -> Handler:
            for action in actions or (None,):
                self._routes.setdefault((event, action), []).append(handler)
            return handler

        return decorator

    def handlers_for(self, event: str, action: str | None) -> list[Handler]:
        found = list(self._routes.get((event, action), []))
        if action is not None:
            found += self._routes.get((event, None), [])
        return found

    def dispatch(
        self, event: str, payload: Payload, ctx: RouteContext | None = None
    ) -> list[Job] | None:
        """Jobs for this delivery, or None when nothing handles it."""
        action = payload.get("action")
        handlers = self.handlers_for(event, action if isinstance(action, str) else None)
        if not handlers:
            return None
        jobs: list[Job] = []
        for handler in handlers:
            jobs.extend(handler(payload, ctx or RouteContext()))
        return jobs


def need(
    payload: Payload, *path: str | int, kind: type | tuple[type, ...] = object, at: str = ""
) -> Any:
    """The value at ``path``, or PayloadError naming the missing field (under ``at``)."""
    value: Any = payload
    name = ".".join([at, *map(str, path)] if at else map(str, path))
    for key in path:
        try:
            value = value[key]
        except (KeyError, IndexError, TypeError):
            raise PayloadError(f"payload has no {name}") from None
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise PayloadError(f"payload field {name} has the wrong type")
    return value
