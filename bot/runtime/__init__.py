"""Process plumbing shared by the web and worker processes: settings read from
the environment, structured logging, and the Redis-backed metric counters.

May import only `bot.core`. Knows nothing of GitHub, the practices or the queue.
"""
