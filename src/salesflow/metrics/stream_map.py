"""The value-stream map: per stage, WIP now, throughput, time in stage, rework, loss and work.

Computed in the engine (Ibis, so DuckDB, PostgreSQL…) from the derived flow tables. A *stay* is
one visit of a deal to a stage: from entering it to the deal's next stage event. What the data
can know is bounded by the as-of moment:

- **WIP** (``wip``) is the number of stays in an open stage that began by as-of and had not ended
  at as-of, of deals not closed by as-of (an opportunity with ``closed_at`` up to as-of is done,
  even when its stage history stops earlier);
- **throughput** (``throughput_per_week``) is the stays that *left* the stage (forward, back or
  lost) in the window of complete weeks before as-of, divided by its number of weeks; the window
  is the last :data:`WINDOW_WEEKS` complete weeks (``[calendar] week_start``), shortened to the
  weeks the stage history covers entirely;
- **time in stage** (``time_median``, ``time_p85``, ``time_mean``, in hours) and the shares
  ``rework_share`` (left backwards or repeated the stage) and ``loss_share`` (left to a lost end
  stage) describe the stays that left in that window — the same stays as the throughput, so
  Little's law (WIP ≈ throughput × mean time in stage) can be checked against them;
- **work** (``work_share``, only when deals have activities): each activity counts its
  ``duration_minutes`` when the activities carry that column, otherwise the standard minutes of its
  type (``[flow] activity_minutes`` in ``salesflow.toml``, defaults :data:`ACTIVITY_MINUTES`); an
  activity is work in the stay during which it happened (a stay's work never exceeds its length).
  ``work_share`` is work ÷ time in stage over the window's stays, the rest is waiting; the
  stream's ``flow_efficiency`` is the same ratio over all its stages.

On the business clock (``clock="business"``: the stays' ``duration_ms`` already count business
time, see :mod:`salesflow.metrics.process_map`) the times, the work share and the age of a deal in
WIP are business time, and Little's law reads a week as its business hours (workdays × one day's
business hours; a holiday in the window makes the expected WIP slightly high).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    import duckdb
    from ibis.backends import BaseBackend

    from salesflow.settings import Settings

__all__ = [
    "ACTIVITY_MINUTES",
    "WINDOW_WEEKS",
    "stage_flow",
    "stage_flow_sql",
    "week_hours",
    "window",
]

WINDOW_WEEKS = 12
MS_PER_HOUR = 3_600_000
#: Standard minutes of one activity of each type, when activities carry no duration.
ACTIVITY_MINUTES = {"call": 15, "email": 5, "meeting": 60, "demo": 60, "proposal": 120}
DEFAULT_MINUTES = 15  # a type the settings do not name
#: Little's law "holds" while WIP is within this factor of throughput × mean time in stage.
BALANCE = 1.25


def window(first: datetime | None, as_of: datetime, week_start: str) -> dict[str, Any]:
    """The complete weeks before ``as_of``: at most :data:`WINDOW_WEEKS`, none before ``first``
    (the first stage event; None when there is none, and then there are no weeks)."""
    from salesflow.metrics.calendar import period_start
    from salesflow.workspace import as_moment

    end = as_moment(period_start(as_of, "week", week_start=week_start))
    start = end - timedelta(weeks=WINDOW_WEEKS)
    if first is None:  # no stage history: no week is covered
        start = end
    elif first > start:
        covered = as_moment(period_start(first, "week", week_start=week_start))
        start = covered if covered == first else covered + timedelta(weeks=1)
    weeks = max(0, (end - start).days // 7)
    return {"start": start.isoformat(), "end": end.isoformat(), "weeks": weeks}


def stage_flow(
    con: BaseBackend,
    settings: Settings,
    cases: Any,
    transitions: Any,
    names: list[str],
    as_of: datetime,
    *,
    clock: str = "calendar",
) -> dict[str, Any]:
    """``{"as_of", "window", "stages": {stage: figures}, "flow_efficiency"}`` for the selected
    deals, in Ibis (any backend; ``cases`` and ``transitions`` may be filtered, their durations
    on ``clock``)."""

    first = _first_event(cases)
    win = window(first, as_of, settings.week_start)
    codes = {n: i for i, n in enumerate(names)}
    stays = _stays(con, cases, transitions, as_of)
    start, end = datetime.fromisoformat(win["start"]), datetime.fromisoformat(win["end"])
    done = stays.filter(stays.to_at.notnull() & (stays.to_at >= start) & (stays.to_at < end))
    lost, ends = _lost_and_ends(settings, codes)
    ms = done.duration_ms
    per = done.group_by("code").aggregate(
        left=done.count(),
        mean=ms.mean(),
        med=ms.median(),
        p85=ms.quantile(0.85),
        back=done.is_rework.ifelse(1, 0).sum(),
        lost=done.to_code.isin(lost).ifelse(1, 0).sum(),
        total=ms.sum(),
    )
    open_ = _wip(con, stays, as_of, ends)
    limits = per.select(pcode="code", p85="p85")
    aged = _aged(con, settings, open_.left_join(limits, open_.code == limits.pcode), as_of, clock)
    wip = aged.group_by("code").aggregate(
        wip=aged.count(), over_p85=(aged._age > aged.p85).ifelse(1, 0).sum()
    )
    rows = {int(r.code): r for r in per.execute().itertuples()}
    wips = {int(r.code): r for r in wip.execute().itertuples()}
    work = _work(con, settings, done, as_of)
    basis = None if work is None else _basis(con)
    return _assemble(settings, names, as_of, win, rows, wips, work, basis, clock)


def _aged(con: BaseBackend, settings: Settings, t: Any, as_of: datetime, clock: str) -> Any:
    """``t`` with ``_age``: milliseconds on ``clock`` from entering the stage to as-of."""
    import ibis

    from salesflow.metrics.clock import SECONDS, elapsed
    from salesflow.metrics.query import Query

    t = t.mutate(_asof=ibis.literal(as_of))
    t = elapsed(Query(con, settings), t, "from_at", "_asof", clock=clock)
    return t.mutate(_age=t[SECONDS] * 1000)


def _lost_and_ends(settings: Settings, codes: dict[str, int]) -> tuple[list[int], list[int]]:
    """The codes of the lost stages and of every end stage (``[-1]``: none, never matched)."""
    s = settings.stages
    lost = [codes[n] for n in s.lost if n in codes] or [-1]
    ends = [codes[n] for n in (*s.won, *s.lost) if n in codes] or [-1]
    return lost, ends


def _assemble(
    settings: Settings,
    names: list[str],
    as_of: datetime,
    win: dict[str, Any],
    rows: dict[int, Any],
    wips: dict[int, Any],
    work: dict[int, float] | None,
    basis: str | None,
    clock: str = "calendar",
) -> dict[str, Any]:
    """The document from the per-stage aggregates (the same for the Ibis and the SQL path)."""
    codes = {n: i for i, n in enumerate(names)}
    week = week_hours(settings, clock)
    ended = {*settings.stages.won, *settings.stages.lost}
    shown = [*settings.stages.order, *(n for n in names if n not in settings.stages.all)]
    out = {
        name: _figures(
            rows.get(codes.get(name, -1)),
            wips.get(codes.get(name, -1)),
            win["weeks"],
            work,
            codes.get(name, -1),
            week,
        )
        for name in shown
        if name not in ended
    }
    efficiency = None
    if work is not None:
        total = sum(float(r.total or 0) for c, r in rows.items() if names[c] in out)
        efficiency = (
            sum(work.get(c, 0.0) for c in rows if names[c] in out) / total if total else None
        )
    return {
        "as_of": as_of.isoformat(),
        "window": win,
        "stages": out,
        "flow_efficiency": efficiency,
        "work_basis": basis,
    }


class _Per(NamedTuple):
    """One stage's stays that left in the window (the SQL path's row; Ibis gives the same)."""

    code: int
    left: int
    mean: float | None
    med: float | None
    p85: float | None
    back: int
    lost: int
    total: int | None


class _Wip(NamedTuple):
    code: int
    wip: int
    over_p85: int


def _ts(moment: datetime) -> str:
    """A timestamp literal (bound parameters would make DuckDB import pandas)."""
    return f"TIMESTAMP '{moment.isoformat(sep=' ')}'"


def _codes(values: list[int]) -> str:
    return ", ".join(str(int(v)) for v in values)


def stage_flow_sql(
    raw: duckdb.DuckDBPyConnection, settings: Settings, names: list[str], as_of: datetime
) -> dict[str, Any]:
    """:func:`stage_flow` for all deals in plain DuckDB SQL on the flow tables the connection
    sees (stored, or the temporary ones a reader of stale tables built), without importing
    Ibis or pandas: the same aggregates as the Ibis path (the same DuckDB functions, so the
    same figures to the last bit; tests/metrics/test_stream_map.py checks both), with each
    filter on the stored columns so DuckDB reads only the rows it needs (3x faster at 10M)."""
    from salesflow.source import columns, table_names

    (first,) = raw.execute("SELECT min(first_at) FROM flow_cases").fetchone()
    win = window(first, as_of, settings.week_start)
    codes = {n: i for i, n in enumerate(names)}
    lost, ends = _lost_and_ends(settings, codes)
    start, end = datetime.fromisoformat(win["start"]), datetime.fromisoformat(win["end"])
    at = _ts(as_of)
    # A stay is a transition (it ends at the next event) or a deal's last event (open in the
    # data); a stay that ended after as-of is open at as-of. Each part reads only its rows.
    stays = f"""_done AS (
        SELECT opportunity_id, CAST(from_code AS INTEGER) AS code,
               CAST(to_code AS INTEGER) AS to_code, from_at, to_at,
               CAST(duration_ms AS BIGINT) AS duration_ms, is_rework
        FROM flow_transitions
        WHERE from_at <= {at} AND to_at <= {at} AND to_at >= {_ts(start)} AND to_at < {_ts(end)}
    ), _per AS (
        SELECT code, count(*) AS n, avg(duration_ms) AS mean,
               quantile_cont(duration_ms, 0.5) AS med, quantile_cont(duration_ms, 0.85) AS p85,
               sum(CASE WHEN is_rework THEN 1 ELSE 0 END) AS back,
               sum(CASE WHEN to_code IN ({_codes(lost)}) THEN 1 ELSE 0 END) AS lost,
               sum(duration_ms) AS total
        FROM _done GROUP BY code
    ), _open AS (
        SELECT opportunity_id, CAST(from_code AS INTEGER) AS code, from_at
        FROM flow_transitions WHERE from_at <= {at} AND (to_at > {at} OR to_at IS NULL)
        UNION ALL
        SELECT c.opportunity_id, CAST(s.code AS INTEGER), c.last_at
        FROM flow_cases c JOIN flow_stages s ON c.last_stage = s.stage
        WHERE c.last_at <= {at}
    )"""
    existing = table_names(raw)
    gone = (
        f"ANTI JOIN (SELECT opportunity_id FROM opportunities WHERE closed_at IS NOT NULL "
        f"AND closed_at <= {at}) g ON s.opportunity_id = g.opportunity_id"
        if "opportunities" in existing
        else ""
    )
    got = raw.execute(
        f"""WITH {stays}, _wip AS (
            SELECT o.code, count(*) AS wip,
                   sum(CASE WHEN (epoch({at}) - epoch(o.from_at)) * 1000 > p.p85
                       THEN 1 ELSE 0 END) AS over_p85
            FROM (SELECT s.* FROM _open s {gone} WHERE NOT s.code IN ({_codes(ends)})) o
            LEFT JOIN _per p ON o.code = p.code
            GROUP BY o.code)
        SELECT coalesce(p.code, w.code), p.n, p.mean, p.med, p.p85, p.back, p.lost, p.total,
               w.wip, w.over_p85
        FROM _per p FULL JOIN _wip w ON p.code = w.code"""
    ).fetchall()
    rows = {int(r[0]): _Per(*r[:8]) for r in got if r[1] is not None}
    wips = {int(r[0]): _Wip(r[0], *r[8:]) for r in got if r[8] is not None}
    work = None
    basis = None
    if "activities" in existing:
        has_minutes = "duration_minutes" in columns(raw, "activities")
        work = _work_sql(raw, settings, stays, at, has_minutes)
        if work is not None:
            basis = _BASIS[has_minutes]
    return _assemble(settings, names, as_of, win, rows, wips, work, basis)


def _work_sql(
    raw: duckdb.DuckDBPyConnection, settings: Settings, stays: str, at: str, has_minutes: bool
) -> dict[int, float] | None:
    """:func:`_work` in SQL: work milliseconds per stage code, None without activities."""
    known = f"FROM activities WHERE opportunity_id IS NOT NULL AND occurred_at <= {at}"
    (n,) = raw.execute(f"SELECT count(*) {known}").fetchone()
    if not n:
        return None
    if has_minutes:
        minutes = "CAST(duration_minutes AS DOUBLE)"
    else:
        cases = " ".join(
            f"WHEN {_text(k)} THEN {float(v)!r}" for k, v in activity_minutes(settings).items()
        )
        minutes = f"CAST(CASE type {cases} ELSE {float(DEFAULT_MINUTES)!r} END AS DOUBLE)"
    got = raw.execute(
        f"""WITH {stays},
        _a AS (SELECT opportunity_id AS aid, occurred_at AS at,
                      coalesce({minutes}, 0) * 60000 AS work {known}),
        _d AS (SELECT *, row_number() OVER () - 1 AS stay FROM _done),
        _per_stay AS (
            SELECT d.stay, d.code, d.duration_ms, sum(a.work) AS work
            FROM _d d JOIN _a a
              ON d.opportunity_id = a.aid AND a.at >= d.from_at AND a.at < d.to_at
            GROUP BY d.stay, d.code, d.duration_ms)
        SELECT code, sum(least(work, CAST(duration_ms AS DOUBLE))) FROM _per_stay GROUP BY code"""
    ).fetchall()
    return {int(c): float(w) for c, w in got}


def _text(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


_BASIS = {
    True: "the activities' recorded durations",
    False: "activities at the standard minutes of their type",
}


def _basis(con: BaseBackend) -> str:
    """How work time was measured, in words."""
    return _BASIS["duration_minutes" in con.table("activities").columns]


def _first_event(cases: Any) -> datetime | None:
    import pandas as pd

    value = cases.first_at.min().execute()
    return None if value is None or pd.isna(value) else pd.Timestamp(value).to_pydatetime()


def _stays(con: BaseBackend, cases: Any, transitions: Any, as_of: datetime) -> Any:
    """Every stay begun by as-of: finished ones from the transitions, plus each deal's last event
    (still open in the data); a stay that ended after as-of counts as open at as-of."""
    import ibis

    t = transitions
    finished = t.select(
        "opportunity_id",
        code=t.from_code.cast("int32"),
        to_code=t.to_code.cast("int32"),
        from_at=t.from_at.cast("timestamp"),
        to_at=t.to_at.cast("timestamp"),
        duration_ms=t.duration_ms.cast("int64"),
        is_rework=t.is_rework,
    )
    stages = con.table("flow_stages")
    c = cases.join(stages, cases.last_stage == stages.stage)
    last = c.select(
        c.opportunity_id,
        code=c.code.cast("int32"),
        to_code=ibis.null("int32"),
        from_at=c.last_at.cast("timestamp"),
        to_at=ibis.null("timestamp"),
        duration_ms=ibis.null("int64"),
        is_rework=ibis.literal(False),
    )
    stays = finished.union(last)
    return stays.filter(stays.from_at <= as_of).mutate(
        to_at=ibis.ifelse(stays.to_at > as_of, ibis.null("timestamp"), stays.to_at)
    )


def _wip(con: BaseBackend, stays: Any, as_of: datetime, ends: list[int]) -> Any:
    """Open stays in open stages at as-of, of deals the opportunities do not show closed by then."""
    open_ = stays.filter(stays.to_at.isnull() & ~stays.code.isin(ends))
    if "opportunities" in con.list_tables():
        o = con.table("opportunities")
        gone = o.filter(o.closed_at.notnull() & (o.closed_at <= as_of)).select("opportunity_id")
        open_ = open_.anti_join(gone, "opportunity_id")
    return open_


def activity_minutes(settings: Settings) -> dict[str, float]:
    """Standard minutes per activity type: the defaults with ``[flow] activity_minutes`` over them."""
    from salesflow.errors import ConfigError

    given = settings.section("flow").get("activity_minutes", {})
    if not isinstance(given, Mapping) or not all(
        isinstance(v, int | float) and v >= 0 for v in given.values()
    ):
        raise ConfigError(
            "[flow] activity_minutes must map activity types to minutes (numbers ≥ 0)",
            where=str(settings.config_path),
            hint='Write it like: activity_minutes = { call = 15, meeting = 60, proposal = "…" }',
        )
    return {**ACTIVITY_MINUTES, **{str(k): float(v) for k, v in given.items()}}


def _work(
    con: BaseBackend, settings: Settings, done: Any, as_of: datetime
) -> dict[int, float] | None:
    """Work milliseconds per stage code in the window's stays, or None without activities."""
    import ibis

    if "activities" not in con.list_tables():
        return None
    a = con.table("activities")
    a = a.filter(a.opportunity_id.notnull() & (a.occurred_at <= as_of))
    if not a.count().execute():
        return None
    if "duration_minutes" in a.columns:
        minutes = a.duration_minutes.cast("float64")
    else:
        table = activity_minutes(settings)
        minutes = a.type.substitute(
            {k: float(v) for k, v in table.items()}, else_=float(DEFAULT_MINUTES)
        ).cast("float64")
    a = a.select(aid=a.opportunity_id, at=a.occurred_at, work=minutes.fill_null(0) * 60_000)
    d = done.mutate(stay=ibis.row_number())
    j = d.join(a, (d.opportunity_id == a.aid) & (a.at >= d.from_at) & (a.at < d.to_at))
    per_stay = j.group_by(["stay", "code", "duration_ms"]).aggregate(work=j.work.sum())
    capped = ibis.least(per_stay.work, per_stay.duration_ms.cast("float64"))
    rows = per_stay.group_by("code").aggregate(work=capped.sum()).execute()
    return {int(c): float(w) for c, w in zip(rows["code"], rows["work"], strict=True)}


