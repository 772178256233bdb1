"""Repositories, their labels and how an account relates to a repository."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from github_double.models import Account, Repo
from github_double.render.base import EXAMPLE_REPO, RenderBase, node_id, retarget, stable_id


class ReposRender(RenderBase):
    """Renders repositories and labels."""

    def repo(self, r: Repo, kind: str = "repository") -> dict[str, Any]:
        """`kind` is the schema: repository, full-repository or minimal-repository."""
        out = retarget(self._skel(kind), EXAMPLE_REPO, r.full_name)
        out.update(
            id=r.id,
            node_id=node_id("Repository", r.id),
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
            "node_id": node_id("Label", ident),
            "url": f"{self.api}/repos/{r.full_name}/labels/{quote(name)}",
            "name": name,
            "description": "",  # pull-request-simple labels do not allow null here
            "color": "ededed",
            "default": False,
        }

    def _association(self, r: Repo, acct: Account) -> str:
        if acct.login.lower() == r.owner.login.lower():
            return "OWNER"
        role = r.permissions.get(acct.login.lower())
        if role in ("admin", "maintain", "write", "triage"):
            return "MEMBER" if r.owner.type == "Organization" else "COLLABORATOR"
        return "CONTRIBUTOR" if acct.type != "Bot" else "NONE"
