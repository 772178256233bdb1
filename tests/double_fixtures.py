"""Pytest fixtures for the GitHub API double.

Load them with `pytest_plugins = ["tests.double_fixtures"]` in a test module; they build on
conftest's `app_key` and `webhook_examples`. PyGithub helpers live in `github_double.clients`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from github_double import GitHubDouble, Seeded

from tests.conftest import APP_ID, example


@pytest.fixture
def github_double(app_key: tuple[str, str]) -> Iterator[GitHubDouble]:
    """A started double for the test App (APP_ID, conftest's key pair)."""
    _, public = app_key
    with GitHubDouble(APP_ID, public) as double:
        yield double


@pytest.fixture
def pr_opened(webhook_examples: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """A copy of GitHub's real `pull_request.opened` payload sent to an App."""
    return example(webhook_examples, "pull_request", "opened")


@pytest.fixture
def seeded_pr(github_double: GitHubDouble, pr_opened: dict[str, Any]) -> Seeded:
    """The double seeded from `pr_opened` (installation, repo, PR, head/base commits)."""
    return github_double.seed_from_event(pr_opened)