def week_hours(settings: Settings, clock: str) -> float:
    """Hours in a week on ``clock``: 168, or the workdays' business hours (holidays aside)."""
    if clock != "business":
        return 24.0 * 7
    cal = settings.business
    return len(cal.workdays) * cal.day_seconds / 3600


def _figures(
    row: Any, wip_row: Any, weeks: int, work: dict[int, float] | None, code: int, week: float
) -> dict[str, Any]:
    left = int(row.left) if row is not None else 0
    wip = int(wip_row.wip) if wip_row is not None else 0

    def hours(value: Any) -> float | None:
        """Whole milliseconds (as the durations are), so every backend gives the same figure."""
        if row is None or value is None or value != value:
            return None
        return round(float(value)) / MS_PER_HOUR

    doc: dict[str, Any] = {
        "wip": wip,
        "wip_over_p85": int(wip_row.over_p85 or 0) if wip_row is not None else 0,
        "left": left,
        "throughput_per_week": left / weeks if weeks else None,
        "time_median": hours(row.med) if row is not None else None,
        "time_p85": hours(row.p85) if row is not None else None,
        "time_mean": hours(row.mean) if row is not None else None,
        "rework_share": int(row.back) / left if left else None,
        "loss_share": int(row.lost) / left if left else None,
    }
    if work is not None:
        total = float(row.total) if left else 0.0
        doc["work_share"] = work.get(code, 0.0) / total if total else None
    doc["littles_law"] = littles_law(doc, week)
    return doc


