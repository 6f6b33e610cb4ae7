"""Business-time durations at scale: what ``--param clock=business`` costs against the calendar
clock, and against NumPy's business-day functions, on the same deals, in one run.

Steps timed (best of three each): ``cycle_time`` by team on the calendar clock and on the
business clock (Monday–Friday 09:00–17:00, German holidays, Europe/Berlin) through
``salesflow.metrics.breakdown`` on DuckDB; the reference computes the same business hours per deal
with ``numpy.busday_count`` / ``numpy.is_busday`` and clipping to opening hours, vectorised, on
columns already in memory (and, separately, the cost of fetching those columns into pandas). The
per-team medians of the reference and of the engine are checked to agree before any ratio is
printed.

    .venv/bin/python benchmarks/bench_clock.py --deals 1000000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

OPENS, CLOSES = 9 * 3600, 17 * 3600
CALENDAR = {
    "timezone": "Europe/Berlin",
    "business_hours": "09:00-17:00",
    "holidays": "DE",
    "extra_holidays": ["2024-12-24", "2025-12-24"],
}
START = np.datetime64("2023-01-01T00:00:00", "s")


def generate(n: int, seed: int = 19) -> pd.DataFrame:
    """Deals created over three years at minute resolution, closed 0–120 days later."""
    rng = np.random.default_rng(seed)
    created = START + rng.integers(0, 3 * 365 * 1440, n).astype("timedelta64[m]")
    length = (rng.exponential(25 * 1440, n) % (120 * 1440)).astype("int64")
    closed = created + length.astype("timedelta64[m]")
    return pd.DataFrame(
        {
            "opportunity_id": [f"D{i}" for i in range(n)],
            "account": "A",
            "owner": "Ann",
            "team": rng.choice(np.array(["East", "West", "North", "South"]), n),
            "product": "Core",
            "segment": "SMB",
            "source": "inbound",
            "stage": "Won",
            "created_at": created.astype("datetime64[us]"),
            "closed_at": closed.astype("datetime64[us]"),
            "outcome": np.where(rng.random(n) < 0.4, "won", "lost"),
            "amount": rng.integers(1, 100, n) * 1000.0,
        }
    )


def reference_days(created: np.ndarray, closed: np.ndarray, holidays: list) -> np.ndarray:
    """Business days (8-hour days) per deal with NumPy's business-day calendar, independently of
    salesflow: the start day's remainder, the whole workdays between, the end day's part."""
    ds, de = created.astype("datetime64[D]"), closed.astype("datetime64[D]")
    sod_s = (created - ds).astype("timedelta64[s]").astype("int64").clip(OPENS, CLOSES)
    sod_e = (closed - de).astype("timedelta64[s]").astype("int64").clip(OPENS, CLOSES)
    bus_s = np.is_busday(ds, holidays=holidays)
    bus_e = np.is_busday(de, holidays=holidays)
    between = np.busday_count(ds + 1, de, holidays=holidays).clip(0)
    split = bus_s * (CLOSES - sod_s) + between * (CLOSES - OPENS) + bus_e * (sod_e - OPENS)
    same = bus_s * (sod_e - sod_s)
    return np.where(ds == de, same, split) / (CLOSES - OPENS)


def best(fn: Callable[[], object], runs: int = 3) -> tuple[float, object]:
    times, out = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=200_000)
    args = parser.parse_args()

    import holidays as holiday_lib

    from salesflow import metrics
    from salesflow.settings import settings_from_mapping
    from salesflow.source import connect

    frame = generate(args.deals)
    folder = Path(tempfile.mkdtemp(prefix="bench_clock_"))
    con = connect(f"duckdb:///{folder / 'data.duckdb'}")
    con.create_table("opportunities", frame)
    settings = settings_from_mapping(folder, {"calendar": CALENDAR}, {})

    def run(clock: str) -> pd.DataFrame:
        got = metrics.breakdown(con, settings, "cycle_time", by="team", params={"clock": clock})
        return pd.Series({g.key: g.value for g in got.groups})

    t_cal, _ = best(lambda: run("calendar"))
    t_bus, engine = best(lambda: run("business"))
    t_fetch, cols = best(lambda: con.table("opportunities").select("team", "created_at", "closed_at").to_pandas())  # fmt: skip
    years = range(2023, 2027)
    off = sorted(holiday_lib.country_holidays("DE", years=years)) + CALENDAR["extra_holidays"]
    off = np.array(off, dtype="datetime64[D]")
    created = cols["created_at"].to_numpy("datetime64[s]")
    closed = cols["closed_at"].to_numpy("datetime64[s]")
    t_ref, days = best(lambda: reference_days(created, closed, off))
    t_med, ref = best(lambda: pd.Series(days).groupby(cols["team"].to_numpy()).median())
    if not np.allclose(ref.sort_index().to_numpy(), engine.sort_index().to_numpy(), atol=1e-9):
        print("engine and reference disagree:", engine.to_dict(), ref.to_dict(), file=sys.stderr)
        return 1
    con.disconnect()
    rows = [
        ("cycle_time by team, calendar clock (engine)", t_cal),
        ("cycle_time by team, business clock (engine)", t_bus),
        ("reference: fetch 3 columns into pandas", t_fetch),
        ("reference: NumPy busday per deal, in memory", t_ref),
        ("reference: pandas median by team", t_med),
        ("reference: fetch + NumPy + median", t_fetch + t_ref + t_med),
    ]
    print(f"{args.deals:,} deals; medians agree (business days by team: {ref.round(3).to_dict()})")
    print("| step | best of 3, s |\n|---|---:|")
    for name, t in rows:
        print(f"| {name} | {t:.3f} |")
    print(f"business / calendar clock: {t_bus / t_cal:.2f}x")
    print(f"business clock / reference (fetch + NumPy + median): {t_bus / rows[-1][1]:.2f}x")
    print(f"business clock / reference (NumPy in memory only): {t_bus / t_ref:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
