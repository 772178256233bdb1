"""The in-memory GitHub world the double serves, assembled from one mixin per resource.

Everything lives behind one re-entrant lock because the double answers requests from a
threaded server while tests seed and inspect the same world from the main thread.
"""

from __future__ import annotations

from github_double.models import (
    PERMISSION_LEVELS,
    Account,
    App,
    Artifact,
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
    WorkflowRun,
    git_blob_sha,
    iso,
)
from github_double.state.actions import Actions
from github_double.state.app_records import AppRecords
from github_double.state.seeding import Seeding

__all__ = [
    "PERMISSION_LEVELS",
    "Account",
    "App",
    "Artifact",
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
    "WorkflowRun",
    "World",
    "git_blob_sha",
    "iso",
]


class World(Seeding, AppRecords, Actions):
    """All state the double serves. Public methods are safe to call from any thread."""
