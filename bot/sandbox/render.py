"""Turn world state into complete GitHub JSON objects whose URLs point at the double.

Each renderer starts from a schema-valid skeleton (GitHub's own example) and overwrites
every field the world knows, so PyGithub sees full objects and follows `url` fields back
to the double rather than to api.github.com.
"""

from __future__ import annotations

import base64
import difflib
import zlib
from typing import Any
from urllib.parse import quote

from bot.sandbox.models import (
    Account,
    App,
    CheckRun,
    Comment,
    Commit,
    Delivery,
    Installation,
    Issue,
    Pull,
    Repo,
    Status,
    git_blob_sha,
    iso,
)
from bot.sandbox.skeletons import skeleton
from bot.sandbox.state import World

_EXAMPLE_REPO = "octocat/Hello-World"
_ROLE_FLAGS = {
    "admin": ("admin", "maintain", "push", "triage", "pull"),
    "maintain": ("maintain", "push", "triage", "pull"),
    "write": ("push", "triage", "pull"),
    "triage": ("triage", "pull"),
    "read": ("pull",),
    "none": (),
}


def _retarget(value: Any, old: str, new: str) -> Any:
    """Replace an example repo/user path inside every string of a skeleton."""
    if isinstance(value, dict):
        return {k: _retarget(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_retarget(v, old, new) for v in value]
    if isinstance(value, str) and old in value:
        return value.replace(old, new)
    return value


def _node_id(kind: str, ident: int | str) -> str:
    return base64.b64encode(f"{kind}{ident}".encode()).decode().rstrip("=")


def stable_id(text: str) -> int:
    """A deterministic positive id for things the world names but does not number (labels)."""
    return zlib.crc32(text.encode()) + 1


def _diff_status(old: bytes | None, new: bytes | None) -> str:
    if old is None:
        return "added"
    if new is None:
        return "removed"
    return "modified"


def _patch(old: bytes | None, new: bytes | None) -> tuple[str, int, int]:
    """Unified diff hunks (no file headers, like GitHub's `patch`) plus +/- counts."""
    a = (old or b"").decode("utf-8", "replace").splitlines()
    b = (new or b"").decode("utf-8", "replace").splitlines()
    lines = list(difflib.unified_diff(a, b, lineterm="", n=3))[2:]
    adds = sum(1 for ln in lines if ln.startswith("+"))
    dels = sum(1 for ln in lines if ln.startswith("-"))
    return "\n".join(lines), adds, dels


class Renderer:
    """Builds response objects for one double (knows its API and web base URLs)."""

    def __init__(self, world: World, api_base: str, web_base: str) -> None:
        self.world = world
        self.api = api_base
        self.web = web_base

    def _skel(self, name: str) -> Any:
        return skeleton(name, self.api, self.web)

    # -- people and apps --------------------------------------------------------------------

    def user(self, acct: Account) -> dict[str, Any]:
        u = f"{self.api}/users/{quote(acct.login)}"
        html = f"{self.web}/{quote(acct.login)}"
        if acct.type == "Bot":
            html = f"{self.web}/apps/{quote(acct.login.removesuffix('[bot]'))}"
        return {
            "login": acct.login,
            "id": acct.id,
            "node_id": acct.node_id,
            "avatar_url": f"{self.web}/avatars/u/{acct.id}?v=4",
            "gravatar_id": "",
            "url": u,
            "html_url": html,
            "followers_url": f"{u}/followers",
            "following_url": f"{u}/following{{/other_user}}",
            "gists_url": f"{u}/gists{{/gist_id}}",
            "starred_url": f"{u}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{u}/subscriptions",
            "organizations_url": f"{u}/orgs",
            "repos_url": f"{u}/repos",
            "events_url": f"{u}/events{{/privacy}}",
            "received_events_url": f"{u}/received_events",
            "type": acct.type,
            "site_admin": False,
            "user_view_type": "public",
        }

    def public_user(self, acct: Account) -> dict[str, Any]:
        out = self._skel("public-user")
        out.update(self.user(acct))
        out.update(
            name=acct.login,
            company=None,
            blog="",
            location=None,
            email=None,
            bio=None,
            twitter_username=None,
            hireable=None,
        )
        out.pop("plan", None)
        return out

    def integration(self, app: App) -> dict[str, Any]:
        out = self._skel("integration")
        for secret in ("client_secret", "webhook_secret", "pem"):
            out.pop(secret, None)
        out.update(
            id=app.id,
            slug=app.slug,
            node_id=_node_id("App", app.id),
            client_id=app.client_id,
            owner=self.user(app.owner),
            name=app.name,
            description=f"{app.name} (GitHub double)",
            external_url=f"{self.web}/apps/{app.slug}",
            html_url=f"{self.web}/apps/{app.slug}",
            permissions=dict(app.permissions),
            events=list(app.events),
            installations_count=len(self.world.installations),
        )
        return out

    def installation(self, inst: Installation) -> dict[str, Any]:
        app = self.world.app
        out = self._skel("installation")
        out.update(
            id=inst.id,
            account=self._installation_account(inst.account),
            repository_selection=inst.repository_selection,
            access_tokens_url=f"{self.api}/app/installations/{inst.id}/access_tokens",
            repositories_url=f"{self.api}/installation/repositories",
            html_url=f"{self.web}/organizations/{inst.account.login}/settings/installations/{inst.id}",
            app_id=app.id,
            app_slug=app.slug,
            client_id=app.client_id,
            target_id=inst.account.id,
            target_type=inst.account.type,
            permissions=dict(inst.permissions),
            events=list(inst.events),
            created_at=inst.created_at,
            updated_at=inst.created_at,
            single_file_name=None,
            has_multiple_single_files=False,
            single_file_paths=[],
            suspended_by=None,
            suspended_at=inst.suspended_at,
        )
        return out

    def _installation_account(self, acct: Account) -> dict[str, Any]:
        """The account of an installation.

        `GET /app/installations` describes it as allOf(user, enterprise), so the fields only
        an enterprise has are added too; clients ignore them.
        """
        out = self.user(acct)
        out.update(name=acct.login, slug=acct.login.lower(), created_at=iso(0), updated_at=iso(0))
        return out

    # -- repositories -----------------------------------------------------------------------

    def repo(self, r: Repo, kind: str = "repository") -> dict[str, Any]:
        """`kind` is the schema: repository, full-repository or minimal-repository."""
        out = _retarget(self._skel(kind), _EXAMPLE_REPO, r.full_name)
        out.update(
            id=r.id,
            node_id=_node_id("Repository", r.id),
            name=r.name,
            full_name=r.full_name,
            owner=self.user(r.owner),
            private=r.private,
            visibility="private" if r.private else "public",
            fork=False,
            description=None,
            homepage=None,
            default_branch=r.default_branch,
            created_at=r.created_at,
            updated_at=r.created_at,
            pushed_at=r.created_at,
            archived=False,
            disabled=False,
            is_template=False,
        )
        out["html_url"] = f"{self.web}/{r.full_name}"
        out["url"] = f"{self.api}/repos/{r.full_name}"
        if "mirror_url" in out:
            out["mirror_url"] = None
        if "permissions" in out:
            out["permissions"] = {
                "admin": False,
                "maintain": False,
                "push": False,
                "triage": False,
                "pull": True,
            }
        for key in ("parent", "source", "template_repository", "organization"):
            out.pop(key, None)
        if kind == "full-repository" and r.owner.type == "Organization":
            out["organization"] = self.user(r.owner)
        return out

    def label(self, r: Repo, name: str) -> dict[str, Any]:
        ident = stable_id(f"{r.full_name}:{name}")
        return {
            "id": ident,
            "node_id": _node_id("Label", ident),
            "url": f"{self.api}/repos/{r.full_name}/labels/{quote(name)}",
            "name": name,
            "description": "",  # pull-request-simple labels do not allow null here
            "color": "ededed",
            "default": False,
        }

    def branch(self, r: Repo, name: str, sha: str) -> dict[str, Any]:
        out = _retarget(self._skel("branch-with-protection"), _EXAMPLE_REPO, r.full_name)
        out.update(
            name=name,
            commit=self.commit(r, r.commits[sha]),
            protected=False,
            protection_url=f"{self.api}/repos/{r.full_name}/branches/{quote(name)}/protection",
            _links={
                "html": f"{self.web}/{r.full_name}/tree/{quote(name)}",
                "self": f"{self.api}/repos/{r.full_name}/branches/{quote(name)}",
            },
        )
        out["protection"] = {
            "enabled": False,
            "required_status_checks": {"enforcement_level": "off", "contexts": [], "checks": []},
        }
        out.pop("required_approving_review_count", None)
        return out

    # -- git data ---------------------------------------------------------------------------

    def file_changes(self, r: Repo, base: str, head: str) -> list[dict[str, Any]]:
        """Diff entries between two commits (empty when either commit's files are unknown)."""
        old = r.commits[base].files if base in r.commits else {}
        new = r.commits[head].files if head in r.commits else {}
        out = []
        for path in sorted(set(old) | set(new)):
            a, b = old.get(path), new.get(path)
            if a == b:
                continue
            patch, adds, dels = _patch(a, b)
            entry = self._skel("diff-entry")
            entry.pop("previous_filename", None)
            blob = git_blob_sha(b if b is not None else a or b"")
            entry.update(
                sha=blob,
                filename=path,
                status=_diff_status(a, b),
                additions=adds,
                deletions=dels,
                changes=adds + dels,
                blob_url=f"{self.web}/{r.full_name}/blob/{head}/{quote(path)}",
                raw_url=f"{self.web}/{r.full_name}/raw/{head}/{quote(path)}",
                contents_url=f"{self.api}/repos/{r.full_name}/contents/{quote(path)}?ref={head}",
                patch=patch,
            )
            out.append(entry)
        return out

    def commit(self, r: Repo, c: Commit, with_files: bool = False) -> dict[str, Any]:
        out = _retarget(self._skel("commit"), _EXAMPLE_REPO, r.full_name)
        author = self.world.user(c.author)
        person = {
            "name": author.login,
            "email": f"{author.login}@users.noreply.example",
            "date": c.date,
        }
        tree = self.world.root_tree(r.full_name, c.sha)
        out.update(
            sha=c.sha,
            node_id=_node_id("Commit", c.sha[:12]),
            url=f"{self.api}/repos/{r.full_name}/commits/{c.sha}",
            html_url=f"{self.web}/{r.full_name}/commit/{c.sha}",
            comments_url=f"{self.api}/repos/{r.full_name}/commits/{c.sha}/comments",
            author=self.user(author),
            committer=self.user(author),
            parents=[
                {
                    "sha": p,
                    "url": f"{self.api}/repos/{r.full_name}/commits/{p}",
                    "html_url": f"{self.web}/{r.full_name}/commit/{p}",
                }
                for p in c.parents
            ],
        )
        out["commit"].update(
            url=f"{self.api}/repos/{r.full_name}/git/commits/{c.sha}",
            author=dict(person),
            committer=dict(person),
            message=c.message,
            tree={"sha": tree, "url": f"{self.api}/repos/{r.full_name}/git/trees/{tree}"},
            comment_count=0,
        )
        out["commit"]["verification"] = {
            "verified": False,
            "reason": "unsigned",
            "signature": None,
            "payload": None,
            "verified_at": None,
        }
        files = self.file_changes(r, c.parents[0], c.sha) if c.parents else []
        out["stats"] = {
            "additions": sum(f["additions"] for f in files),
            "deletions": sum(f["deletions"] for f in files),
            "total": sum(f["changes"] for f in files),
        }
        if with_files:
            out["files"] = files
        else:
            out.pop("files", None)
        return out

    def content_entry(self, r: Repo, path: str, ref: str, data: bytes | None) -> dict[str, Any]:
        """A contents API entry: a file (with base64 content) or, when data is None, a dir."""
        out = self._skel("content-file")
        for key in ("target", "submodule_git_url"):
            out.pop(key, None)
        name = path.rsplit("/", 1)[-1]
        qpath = quote(path)
        if data is None:
            tree_sha = self._subtree_sha(r, ref, path)
            git_url = f"{self.api}/repos/{r.full_name}/git/trees/{tree_sha}"
            html = f"{self.web}/{r.full_name}/tree/{ref}/{qpath}"
            out.update(type="dir", size=0, sha=tree_sha, download_url=None)
            out.pop("content", None)
            out.pop("encoding", None)
        else:
            sha = git_blob_sha(data)
            git_url = f"{self.api}/repos/{r.full_name}/git/blobs/{sha}"
            html = f"{self.web}/{r.full_name}/blob/{ref}/{qpath}"
            encoded = base64.b64encode(data).decode()
            wrapped = "\n".join(encoded[i : i + 60] for i in range(0, len(encoded), 60))
            out.update(
                type="file",
                encoding="base64",
                size=len(data),
                sha=sha,
                content=wrapped + ("\n" if wrapped else ""),
                download_url=f"{self.web}/{r.full_name}/raw/{ref}/{qpath}",
            )
        self_url = f"{self.api}/repos/{r.full_name}/contents/{qpath}?ref={quote(ref)}"
        out.update(name=name, path=path, url=self_url, git_url=git_url, html_url=html)
        out["_links"] = {"self": self_url, "git": git_url, "html": html}
        return out

    def _subtree_sha(self, r: Repo, ref: str, path: str) -> str:
        sha = self.world.resolve_ref(r.full_name, ref) or ref
        tree = self.world.root_tree(r.full_name, sha)
        for part in path.split("/"):
            tree = next(e[3] for e in r.trees[tree] if e[2] == part and e[1] == "tree")
        return tree

    def tree(self, r: Repo, tree_sha: str, recursive: bool) -> dict[str, Any]:
        entries: list[dict[str, Any]] = []

        def walk(sha: str, prefix: str) -> None:
            for mode, kind, name, child in r.trees[sha]:
                path = f"{prefix}{name}"
                entry: dict[str, Any] = {
                    "path": path,
                    "mode": mode if kind == "blob" else "040000",
                    "type": kind,
                    "sha": child,
                }
                if kind == "blob":
                    entry["size"] = len(r.blobs[child])
                    entry["url"] = f"{self.api}/repos/{r.full_name}/git/blobs/{child}"
                else:
                    entry["url"] = f"{self.api}/repos/{r.full_name}/git/trees/{child}"
                entries.append(entry)
                if kind == "tree" and recursive:
                    walk(child, path + "/")

        walk(tree_sha, "")
        return {
            "sha": tree_sha,
            "url": f"{self.api}/repos/{r.full_name}/git/trees/{tree_sha}",
            "tree": entries,
            "truncated": False,
        }

    def blob(self, r: Repo, sha: str) -> dict[str, Any]:
        data = r.blobs[sha]
        return {
            "content": base64.b64encode(data).decode(),
            "encoding": "base64",
            "url": f"{self.api}/repos/{r.full_name}/git/blobs/{sha}",
            "sha": sha,
            "size": len(data),
            "node_id": _node_id("Blob", sha[:12]),
        }

    # -- pull requests and issues -----------------------------------------------------------

    def _association(self, r: Repo, acct: Account) -> str:
        if acct.login.lower() == r.owner.login.lower():
            return "OWNER"
        role = r.permissions.get(acct.login.lower())
        if role in ("admin", "maintain", "write", "triage"):
            return "MEMBER" if r.owner.type == "Organization" else "COLLABORATOR"
        return "CONTRIBUTOR" if acct.type != "Bot" else "NONE"

    def _pr_end(self, r: Repo, ref: str, sha: str, repo_name: str | None) -> dict[str, Any]:
        target = self.world.repos.get((repo_name or r.full_name).lower(), r)
        return {
            "label": f"{target.owner.login}:{ref}",
            "ref": ref,
            "sha": sha,
            "user": self.user(target.owner),
            "repo": self.repo(target),
        }

    def pull(self, r: Repo, p: Pull, simple: bool = False) -> dict[str, Any]:
        out = _retarget(
            self._skel("pull-request-simple" if simple else "pull-request"),
            _EXAMPLE_REPO,
            r.full_name,
        )
        api = f"{self.api}/repos/{r.full_name}"
        html = f"{self.web}/{r.full_name}/pull/{p.number}"
        out.update(
            id=p.id,
            node_id=_node_id("PullRequest", p.id),
            number=p.number,
            state=p.state,
            locked=False,
            title=p.title,
            body=p.body,
            user=self.user(p.user),
            labels=[self.label(r, name) for name in p.labels],
            milestone=None,
            active_lock_reason=None,
            created_at=p.created_at,
            updated_at=p.updated_at,
            closed_at=p.closed_at,
            merged_at=p.closed_at if p.merged else None,
            merge_commit_sha=None,
            assignee=None,
            assignees=[],
            requested_reviewers=[],
            requested_teams=[],
            draft=p.draft,
            author_association=self._association(r, p.user),
            auto_merge=None,
            url=f"{api}/pulls/{p.number}",
            html_url=html,
            diff_url=f"{html}.diff",
            patch_url=f"{html}.patch",
            issue_url=f"{api}/issues/{p.number}",
            commits_url=f"{api}/pulls/{p.number}/commits",
            review_comments_url=f"{api}/pulls/{p.number}/comments",
            review_comment_url=f"{api}/pulls/comments{{/number}}",
            comments_url=f"{api}/issues/{p.number}/comments",
            statuses_url=f"{api}/statuses/{p.head_sha}",
            head=self._pr_end(r, p.head_ref, p.head_sha, p.head_repo),
            base=self._pr_end(r, p.base_ref, p.base_sha, None),
        )
        out["_links"] = {
            "self": {"href": out["url"]},
            "html": {"href": html},
            "issue": {"href": out["issue_url"]},
            "comments": {"href": out["comments_url"]},
            "review_comments": {"href": out["review_comments_url"]},
            "review_comment": {"href": out["review_comment_url"]},
            "commits": {"href": out["commits_url"]},
            "statuses": {"href": out["statuses_url"]},
        }
        if not simple:
            files = self.file_changes(r, p.base_sha, p.head_sha)
            out.update(
                merged=p.merged,
                mergeable=True if p.state == "open" else None,
                rebaseable=True if p.state == "open" else None,
                mergeable_state="clean" if p.state == "open" else "unknown",
                merged_by=None,
                comments=len(self.world.comments(r.full_name, p.number)),
                review_comments=0,
                maintainer_can_modify=False,
                commits=len(p.commits),
                additions=sum(f["additions"] for f in files),
                deletions=sum(f["deletions"] for f in files),
                changed_files=len(files),
            )
        return out

    def pull_minimal(self, r: Repo, p: Pull) -> dict[str, Any]:
        def end(ref: str, sha: str) -> dict[str, Any]:
            return {
                "ref": ref,
                "sha": sha,
                "repo": {"id": r.id, "url": f"{self.api}/repos/{r.full_name}", "name": r.name},
            }

        return {
            "id": p.id,
            "number": p.number,
            "url": f"{self.api}/repos/{r.full_name}/pulls/{p.number}",
            "head": end(p.head_ref, p.head_sha),
            "base": end(p.base_ref, p.base_sha),
        }

    def issue(self, r: Repo, item: Issue | Pull) -> dict[str, Any]:
        """An issue, or a PR seen through the issues API (with its `pull_request` link)."""
        out = _retarget(self._skel("issue"), _EXAMPLE_REPO, r.full_name)
        api = f"{self.api}/repos/{r.full_name}/issues/{item.number}"
        is_pull = isinstance(item, Pull)
        kind = "pull" if is_pull else "issues"
        html = f"{self.web}/{r.full_name}/{kind}/{item.number}"
        for key in (
            "repository",
            "performed_via_github_app",
            "closed_by",
            "type",
            "pinned_comment",
            "issue_field_values",
        ):
            out.pop(key, None)
        out.update(
            id=item.id,
            node_id=_node_id("Issue", item.id),
            url=api,
            repository_url=f"{self.api}/repos/{r.full_name}",
            labels_url=f"{api}/labels{{/name}}",
            comments_url=f"{api}/comments",
            events_url=f"{api}/events",
            html_url=html,
            number=item.number,
            state=item.state,
            state_reason=None,
            title=item.title,
            body=item.body,
            user=self.user(item.user),
            labels=[self.label(r, name) for name in item.labels],
            assignee=None,
            assignees=[],
            milestone=None,
            locked=False,
            active_lock_reason=None,
            comments=len(self.world.comments(r.full_name, item.number)),
            closed_at=item.closed_at,
            created_at=item.created_at,
            updated_at=item.updated_at,
            author_association=self._association(r, item.user),
            draft=item.draft if is_pull else False,
        )
        if is_pull:
            out["pull_request"] = {
                "url": f"{self.api}/repos/{r.full_name}/pulls/{item.number}",
                "html_url": html,
                "diff_url": f"{html}.diff",
                "patch_url": f"{html}.patch",
                "merged_at": item.closed_at if item.merged else None,
            }
        else:
            out.pop("pull_request", None)
            out.pop("draft", None)
        if "reactions" in out:
            out["reactions"] = self._rollup(f"{api}/reactions", [])
        return out

    def _rollup(self, url: str, reactions: list[Any]) -> dict[str, Any]:
        counts = {
            k: 0 for k in ("+1", "-1", "laugh", "confused", "heart", "hooray", "eyes", "rocket")
        }
        for reaction in reactions:
            counts[reaction.content] += 1
        return {"url": url, "total_count": len(reactions), **counts}

    def comment(self, r: Repo, c: Comment) -> dict[str, Any]:
        out = _retarget(self._skel("issue-comment"), _EXAMPLE_REPO, r.full_name)
        is_pull = c.issue_number in r.pulls
        html = f"{self.web}/{r.full_name}/{'pull' if is_pull else 'issues'}/{c.issue_number}"
        url = f"{self.api}/repos/{r.full_name}/issues/comments/{c.id}"
        out.update(
            id=c.id,
            node_id=_node_id("IssueComment", c.id),
            url=url,
            html_url=f"{html}#issuecomment-{c.id}",
            issue_url=f"{self.api}/repos/{r.full_name}/issues/{c.issue_number}",
            body=c.body,
            user=self.user(c.user),
            created_at=c.created_at,
            updated_at=c.updated_at,
            author_association=self._association(r, c.user),
            performed_via_github_app=(
                self.integration(self.world.app) if c.user is self.world.bot else None
            ),
            reactions=self._rollup(f"{url}/reactions", c.reactions),
        )
        out.pop("pin", None)
        return out

    def reaction(self, reaction: Any) -> dict[str, Any]:
        return {
            "id": reaction.id,
            "node_id": _node_id("Reaction", reaction.id),
            "user": self.user(reaction.user),
            "content": reaction.content,
            "created_at": reaction.created_at,
        }

    def permission(self, r: Repo, login: str) -> dict[str, Any]:
        legacy, role = self.world.permission(r.full_name, login)
        flags = _ROLE_FLAGS[role]
        collaborator = self.user(self.world.user(login))
        collaborator["permissions"] = {
            k: k in flags for k in ("pull", "triage", "push", "maintain", "admin")
        }
        collaborator["role_name"] = role
        return {"permission": legacy, "role_name": role, "user": collaborator}

    # -- checks and statuses ----------------------------------------------------------------

    def check_run(self, run: CheckRun) -> dict[str, Any]:
        r = self.world.repo(run.repo)
        out = self._skel("check-run")
        out.pop("deployment", None)
        html = f"{self.web}/{r.full_name}/runs/{run.id}"
        url = f"{self.api}/repos/{r.full_name}/check-runs/{run.id}"
        output = run.output
        out.update(
            id=run.id,
            node_id=_node_id("CheckRun", run.id),
            head_sha=run.head_sha,
            external_id=run.external_id or "",
            url=url,
            html_url=html,
            details_url=run.details_url or html,
            status=run.status,
            conclusion=run.conclusion,
            started_at=run.started_at,
            completed_at=run.completed_at,
            name=run.name,
            check_suite={"id": run.suite_id},
            app=self.integration(run.app),
            pull_requests=[
                self.pull_minimal(r, p)
                for p in r.pulls.values()
                if p.state == "open" and p.head_sha == run.head_sha
            ],
            output={
                "title": output.get("title"),
                "summary": output.get("summary"),
                "text": output.get("text"),
                "annotations_count": len(run.annotations),
                "annotations_url": f"{url}/annotations",
            },
        )
        return out

    def annotation(self, r: Repo, run: CheckRun, ann: dict[str, Any]) -> dict[str, Any]:
        out = self._skel("check-annotation")
        out.update(
            path=ann["path"],
            start_line=ann["start_line"],
            end_line=ann["end_line"],
            start_column=ann.get("start_column"),
            end_column=ann.get("end_column"),
            annotation_level=ann.get("annotation_level"),
            title=ann.get("title"),
            message=ann.get("message"),
            raw_details=ann.get("raw_details"),
            blob_href=f"{self.web}/{r.full_name}/blob/{run.head_sha}/{quote(ann['path'])}",
        )
        return out

    def check_suite(self, r: Repo, head_sha: str, app: App, runs: list[CheckRun]) -> dict[str, Any]:
        out = self._skel("check-suite")
        suite_id = self.world.suite_id(r.full_name, head_sha, app)
        statuses = {run.status for run in runs}
        status = (
            "completed"
            if statuses == {"completed"}
            else (
                "in_progress" if "in_progress" in statuses or "completed" in statuses else "queued"
            )
        )
        conclusion = None
        if status == "completed":
            order = [
                "action_required",
                "timed_out",
                "failure",
                "cancelled",
                "stale",
                "neutral",
                "skipped",
                "success",
            ]
            found = [run.conclusion for run in runs if run.conclusion]
            conclusion = next((c for c in order if c in found), "success")
        branch = next((b for b, sha in r.branches.items() if sha == head_sha), None)
        commit = r.commits.get(head_sha)
        message = commit.message if commit else f"Commit {head_sha[:7]}"
        person = {"name": "octocat", "email": "octocat@users.noreply.example"}
        out.update(
            id=suite_id,
            node_id=_node_id("CheckSuite", suite_id),
            head_branch=branch,
            head_sha=head_sha,
            status=status,
            conclusion=conclusion,
            url=f"{self.api}/repos/{r.full_name}/check-suites/{suite_id}",
            before=None,
            after=head_sha,
            pull_requests=[
                self.pull_minimal(r, p)
                for p in r.pulls.values()
                if p.state == "open" and p.head_sha == head_sha
            ],
            app=self.integration(app),
            repository=self.repo(r, "minimal-repository"),
            created_at=iso(),
            updated_at=iso(),
            head_commit={
                "id": head_sha,
                "tree_id": self.world.root_tree(r.full_name, head_sha) if commit else head_sha,
                "message": message,
                "timestamp": commit.date if commit else iso(),
                "author": person,
                "committer": person,
            },
            latest_check_runs_count=len(runs),
            check_runs_url=f"{self.api}/repos/{r.full_name}/check-suites/{suite_id}/check-runs",
            rerequestable=True,
            runs_rerequestable=True,
        )
        return out

    def status(self, s: Status, simple: bool = False) -> dict[str, Any]:
        out = self._skel("simple-commit-status" if simple else "status")
        out.update(
            id=s.id,
            node_id=_node_id("StatusContext", s.id),
            url=f"{self.api}/repos/{s.repo}/statuses/{s.sha}",
            avatar_url=f"{self.web}/avatars/u/{s.creator.id}?v=4",
            state=s.state,
            description=s.description,
            target_url=s.target_url,
            context=s.context,
            created_at=s.created_at,
            updated_at=s.created_at,
        )
        if simple:
            out["required"] = False
            out.pop("creator", None)
        else:
            out["creator"] = self.user(s.creator)
        return out

    def combined_status(self, r: Repo, sha: str, statuses: list[Status]) -> dict[str, Any]:
        latest: dict[str, Status] = {}
        for s in statuses:  # newest first, so the first per context wins
            latest.setdefault(s.context, s)
        states = {s.state for s in latest.values()}
        if states & {"error", "failure"}:
            state = "failure"
        elif not states or "pending" in states:
            state = "pending"
        else:
            state = "success"
        out = self._skel("combined-commit-status")
        out.update(
            state=state,
            statuses=[self.status(s, simple=True) for s in latest.values()],
            sha=sha,
            total_count=len(latest),
            repository=self.repo(r, "minimal-repository"),
            commit_url=f"{self.api}/repos/{r.full_name}/commits/{sha}",
            url=f"{self.api}/repos/{r.full_name}/commits/{sha}/status",
        )
        return out

    # -- app records ------------------------------------------------------------------------

    def delivery(self, d: Delivery, full: bool) -> dict[str, Any]:
        out = self._skel("hook-delivery" if full else "hook-delivery-item")
        out.update(
            id=d.id,
            guid=d.guid,
            delivered_at=d.delivered_at,
            redelivery=d.redelivery,
            duration=d.duration,
            status=d.status,
            status_code=d.status_code,
            event=d.event,
            action=d.action,
            installation_id=d.installation_id,
            repository_id=d.repository_id,
            throttled_at=None,
        )
        if full:
            out["url"] = self.world.app.webhook_url
            out["request"] = {
                "headers": {
                    "X-GitHub-Delivery": d.guid,
                    "X-GitHub-Event": d.event,
                    "Content-Type": "application/json",
                    **d.request_headers,
                },
                "payload": d.payload,
            }
            out["response"] = {
                "headers": {"Content-Type": "text/plain"},
                "payload": d.response_body,
            }
        return out

    def rate_limit(self, limit: int, used: int, reset: int) -> dict[str, Any]:
        out = self._skel("rate-limit-overview")
        core = {"limit": limit, "used": used, "remaining": max(0, limit - used), "reset": reset}
        out["resources"]["core"] = dict(core)
        out["rate"] = dict(core)
        return out
