"""The pipeline waterfall over a large deal history, against a vectorised pandas reference.

Timed: ``pipeline_waterfall`` in-process on the workspace's DuckDB file (a fresh Ibis connection,
the whole call: two aggregates in the engine and the JSON document), and, in the same run, the same
definitions written in pandas on a DataFrame already in memory (sort, last state per deal before
and after the period, the bars). Both results are checked to agree, bar by bar, before any ratio
is printed. Target: ≤ 2 s for 1,000,000 history rows.

    .venv/bin/python benchmarks/bench_pipeline.py --rows 1000000

The history is generated here with NumPy: ~5 changes per deal through 2024-10..2025-12, stages at
random (won and lost less often), amounts with cents, expected close dates 30 days before to 180
days after the change, 25 owners, about 3 % missing amounts and close dates.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

STAGES = ("Lead", "Qualified", "Discovery", "Proposal", "Negotiation", "Won", "Lost")
WEIGHTS = np.array([0.2, 0.2, 0.17, 0.15, 0.12, 0.08, 0.08])
START = np.datetime64("2024-10-01T00:00:00", "s")
SPAN_S = 456 * 86400  # to the end of 2025


def generate(rows: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    deals = max(1, rows // 5)
    deal = rng.integers(0, deals, rows)
    seconds = rng.integers(0, SPAN_S, rows)
    # unique moments per deal: the row number breaks ties in microseconds
    at = START + seconds.astype("timedelta64[s]") + np.arange(rows).astype("timedelta64[us]")
    stage = np.array(STAGES, dtype=object)[rng.choice(len(STAGES), rows, p=WEIGHTS / WEIGHTS.sum())]
    amount = np.round(rng.uniform(0, 50000, rows), 2)
    amount[rng.random(rows) < 0.03] = np.nan
    close = at.astype("datetime64[D]") + rng.integers(-30, 180, rows).astype("timedelta64[D]")
    frame = pd.DataFrame(
        {
            "opportunity_id": pd.Series(deal).map(lambda i: f"D{i:07d}"),
            "changed_at": at,
            "stage": stage,
            "amount": amount,
            "close_date": pd.Series(close).dt.date,
            "forecast_category": None,
            "owner": pd.Series(rng.integers(0, 25, rows)).map(lambda i: f"Rep {i:02d}"),
        }
    )
    frame.loc[rng.random(rows) < 0.03, "close_date"] = None
    return frame


def write_workspace(frame: pd.DataFrame, folder: Path) -> Path:
    import duckdb

    from salesflow.schema import TABLES

    file = folder / "data.duckdb"
    con = duckdb.connect(str(file))
    con.execute(TABLES["opportunity_history"].create_sql())
    con.register("frame", frame)
    con.execute("INSERT INTO opportunity_history SELECT * FROM frame")
    con.close()
    return file


def pandas_waterfall(df: pd.DataFrame, first: date, after: date) -> dict[str, tuple[int, int]]:
    """The definitions of docs/pipeline.md, vectorised in pandas (sorted once)."""
    df = df.sort_values(["opportunity_id", "changed_at"], kind="stable")
    p0, p1 = pd.Timestamp(first), pd.Timestamp(after)

    def state(moment: pd.Timestamp) -> pd.DataFrame:
        last = df[df["changed_at"] < moment].drop_duplicates("opportunity_id", keep="last")
        return last.set_index("opportunity_id")[["stage", "amount", "close_date"]]

    deals = pd.Index(df["opportunity_id"].unique())
    before, through = state(p0), state(p1)
    s, e = before.reindex(deals), through.reindex(deals)
    s_seen = pd.Series(deals.isin(before.index), index=deals)
    e_seen = pd.Series(deals.isin(through.index), index=deals)

    def inside(st: pd.DataFrame, seen: pd.Series) -> pd.Series:
        cd = pd.to_datetime(st["close_date"])
        return seen & ~st["stage"].isin(["Won", "Lost"]) & (cd >= p0) & (cd < p1)

    def cents(st: pd.DataFrame) -> pd.Series:
        return (st["amount"].fillna(0) * 100).round().astype("int64")

    s_in, e_in = inside(s, s_seen), inside(e, e_seen)
    won = (e["stage"] == "Won") & ~(s_seen & (s["stage"] == "Won"))
    lost = (e["stage"] == "Lost") & ~(s_seen & (s["stage"] == "Lost"))
    closed = won | lost
    sa, ea = cents(s), cents(e)
    change = ea - sa
    stays, enters = s_in & (e_in | closed), ~s_in & (e_in | closed)
    bars = {
        "start": (s_in, sa),
        "created": (enters & ~s_seen, ea),
        "pulled_in": (enters & s_seen, ea),
        "pushed_out": (s_in & ~e_in & ~closed, sa),
        "won": (won, ea),
        "lost": (lost, ea),
        "amount_up": (stays & (change > 0), change),
        "amount_down": (stays & (change < 0), -change),
        "end": (e_in, ea),
    }
    return {k: (int(w.sum()), int(a[w].sum())) for k, (w, a) in bars.items()}


def timed(fn, repeat: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--period", default="2025-Q3")
    args = parser.parse_args()

    import ibis

    from salesflow.analysis.pipeline import COMPONENTS, parse_period, pipeline_waterfall
    from salesflow.settings import StageConfig

    stages = StageConfig(STAGES[:5], ("Won",), ("Lost",))
    period = parse_period(args.period)
    folder = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    try:
        frame = generate(args.rows)
        file = write_workspace(frame, folder)

        def ours() -> dict:
            con = ibis.duckdb.connect(str(file), read_only=True)
            try:
                return pipeline_waterfall(con, stages, period)
            finally:
                con.disconnect()

        load = os.getloadavg()
        ours_s, doc = timed(ours, args.repeat)
        ref_s, ref = timed(lambda: pandas_waterfall(frame, period.first, period.after), args.repeat)
        got = {k: (doc[k]["count"], doc[k]["amount_cents"]) for k in COMPONENTS}
        assert got == ref, f"salesflow and pandas disagree:\n{got}\n{ref}"
        print(f"{args.rows:,} history rows, {frame['opportunity_id'].nunique():,} deals, "
              f"period {period.label}; load average {load[0]:.1f} {load[1]:.1f} at the start; "
              f"best of {args.repeat}; {datetime.now():%Y-%m-%d %H:%M}")  # fmt: skip
        print(f"  salesflow pipeline_waterfall (DuckDB file, in-process): {ours_s:6.2f} s")
        print(f"  pandas reference (DataFrame in memory):                  {ref_s:6.2f} s")
        print(f"  ratio salesflow / pandas: {ours_s / ref_s:.2f}; target ≤ 2 s at 1M rows: "
              f"{'met' if ours_s <= 2 else 'NOT met'}")  # fmt: skip
        print("  bars agree: " + ", ".join(f"{k} {got[k][0]:,}" for k in COMPONENTS))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
