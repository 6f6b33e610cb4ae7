"""Which activities add value: the share of effort that is value-adding, necessary or waste —
per stage, on won and on lost deals — and which activity types go with winning and speed.

Every activity gets the class of its type (:mod:`salesflow.analysis.activity_classes`). Only
activities up to the deal's close count: a "sorry to lose you" e-mail is not effort that shaped the
outcome. Per stage, an activity belongs to the stage the deal was in when it happened. The counting
runs where the data lives (one Ibis aggregation per view); only the small result comes back.
Time shares need minutes per activity (an imported ``duration_minutes`` column, or the column
``[activities] duration_column`` names); without them the mix is by count only.

The driver part fits the driver model (:mod:`salesflow.analysis.drivers`) with the count of each
activity type per deal as operating variables: an association in past deals, never proof.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from salesflow.analysis.activity_classes import (
    CLASS_LABELS,
    CLASSES,
    ActivityClasses,
    activity_classes,
    class_expr,
)
from salesflow.analysis.features import as_of, filter_rows, in_stage, stage_visits
from salesflow.errors import ConfigError, DataError
from salesflow.source import require_table

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pandas as pd
    from ibis.backends import BaseBackend

    from salesflow.settings import Settings

__all__ = ["GROUPS", "activity_value"]

GROUPS = ("all", "won", "lost")
DURATION_COLUMN = "duration_minutes"
SPEED_NOTE = (
    "Longer deals have more time for activities, so more activities go with slower deals partly "
    "by construction; read the effects on winning first."
)


def activity_value(
    con: BaseBackend,
    settings: Settings,
    *,
    by: Literal["stage"] | str | None = None,
    filters: Mapping[str, Any] | None = None,
    drivers: bool = True,
) -> dict[str, Any]:
    """The ``salesflow activities --json`` document (see docs/analysis.md for its keys)."""
    if by not in (None, "stage"):
        raise ConfigError(f"Cannot split the activity mix by {by!r}", hint="Split it by stage")
    classes = activity_classes(settings)
    now = as_of(con)
    acts = _activities(con, classes, filters or {})
    minutes = "minutes" in acts.columns
    totals = _count(acts, ["outcome", "type", "cls"], minutes)
    if totals.empty:
        raise DataError(
            "No activities on deals yet" + (" for these filters" if filters else ""),
            hint="Import them with `salesflow import activities FILE`",
        )
    doc: dict[str, Any] = {
        "as_of": now.isoformat(),
        "filters": {k: v for k, v in (filters or {}).items()},
        "durations": minutes,
        "types": _types(totals, classes, minutes),
        "unclassified": sorted(
            t for t in totals["type"].unique() if classes.origin(t) == "unclassified"
        ),
        "outcomes": _mixes(totals, minutes),
    }
    if by == "stage":
        doc["stages"] = _stages(con, settings, acts, minutes, now)
    if drivers:
        doc["drivers"] = _drivers(con, settings, filters or {})
    doc["summary"] = _summary(doc)
    return doc


def _activities(con: BaseBackend, classes: ActivityClasses, filters: Mapping[str, Any]) -> ir.Table:
    """Activities on the (filtered) deals up to their close, with type, class, outcome, minutes."""
    a = require_table(con, "activities").filter(lambda t: t.opportunity_id.notnull())
    column = _duration_column(a, classes)
    opps = filter_rows(require_table(con, "opportunities"), filters)
    opps = opps.select(
        "opportunity_id", "closed_at", outcome=opps.outcome.lower().fill_null("open")
    )
    j = a.join(opps, "opportunity_id")
    j = j.filter(j.closed_at.isnull() | (j.occurred_at <= j.closed_at))
    cols: dict[str, Any] = {
        "opportunity_id": j.opportunity_id,
        "occurred_at": j.occurred_at,
        "outcome": j.outcome,
        "type": j.type.strip().lower().fill_null("(missing)"),
        "cls": class_expr(j.type.fill_null(""), classes),
    }
    if column is not None:
        cols["minutes"] = j[column].cast("float64")
    out = j.select(**cols)
    if column is not None and int(out.minutes.count().execute()) == 0:
        out = out.drop("minutes")  # the column is there but empty: count only
    return out


def _duration_column(a: ir.Table, classes: ActivityClasses) -> str | None:
    if classes.duration_column is None:
        return DURATION_COLUMN if DURATION_COLUMN in a.columns else None
    if classes.duration_column not in a.columns:
        raise ConfigError(
            f"[activities] duration_column = {classes.duration_column!r}: the activities "
            "table has no such column",
            hint=f"activities has: {', '.join(a.columns)}",
        )
    return classes.duration_column


def _count(t: ir.Table, keys: list[str], minutes: bool) -> pd.DataFrame:
    """Activities (and minutes, over those with a duration) per group, in the engine."""
    aggs: dict[str, Any] = {"n": t.count()}
    if minutes:
        aggs.update(minutes=t.minutes.sum(), timed=t.minutes.count())
    frame = t.group_by(keys).aggregate(**aggs).execute()
    if not minutes:
        frame = frame.assign(minutes=0.0, timed=0)
    return frame.fillna({"minutes": 0.0})


def _mix(rows: pd.DataFrame, minutes: bool) -> dict[str, Any]:
    """Count and time by class, with shares: the shape of every mix in the document."""
    n = int(rows["n"].sum())
    total = float(rows["minutes"].sum()) if minutes else None
    by = rows.groupby("cls")[["n", "minutes"]].sum()
    doc: dict[str, Any] = {"activities": n, "minutes": total}
    for c in CLASSES:
        count = int(by["n"].get(c, 0))
        spent = float(by["minutes"].get(c, 0.0)) if minutes else None
        doc[c] = {
            "count": count,
            "share": count / n if n else None,
            "minutes": spent,
            "time_share": spent / total if minutes and total else None,
        }
    return doc


def _mixes(frame: pd.DataFrame, minutes: bool) -> dict[str, Any]:
    """The mix on all deals (open ones too), on won deals and on lost deals."""
    return {g: _mix(frame if g == "all" else frame[frame["outcome"] == g], minutes) for g in GROUPS}


def _types(totals: pd.DataFrame, classes: ActivityClasses, minutes: bool) -> list[dict[str, Any]]:
    by = totals.groupby("type")[["n", "minutes"]].sum()
    named = set(classes.classes) | set(by.index)
    rows = []
    for t in sorted(named, key=lambda t: (-int(by["n"].get(t, 0)), t)):
        rows.append(
            {
                "type": t,
                "class": classes.of(t),
                "origin": classes.origin(t),
                "activities": int(by["n"].get(t, 0)),
                "minutes": float(by["minutes"].get(t, 0.0)) if minutes else None,
            }
        )
    return rows


def _stages(
    con: BaseBackend, settings: Settings, acts: ir.Table, minutes: bool, now: Any
) -> list[dict[str, Any]]:
    """The mix per open stage, in the configured order (activities outside a stage drop out)."""
    import ibis

    visits = stage_visits(con, settings, ibis.literal(now, type="timestamp"))
    j = in_stage(acts, visits)
    extra = {"minutes": j.minutes} if minutes else {}
    j = j.select(stage=j.stage, outcome=j.outcome, cls=j.cls, **extra)
    frame = _count(j, ["stage", "outcome", "cls"], minutes)
    return [
        {"stage": s, **_mixes(frame[frame["stage"] == s], minutes)}
        for s in settings.stages.order
        if (frame["stage"] == s).any()
    ]


def _drivers(con: BaseBackend, settings: Settings, filters: Mapping[str, Any]) -> dict[str, Any]:
    """Effects of each activity type's count per deal on winning and on cycle time."""
    from salesflow.analysis.drivers import analyse
    from salesflow.analysis.features import feature_frame
    from salesflow.analysis.model import OUTCOMES
    from salesflow.analysis.variables import activity_type_columns

    frame, cat = feature_frame(con, settings, filters=filters)
    closed = frame[frame["won"].notna()]
    names = [
        c
        for c in activity_type_columns(settings).values()
        if c in closed and closed[c].nunique() > 1
    ]
    doc: dict[str, Any] = {"variables": names, "notes": [SPEED_NOTE]}
    for outcome in ("won", "cycle_time"):
        try:
            result = analyse(frame, OUTCOMES[outcome], [cat.get(n) for n in names])
        except DataError as exc:  # too few closed deals or no variation: said, not hidden
            doc[outcome] = None
            doc["notes"].append(f"{OUTCOMES[outcome].label or outcome}: {exc}")
            continue
        doc[outcome] = result.as_dict()
    return doc


