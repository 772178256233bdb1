"""codex-guard: hold Codex-written pull requests to a team's working practices."""

CHECK_NAME = "codex-guard"
