"""Engagement: does the environment reward improving? Measures of the team's own habits, read
from the knowledge base's history, so a leader sees whether the questions keep being asked.

- **Check-ins on time** (% per month): each improvement still asked is due one cadence after its
  last check-in, or after it started (:mod:`salesflow.workbench.cadence`). A due is *on time*
  when a check-in is held on or before its due date, *late* when held after it, or when the date
  passed with none. It counts in the month it was settled: the day of the check-in when on time,
  the due date when late.
- **Improvements started / verified** (count per month): the first time an improvement's status
  became ``running`` / ``verified``, from the history; one recorded as already running started
  on its start day (the earlier of the day it was recorded and its measure's start date).
- **Days from a confirmed UDR to its first improvement**: for each UDR the data confirms now,
  from the moment its current measure was bound (when the data could first confirm it) to the
  first improvement recorded against it or any cause behind it; 0 when one already existed.
  UDRs with none yet say how long they have been waiting.

Months are in the workspace's time zone and run to today's month, zero-filled (silence is data).
Today's month is still running: drawn, never judged. Each monthly measure is on a process
behaviour chart (p chart for the share, XmR for counts) once it has enough complete months for
limits; before that the chart says so and only the values are read.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from datetime import date, datetime, tzinfo
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from salesflow.appdb import CheckinRecord, HistoryRecord, ImprovementRecord
    from salesflow.workbench.service import Workbench

__all__ = [
    "MEASURES",
    "engagement",
    "first_status_changes",
    "monthly",
    "on_time_dues",
    "udr_to_first_improvement",
]

MEASURES = {
    "checkins_on_time": ("Check-ins held on time", "%", "proportion"),
    "improvements_started": ("Improvements started", "improvements", "count"),
    "improvements_verified": ("Improvements verified", "improvements", "count"),
}


def _month(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)


def _day(moment: datetime, zone: tzinfo) -> date:
    return moment.astimezone(zone).date()


# -- monthly series on a behaviour chart --------------------------------------------------------


def monthly(
    key: str, counts: dict[date, tuple[int, int]], first: date | None, today: date
) -> dict[str, Any]:
    """One engagement measure per month from ``first`` to today's month: ``counts`` maps a month
    to (numerator, denominator) for a share, or (count, count) for a count."""
    from salesflow.metrics.charted import Charted
    from salesflow.metrics.results import Point, Series

    title, unit, kind = MEASURES[key]
    points = []
    month = _month(first) if first else None
    while month is not None and month <= _month(today):
        num, den = counts.get(month, (0, 0))
        value = (num / den if den else None) if kind == "proportion" else float(num)
        status = "running" if month == _month(today) else "complete"
        points.append(
            Point(month, value, den if kind == "proportion" else num, num, den, status=status)
        )
        month = _next_month(month)
    series = Series(key, "month", unit, kind, points)
    result = _chart(series)
    doc = Charted(series, result).to_dict()
    doc["title"] = title
    doc["sentence"] = _sentence(key, series, Charted(series, result))
    return doc


def _chart(series: Any) -> Any:
    """The behaviour chart of the complete months (None with fewer than two of them)."""
    from salesflow.spc import chart

    values = [
        p.value if p.status == "complete" and p.value is not None else float("nan")
        for p in series.points
    ]
    if sum(1 for v in values if v == v) < 2:
        return None
    sizes = [p.denominator or 0 for p in series.points] if series.kind == "proportion" else None
    return chart(values, n=sizes, metric_kind=series.kind)


def _sentence(key: str, series: Any, charted: Any) -> str:
    """The latest complete month in words, then what the chart says."""
    from salesflow.metrics.asof import period_name

    done = [p for p in series.points if p.status == "complete"]
    if not series.points:
        return "Nothing recorded yet."
    latest = next((p for p in reversed(done) if p.value is not None), None)
    if latest is None:
        said = f"No complete month has any {MEASURES[key][0].lower()} yet."
    elif key == "checkins_on_time":
        said = (
            f"In {period_name(latest.period, 'month')}, {latest.numerator:.0f} of "
            f"{latest.denominator:.0f} check-ins were held on time ({latest.value:.0%})."
        )
    else:
        verb = "started" if key == "improvements_started" else "verified"
        said = (
            f"In {period_name(latest.period, 'month')}, {latest.value:.0f} improvement(s) {verb}."
        )
    if charted.result is None:
        reading = "Too few complete months for a chart yet: read the values."
        unjudged = series.not_judged()
        return f"{said} {reading}{f' {unjudged}' if unjudged else ''}"
    return f"{said} {charted.verdict()}"


# -- the measures -------------------------------------------------------------------------------


def first_status_changes(history: Iterable[HistoryRecord], status: str) -> HistoryRecord | None:
    """The change by which an improvement first became ``status`` (created so, or changed to it)."""
    for h in history:
        after, before = h.after or {}, h.before or {}
        if after.get("status") == status and (
            h.action == "create" or before.get("status") != status
        ):
            return h
    return None


def _became(
    record: ImprovementRecord, history: list[HistoryRecord], status: str, zone: tzinfo
) -> date | None:
    """The day it first became ``status``; one recorded as already running started on its
    start day (:func:`salesflow.workbench.cadence.started_on`: a backfilled one started with
    the change, not when it was typed in)."""
    from salesflow.workbench.cadence import started_on

    change = first_status_changes(history, status)
    if change is None:
        return None
    if change.action == "create" and status == "running":
        return started_on(record, zone)
    return _day(change.at, zone)


def on_time_dues(
    record: ImprovementRecord, checkins: list[CheckinRecord], today: date, zone: tzinfo
) -> list[tuple[date, bool]]:
    """Each settled due of one improvement: (the day it was settled, held on time?).

    Dues follow the cadence from the start and from each check-in
    (:func:`salesflow.workbench.cadence.next_due`); the one after the last check-in counts as
    late once its date has passed, while the improvement is still asked.
    """
    from salesflow.workbench.cadence import ASKED, checkin_day, next_due, started_on

    out = []
    since = started_on(record, zone)
    for c in sorted(checkins, key=lambda c: (c.asked_at, c.id)):
        due, held = next_due(since, record.cadence), checkin_day(c, zone)
        out.append((min(held, due), held <= due))
        since = held
    due = next_due(since, record.cadence)
    if record.status in ASKED and due < today:
        out.append((due, False))
    return out


def _on_time(
    records: list[ImprovementRecord],
    checkins: dict[int, list[CheckinRecord]],
    today: date,
    zone: tzinfo,
) -> dict[date, tuple[int, int]]:
    counts: dict[date, tuple[int, int]] = {}
    for record in records:
        for day, kept in on_time_dues(record, checkins.get(record.id, []), today, zone):
            num, den = counts.get(_month(day), (0, 0))
            counts[_month(day)] = (num + kept, den + 1)
    return counts


def _status_counts(
    records: list[ImprovementRecord],
    histories: dict[int, list[HistoryRecord]],
    status: str,
    zone: tzinfo,
) -> dict[date, tuple[int, int]]:
    counts: dict[date, tuple[int, int]] = {}
    for record in records:
        day = _became(record, histories[record.id], status, zone)
        if day is not None:
            n = counts.get(_month(day), (0, 0))[0] + 1
            counts[_month(day)] = (n, n)
    return counts


def _bound_at(bench: Workbench, udr: dict[str, Any]) -> datetime:
    """When the UDR's current measure was bound (its creation when the history does not say)."""
    since = datetime.fromisoformat(udr["created_at"])
    for h in bench.store.history("udr", udr["id"]):
        after, before = h.after or {}, h.before or {}
        if after.get("binding") == udr["binding"] and before.get("binding") != udr["binding"]:
            since = h.at
    return since


