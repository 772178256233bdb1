"""Operator tools: the `codex-guard` CLI (offline check, agents-md lint,
schema, doctor, audit, report), the local-checkout snapshot, the Procfile
runner and the `make run` dev server.

The top floor: may import any layer below. Nothing in the product imports it.
"""
