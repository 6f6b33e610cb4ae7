"""How often is an improvement verdict wrong? False alarms on no-change series, detection of shifts.

Simulates series where the truth is known — no change (i.i.d., AR(1) φ = 0.3 and 0.6, a
quarter-end peak) and sustained shifts of 0.5, 1 and 2 σ — at weekly and monthly granularity with
realistic lengths (12–24 baseline periods, 3–12 after, drawn per series), and judges each one
through the code the CLI runs: a metric :class:`~salesflow.metrics.results.Series` of complete
periods, charted by :func:`~salesflow.metrics.charted.chart_series` with the baseline window
``improve`` uses, then :func:`~salesflow.workbench.verdict.judge_improvement`. Two metrics: time
in a stage (days, an XmR chart) and win rate (a share of deals, a p or Laney p′ chart, binomial
counts around a moving true rate). The same no-change series also get the UDR ``signal``-mode
verdict (``judge_udr``, chart over all periods, bad if above), whose false-alarm rate is reported;
its detection rate is measured on series whose last :data:`UDR_WORSE_PERIODS` periods are
:data:`UDR_WORSE` σ worse (``udr_rows``).
``--workspace`` adds an end-to-end case: a real workspace with one team per series, the deals
imported from CSV, one improvement per team added through the workbench, each judged from DuckDB.

    .venv/bin/python benchmarks/bench_verdicts.py                 # the table in benchmarks/README.md
    .venv/bin/python benchmarks/bench_verdicts.py --reps 100      # a quick look
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

PROCESSES = ("iid", "ar0.3", "ar0.6", "quarter_end")
SHIFTS = (0.5, 1.0, 2.0)
SEASON_PEAK = 1.5  # the quarter-end peak, in σ of the noise
FIRST = date(2020, 1, 6)  # a Monday: weekly periods start on Mondays
DEALS = {"week": 12, "month": 50}  # closed deals per period behind a win rate
WIN_RATE, WIN_SPREAD = 0.40, 0.05  # true win rate and the σ of its period-to-period movement
DAYS, DAYS_SPREAD = 8.0, 1.5  # time in stage, days
UDR_WORSE, UDR_WORSE_PERIODS = 2.0, 6  # the UDR's real problem: the last 6 periods 2 σ worse


@dataclass
class Tally:
    """Counts of one case: series made, judged (not too early), and each verdict."""

    made: int = 0
    judged: int = 0
    improved: int = 0
    worse: int = 0
    judged8: int = 0  # judged with at least 8 periods after the start
    improved8: int = 0
    udr_confirmed: int = 0

    def add(self, verdict: str, after: int, udr: str | None) -> None:
        self.made += 1
        self.judged += verdict not in ("too_early", "insufficient_data")
        self.improved += verdict == "improved"
        self.worse += verdict == "worse"
        self.judged8 += after >= 8 and verdict not in ("too_early", "insufficient_data")
        self.improved8 += after >= 8 and verdict == "improved"
        self.udr_confirmed += udr == "confirmed"


def period_starts(period: str, n: int, offset: int) -> list[date]:
    from salesflow.metrics.calendar import next_start

    day = FIRST if period == "week" else date(2020, 1, 1)
    out = []
    for _ in range(offset + n):
        out.append(day)
        day = next_start(day, period)
    return out[offset:]


def quarter_end(day: date, period: str) -> bool:
    """The last month of a quarter; for weeks, the weeks starting in its second half."""
    return day.month % 3 == 0 and (period == "month" or day.day >= 15)


def noise(rng: np.random.Generator, process: str, days: list[date], period: str) -> np.ndarray:
    """Unit-variance noise of a no-change process (the quarter-end peak on top of i.i.d.)."""
    n = len(days)
    e = rng.standard_normal(n)
    if process.startswith("ar"):
        phi = float(process[2:])
        x = np.empty(n)
        x[0] = e[0]
        for t in range(1, n):
            x[t] = phi * x[t - 1] + np.sqrt(1 - phi**2) * e[t]
        return x
    if process == "quarter_end":
        return e + SEASON_PEAK * np.array([quarter_end(d, period) for d in days])
    return e


def make_series(
    metric: str, period: str, days: list[date], z: np.ndarray, rng: np.random.Generator
):
    """The metric's Series as the metrics layer returns it; ``z`` moves it in units of σ."""
    from salesflow.metrics.results import Point, Series

    if metric == "stage_time":
        values = DAYS + DAYS_SPREAD * z
        points = [Point(d, float(v), 20) for d, v in zip(days, values, strict=True)]
        return Series("stage_time", period, "days", "duration", points)
    n = DEALS[period]
    true = np.clip(WIN_RATE + WIN_SPREAD * z, 0.01, 0.99)
    won = rng.binomial(n, true)
    points = [
        Point(d, w / n, n, numerator=float(w), denominator=float(n))
        for d, w in zip(days, won, strict=True)
    ]
    return Series("win_rate", period, "%", "proportion", points)


