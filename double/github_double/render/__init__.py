"""Turn world state into complete GitHub JSON objects whose URLs point at the double.

Each renderer starts from a schema-valid skeleton (GitHub's own example) and overwrites
every field the world knows, so PyGithub sees full objects and follows `url` fields back
to the double rather than to api.github.com. `Renderer` joins one mixin per resource.
"""

from __future__ import annotations

from github_double.render.actions import ActionsRender
from github_double.render.base import stable_id
from github_double.render.checks import ChecksRender
from github_double.render.issues import IssuesRender

__all__ = ["Renderer", "stable_id"]


class Renderer(ChecksRender, IssuesRender, ActionsRender):
    """Builds response objects for one double (knows its API and web base URLs)."""
