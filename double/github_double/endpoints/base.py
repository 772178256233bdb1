"""Shared plumbing for endpoint handlers: request context, replies, errors, routing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from github_double.auth import Caller
from github_double.models import Repo
from github_double.openapi_check import Operation
from github_double.render import Renderer
from github_double.state import World

MAX_TEXT = 65535


class ApiError(Exception):
    """An error answer GitHub would give; `violation` marks misuse by the app under test."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        violation: str | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.violation = violation
        self.errors = errors


def not_found(what: str = "Not Found") -> ApiError:
    return ApiError(404, what)


def unprocessable(message: str, field_name: str = "", resource: str = "") -> ApiError:
    """422 for a semantically invalid request: GitHub rejects it, and the app should not send it."""
    return ApiError(
        422,
        message,
        violation=message,
        errors=[{"resource": resource, "field": field_name, "code": "invalid", "message": message}],
    )


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Ctx:
    """Everything a handler may use for one request."""

    world: World
    render: Renderer
    op: Operation
    params: dict[str, str]
    query: dict[str, list[str]]
    body: Any
    caller: Caller
    api_path: str
    api_base: str
    bucket: str = "anonymous"
    blob_base: str = ""  # where artifact downloads redirect (the double's blob host)
    headers: dict[str, str] = field(default_factory=dict)

    def q(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def q_int(self, name: str, default: int) -> int:
        raw = self.q(name)
        try:
            return int(raw) if raw is not None else default
        except ValueError:
            return default

    def arg(self, name: str) -> Any:
        return (self.body or {}).get(name) if isinstance(self.body, dict) else None

    def repo(self) -> Repo:
        return self.world.repo(f"{self.params['owner']}/{self.params['repo']}")

    def paginate(self, items: list[Any]) -> list[Any]:
        """Slice `items` like GitHub (per_page<=100, page>=1) and set the Link header."""
        per_page = max(1, min(100, self.q_int("per_page", 30)))
        page = max(1, self.q_int("page", 1))
        last = max(1, -(-len(items) // per_page))
        links = []
        rels = [("next", page + 1), ("last", last)] if page < last else []
        if page > 1:
            rels = [("prev", page - 1), *rels, ("first", 1)]
        for rel, number in rels:
            query = {k: v[-1] for k, v in self.query.items() if k != "page"}
            query["page"] = str(number)
            links.append(f'<{self.api_base}{self.api_path}?{urlencode(query)}>; rel="{rel}"')
        if links:
            self.headers["Link"] = ", ".join(links)
        return items[(page - 1) * per_page : page * per_page]


Handler = Callable[[Ctx], Reply]
ROUTES: dict[tuple[str, str], Handler] = {}


def route(method: str, template: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        ROUTES[(method, template)] = fn
        return fn

    return register


def path_int(ctx: Ctx, name: str) -> int:
    return int(ctx.params[name])


def commit_sha(ctx: Ctx, ref: str, status: int = 404) -> str:
    sha = ctx.world.resolve_ref(ctx.repo().full_name, ref)
    if sha is None:
        if status == 422:
            raise ApiError(422, f"No commit found for SHA: {ref}")
        raise not_found(f"No commit found for the ref {ref}")
    return sha
