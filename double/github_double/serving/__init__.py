"""Request handling of the double, as mixins that `server.GitHubDouble` puts together.

Kept apart from the server's wiring (threads, lifecycle, CLI) so each step of answering a
request (routing, auth, contract checks, faults) can be read on its own.
"""