def _summary(doc: dict[str, Any]) -> str:
    """Two or three sentences a sales leader can repeat."""
    won, lost = doc["outcomes"]["won"], doc["outcomes"]["lost"]
    parts = []
    if won["activities"] and lost["activities"]:
        waste = (
            f"; waste is {_pct(won['waste']['share'])} and {_pct(lost['waste']['share'])}"
            if won["waste"]["count"] or lost["waste"]["count"]
            else ""
        )
        parts.append(
            f"{CLASS_LABELS['value'].capitalize()} work is {_pct(won['value']['share'])} of "
            f"activities on won deals and {_pct(lost['value']['share'])} on lost deals{waste}."
        )
    else:
        mix = doc["outcomes"]["all"]
        parts.append(
            f"{CLASS_LABELS['value'].capitalize()} work is {_pct(mix['value']['share'])} of "
            f"{mix['activities']:,} activities; waste is {_pct(mix['waste']['share'])}."
        )
    won_model = (doc.get("drivers") or {}).get("won")
    if won_model:
        clear = [_lower(e["phrase"]) for e in won_model["effects"] if e["significant"]]
        parts.append(
            "Clear in the data: " + "; ".join(clear) + "."
            if clear
            else "No activity type goes clearly with winning more or less often."
        )
    if doc["unclassified"]:
        parts.append(
            f"Not classified yet (counted as necessary): {', '.join(doc['unclassified'])}."
        )
    return " ".join(parts)


def _lower(text: str) -> str:
    return text[:1].lower() + text[1:]


def _pct(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.0f} %"
