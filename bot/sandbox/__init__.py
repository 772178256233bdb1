"""GitHub API double used by the test suite and the `make run` sandbox demo."""

from bot.sandbox.models import Seeded
from bot.sandbox.server import GitHubDouble, RequestRecord
from bot.sandbox.state import World

__all__ = ["GitHubDouble", "RequestRecord", "Seeded", "World"]
