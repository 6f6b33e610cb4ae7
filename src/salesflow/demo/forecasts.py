"""Monthly forecasts per rep: commit, best case and pipeline, submitted before the month starts.

Commit is the won amount the month really brought, times a Q4 optimism factor and routine
noise; best case and pipeline sit above it. Built from a small owner x month matrix of actuals
that the chunk loop accumulates, so no deal has to stay in memory.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from salesflow.demo import effects as fx
from salesflow.demo.company import Company
from salesflow.demo.requests import _MONTH_STARTS, month_index

__all__ = ["add_actuals", "forecast_table"]

NOISE_SD = 0.10


def add_actuals(
    actuals: np.ndarray, owner: np.ndarray, closed: np.ndarray, amount: np.ndarray
) -> None:
    """Add won amounts (closed at ``closed`` days) into the owner x month matrix in place."""
    month = month_index(closed)
    inside = (month >= 0) & (month < fx.MONTHS)
    np.add.at(actuals, (owner[inside], month[inside]), amount[inside])


def _bias(month_of_year: np.ndarray) -> np.ndarray:
    return np.where(np.isin(month_of_year, fx.Q4_MONTHS), 1.0 + fx.Q4_COMMIT_BIAS, 1.0)


def forecast_table(seed: int, company: Company, actuals: np.ndarray) -> pa.Table:
    """Three forecast rows per rep and month, in the canonical ``forecasts`` shape."""
    rng = np.random.default_rng([seed, 0xF0])
    n_reps, n_months = actuals.shape
    owner, month = np.meshgrid(np.arange(n_reps), np.arange(n_months), indexing="ij")
    owner, month = owner.ravel(), month.ravel()
    start = np.datetime64(fx.DATA_START, "D") + _MONTH_STARTS[month].astype("timedelta64[D]")
    month_of_year = start.astype("datetime64[M]").astype(np.int64) % 12 + 1
    noise = np.clip(rng.normal(1.0, NOISE_SD, len(owner)), 0.7, 1.3)
    commit = actuals[owner, month] * _bias(month_of_year) * noise
    best_case = commit * rng.uniform(1.15, 1.45, len(owner))
    pipeline = best_case * rng.uniform(1.6, 2.4, len(owner))
    lead_minutes = rng.integers(2 * 1440, 7 * 1440, len(owner))  # 2-7 days before the month
    submitted = start.astype("datetime64[m]") - lead_minutes.astype("timedelta64[m]")
    reps = pa.array(company.reps).take(pa.array(owner))
    teams = pa.array(company.teams).take(pa.array(company.rep_team[owner]))
    columns = {
        "period_start": np.tile(start, 3),
        "owner": pa.concat_arrays([reps] * 3),
        "team": pa.concat_arrays([teams] * 3),
        "submitted_at": np.tile(submitted.astype("datetime64[us]"), 3),
        "category": np.repeat(["commit", "best_case", "pipeline"], len(owner)),
        "amount": np.round(np.concatenate([commit, best_case, pipeline]), -2),
    }
    return pa.table(columns)
