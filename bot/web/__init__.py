"""The `web` process: the Flask app factory and its lean fast path, webhook
signature checks, the declarative event routing table, the manifest `/setup`
flow and gunicorn's settings.

It answers GitHub fast and only queues: it may import `bot.core`,
`bot.runtime` and the queue side of `bot.jobs` (queue, coalesce, deliveries),
never `bot.github`, `bot.practices` or `bot.present`.
"""