def shift_in_z(metric: str, period: str, sigmas: float) -> float:
    """A shift of ``sigmas`` σ of the observed period values, in units of the process noise."""
    if metric == "stage_time":
        return sigmas
    n = DEALS[period]
    total = np.sqrt(WIN_SPREAD**2 + WIN_RATE * (1 - WIN_RATE) / n)  # σ of a period's win rate
    return sigmas * total / WIN_SPREAD


def judge(series, start_index: int, *, bad_if: str, udr: bool) -> tuple[str, str | None]:
    """The improvement verdict the way ``improve show`` reaches it, and the UDR signal verdict."""
    from salesflow.metrics.calendar import next_start
    from salesflow.metrics.charted import chart_series
    from salesflow.workbench.measures import complete_periods
    from salesflow.workbench.verdict import judge_improvement, judge_udr

    days = [p.period for p in series.points]
    complete, _ = complete_periods(series, next_start(days[-1], series.period))
    start = days[start_index]
    charted = chart_series(complete, None, baseline=(days[0], start - timedelta(days=1)))
    measure = {"bad_if": bad_if, "target": None, "start_date": start.isoformat()}
    found = judge_improvement(charted, measure, title="Measure", start=start).verdict
    if not udr:
        return found, None
    binding = {"metric": series.metric, "bad_if": "above", "threshold": None, "mode": "signal"}
    return found, judge_udr(chart_series(complete, None), binding, title="Measure").verdict


def run_case(
    rng: np.random.Generator, metric: str, period: str, process: str, sigmas: float, reps: int
) -> Tally:
    tally = Tally()
    for _ in range(reps):
        before, after = int(rng.integers(12, 25)), int(rng.integers(3, 13))
        days = period_starts(period, before + after, int(rng.integers(0, 52)))
        z = noise(rng, process, days, period)
        z[before:] += shift_in_z(metric, period, sigmas)
        series = make_series(metric, period, days, z, rng)
        bad_if = "below"  # higher is better: an upward shift is an improvement
        verdict, udr = judge(series, before, bad_if=bad_if, udr=sigmas == 0)
        tally.add(verdict, after, udr)
    return tally


def run_udr_case(
    rng: np.random.Generator, metric: str, period: str, process: str, sigmas: float, reps: int
) -> tuple[int, int]:
    """(confirmed, made) of signal-mode UDR verdicts (bad if above) on series of 15–36 periods
    whose last :data:`UDR_WORSE_PERIODS` periods are ``sigmas`` σ worse."""
    from salesflow.metrics.calendar import next_start
    from salesflow.metrics.charted import chart_series
    from salesflow.workbench.measures import complete_periods
    from salesflow.workbench.verdict import judge_udr

    confirmed = 0
    binding = {"bad_if": "above", "threshold": None, "mode": "signal"}
    for _ in range(reps):
        n = int(rng.integers(15, 37))
        days = period_starts(period, n, int(rng.integers(0, 52)))
        z = noise(rng, process, days, period)
        z[-UDR_WORSE_PERIODS:] += shift_in_z(metric, period, sigmas)
        series = make_series(metric, period, days, z, rng)
        complete, _ = complete_periods(series, next_start(days[-1], series.period))
        found = judge_udr(chart_series(complete, None), binding, title="Measure").verdict
        confirmed += found == "confirmed"
    return confirmed, reps


