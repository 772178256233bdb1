"""6. Scale-out: two web + two worker processes on one Redis vs one of each.

The same flood of distinct Codex PRs goes to both layouts; every delivery is sent
twice with the same X-GitHub-Delivery (to each web process in turn, as a GitHub
redelivery could land), so "no PR evaluated twice for one event" is tested across
processes. Counted at the double: check-run creations per head SHA; in the logs:
"evaluated:" records per head SHA. Baseline (same run): the 1 web + 1 worker layout.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from typing import Any

from bench.common import QUICK, Sender, World, table, write_result

FLOOD = 30 if QUICK else 100


def layout(world: World, webs: int, workers: int) -> dict[str, Any]:
    repo = world.prs.open()["repository"]["full_name"]
    with world.deployment(webs, workers, WEB_CONCURRENCY="1") as dep, world.watcher(repo) as w:
        senders = [Sender(p) for p in dep.ports]
        warm = world.prs.open()
        senders[0].post("pull_request", warm)
        w.wait([warm["pull_request"]["head"]["sha"]], 60)
        payloads = [world.prs.open() for _ in range(FLOOD)]
        shas = [p["pull_request"]["head"]["sha"] for p in payloads]
        world.double.reset_requests()
        before = len(dep.evaluated())
        started = time.perf_counter()
        for i, p in enumerate(payloads):
            delivery = str(uuid.uuid4())
            senders[i % len(senders)].post("pull_request", p, delivery)
            senders[(i + 1) % len(senders)].post("pull_request", p, delivery)
        ok = w.wait(shas, 30 + FLOOD)
        last = max(w.completed.get(s, time.perf_counter()) for s in shas)
        seconds = last - started
        time.sleep(1.0)  # let any duplicate evaluation show itself
        creates = Counter(
            (r.body or {}).get("head_sha") for r in world.double.calls("POST", r"/check-runs$")
        )
        evals = Counter(r.get("head_sha") for r in dep.evaluated()[before:])
    flood_shas = set(shas)
    return {
        "webs": webs,
        "workers": workers,
        "deliveries": FLOOD * 2,
        "prs": FLOOD,
        "all_completed": ok,
        "seconds": seconds,
        "per_s": FLOOD / seconds if seconds else 0.0,
        "max_creates_per_sha": max((creates[s] for s in flood_shas), default=0),
        "max_evaluations_per_sha": max((evals[s] for s in flood_shas), default=0),
        "evaluations": sum(evals[s] for s in flood_shas),
    }


def run() -> dict[str, Any]:
    world = World()
    try:
        one = layout(world, 1, 1)
        two = layout(world, 2, 2)
    finally:
        world.close()
    speedup = two["per_s"] / one["per_s"] if one["per_s"] else float("nan")
    rows = [
        [f"{r['webs']} web + {r['workers']} worker", f"{r['per_s']:.1f}/s",
         f"{r['per_s'] / one['per_s']:.2f}", str(r["evaluations"]) + f" / {r['prs']}",
         str(r["max_evaluations_per_sha"]), str(r["max_creates_per_sha"]),
         "yes" if r["all_completed"] else "NO"]
        for r in (one, two)
    ]  # fmt: skip
    md = table(["layout", "evaluations/s (flood)", "ratio vs 1+1 (baseline)",
                "evaluations / PRs", "max evaluations per head SHA",
                "max check-run creations per head SHA", "all completed"], rows)  # fmt: skip
    md += (
        f"\n\n{FLOOD} distinct Codex PRs, each delivery sent twice with one delivery id "
        f"(to different web processes when there are two); WORKER_CONCURRENCY default (2) per "
        f"worker, WEB_CONCURRENCY=1 per web. Scale-out ratio {speedup:.2f} "
        "(target: scales, i.e. > 1)."
    )
    result = {"one": one, "two": two, "speedup": speedup,
              "no_double_evaluation": two["max_evaluations_per_sha"] <= 1
              and one["max_evaluations_per_sha"] <= 1}  # fmt: skip
    write_result("scaleout", result, md)
    return result


if __name__ == "__main__":
    run()
