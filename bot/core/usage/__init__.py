"""Cost attribution, the pure part: reading the token counts Codex writes (the
`codex exec --json` stream and the CLI's rollout files, loose or in a zipped
workflow artifact) and pricing them against a dated rate card.

What it may import: only the standard library, pydantic, and `bot.core`. No I/O,
no network, no Redis: the callers fetch the bytes and store the results, so every
hostile-input rule here is testable on plain strings and bytes.
"""
