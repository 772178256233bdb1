"""Cost attribution's worker side: the ledger of Codex usage per PR thread, the
collection of usage artifacts from a PR's workflow runs, and the organisation's
spend read from OpenAI.

Part of `bot.jobs`, with its import rules: `bot.core`, `bot.runtime`,
`bot.practices`, `bot.present`, `bot.github` and `bot.jobs`; never `bot.web` or
`bot.ops`.
"""