def udr_rows(reps: int, seed: int) -> list[tuple[str, str, str, int, int]]:
    """The UDR detection case per metric, period and noise: (metric, period, process,
    confirmed, made)."""
    rng = np.random.default_rng(seed)
    return [
        (metric, period, process, *run_udr_case(rng, metric, period, process, UDR_WORSE, reps))
        for metric in ("stage_time", "win_rate")
        for period in ("week", "month")
        for process in ("iid", "ar0.3")
    ]


def udr_table(rows: list[tuple[str, str, str, int, int]]) -> str:
    head = (
        f"| metric | period | process | UDR signal-mode confirmed (last {UDR_WORSE_PERIODS} "
        f"periods {UDR_WORSE:g} σ worse) |\n|---|---|---|---:|"
    )
    body = [f"| {m} | {p} | {proc} | {pct(k, n)} |" for m, p, proc, k, n in rows]
    return "\n".join([head, *body])


def pct(k: int, n: int) -> str:
    return f"{100 * k / n:.1f} %" if n else "–"


def table(rows: list[tuple[str, str, str, float, Tally]]) -> str:
    head = (
        "| metric | period | process | shift | judged | false alarm (all) | false alarm (judged) "
        "| detected (judged, ≥ 8 after) | wrong way | UDR signal-mode false alarm |\n"
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"
    )
    lines = [head]
    for metric, period, process, sigmas, t in rows:
        alarms = t.improved + t.worse
        if sigmas == 0:
            cells = [
                pct(alarms, t.made),
                pct(alarms, t.judged),
                "",
                "",
                pct(t.udr_confirmed, t.made),
            ]
        else:
            cells = ["", "", pct(t.improved8, t.judged8), pct(t.worse, t.judged), ""]
        lines.append(
            f"| {metric} | {period} | {process} | {sigmas:g} σ | {pct(t.judged, t.made)} | "
            + " | ".join(cells)
            + " |"
        )
    return "\n".join(lines)


def grid(reps: int, seed: int, metrics: tuple[str, ...] = ("stage_time", "win_rate")) -> list:
    """Every case: (metric, period, process, shift, Tally)."""
    rng = np.random.default_rng(seed)
    rows = []
    for metric in metrics:
        for period in ("week", "month"):
            for process in PROCESSES:
                rows.append(
                    (metric, period, process, 0.0, run_case(rng, metric, period, process, 0, reps))
                )
            for process in ("iid", "ar0.3"):
                for sigmas in SHIFTS:
                    tally = run_case(rng, metric, period, process, sigmas, reps)
                    rows.append((metric, period, process, sigmas, tally))
    return rows


def check(rows: list) -> list[str]:
    """The targets: ≤ 5 % false alarms (judged) in every no-change case, for improvements and
    signal-mode UDRs; ≥ 80 % detection of an i.i.d. 2 σ shift with ≥ 8 periods after."""
    problems = []
    for metric, period, process, sigmas, t in rows:
        if sigmas == 0 and t.judged and (t.improved + t.worse) / t.judged > 0.05:
            problems.append(f"{metric}/{period}/{process}: false alarms above 5 %")
        if sigmas == 0 and t.made and t.udr_confirmed / t.made > 0.05:
            problems.append(f"{metric}/{period}/{process}: UDR false alarms above 5 %")
        if sigmas == 2 and process == "iid" and t.judged8 and t.improved8 / t.judged8 < 0.8:
            problems.append(f"{metric}/{period}: 2 σ detection below 80 %")
    return problems


