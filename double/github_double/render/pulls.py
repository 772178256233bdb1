"""Pull requests, full, simple and as the minimal links check runs and suites carry."""

from __future__ import annotations

from typing import Any

from github_double.models import Pull, Repo
from github_double.render.base import EXAMPLE_REPO, node_id, retarget
from github_double.render.git import GitRender
from github_double.render.repos import ReposRender


class PullsRender(GitRender, ReposRender):
    """Renders pull requests."""

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
        out = retarget(
            self._skel("pull-request-simple" if simple else "pull-request"),
            EXAMPLE_REPO,
            r.full_name,
        )
        api = f"{self.api}/repos/{r.full_name}"
        html = f"{self.web}/{r.full_name}/pull/{p.number}"
        out.update(
            id=p.id,
            node_id=node_id("PullRequest", p.id),
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