def littles_law(s: Mapping[str, Any], week: float = 24.0 * 7) -> dict[str, Any]:
    """WIP against throughput × mean time in stage, with the gap explained in one sentence;
    ``week``: the hours in a week on the clock the time in stage is on."""
    rate, mean = s.get("throughput_per_week"), s.get("time_mean")
    if rate is None or mean is None:
        return {
            "expected_wip": None,
            "ratio": None,
            "sentence": "Too few deals left this stage in the window to check.",
        }
    expected = rate * mean / week
    wip = s["wip"]
    ratio = wip / expected if expected else None
    said = f"{wip:,} in the stage against {expected:,.1f} expected from throughput × time in stage"
    if ratio is not None and ratio > BALANCE:
        n = s.get("wip_over_p85", 0)
        why = (
            f"{n:,} have been here longer than 85 % of the stays that finished — stalled deals "
            "that have not left inflate WIP"
            if n
            else "more deals arrived lately than left, so the stage is filling up"
        )
        sentence = f"{said}: more than the flow explains; {why}."
    elif ratio is not None and ratio < 1 / BALANCE:
        sentence = (
            f"{said}: fewer than the flow explains; the stage is emptying (fewer deals arrive "
            "than used to) or a few long stays that finished lately raise the mean time."
        )
    elif ratio is None:
        sentence = f"{said}."
    else:
        sentence = f"{said}: in balance, as Little's law expects."
    return {
        "expected_wip": expected,
        "ratio": ratio,
        "sentence": sentence[0].upper() + sentence[1:],
    }
