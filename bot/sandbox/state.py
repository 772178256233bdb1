"""The in-memory GitHub world the double serves: apps, installations, repos, PRs, checks.

Everything lives behind one re-entrant lock because the double answers requests from a
threaded server while tests seed and inspect the same world from the main thread.
"""

from __future__ import annotations

import hashlib
import itertools
import secrets
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

from bot.sandbox.models import (
    LEGACY_PERMISSION,
    PERMISSION_LEVELS,
    Account,
    App,
    CheckRun,
    Comment,
    Commit,
    Delivery,
    Installation,
    Issue,
    NotFound,
    Pull,
    Repo,
    Seeded,
    Status,
    Token,
    as_bytes,
    git_blob_sha,
    git_tree_sha,
    iso,
)

__all__ = [
    "PERMISSION_LEVELS",
    "Account",
    "App",
    "CheckRun",
    "Comment",
    "Commit",
    "Delivery",
    "Installation",
    "Issue",
    "NotFound",
    "Pull",
    "Repo",
    "Seeded",
    "Status",
    "Token",
    "World",
    "git_blob_sha",
    "iso",
]


class World:
    """All state the double serves. Public methods are safe to call from any thread."""

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

    # -- identities -------------------------------------------------------------------------

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

    # -- installations and repositories -----------------------------------------------------

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

    def repo(self, full_name: str) -> Repo:
        with self.lock:
            repo = self.repos.get(full_name.lower())
            if repo is None:
                raise NotFound(full_name)
            return repo

    def installation_for_repo(self, full_name: str) -> Installation | None:
        with self.lock:
            for inst in self.installations.values():
                if any(r.lower() == full_name.lower() for r in inst.repos):
                    return inst
            return None

    # -- git data ---------------------------------------------------------------------------

    def put_files(
        self,
        repo: str,
        sha: str,
        files: Mapping[str, str | bytes],
        *,
        base: str | None = None,
        delete: Iterable[str] = (),
        message: str | None = None,
        branch: str | None = None,
    ) -> Commit:
        """Set files of commit `sha` (created if new, starting from `base`'s files)."""
        with self.lock:
            r = self.repo(repo)
            commit = r.commits.get(sha)
            if commit is None:
                start = dict(r.commits[base].files) if base in r.commits else {}
                commit = Commit(
                    sha=sha,
                    files=start,
                    message=message or f"Commit {sha[:7]}",
                    parents=[base] if base else [],
                )
                r.commits[sha] = commit
            elif message:
                commit.message = message
            for path, content in files.items():
                data = as_bytes(content)
                commit.files[path.strip("/")] = data
                r.blobs[git_blob_sha(data)] = data
            for path in delete:
                commit.files.pop(path.strip("/"), None)
            if branch:
                r.branches[branch] = sha
            return commit

    def commit_files(
        self,
        repo: str,
        files: Mapping[str, str | bytes],
        *,
        base: str | None = None,
        delete: Iterable[str] = (),
        message: str = "Update files",
        branch: str | None = None,
    ) -> str:
        """Create a new commit with a fresh SHA on top of `base`; returns the SHA."""
        with self.lock:
            seed = f"{repo}|{base}|{message}|{sorted(files)}|{self.new_id()}".encode()
            sha = hashlib.sha1(seed, usedforsecurity=False).hexdigest()
            self.put_files(
                repo, sha, files, base=base, delete=delete, message=message, branch=branch
            )
            return sha

    def set_branch(self, repo: str, branch: str, sha: str) -> None:
        with self.lock:
            r = self.repo(repo)
            r.branches[branch] = sha
            r.commits.setdefault(sha, Commit(sha=sha, message=f"Commit {sha[:7]}"))

    def resolve_ref(self, repo: str, ref: str) -> str | None:
        """Commit SHA for a SHA, unique SHA prefix, branch name or `refs/heads/...`."""
        with self.lock:
            r = self.repo(repo)
            if ref in r.commits:
                return ref
            name = ref.removeprefix("refs/").removeprefix("heads/")
            if name in r.branches:
                return r.branches[name]
            if len(ref) >= 7:
                hits = [sha for sha in r.commits if sha.startswith(ref)]
                if len(hits) == 1:
                    return hits[0]
            return None

    def root_tree(self, repo: str, sha: str) -> str:
        """Build (and index) the git trees of a commit; returns the root tree SHA."""
        with self.lock:
            r = self.repo(repo)
            files = r.commits[sha].files
            return self._build_tree(r, "", files)

    def _build_tree(self, r: Repo, prefix: str, files: Mapping[str, bytes]) -> str:
        blobs: list[tuple[str, str, str, str]] = []
        subdirs: dict[str, dict[str, bytes]] = {}
        for path, data in files.items():
            rel = path[len(prefix) :] if prefix else path
            head, sep, _ = rel.partition("/")
            if sep:
                subdirs.setdefault(head, {})[path] = data
            else:
                sha = git_blob_sha(data)
                r.blobs[sha] = data
                blobs.append(("100644", "blob", head, sha))
        for name, sub in subdirs.items():
            sub_sha = self._build_tree(r, f"{prefix}{name}/", sub)
            blobs.append(("40000", "tree", name, sub_sha))
        tree_sha = git_tree_sha((mode, name, sha) for mode, _, name, sha in blobs)
        r.trees[tree_sha] = sorted(blobs, key=lambda e: e[2])
        return tree_sha

    # -- pull requests, issues, comments ------------------------------------------------------

    def add_pull(
        self,
        repo: str,
        *,
        number: int | None = None,
        title: str = "Update",
        body: str | None = "",
        user: str = "octocat",
        head_ref: str = "feature",
        head_sha: str | None = None,
        base_ref: str | None = None,
        base_sha: str | None = None,
        labels: Iterable[str] = (),
        state: str = "open",
        draft: bool = False,
        commits: Iterable[str] | None = None,
        pull_id: int | None = None,
    ) -> Pull:
        """Add a PR; head/base commits are created empty if they do not exist yet."""
        with self.lock:
            r = self.repo(repo)
            base_ref = base_ref or r.default_branch
            base_sha = base_sha or r.branches.get(base_ref) or self.commit_files(repo, {})
            head_sha = head_sha or self.commit_files(repo, {}, base=base_sha)
            for sha in (base_sha, head_sha):
                r.commits.setdefault(sha, Commit(sha=sha, message=f"Commit {sha[:7]}"))
            r.branches.setdefault(base_ref, base_sha)
            r.branches[head_ref] = head_sha
            pull = Pull(
                number=number or r.next_number(),
                id=pull_id or self.new_id(),
                title=title,
                body=body,
                user=self.user(user),
                head_ref=head_ref,
                head_sha=head_sha,
                base_ref=base_ref,
                base_sha=base_sha,
                labels=list(labels),
                state=state,
                draft=draft,
                commits=list(commits) if commits is not None else [head_sha],
            )
            r.pulls[pull.number] = pull
            return pull

    def pull(self, repo: str, number: int) -> Pull:
        with self.lock:
            pull = self.repo(repo).pulls.get(number)
            if pull is None:
                raise NotFound(f"{repo}#{number}")
            return pull

    def add_issue(
        self,
        repo: str,
        *,
        number: int | None = None,
        title: str = "Issue",
        body: str | None = "",
        user: str = "octocat",
        labels: Iterable[str] = (),
        state: str = "open",
    ) -> Issue:
        with self.lock:
            r = self.repo(repo)
            issue = Issue(
                number=number or r.next_number(),
                id=self.new_id(),
                title=title,
                body=body,
                user=self.user(user),
                labels=list(labels),
                state=state,
            )
            r.issues[issue.number] = issue
            return issue

    def add_comment(
        self,
        repo: str,
        number: int,
        body: str,
        user: str | None = None,
        comment_id: int | None = None,
    ) -> Comment:
        """Add an issue/PR comment; `user=None` means the App's bot posted it."""
        with self.lock:
            self.repo(repo)
            author = self.bot if user is None else self.user(user)
            comment = Comment(
                id=comment_id or self.new_id(),
                repo=self.repo(repo).full_name,
                issue_number=number,
                body=body,
                user=author,
            )
            self.comments_by_id[comment.id] = comment
            return comment

    def comments(self, repo: str, number: int) -> list[Comment]:
        with self.lock:
            return [
                c
                for c in self.comments_by_id.values()
                if c.repo.lower() == repo.lower() and c.issue_number == number
            ]

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

    # -- checks and statuses ----------------------------------------------------------------

    def suite_id(self, repo: str, head_sha: str, app: App) -> int:
        with self.lock:
            key = (repo.lower(), head_sha, app.id)
            if key not in self.suites:
                self.suites[key] = self.new_id()
            return self.suites[key]

    def add_check_run(
        self,
        repo: str,
        head_sha: str,
        name: str,
        status: str = "completed",
        conclusion: str | None = "success",
        app_slug: str = "github-actions",
        **extra: Any,
    ) -> CheckRun:
        """Add a check run owned by another App (CI), or by ours if `app_slug` is our slug."""
        with self.lock:
            r = self.repo(repo)
            app = self.other_app(app_slug)
            run = CheckRun(
                id=self.new_id(),
                repo=r.full_name,
                name=name,
                head_sha=head_sha,
                app=app,
                suite_id=self.suite_id(r.full_name, head_sha, app),
                status=status,
                conclusion=conclusion if status == "completed" else None,
                completed_at=iso() if status == "completed" else None,
                **extra,
            )
            self.check_runs_by_id[run.id] = run
            return run

    def check_runs(
        self, repo: str, head_sha: str | None = None, name: str | None = None
    ) -> list[CheckRun]:
        """Check runs on a repo, oldest first, optionally filtered by head SHA and name."""
        with self.lock:
            return [
                run
                for run in sorted(self.check_runs_by_id.values(), key=lambda c: c.id)
                if run.repo.lower() == repo.lower()
                and (head_sha is None or run.head_sha == head_sha)
                and (name is None or run.name == name)
            ]

    def add_status(
        self,
        repo: str,
        sha: str,
        state: str,
        context: str = "default",
        description: str | None = None,
        target_url: str | None = None,
        creator: str | None = None,
    ) -> Status:
        with self.lock:
            r = self.repo(repo)
            status = Status(
                id=self.new_id(),
                repo=r.full_name,
                sha=sha,
                state=state,
                context=context,
                description=description,
                target_url=target_url,
                creator=self.bot if creator is None else self.user(creator),
            )
            self.statuses.append(status)
            return status

    def statuses_for(self, repo: str, sha: str) -> list[Status]:
        """Statuses on a commit, newest first (GitHub's order)."""
        with self.lock:
            found = [s for s in self.statuses if s.repo.lower() == repo.lower() and s.sha == sha]
            return sorted(found, key=lambda s: s.id, reverse=True)

    # -- app-level records ------------------------------------------------------------------

    def add_delivery(
        self,
        event: str,
        action: str | None = None,
        *,
        installation_id: int | None = None,
        repository_id: int | None = None,
        status_code: int = 200,
        payload: dict[str, Any] | None = None,
        guid: str | None = None,
    ) -> Delivery:
        with self.lock:
            delivery = Delivery(
                id=self.new_id(),
                guid=guid or secrets.token_hex(16),
                event=event,
                action=action,
                installation_id=installation_id,
                repository_id=repository_id,
                status="OK"
                if 200 <= status_code < 300
                else f"Invalid HTTP Response: {status_code}",
                status_code=status_code,
                payload=payload or {},
            )
            self.deliveries[delivery.id] = delivery
            return delivery

    def add_manifest_code(
        self,
        code: str,
        slug: str | None = None,
        app_id: int | None = None,
        pem: str = "",
        webhook_secret: str | None = None,
    ) -> dict[str, Any]:
        """Register a manifest `code` that `POST /app-manifests/{code}/conversions` accepts once."""
        with self.lock:
            record = {
                "id": app_id or self.app.id,
                "slug": slug or self.app.slug,
                "pem": pem,
                "webhook_secret": webhook_secret or secrets.token_hex(20),
                "client_id": "Iv1." + secrets.token_hex(8),
                "client_secret": secrets.token_hex(20),
            }
            self.manifests[code] = record
            return record

    def issue_token(
        self,
        installation_id: int,
        permissions: Mapping[str, str] | None = None,
        repositories: list[str] | None = None,
        ttl: float = 3600.0,
    ) -> Token:
        with self.lock:
            token = Token(
                token="ghs_" + secrets.token_urlsafe(27).replace("-", "a").replace("_", "b")[:36],
                installation_id=installation_id,
                expires_at=time.time() + ttl,
                permissions=dict(permissions or self.installations[installation_id].permissions),
                repositories=repositories,
            )
            self.tokens[token.token] = token
            return token

    def live_token(self, value: str) -> Token | None:
        with self.lock:
            token = self.tokens.get(value)
            if token is None or token.expires_at <= time.time():
                return None
            return token

    def count_request(self, bucket: str) -> tuple[int, int, int]:
        """Count one request against `bucket`; returns (limit, used, reset epoch)."""
        with self.lock:
            now = time.time()
            start, used = self.rate_usage.get(bucket, (now, 0))
            if now - start >= 3600:
                start, used = now, 0
            used += 1
            self.rate_usage[bucket] = (start, used)
            return self.rate_limit, used, int(start + 3600)

    # -- seeding from real payloads ---------------------------------------------------------

    def seed_from_event(self, payload: Mapping[str, Any]) -> Seeded:
        """Create installation, repo, PR/issue/comment/check run described by a webhook payload."""
        with self.lock:
            repo_obj = payload["repository"]
            owner = repo_obj["owner"]
            inst_id = (payload.get("installation") or {}).get("id")
            if inst_id is None:
                existing = self.installation_for_repo(repo_obj["full_name"])
                inst_id = existing.id if existing else None
            if inst_id is None:
                inst_id = self.add_installation(
                    account=owner["login"], account_type=owner.get("type", "User")
                ).id
            elif inst_id not in self.installations:
                self.add_installation(inst_id, owner["login"], owner.get("type", "User"))
            self.user(owner["login"], owner.get("type", "User"), owner.get("id"))
            repo = self.add_repo(
                repo_obj["full_name"],
                installation_id=inst_id,
                repo_id=repo_obj.get("id"),
                default_branch=repo_obj.get("default_branch") or "main",
                private=bool(repo_obj.get("private")),
                owner_type=owner.get("type"),
                owner_id=owner.get("id"),
            )
            seeded = Seeded(installation_id=inst_id, repo=repo.full_name)
            if "sender" in payload:
                sender = payload["sender"]
                self.user(sender["login"], sender.get("type", "User"), sender.get("id"))
            pr = payload.get("pull_request")
            if pr:
                self._seed_pull(repo, pr)
                seeded.number = pr["number"]
                seeded.head_sha, seeded.base_sha = pr["head"]["sha"], pr["base"]["sha"]
            issue = payload.get("issue")
            if issue and not pr:
                seeded.number = issue["number"]
                if issue.get("pull_request") is None:
                    self._seed_issue(repo, issue)
                elif issue["number"] not in repo.pulls:
                    self._seed_pull_from_issue(repo, issue)
            comment = payload.get("comment")
            if comment and issue and "id" in comment:
                author = comment["user"]
                self.user(author["login"], author.get("type", "User"), author.get("id"))
                self.add_comment(
                    repo.full_name,
                    issue["number"],
                    comment.get("body") or "",
                    user=author["login"],
                    comment_id=comment["id"],
                )
            run = payload.get("check_run")
            if run:
                self._seed_check_run(repo, run)
                seeded.head_sha = run["head_sha"]
            return seeded

    def _seed_pull(self, repo: Repo, pr: Mapping[str, Any]) -> None:
        user = pr["user"]
        self.user(user["login"], user.get("type", "User"), user.get("id"))
        head_repo = (pr["head"].get("repo") or {}).get("full_name")
        pull = self.add_pull(
            repo.full_name,
            number=pr["number"],
            title=pr.get("title") or "",
            body=pr.get("body"),
            user=user["login"],
            head_ref=pr["head"]["ref"],
            head_sha=pr["head"]["sha"],
            base_ref=pr["base"]["ref"],
            base_sha=pr["base"]["sha"],
            labels=[label["name"] for label in pr.get("labels") or []],
            state=pr.get("state", "open"),
            draft=bool(pr.get("draft")),
            pull_id=pr.get("id"),
        )
        pull.created_at = pr.get("created_at") or pull.created_at
        pull.updated_at = pr.get("updated_at") or pull.updated_at
        pull.merged = bool(pr.get("merged"))
        pull.closed_at = pr.get("closed_at")
        if head_repo and head_repo.lower() != repo.full_name.lower():
            fork = pr["head"]["repo"]
            fork_owner = fork.get("owner") or {}
            self.add_repo(
                head_repo,
                repo_id=fork.get("id"),
                default_branch=fork.get("default_branch") or "main",
                owner_type=fork_owner.get("type"),
                owner_id=fork_owner.get("id"),
            )
            pull.head_repo = head_repo
            repo.branches.pop(pull.head_ref, None)

    def _seed_pull_from_issue(self, repo: Repo, issue: Mapping[str, Any]) -> None:
        """A PR known only through the issues API (issue_comment events): refs are made up."""
        user = issue["user"]
        self.user(user["login"], user.get("type", "User"), user.get("id"))
        self.add_pull(
            repo.full_name,
            number=issue["number"],
            title=issue.get("title") or "",
            body=issue.get("body"),
            user=user["login"],
            head_ref=f"pr-{issue['number']}",
            labels=[label["name"] for label in issue.get("labels") or []],
            state=issue.get("state", "open"),
            pull_id=issue.get("id"),
        )

    def _seed_issue(self, repo: Repo, issue: Mapping[str, Any]) -> None:
        if issue["number"] in repo.issues:
            return
        made = self.add_issue(
            repo.full_name,
            number=issue["number"],
            title=issue.get("title") or "",
            body=issue.get("body"),
            user=issue["user"]["login"],
            labels=[label["name"] for label in issue.get("labels") or []],
            state=issue.get("state", "open"),
        )
        made.id = issue.get("id", made.id)

    def _seed_check_run(self, repo: Repo, run: Mapping[str, Any]) -> None:
        if run["id"] in self.check_runs_by_id:
            return
        app_info = run.get("app") or {}
        slug = app_info.get("slug") or self.app.slug
        app = self.other_app(slug)
        self.check_runs_by_id[run["id"]] = CheckRun(
            id=run["id"],
            repo=repo.full_name,
            name=run["name"],
            head_sha=run["head_sha"],
            app=app,
            suite_id=self.suite_id(repo.full_name, run["head_sha"], app),
            status=run.get("status", "queued"),
            conclusion=run.get("conclusion"),
            started_at=run.get("started_at"),
            completed_at=run.get("completed_at"),
            output={k: (run.get("output") or {}).get(k) for k in ("title", "summary", "text")},
            external_id=run.get("external_id"),
            details_url=run.get("details_url"),
        )
