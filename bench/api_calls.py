"""3. GitHub API calls per evaluation, counted at the double, per endpoint.

One web + one worker (WORKER_CONCURRENCY=1). A warm-up PR mints the installation
token first, so the counts are those of a worker that has been running. Each
scenario waits for the worker's "evaluated:" log line, then for the double to
be quiet, then reads `double.requests`.
"""

from __future__ import annotations

import copy
import time
from collections import Counter
from typing import Any

from bench.common import (
    Sender,
    World,
    check_suite_completed,
    new_sha,
    table,
    wait_for,
    write_result,
)
from tests.e2e_rig import GOOD_AGENTS_MD

TARGETS = {"non-codex": 2, "codex-opened": 7, "synchronize": 7}


def _settle(world: World, dep: Any, before: int, timeout: float = 30) -> None:
    wait_for(lambda: len(dep.evaluated()) > before, timeout, "the evaluation", poll=0.02)
    last = -1
    for _ in range(100):  # quiet for 0.3 s (bounded)
        now = len(world.double.requests)
        if now == last:
            break
        last = now
        time.sleep(0.3)


def _measure(world: World, dep: Any, send: Any) -> dict[str, Any]:
    world.double.reset_requests()
    before = len(dep.evaluated())
    send()
    _settle(world, dep, before)
    reqs = world.double.calls()
    by = Counter(f"{r.method} {r.template or r.path}" for r in reqs)
    writes = sum(n for k, n in by.items() if not k.startswith("GET "))
    return {
        "calls": len(reqs),
        "writes": writes,
        "endpoints": dict(sorted(by.items(), key=lambda kv: (-kv[1], kv[0]))),
        "evaluated": dep.evaluated()[-1].get("message"),
    }


def run() -> dict[str, Any]:
    world = World()
    results: dict[str, Any] = {}
    try:
        with world.deployment(1, 1, WEB_CONCURRENCY="1", WORKER_CONCURRENCY="1") as dep:
            sender = Sender(dep.ports[0])
            warm = world.prs.open()
            before = len(dep.evaluated())
            sender.post("pull_request", warm)
            _settle(world, dep, before)

            plain = world.prs.open(body="Fix the export rounding.\n", head_ref="fix-export")
            results["non-codex"] = _measure(world, dep, lambda: sender.post("pull_request", plain))
            codex = world.prs.open()
            results["codex-opened"] = _measure(
                world, dep, lambda: sender.post("pull_request", codex)
            )
            sync = copy.deepcopy(codex)
            sync["action"] = "synchronize"
            pr = sync["pull_request"]
            repo = sync["repository"]["full_name"]
            pr["head"]["sha"] = sha = new_sha()
            pr["updated_at"] = "2030-01-01T00:00:00Z"
            world.double.put_files(
                repo, sha,
                {"AGENTS.md": GOOD_AGENTS_MD, "app/export.py": "x = 3\n", "tests/test_x.py": ""},
                base=pr["base"]["sha"],
            )  # fmt: skip
            world.double.add_check_run(repo, sha, "build", "completed", "success")
            world.double.seed_from_event(sync)
            results["synchronize"] = _measure(world, dep, lambda: sender.post("pull_request", sync))
            suite = check_suite_completed(world.examples, sync, sha)
            results["check_suite.completed"] = _measure(
                world, dep, lambda: sender.post("check_suite", suite)
            )
            results["unchanged re-delivery"] = _measure(
                world, dep, lambda: sender.post("pull_request", sync)
            )
        world.double.assert_clean()
    finally:
        world.close()

    targets = {
        "non-codex": ("≤ 2 calls", lambda r: r["calls"] <= 2),
        "codex-opened": ("≤ 7 calls", lambda r: r["calls"] <= 7),
        "synchronize": ("≤ 7 calls", lambda r: r["calls"] <= 7),
        "check_suite.completed": ("no writes if unchanged", lambda r: r["writes"] == 0),
        "unchanged re-delivery": ("0 writes", lambda r: r["writes"] == 0),
    }
    rows = []
    for name, r in results.items():
        label, ok = targets[name]
        rows.append([name, str(r["calls"]), str(r["writes"]), label,
                     "met" if ok(r) else "missed",
                     "<br>".join(f"{n}× `{k}`" for k, n in r["endpoints"].items())])  # fmt: skip
    md = table(["scenario", "calls", "writes", "target", "verdict", "per endpoint"], rows)
    md += (
        "\n\nBaseline: the target counts (ratios: "
        + ", ".join(
            f"{k} {results[k]['calls'] / v:.1f}x" for k, v in TARGETS.items() if k in results
        )
        + "). Counted after a warm-up evaluation (installation token already minted and shared)."
    )
    write_result("api_calls", {"scenarios": results}, md)
    return results


if __name__ == "__main__":
    run()
