"""5. Practices engine: `bot.practices.evaluation.evaluate` on a PRSnapshot; growth with size.

1x = a 64 KB Codex body and a 32 KB AGENTS.md chain (root + app/ AGENTS.md, 16 KB
each, referencing files, commands and build targets); 2x..16x scale the body
(16x = a 1 MB body); the chain stays at 32 KB, because a larger chain fails the
32 KiB budget and takes a different, shorter path (which would flatter the curve).
Baseline (same run, same inputs): one regex pass `\\S+` over the body and the chain,
i.e. the cost of reading the input once.
"""

from __future__ import annotations

import re
import time
from typing import Any

from bench.common import QUICK, table, write_result
from bot.core.config import DEFAULT_CONFIG
from bot.core.snapshot import CheckEvidence, PRSnapshot
from bot.practices.evaluation import evaluate

BODY_KB = 64
CHAIN_KB = 32
FACTORS = (1, 2, 4, 8, 16)
BUDGET_S = 0.6 if QUICK else 2.0

_BODY_HEAD = """## Summary
- stop the nightly export from double-counting refunded orders

## Done when
- the export for 2025-01-31 lists each refunded order once

## Testing
"""
_BODY_LINE = "- ✅ `pytest -q tests/test_export_{i}.py` (12 passed) see app/export.py line {i}\n"
_BODY_TAIL = "\n------\nhttps://chatgpt.com/codex/tasks/task_e_0123456789abcdef0123456789abcdef\n"
_AGENTS_LINE = (
    "- Keep `app/export.py` in sync with `tests/test_x.py`; run `make test` and "
    "`npm run lint` before committing (rule {i}).\n"
)


def _fill(head: str, line: str, tail: str, size: int) -> str:
    parts = [head]
    n = len(head) + len(tail)
    i = 0
    while n < size:
        piece = line.format(i=i)
        parts.append(piece)
        n += len(piece.encode())
        i += 1
    parts.append(tail)
    return "".join(parts)


def snapshot(factor: int) -> PRSnapshot:
    body = _fill(_BODY_HEAD, _BODY_LINE, _BODY_TAIL, BODY_KB * 1024 * factor)
    half = (CHAIN_KB * 1024 - 512) // 2  # the chain stays just inside Codex's 32 KiB budget
    root = _fill("# Agent instructions\n\n## Checks\n", _AGENTS_LINE, "", half)
    app = _fill("# app/ instructions\n\n", _AGENTS_LINE, "", half)
    files = {
        "AGENTS.md": root,
        "app/AGENTS.md": app,
        "Makefile": "test:\n\tpytest -q\n",
        "package.json": '{"scripts": {"lint": "x"}}',
    }
    tree = frozenset({*files, "app/export.py", "tests/test_x.py"})  # fmt: skip
    return PRSnapshot(
        repo="octo-org/app", number=7, title="Stop double-counting refunds", body=body,
        author="octocat", head_sha="a" * 40, head_ref="codex/fix-export", base_ref="main",
        changed_files=("app/export.py",), head_tree=tree, head_files=files,
        base_files=dict(files), other_open_prs={},
        checks=(CheckEvidence("build", "check_run", "completed", "success"),),
    )  # fmt: skip


def _time(fn: Any) -> tuple[float, int]:
    fn()  # warm-up (compiled patterns, caches)
    runs, started = 0, time.perf_counter()
    while runs < 200:
        fn()
        runs += 1
        if time.perf_counter() - started > BUDGET_S:
            break
    return (time.perf_counter() - started) / runs, runs


def run() -> dict[str, Any]:
    words = re.compile(r"\S+")
    rows_data = []
    for factor in FACTORS:
        snap = snapshot(factor)
        size = len(snap.body.encode()) + sum(len(t.encode()) for t in snap.head_files.values())
        evaluation = evaluate(snap, DEFAULT_CONFIG)
        per_eval, runs = _time(lambda s=snap: evaluate(s, DEFAULT_CONFIG))
        text = snap.body + "".join(snap.head_files.values())
        per_scan, _ = _time(lambda t=text: words.findall(t))
        rows_data.append({
            "factor": factor, "input_bytes": size, "body_bytes": len(snap.body.encode()),
            "seconds": per_eval, "runs": runs, "scan_seconds": per_scan,
            "conclusion": evaluation.conclusion,
        })  # fmt: skip
    base = rows_data[0]
    for r in rows_data:
        r["time_ratio"] = r["seconds"] / base["seconds"]
        r["size_ratio"] = r["input_bytes"] / base["input_bytes"]
        r["linearity"] = r["time_ratio"] / r["size_ratio"]
        r["vs_scan"] = r["seconds"] / r["scan_seconds"]
    worst = max(r["linearity"] for r in rows_data)
    linear = worst <= 1.5
    rows = [
        [f"{r['factor']}x", f"{r['body_bytes'] / 1024:,.0f} KB",
         f"{r['input_bytes'] / 1024:,.0f} KB",
         f"{r['seconds'] * 1000:.2f} ms", f"{r['vs_scan']:.1f}x", f"{r['time_ratio']:.2f}",
         f"{r['size_ratio']:.2f}", f"{r['linearity']:.2f}", r["conclusion"]]
        for r in rows_data
    ]  # fmt: skip
    md = table(["size", "body", "body + AGENTS chain", "time per evaluation",
                "vs one regex pass (baseline)", "time ratio vs 1x", "size ratio",
                "time ratio / size ratio", "conclusion"], rows)  # fmt: skip
    md += (
        f"\n\nVerdict: {'linear' if linear else 'NOT linear'} (worst time-ratio/size-ratio "
        f"{worst:.2f}; linear means ≤ 1.5 up to a 1 MB body)."
    )
    result = {"sizes": rows_data, "worst_linearity": worst, "linear": linear}
    write_result("engine", result, md)
    return result


if __name__ == "__main__":
    run()
