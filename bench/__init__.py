"""codex-guard benchmarks (`make bench`): see BENCHMARKS.md for the latest numbers."""
