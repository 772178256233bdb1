"""The worker's side: the queue and coalescing, the evaluation pipeline, the
snapshot builder, the sweepers, the delivery ledger, the audit stream and the
Redis store.

The only layer that calls both the GitHub gateway and the practices. May import
`bot.core`, `bot.runtime`, `bot.practices`, `bot.present` and
`bot.github`; never `bot.web` or `bot.ops`.
"""
