"""GitHub API double used by the test suite and the `make run` sandbox demo."""

from pathlib import Path

from github_double.models import Seeded
from github_double.server import GitHubDouble, RequestRecord
from github_double.state import World

SAMPLES = Path(__file__).resolve().parent / "samples"  # the sandbox demo's Codex PR

__all__ = ["SAMPLES", "GitHubDouble", "RequestRecord", "Seeded", "World"]
