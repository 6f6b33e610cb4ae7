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
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

    from salesflow.settings import Settings

__all__ = ["ACTIVITY_MINUTES", "WINDOW_WEEKS", "stage_flow", "window"]

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
) -> dict[str, Any]:
    """``{"as_of", "window", "stages": {stage: figures}, "flow_efficiency"}`` for the selected deals."""
    import ibis

    first = _first_event(cases)
    win = window(first, as_of, settings.week_start)
    codes = {n: i for i, n in enumerate(names)}
    stays = _stays(con, cases, transitions, as_of)
    start, end = datetime.fromisoformat(win["start"]), datetime.fromisoformat(win["end"])
    done = stays.filter(stays.to_at.notnull() & (stays.to_at >= start) & (stays.to_at < end))
    lost = [codes[s] for s in settings.stages.lost if s in codes] or [-1]
    ends = [codes[s] for s in (*settings.stages.won, *settings.stages.lost) if s in codes] or [-1]
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
    aged = open_.left_join(limits, open_.code == limits.pcode)
    age = (ibis.literal(as_of).epoch_seconds() - aged.from_at.epoch_seconds()) * 1000
    wip = aged.group_by("code").aggregate(
        wip=aged.count(), over_p85=(age > aged.p85).ifelse(1, 0).sum()
    )
    rows = {int(r.code): r for r in per.execute().itertuples()}
    wips = {int(r.code): r for r in wip.execute().itertuples()}
    work = _work(con, settings, done, as_of)
    ended = {*settings.stages.won, *settings.stages.lost}
    shown = [*settings.stages.order, *(n for n in names if n not in settings.stages.all)]
    out = {
        name: _figures(
            rows.get(codes.get(name, -1)),
            wips.get(codes.get(name, -1)),
            win["weeks"],
            work,
            codes.get(name, -1),
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
        "work_basis": None if work is None else _basis(con),
    }


def _basis(con: BaseBackend) -> str:
    """How work time was measured, in words."""
    if "duration_minutes" in con.table("activities").columns:
        return "the activities' recorded durations"
    return "activities at the standard minutes of their type"


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


def _figures(
    row: Any, wip_row: Any, weeks: int, work: dict[int, float] | None, code: int
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
    doc["littles_law"] = littles_law(doc)
    return doc


def littles_law(s: Mapping[str, Any]) -> dict[str, Any]:
    """WIP against throughput × mean time in stage, with the gap explained in one sentence."""
    rate, mean = s.get("throughput_per_week"), s.get("time_mean")
    if rate is None or mean is None:
        return {
            "expected_wip": None,
            "ratio": None,
            "sentence": "Too few deals left this stage in the window to check.",
        }
    expected = rate * mean / (24 * 7)
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
