"""Do the driver analysis's 95 % intervals hold the effects injected into seeded deal logs?

Each log is ``--n`` closed deals with P(won) = 0.40 − 0.12·[first response > 48 h] +
0.10·[source = partner] and a region with no effect (tests/analysis/simulated_deals.py); the
whole ``salesflow.analysis.analyse`` path (refusal checks, logistic fit, average marginal effects,
diagnostics) runs on each. Coverage is the share of logs whose interval holds the injected
effect; the target is ≥ 90 % (a correct 95 % interval gives about 95 %).

    .venv/bin/python benchmarks/bench_drivers.py --logs 200 --n 200 400 1000
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from analysis.simulated_deals import coverage  # the tests' generator


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--logs", type=int, default=200)
    parser.add_argument("--n", type=int, nargs="+", default=[400])
    args = parser.parse_args()
    worst = 1.0
    print(f"{'deals per log':>13}  {'effect':<26} coverage  ({args.logs} logs)")
    for n in args.n:
        start = time.perf_counter()
        found = coverage(range(args.logs), n=n)
        took = time.perf_counter() - start
        for name, share in found.items():
            print(f"{n:>13}  {name:<26} {share:8.1%}")
            worst = min(worst, share)
        print(f"{'':>13}  ({took:.1f} s)")
    print(f"lowest coverage {worst:.1%} (target ≥ 90 %)")
    return 0 if worst >= 0.9 else 1


if __name__ == "__main__":
    sys.exit(main())
