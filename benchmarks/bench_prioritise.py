"""Does the "work these first" ranking beat chance where an effect is known, and only there?

Each seeded log (tests/analysis/prioritise_log.py) holds ``--n`` deals created over 600 days
with P(won) = 0.25 + 0.30·[source = referral] − 0.10·[segment = Enterprise] (a referral wins
about 2.2× as often), or 0.30 for every deal with ``--no-effect`` cases. The rolling backtest
of ``salesflow prioritise`` (``salesflow.analysis.backtest.run_backtest``: learn from the deals
closed before each monthly cut-off, score the deals open at it) runs on each, on the variables
the command picks (amount band, source, segment, product, team, region). Reported per case:
AUC (mean and 5th percentile), top-decile lift, Brier score against predicting the base rate,
the largest calibration gap, and how often the verdict says "better than chance".

    .venv/bin/python benchmarks/bench_prioritise.py --seeds 100 --n 800 1500 3000
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from analysis.prioritise_log import deal_log  # the tests' generator
from salesflow.analysis.backtest import run_backtest
from salesflow.analysis.variables import AMOUNT_BANDS, Variable

NAMES = ("amount_band", "source", "segment", "product", "team", "region")
VARIABLES = [Variable(n, n, "categorical", "creation") for n in NAMES]


def frame(deals: pd.DataFrame) -> pd.DataFrame:
    """The columns ``deal_frame`` gives the scorer, computed in pandas (amount bands as
    ``salesflow.analysis.features.amount_band``)."""
    bounds = [b for b, _ in AMOUNT_BANDS[:-1]]
    labels = [name for _, name in AMOUNT_BANDS]
    band = pd.cut(deals["amount"], [-np.inf, *bounds, np.inf], labels=labels, right=False)
    return deals.assign(amount_band=band.astype(str))


def one_case(seeds: range, n: int, effect: bool) -> dict[str, float]:
    rows = []
    for seed in seeds:
        deals = frame(deal_log(seed, n, effect=effect))
        moment = deals["created_at"].max().floor("s").to_pydatetime()
        test = run_backtest(deals, VARIABLES, moment)
        if test["status"] != "ok":
            continue
        gap = max(abs(b["predicted"] - b["observed"]) for b in test["calibration"])
        rows.append(
            (
                test["auc"],
                test["top_decile_lift"],
                test["brier"],
                test["brier_base_rate"],
                gap,
                test["scored"],
                "not clearly" not in test["verdict"],
            )
        )
    a = np.array(rows, dtype=float)
    return {
        "runs": len(a),
        "scored": a[:, 5].mean(),
        "auc": a[:, 0].mean(),
        "auc_p5": np.percentile(a[:, 0], 5),
        "lift": a[:, 1].mean(),
        "brier": a[:, 2].mean(),
        "brier_base": a[:, 3].mean(),
        "calibration_gap": a[:, 4].mean(),
        "better": a[:, 6].mean(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--n", type=int, nargs="+", default=[1500])
    args = parser.parse_args()
    head = "| effect | deals | runs | scored | AUC | AUC 5th pct | top-decile lift | Brier | "
    print(head + "Brier (base rate) | calibration gap | 'better than chance' |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    ok = True
    for effect in (True, False):
        for n in args.n:
            start = time.perf_counter()
            r = one_case(range(args.seeds), n, effect)
            print(
                f"| {'referral 2.2×' if effect else 'none'} | {n:,} | {r['runs']} | "
                f"{r['scored']:.0f} | {r['auc']:.3f} | {r['auc_p5']:.3f} | {r['lift']:.2f} | "
                f"{r['brier']:.4f} | {r['brier_base']:.4f} | {r['calibration_gap']:.3f} | "
                f"{r['better']:.0%} |  ({time.perf_counter() - start:.0f} s)",
                flush=True,
            )
            ok &= r["auc_p5"] > 0.5 if effect else r["better"] <= 0.1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
