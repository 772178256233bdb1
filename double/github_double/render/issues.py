"""Issues (and PRs seen through the issues API), comments, reactions and permissions."""

from __future__ import annotations

from typing import Any

from github_double.models import Comment, Issue, Pull, Repo
from github_double.render.apps import AppsRender
from github_double.render.base import EXAMPLE_REPO, node_id, retarget
from github_double.render.repos import ReposRender

_ROLE_FLAGS = {
    "admin": ("admin", "maintain", "push", "triage", "pull"),
    "maintain": ("maintain", "push", "triage", "pull"),
    "write": ("push", "triage", "pull"),
    "triage": ("triage", "pull"),
    "read": ("pull",),
    "none": (),
}


class IssuesRender(ReposRender, AppsRender):
    """Renders issues, comments, reactions and permissions."""

    def issue(self, r: Repo, item: Issue | Pull) -> dict[str, Any]:
        """An issue, or a PR seen through the issues API (with its `pull_request` link)."""
        out = retarget(self._skel("issue"), EXAMPLE_REPO, r.full_name)
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
            node_id=node_id("Issue", item.id),
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
        out = retarget(self._skel("issue-comment"), EXAMPLE_REPO, r.full_name)
        is_pull = c.issue_number in r.pulls
        html = f"{self.web}/{r.full_name}/{'pull' if is_pull else 'issues'}/{c.issue_number}"
        url = f"{self.api}/repos/{r.full_name}/issues/comments/{c.id}"
        out.update(
            id=c.id,
            node_id=node_id("IssueComment", c.id),
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
            "node_id": node_id("Reaction", reaction.id),
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
