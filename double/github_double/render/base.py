"""What every renderer shares: base URLs, skeletons, node ids and the user object."""

from __future__ import annotations

import base64
import zlib
from typing import Any
from urllib.parse import quote

from github_double.models import Account
from github_double.skeletons import skeleton
from github_double.state import World

EXAMPLE_REPO = "octocat/Hello-World"


def retarget(value: Any, old: str, new: str) -> Any:
    """Replace an example repo/user path inside every string of a skeleton."""
    if isinstance(value, dict):
        return {k: retarget(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [retarget(v, old, new) for v in value]
    if isinstance(value, str) and old in value:
        return value.replace(old, new)
    return value


def node_id(kind: str, ident: int | str) -> str:
    return base64.b64encode(f"{kind}{ident}".encode()).decode().rstrip("=")


def stable_id(text: str) -> int:
    """A deterministic positive id for things the world names but does not number (labels)."""
    return zlib.crc32(text.encode()) + 1


class RenderBase:
    """Knows the double's API and web base URLs; the resource mixins build on it."""

    def __init__(self, world: World, api_base: str, web_base: str) -> None:
        self.world = world
        self.api = api_base
        self.web = web_base

    def _skel(self, name: str) -> Any:
        return skeleton(name, self.api, self.web)

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
