"""Hostile AGENTS.md files cost bounded work (issue 11, items 1 and 2).

Growth is asserted as a ratio measured in the same test, and output as counts:
a quadratic scan or a finding per line fails here on any machine.
"""

from __future__ import annotations

import time

from bot.core.config import DEFAULT_CONFIG
from bot.core.markdown import MAX_PARSE_CHARS
from bot.core.snapshot import PRSnapshot
from bot.practices.agents_md import find_secrets
from bot.practices.evaluation import (
    MAX_FINDINGS_PER_PRACTICE,
    MAX_FINDINGS_PER_RULE_AND_FILE,
    evaluate,
)
from bot.present.annotations import MAX_ANNOTATIONS, annotations

TASK = "https://chatgpt.com/codex/tasks/task_e_" + "ab" * 16


def _assignments_line(count: int) -> str:
    return " ".join(f"token=abc{i:08d}xyzQ password='p{i:09d}'" for i in range(count))


def _best_of(func, runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def test_secret_scan_of_one_long_line_grows_linearly():
    small, large = _assignments_line(400), _assignments_line(1600)  # 4x the secrets
    assert len(large) < MAX_PARSE_CHARS
    assert len(find_secrets(large)) > 3.9 * len(find_secrets(small))
    ratio = _best_of(lambda: find_secrets(large)) / _best_of(lambda: find_secrets(small))
    assert ratio < 8, f"4x the input took {ratio:.1f}x the time (quadratic would be ~16x)"


def test_secret_scan_reads_at_most_the_parse_limit():
    line = _assignments_line(40_000)  # about 1.7 MB on one line
    found = find_secrets(line)
    assert found
    assert all(line.index(s.value) < MAX_PARSE_CHARS for s in found)


def _snapshot(agents: str) -> PRSnapshot:
    return PRSnapshot(
        repo="octo/app",
        number=1,
        title="Fix export",
        body=f"## Done when\n- `pytest` passes\n\n------\n{TASK}\n",
        author="octocat",
        head_sha="a" * 40,
        head_ref="codex/fix",
        base_ref="main",
        changed_files=("AGENTS.md",),
        head_tree=frozenset({"AGENTS.md"}),
        head_files={"AGENTS.md": agents},
    )


def test_seventy_thousand_stale_paths_give_a_bounded_number_of_findings():
    agents = "# Agents\n" + "".join(f"- see /home/alice/p{i}\n" for i in range(70_000))
    evaluation = evaluate(_snapshot(agents), DEFAULT_CONFIG)
    result = evaluation.results["agents-md"]
    per_rule: dict[tuple[str, str | None], int] = {}
    for finding in result.findings:
        per_rule[(finding.rule, finding.path)] = per_rule.get((finding.rule, finding.path), 0) + 1
    assert len(result.findings) <= MAX_FINDINGS_PER_PRACTICE + len(per_rule)
    assert all(n <= MAX_FINDINGS_PER_RULE_AND_FILE + 1 for n in per_rule.values())
    assert any("more" in f.message and "not listed" in f.message for f in result.findings)
    assert len(annotations(evaluation)) <= MAX_ANNOTATIONS


def test_a_one_megabyte_single_line_is_read_only_up_to_the_limit():
    agents = "# Agents\n" + "x" * 1_000_000 + " token=abcdefgh12345678\n"
    evaluation = evaluate(_snapshot(agents), DEFAULT_CONFIG)
    reason = evaluation.results["agents-md"].reason
    assert "the rest was not read" in reason
