"""Do request themes match the topics the requests were written from?

Each seeded log (tests/analysis/request_texts.py) has 3–7 topics of uneven size, words shared by
every topic, greetings and sign-offs, order numbers, typos, and requests from a few words to a
paragraph. ``salesflow.analysis.find_themes`` runs on it as on a workspace's uncategorised
requests; the adjusted Rand index (ARI) compares its themes with the true topics, and the number
of themes with the number of topics. Target: ARI ≥ 0.8 on every log.

    .venv/bin/python benchmarks/bench_themes.py --logs 20 --n 200 600 1500
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from sklearn.metrics import adjusted_rand_score

from salesflow.analysis import find_themes

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from analysis.request_texts import as_requests, request_log  # the tests' generator


def one(seed: int, n: int) -> tuple[float, int, int]:
    """ARI, themes found and true topics for one seeded log of ``n`` requests."""
    log = request_log(seed, n)
    result = find_themes(as_requests(log))
    truth = log.set_index("request_id")["topic"]
    pairs = [(truth[a["request_id"]], a["theme"]) for a in result.assignments]
    ari = adjusted_rand_score([t for t, _ in pairs], [k for _, k in pairs])
    return ari, result.k, log["topic"].nunique()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--logs", type=int, default=20)
    parser.add_argument("--n", type=int, nargs="+", default=[600])
    args = parser.parse_args()
    worst = 1.0
    print("requests  logs  ARI min  ARI median  ARI mean  k = topics  |k − topics| ≤ 1  s/log")
    for n in args.n:
        start = time.perf_counter()
        runs = [one(seed, n) for seed in range(args.logs)]
        took = (time.perf_counter() - start) / args.logs
        aris = [a for a, _, _ in runs]
        exact = sum(k == t for _, k, t in runs)
        near = sum(abs(k - t) <= 1 for _, k, t in runs)
        print(
            f"{n:>8}  {args.logs:>4}  {min(aris):7.3f}  {statistics.median(aris):10.3f}  "
            f"{statistics.mean(aris):8.3f}  {exact:>5}/{args.logs:<4}  {near:>9}/{args.logs:<6}"
            f"  {took:5.1f}"
        )
        worst = min(worst, min(aris))
    print(f"lowest ARI {worst:.3f} (target ≥ 0.8)")
    return 0 if worst >= 0.8 else 1


if __name__ == "__main__":
    sys.exit(main())
