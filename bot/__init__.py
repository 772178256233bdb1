"""codex-guard: hold Codex-written pull requests to a team's working practices."""

from bot.core.names import CHECK_NAME

__all__ = ["CHECK_NAME"]
