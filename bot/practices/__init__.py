"""The four practices: pure functions from a PR snapshot and config to a result."""
