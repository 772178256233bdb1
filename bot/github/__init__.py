"""The GitHub gateway: every GitHub HTTP call goes through here (PyGithub,
App JWT and installation tokens, pacing, retries, timeouts).

May import `bot.core` and `bot.runtime`. Nothing else in the product talks to
GitHub, and this layer never decides anything about a PR.
"""