# -- end to end: a real workspace -------------------------------------------------------------


def workspace_case(folder, teams: int, seed: int, phi: float = 0.3) -> tuple[Tally, Tally]:
    """One team per series: monthly win rates with AR(1) movement, imported as deals; the first
    half of the teams has no change, the second half a 2 σ rise from its start month. One
    improvement per team (filter team = T) is added through the workbench and judged from DuckDB.
    Returns the tallies of the no-change and the shifted teams."""
    import csv
    import shutil
    from pathlib import Path

    from salesflow.ingest import import_file
    from salesflow.workbench.service import Workbench
    from salesflow.workspace import init_workspace

    rng = np.random.default_rng(seed)
    folder = Path(folder)
    shutil.rmtree(folder, ignore_errors=True)
    ws = init_workspace(folder)
    months = period_starts("month", 36, 0)
    starts = [int(rng.integers(24, 32)) for _ in range(teams)]  # 5–12 months after
    path = folder / "deals.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["opportunity_id", "team", "created_at", "closed_at", "outcome"])
        for team, start_index in enumerate(starts):
            z = noise(rng, f"ar{phi}", months, "month")
            if team >= teams // 2:
                z[start_index:] += shift_in_z("win_rate", "month", 2.0)
            for m, day in enumerate(months):
                p = float(np.clip(WIN_RATE + WIN_SPREAD * z[m], 0.01, 0.99))
                for k in range(DEALS["month"]):
                    closed = day + timedelta(days=int(rng.integers(0, 28)), hours=12)
                    won = rng.random() < p
                    out.writerow([f"T{team}-{m}-{k}", f"T{team}", closed - timedelta(days=30),
                                  closed, "won" if won else "lost"])  # fmt: skip
    import_file(ws, "opportunities", path)
    ws.close()
    same, shifted = Tally(), Tally()
    end = months[-1] + timedelta(days=40)
    with Workbench.open(folder, who="bench", as_of=end.replace(day=1)) as bench:
        for team, start_index in enumerate(starts):
            before = int(rng.integers(12, 25))
            start = months[start_index]
            doc = bench.add_improvement(
                objective=f"Win more deals in team T{team}",
                metric="win_rate",
                filters={"team": f"T{team}"},
                bad_if="below",
                baseline=f"{months[start_index - before]}:{start - timedelta(days=1)}",
                start=start.isoformat(),
            )
            tally = shifted if team >= teams // 2 else same
            tally.add(doc["verdict"]["verdict"], 36 - start_index, None)
    return same, shifted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=1000, help="series per case")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--workspace", default=None, help="folder for the end-to-end case")
    parser.add_argument("--teams", type=int, default=200, help="series in the end-to-end case")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    rows = grid(args.reps, args.seed)
    print(table(rows))
    print(f"\n{args.reps} series per case, seed {args.seed}, {time.perf_counter() - began:.0f} s")
    began = time.perf_counter()
    print("\n" + udr_table(udr_rows(args.reps, args.seed)))
    print(f"\n{args.reps} series per case, {time.perf_counter() - began:.0f} s")
    if args.workspace:
        began = time.perf_counter()
        same, shifted = workspace_case(args.workspace, args.teams, args.seed)
        print(
            f"\nEnd to end (a workspace, monthly win rate per team, AR(1) 0.3, "
            f"{time.perf_counter() - began:.0f} s): no change: {same.judged} of {same.made} "
            f"teams judged, false alarm {pct(same.improved + same.worse, same.judged)}; "
            f"2 σ rise: detected {pct(shifted.improved8, shifted.judged8)} of those with "
            f"≥ 8 months after, {pct(shifted.improved, shifted.judged)} of all judged"
        )
    problems = check(rows)
    for line in problems:
        print(f"TARGET MISSED: {line}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