def udr_to_first_improvement(bench: Workbench, today: date, zone: tzinfo) -> dict[str, Any]:
    """For each UDR the data confirms now: days from binding its measure to its first
    improvement (directly, or on a cause behind it), or days waiting so far."""
    reaches = {n["id"]: set(n["reaches"]) for n in bench.causes()["nodes"]}  # the UDRs behind each
    plans = bench.store.improvements.list()
    rows = []
    for udr in bench.list_udrs():
        if (udr.get("verdict") or {}).get("verdict") != "confirmed":
            continue
        since = _day(_bound_at(bench, udr), zone)
        served = sorted(
            (p for p in plans if any(udr["id"] in reaches.get(n, ()) for n in p.attacks)),
            key=lambda p: p.created_at,
        )
        first = served[0] if served else None
        row = {"udr_id": udr["id"], "statement": udr["statement"], "owner": udr["owner"],
               "confirmed_since": since.isoformat(), "improvement_id": None,
               "improvement_title": None, "improvement_recorded": None, "days": None,
               "waiting_days": None}  # fmt: skip
        if first is None:
            row["waiting_days"] = max((today - since).days, 0)
        else:
            made = _day(first.created_at, zone)
            row.update(improvement_id=first.id, improvement_title=first.title,
                       improvement_recorded=made.isoformat(), days=max((made - since).days, 0))  # fmt: skip
        rows.append(row)
    return {"title": "Days from a confirmed UDR to its first improvement", "unit": "days",
            "udrs": rows, **_wait_words(rows)}  # fmt: skip


def _wait_words(rows: list[dict[str, Any]]) -> dict[str, Any]:
    days = [r["days"] for r in rows if r["days"] is not None]
    waiting = [r for r in rows if r["days"] is None]
    median = statistics.median(days) if days else None
    if not rows:
        return {"median_days": None, "waiting": 0,
                "sentence": "No UDR is confirmed by the data yet."}  # fmt: skip
    said = f"{len(days)} of {len(rows)} confirmed UDRs have an improvement"
    if median is not None:
        said += f"; the median time from confirming one to its first improvement is {median:g} days"
    if waiting:
        longest = max(waiting, key=lambda r: r["waiting_days"])
        said += (
            f". {len(waiting)} still wait(s) for one; UDR #{longest['udr_id']} has waited "
            f"{longest['waiting_days']} days"
        )
    return {"median_days": median, "waiting": len(waiting), "sentence": f"{said}."}


def engagement(bench: Workbench, *, today: date | None = None) -> dict[str, Any]:
    """Every engagement measure (the ``salesflow improve engagement --json`` document)."""
    settings = bench.workspace.settings
    day, zone = today or settings.today(), settings.zone
    checkins: dict[int, list[CheckinRecord]] = {}
    for c in bench.store.checkins.list():
        checkins.setdefault(c.improvement_id, []).append(c)
    records = bench.store.improvements.list()
    histories = {r.id: bench.store.history("improvement", r.id) for r in records}
    counts = {
        "checkins_on_time": _on_time(records, checkins, day, zone),
        "improvements_started": _status_counts(records, histories, "running", zone),
        "improvements_verified": _status_counts(records, histories, "verified", zone),
    }
    moments = [_day(r.created_at, zone) for r in records]
    moments += [_day(c.asked_at, zone) for r in records for c in checkins.get(r.id, [])]
    first = min([*moments, *(m for found in counts.values() for m in found)], default=None)
    doc: dict[str, Any] = {"today": day.isoformat()}
    doc.update({key: monthly(key, found, first, day) for key, found in counts.items()})
    doc["udr_to_first_improvement"] = udr_to_first_improvement(bench, day, zone)
    return doc
