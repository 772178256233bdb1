"""Slash commands: a deleted command comment and GitHub's permission answer (review findings)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from github import GithubException

from bot.github.gateway import Gateway
from bot.jobs import pipeline
from bot.jobs.store import Store

REPO = "octo-org/app"


class CommandGateway:
    def __init__(self, role: str, react_status: int | None = None) -> None:
        self.role = role
        self.react_status = react_status
        self.comments: list[str] = []

    def permission(self, repo: str, user: str) -> str:
        return self.role

    def react(self, repo: str, comment_id: int, content: str) -> None:
        if self.react_status is not None:
            raise GithubException(self.react_status, {"message": "Not Found"}, None)

    def create_comment(self, repo: str, number: int, body: str) -> int:
        self.comments.append(body)
        return 1


@pytest.fixture
def evaluations(monkeypatch) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []

    def fake_evaluate_pull(svc, installation_id, repo, number, pr=None, **kw):
        seen.append({"repo": repo, "number": number, **kw})
        return None

    monkeypatch.setattr(pipeline, "evaluate_pull", fake_evaluate_pull)
    return seen


def services(redis_client, gw) -> Any:
    return SimpleNamespace(
        settings=SimpleNamespace(allows=lambda _repo: True),
        gateway=lambda _installation: gw,
        store=Store(redis_client),
    )


@pytest.mark.parametrize(
    "command",
    [
        {"name": "recheck"},
        {"name": "skip", "practice": "tests", "reason": "CI is down org-wide"},
    ],
)
def test_a_command_whose_comment_was_deleted_still_runs(redis_client, evaluations, command):
    """The +1 reaction is courtesy: a 404 (the comment is gone) must not drop the command,
    which would leave a stored skip unapplied and the check saying the opposite."""
    gw = CommandGateway(role="admin", react_status=404)
    svc = services(redis_client, gw)
    outcome = pipeline.run_command(svc, 1, REPO, 5, 99, "maintainer", command)
    assert outcome == command["name"]
    assert evaluations == [{"repo": REPO, "number": 5, "force": True, "gw": gw}]


def test_a_server_error_on_the_reaction_is_still_retried(redis_client, evaluations):
    gw = CommandGateway(role="admin", react_status=502)
    with pytest.raises(GithubException):
        pipeline.run_command(services(redis_client, gw), 1, REPO, 5, 99, "m", {"name": "recheck"})


def gateway_answering(data: dict[str, Any]) -> Gateway:
    gw = Gateway.__new__(Gateway)
    gw._get = lambda path, params=None: data  # type: ignore[method-assign]
    return gw


def test_the_top_level_role_name_counts_when_the_user_object_is_absent():
    """GitHub documents `role_name` at the top level (`user` is nullable); a maintainer
    must not be read as the legacy `write` and refused `/codex-guard skip`."""
    gw = gateway_answering({"permission": "write", "role_name": "maintain", "user": None})
    assert gw.permission(REPO, "maintainer") == "maintain"


def test_a_custom_role_falls_back_to_the_legacy_permission():
    gw = gateway_answering(
        {"permission": "write", "role_name": "release-manager", "user": {"login": "x"}}
    )
    assert gw.permission(REPO, "x") == "write"
