"""A team's `detection.branch_pattern` cannot backtrack on a branch name (issue 11, item 9).

The branch name is the PR author's to choose; the pattern runs in RE2, and a pattern RE2
cannot run is refused when the config loads, with a clear error.
"""

from __future__ import annotations

import time

import pytest

from bot.core.config import ConfigError, load_config
from bot.practices.detection import detect
from tests.snapshots import snap


def _config(pattern: str):
    return load_config(f"detection:\n  branch_pattern: '{pattern}'\n")


def _detect_time(config, branch: str) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        detect(snap("no task link", head_ref=branch), config)
        best = min(best, time.perf_counter() - start)
    return best


def test_a_nested_quantifier_pattern_stays_linear_on_a_hostile_branch():
    config = _config("^(a+)+$")
    # Backtracking doubles per character: 6 more would cost 64x; RE2 costs ~1.4x.
    short, long = "a" * 16 + "!", "a" * 22 + "!"
    ratio = _detect_time(config, long) / max(_detect_time(config, short), 1e-6)
    assert ratio < 16


def test_the_default_pattern_still_matches_codex_branches():
    config = load_config(None)
    assert detect(snap("x", head_ref="codex/fix-export"), config).codex_authored


@pytest.mark.parametrize("pattern", [r"(\w)\1", "(?=codex)c", "(?<!x)codex/"])
def test_a_pattern_re2_cannot_run_is_a_config_error(pattern):
    with pytest.raises(ConfigError) as error:
        _config(pattern)
    assert "branch_pattern" in str(error.value)
    assert "linear time" in str(error.value)
