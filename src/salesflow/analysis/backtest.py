"""The honest check of the ranking: learn from the past, score the deals open at a cut-off, and
compare with what happened to them next.

The test rolls forward a month at a time, so every deal is scored once, as it stood then.
Reports the AUC (the chance that a deal that went on to win was ranked above one that was lost;
0.5 is a coin toss) with a 95 % interval (Hanley & McNeil 1982), the lift of the top tenth (its
win rate ÷ the win rate of all scored deals), and the calibration: predicted against observed
win rate in five bins, and the Brier score beside the one of predicting the base rate for all.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import TYPE_CHECKING, Any

from salesflow.analysis.prioritise import fit_scorer, split
from salesflow.errors import DataError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from salesflow.analysis.variables import Variable

__all__ = ["auc_interval", "evaluate", "run_backtest"]

FIRST_CUTOFF_SHARE = 0.5  # the first cut-off: when half of the deals closed by now had closed
STEP_DAYS = 30
MIN_TRAIN = 30
MIN_TEST = 20
BINS = 5


def run_backtest(
    frame: pd.DataFrame,
    variables: list[Variable],
    moment: datetime,
    *,
    cutoff: datetime | None = None,
) -> dict[str, Any]:
    """Score deals as they stood at each cut-off and judge with the outcomes known by ``moment``.

    One ``cutoff`` gives one test: train on the deals closed before it, score those open at it.
    Without one the test rolls forward every ``STEP_DAYS`` from the moment half of today's
    closed deals had closed; each deal is scored once, at the first cut-off it is open at.
    """
    import numpy as np

    closed_by_now, _ = split(frame, moment)
    if cutoff is None and closed_by_now.empty:
        return _insufficient(None, "no deal has closed yet")
    cutoffs = [cutoff] if cutoff is not None else _cutoffs(closed_by_now, moment)
    ys, ps, rates, trained, seen = [], [], [], [], set()
    still_open = 0
    for c in cutoffs:
        train, open_then = split(frame, c)
        open_then = open_then[~open_then["opportunity_id"].isin(seen)]
        seen.update(open_then["opportunity_id"])
        settled = open_then["closed_at"].notna() & (open_then["closed_at"] <= moment)
        settled &= open_then["outcome"].isin(["won", "lost"])
        still_open += int((~settled).sum())
        test = open_then[settled]
        if test.empty or len(train) < MIN_TRAIN:
            continue
        try:
            scorer = fit_scorer(train, variables)
        except DataError:
            continue
        ys.append((test["outcome"] == "won").to_numpy(float))
        ps.append(scorer.probability(test))
        rates.append(np.full(len(test), scorer.base_rate))
        trained.append(len(train))
    y = np.concatenate(ys) if ys else np.zeros(0)
    if len(y) < MIN_TEST or y.min(initial=1) == y.max(initial=0):
        return _insufficient(
            cutoffs[0], f"only {len(y)} deals open at a cut-off have closed since, won and lost"
        )
    doc = evaluate(y, np.concatenate(ps), base_rate=np.concatenate(rates))
    return {
        "status": "ok",
        "cutoffs": [c.isoformat() for c in cutoffs],
        "trained_on": trained,
        "scored": len(y),
        "still_open": still_open,
        **doc,
        "verdict": _verdict(doc, len(y), cutoffs),
    }


def _cutoffs(closed: pd.DataFrame, moment: datetime) -> list[datetime]:
    import pandas as pd

    first = pd.Timestamp(closed["closed_at"].quantile(FIRST_CUTOFF_SHARE)).floor("s")
    steps = pd.date_range(first, pd.Timestamp(moment), freq=f"{STEP_DAYS}D")
    return [s.to_pydatetime() for s in steps]


def evaluate(y: np.ndarray, p: np.ndarray, *, base_rate: Any) -> dict[str, Any]:
    """AUC with its interval, top-decile lift, calibration bins and Brier scores."""
    import numpy as np
    from sklearn.metrics import roc_auc_score

    auc = float(roc_auc_score(y, p))
    low, high = auc_interval(auc, int(y.sum()), int(len(y) - y.sum()))
    order = np.argsort(-p, kind="stable")
    top = order[: max(1, math.ceil(len(p) / 10))]
    rate = float(y.mean())
    return {
        "auc": round(auc, 4),
        "auc_ci": [round(low, 4), round(high, 4)],
        "win_rate": round(rate, 4),
        "top_decile_win_rate": round(float(y[top].mean()), 4),
        "top_decile_lift": round(float(y[top].mean()) / rate, 3) if rate else None,
        "brier": round(float(np.mean((p - y) ** 2)), 4),
        "brier_base_rate": round(float(np.mean((base_rate - y) ** 2)), 4),
        "calibration": _calibration(y, p),
    }


def auc_interval(auc: float, n_won: int, n_lost: int) -> tuple[float, float]:
    """95 % interval of an AUC from its standard error (Hanley & McNeil 1982)."""
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    var = auc * (1 - auc) + (n_won - 1) * (q1 - auc**2) + (n_lost - 1) * (q2 - auc**2)
    se = math.sqrt(max(var, 0.0) / (n_won * n_lost))
    return max(0.0, auc - 1.96 * se), min(1.0, auc + 1.96 * se)


def _calibration(y: np.ndarray, p: np.ndarray) -> list[dict[str, Any]]:
    """Deals in five bins of equal size by predicted win probability."""
    import numpy as np

    order = np.argsort(p, kind="stable")
    bins = []
    for chunk in np.array_split(order, min(BINS, len(p))):
        if len(chunk):
            bins.append(
                {
                    "n": len(chunk),
                    "predicted": round(float(p[chunk].mean()), 4),
                    "observed": round(float(y[chunk].mean()), 4),
                }
            )
    return bins


def _verdict(doc: dict[str, Any], scored: int, cutoffs: list[datetime]) -> str:
    low, high = doc["auc_ci"]
    lift = doc["top_decile_lift"]
    when = (
        f"on {cutoffs[0]:%d %b %Y}"
        if len(cutoffs) == 1
        else f"each month from {cutoffs[0]:%d %b %Y}, scored with what was known then"
    )
    head = (
        f"Tested on {scored:,} deals open {when}: a deal that went on to win was ranked "
        f"above a lost one {doc['auc']:.0%} of the time (a coin toss is 50 %; 95 % interval "
        f"{low:.0%}–{high:.0%})"
    )
    if low > 0.5:
        return (
            f"{head}, and the top tenth won {lift:.1f}× as often as all scored deals, so the "
            "ranking is better than chance."
        )
    return f"{head}, so the ranking is not clearly better than chance: use it with care."


def _insufficient(cutoff: datetime | None, why: str) -> dict[str, Any]:
    return {
        "status": "insufficient_data",
        "cutoffs": [] if cutoff is None else [cutoff.isoformat()],
        "verdict": f"Not tested yet: {why}.",
    }
