"""The shared vocabulary every layer speaks: the PR snapshot, findings, config
models, Markdown reading, sanitising, slash-command grammar, job and task names.

Pure and dependency-free within the product: imports nothing from any other
`bot` sub-package, so everything above can rely on it without cycles.
"""
