"""PyGithub clients pointed at a running double (for tests and the sandbox demo)."""

from __future__ import annotations

from typing import Any

from github import Auth, Github, GithubIntegration

from github_double.server import GitHubDouble

# PyGithub sleeps between requests by default (0.25 s, 1 s for writes); the double needs neither.
NO_WAIT: dict[str, Any] = {"seconds_between_requests": 0, "seconds_between_writes": 0}


def integration(double: GitHubDouble, private_pem: str, **kwargs: Any) -> GithubIntegration:
    """PyGithub's App client (JWT auth) for the double's App."""
    return GithubIntegration(
        base_url=double.base_url,
        auth=Auth.AppAuth(double.app_id, private_pem),
        **{**NO_WAIT, **kwargs},
    )


def installation_client(
    double: GitHubDouble, private_pem: str, installation_id: int, **kwargs: Any
) -> Github:
    """PyGithub authenticated with a fresh installation token from the double."""
    token = integration(double, private_pem).get_access_token(installation_id).token
    return Github(base_url=double.base_url, auth=Auth.Token(token), **{**NO_WAIT, **kwargs})
