"""Installations, repositories and who may do what in them."""

from __future__ import annotations

from collections.abc import Iterable

from github_double.models import LEGACY_PERMISSION, PERMISSION_LEVELS, Installation, Repo
from github_double.state.base import WorldBase


class Repos(WorldBase):
    """World methods for installations, repositories and permissions."""

    def add_installation(
        self,
        installation_id: int | None = None,
        account: str = "octo-org",
        account_type: str = "Organization",
        repos: Iterable[str] = (),
    ) -> Installation:
        with self.lock:
            inst_id = installation_id or self.new_id()
            inst = self.installations.get(inst_id)
            if inst is None:
                inst = Installation(
                    id=inst_id,
                    account=self.user(account, account_type),
                    permissions=dict(self.app.permissions),
                    events=list(self.app.events),
                )
                self.installations[inst_id] = inst
            for full_name in repos:
                self.add_repo(full_name, installation_id=inst_id)
            return inst

    def add_repo(
        self,
        full_name: str,
        *,
        installation_id: int | None = None,
        repo_id: int | None = None,
        default_branch: str = "main",
        private: bool = False,
        owner_type: str | None = None,
        owner_id: int | None = None,
    ) -> Repo:
        """Create (or return) a repository and attach it to an installation if given."""
        with self.lock:
            repo = self.repos.get(full_name.lower())
            if repo is None:
                owner_login = full_name.split("/", 1)[0]
                owner = self.user(owner_login, owner_type or "Organization", owner_id)
                repo = Repo(
                    id=repo_id or self.new_id(),
                    full_name=full_name,
                    owner=owner,
                    default_branch=default_branch,
                    private=private,
                )
                self.repos[full_name.lower()] = repo
            if installation_id is not None:
                inst = self.installations.get(installation_id) or self.add_installation(
                    installation_id, repo.owner.login, repo.owner.type
                )
                if repo.full_name not in inst.repos:
                    inst.repos.append(repo.full_name)
            return repo

    def installation_for_repo(self, full_name: str) -> Installation | None:
        with self.lock:
            for inst in self.installations.values():
                if any(r.lower() == full_name.lower() for r in inst.repos):
                    return inst
            return None

    def set_permission(self, repo: str, user: str, level: str) -> None:
        if level not in PERMISSION_LEVELS:
            raise ValueError(f"unknown permission level {level!r}")
        with self.lock:
            self.user(user)
            self.repo(repo).permissions[user.lower()] = level

    def add_team_member(self, org: str, team_slug: str, user: str, role: str = "member") -> None:
        with self.lock:
            self.user(user)
            self.team_members.setdefault((org.lower(), team_slug.lower()), {})[user.lower()] = role

    def permission(self, repo: str, user: str) -> tuple[str, str]:
        """(legacy permission, role name) as GitHub reports them."""
        with self.lock:
            r = self.repo(repo)
            role = r.permissions.get(user.lower())
            if role is None:
                if r.owner.login.lower() == user.lower():
                    role = "admin"
                else:
                    role = "none" if r.private else "read"
            return LEGACY_PERMISSION[role], role
