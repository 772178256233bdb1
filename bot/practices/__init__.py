"""The rules: Codex detection and one module (or sub-package) per practice, each
a pure function from a `PRSnapshot` and config to findings, plus the engine that
runs them (`evaluation`).

No I/O: no GitHub, Redis, Flask, Celery or files. May import only `bot.core`, so
tests of practices need no server.
"""
