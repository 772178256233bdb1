"""Identities the rest of the world builds on: ids, accounts, Apps, repository lookup.

One re-entrant lock guards everything because the double answers requests from a
threaded server while tests seed and inspect the same world from the main thread.
"""

from __future__ import annotations

import itertools
import secrets
import threading
from typing import Any

from github_double.models import (
    Account,
    App,
    Artifact,
    CheckRun,
    Comment,
    Delivery,
    Installation,
    NotFound,
    Repo,
    Status,
    Token,
    WorkflowRun,
)


class WorldBase:
    """The world's records and lock; the resource mixins add the methods that change them."""

    def __init__(self, app_id: int, app_slug: str = "codex-guard", rate_limit: int = 5000):
        self.lock = threading.RLock()
        self._ids = itertools.count(1001)
        self.rate_limit = rate_limit
        self.users: dict[str, Account] = {}
        owner = self.user("codex-guard-dev", "Organization")
        self.app = App(
            id=app_id,
            slug=app_slug,
            name=app_slug.replace("-", " ").title(),
            owner=owner,
            permissions={
                "actions": "read",
                "checks": "write",
                "contents": "read",
                "issues": "write",
                "metadata": "read",
                "pull_requests": "write",
                "statuses": "write",
            },
            events=["check_run", "issue_comment", "pull_request"],
        )
        self.bot = self.user(self.app.bot_login, "Bot")
        self.other_apps: dict[str, App] = {}
        self.installations: dict[int, Installation] = {}
        self.repos: dict[str, Repo] = {}
        self.comments_by_id: dict[int, Comment] = {}
        self.check_runs_by_id: dict[int, CheckRun] = {}
        self.suites: dict[tuple[str, str, int], int] = {}
        self.statuses: list[Status] = []
        self.workflow_runs_by_id: dict[int, WorkflowRun] = {}
        self.artifacts_by_id: dict[int, Artifact] = {}
        self.blob_key = secrets.token_bytes(16)  # signs the artifact download URLs
        self.deliveries: dict[int, Delivery] = {}
        self.redeliveries: list[int] = []
        self.manifests: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, Token] = {}
        self.rate_usage: dict[str, tuple[float, int]] = {}
        self.reviews: dict[tuple[str, int], list[dict[str, Any]]] = {}
        self.team_members: dict[tuple[str, str], dict[str, str]] = {}
        self.hook_config: dict[str, Any] = {
            "content_type": "json",
            "insecure_ssl": "0",
            "url": self.app.webhook_url,
        }

    def new_id(self) -> int:
        with self.lock:
            return next(self._ids)

    def user(self, login: str, kind: str = "User", user_id: int | None = None) -> Account:
        """Get or create an account; ids are stable for the life of the world."""
        with self.lock:
            acct = self.users.get(login.lower())
            if acct is None:
                acct = Account(login=login, id=user_id or self.new_id(), type=kind)
                self.users[login.lower()] = acct
            return acct

    def other_app(self, slug: str) -> App:
        """Another App (e.g. `github-actions`) that owns CI check runs."""
        with self.lock:
            if slug == self.app.slug:
                return self.app
            app = self.other_apps.get(slug)
            if app is None:
                app_id = 15368 if slug == "github-actions" else self.new_id()
                app = App(
                    id=app_id, slug=slug, name=slug, owner=self.user("github", "Organization")
                )
                self.other_apps[slug] = app
            return app

    def app_by_id(self, app_id: int) -> App | None:
        with self.lock:
            for app in [self.app, *self.other_apps.values()]:
                if app.id == app_id:
                    return app
            return None

    def repo(self, full_name: str) -> Repo:
        with self.lock:
            repo = self.repos.get(full_name.lower())
            if repo is None:
                raise NotFound(full_name)
            return repo
