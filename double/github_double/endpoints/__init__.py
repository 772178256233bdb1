"""Endpoint behaviour of the double, one small function per GitHub operation.

Handlers read and change the world and return plain JSON-able objects; routing, auth,
contract checks, rate limits and fault injection happen around them in `server.py`.
Importing this package registers every handler in `ROUTES`.
"""

from github_double.endpoints import actions, apps, checks, issues, repos
from github_double.endpoints.base import ROUTES, ApiError, Ctx, Reply

__all__ = ["ROUTES", "ApiError", "Ctx", "Reply", "actions", "apps", "checks", "issues", "repos"]
