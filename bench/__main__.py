"""`make bench`: run every benchmark (or those named) and print their tables.

Bounded: each load phase is a few seconds (`BENCH_FULL=1` for longer phases), and
the whole run takes a few minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import traceback

ORDER = ("ingest", "e2e", "latency", "api_calls", "burst", "engine", "scaleout")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", choices=[*ORDER, []], help="benchmarks to run")
    args = parser.parse_args(argv)
    failed = []
    started = time.monotonic()
    for name in args.names or ORDER:
        t0 = time.monotonic()
        print(f"== {name} ==", flush=True)
        try:
            importlib.import_module(f"bench.{name}").run()
        except Exception:  # one broken benchmark must not hide the others
            traceback.print_exc()
            failed.append(name)
        print(f"({name}: {time.monotonic() - t0:.0f} s)", flush=True)
    print(f"\nall benchmarks: {time.monotonic() - started:.0f} s; results in bench/results/")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
