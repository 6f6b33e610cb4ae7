"""The per-opportunity feature table, built as one Ibis expression so it runs where the data lives.

One row per deal: every operating variable (see :mod:`salesflow.analysis.variables`) and the
outcomes the driver analysis explains — ``won`` (closed deals), ``cycle_days`` (closed deals) and
``stalled`` (a quiet spell with no stage change or activity longer than ``stall_days``; only deals
at least ``stall_days`` old are ``eligible``). "Now" is the latest timestamp in the data, so results
do not change with the day the command is run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from salesflow.analysis.activity_classes import CLASS_VARIABLES, activity_classes, class_expr
from salesflow.analysis.variables import (
    AMOUNT_BANDS,
    CATEGORICAL_COLUMNS,
    FIRST_RESPONSE_THRESHOLD_HOURS,
    DeclaredVariable,
    Variable,
    activity_type_columns,
    builtin_variables,
    declared_variables,
    stage_key,
)
from salesflow.errors import ConfigError, DataError
from salesflow.schema import TABLES
from salesflow.source import as_int, require_table

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pandas as pd
    from ibis.backends import BaseBackend

    from salesflow.settings import Settings

__all__ = [
    "Catalog",
    "as_of",
    "catalog",
    "describe_variables",
    "feature_frame",
    "feature_table",
    "filter_rows",
    "in_stage",
    "stage_visits",
]

DAY = 86_400.0


def _f(seconds: Any) -> Any:
    """Seconds as a double before dividing by a float literal: Spark SQL reads ``86400.0`` as a
    DECIMAL, and a whole number divided by it is a decimal rounded to 6 places."""
    return seconds.cast("float64")


@dataclass(frozen=True)
class Catalog:
    """Every variable the workspace can compute, and the user's declared aggregates."""

    variables: dict[str, Variable]
    declared: tuple[DeclaredVariable, ...]
    imported: tuple[str, ...]

    def get(self, name: str) -> Variable:
        try:
            return self.variables[name]
        except KeyError:
            raise DataError(
                f"No operating variable called {name!r}",
                hint="`salesflow variables` lists them; declare your own in salesflow.toml",
            ) from None


def catalog(con: BaseBackend, settings: Settings) -> Catalog:
    """Built-in, imported (extra ``opportunities`` columns) and declared variables."""
    known = {v.name: v for v in builtin_variables(settings)}
    imported = _imported(con, set(known))
    known.update({v.name: v for v in imported})
    declared, annotated = declared_variables(settings, known)
    known.update(annotated)
    known.update({d.variable.name: d.variable for d in declared})
    return Catalog(known, tuple(declared), tuple(v.name for v in imported))


def _imported(con: BaseBackend, taken: set[str]) -> list[Variable]:
    schema = require_table(con, "opportunities").schema()
    canonical = set(TABLES["opportunities"].names)
    found = []
    for name, dtype in schema.items():
        if name in canonical or name in taken:
            continue
        kind = "binary" if dtype.is_boolean() else "numeric" if dtype.is_numeric() else None
        found.append(
            Variable(
                name,
                f"Imported attribute {name!r}",
                kind or "categorical",
                "creation",
                origin="imported",
            )
        )
    return found


def feature_frame(
    con: BaseBackend,
    settings: Settings,
    *,
    filters: Mapping[str, str] | None = None,
    stall_days: int = 30,
) -> tuple[pd.DataFrame, Catalog]:
    """The feature table executed into pandas (one row per deal), with its catalog."""
    cat = catalog(con, settings)
    expr = feature_table(con, settings, cat, filters=filters, stall_days=stall_days)
    frame = expr.execute()
    for column in frame.columns:
        if column in cat.variables and cat.variables[column].kind == "categorical":
            frame[column] = frame[column].astype("object")
    return frame.sort_values("opportunity_id", kind="stable").reset_index(drop=True), cat


def feature_table(
    con: BaseBackend,
    settings: Settings,
    cat: Catalog,
    *,
    filters: Mapping[str, str] | None = None,
    stall_days: int = 30,
) -> ir.Table:
    """One Ibis expression: a row per opportunity with every variable and outcome."""
    import ibis

    opps = filter_rows(require_table(con, "opportunities"), filters or {})
    now = ibis.literal(as_of(con), type="timestamp")
    base = opps.mutate(
        outcome=opps.outcome.lower().fill_null("open"),
        start_s=opps.created_at.epoch_seconds(),
        end_s=opps.closed_at.fill_null(now).epoch_seconds(),
    )
    present = {n for n in ("activities", "stage_events", "requests") if _has_rows(con, n)}
    parts = [base.select("opportunity_id", "start_s", "end_s")]
    parts.append(_requests(con) if "requests" in present else None)
    parts.append(_activities(con, settings, base, parts[-1]) if "activities" in present else None)
    parts.append(_stages(con, settings, now) if "stage_events" in present else None)
    parts.append(
        _per_stage_activities(con, settings, now)
        if {"activities", "stage_events"} <= present
        else None
    )
    parts.append(_stalls(con, base, present) if present & {"activities", "stage_events"} else None)
    parts += [_declared(con, d) for d in cat.declared]
    table = base
    for part in parts[1:]:
        if part is not None:
            table = _left(table, part)
    return _finish(table, settings, cat, present, now, stall_days)


def _finish(
    table: ir.Table, settings: Settings, cat: Catalog, present: set[str], now: Any, stall_days: int
) -> ir.Table:
    import ibis

    closed = table.outcome.isin(["won", "lost"])
    cols: dict[str, Any] = {
        "opportunity_id": table.opportunity_id,
        "outcome": table.outcome,
        "closed": closed,
        "won": ibis.ifelse(closed, as_int(table.outcome == "won"), ibis.null("int64")),
        "cycle_days": ibis.ifelse(
            closed, _f(table.end_s - table.start_s) / DAY, ibis.null("float64")
        ),
        "amount": table.amount.cast("float64"),
        "amount_band": amount_band(table.amount),
    }
    cols.update({c: table[c].cast("string").fill_null("(missing)") for c in CATEGORICAL_COLUMNS})
    cols.update({n: table[n] for n in cat.imported})
    schema = table.schema()
    for name in cat.variables:
        if name not in cols and name in schema:
            cols[name] = table[name]
    cols.update(_responses(table, "activities" in present))
    if "max_quiet_s" in schema:
        quiet = table.max_quiet_s.fill_null(table.end_s - table.start_s)
        cols["stalled"] = as_int(quiet / DAY > stall_days)
    else:
        cols["stalled"] = ibis.null("int64")
    cols["eligible"] = table.start_s <= now.epoch_seconds() - stall_days * DAY
    for d in cat.declared:
        if d.measure == "count":
            cols[d.variable.name] = table[d.variable.name].fill_null(0)
    out = table.select(**cols)
    counted = ("activities_", "requests_count", *CLASS_VARIABLES.values())
    counts = [c for c in out.columns if c.startswith(counted)]
    return out.mutate(**{c: out[c].fill_null(0) for c in counts})


def _responses(table: ir.Table, have_activities: bool) -> dict[str, Any]:
    """First response from the activities, unless the CRM export brings its own column."""
    import ibis

    if "first_response_hours" in table.columns:
        hours = table.first_response_hours.cast("float64")
        over = as_int(hours > FIRST_RESPONSE_THRESHOLD_HOURS)
        return {"first_response_hours": hours, "first_response_over_48h": over}
    if not have_activities:
        return {
            "first_response_hours": ibis.null("float64"),
            "first_response_over_48h": ibis.null("int64"),
        }
    hours = _f(table.first_activity_s - table.response_start_s) / 3600.0
    waited = _f(table.end_s - table.response_start_s) / 3600.0
    limit = FIRST_RESPONSE_THRESHOLD_HOURS
    over = as_int(ibis.ifelse(hours.isnull(), waited > limit, hours > limit))
    return {"first_response_hours": hours, "first_response_over_48h": over}


def amount_band(amount: Any) -> Any:
    """The amount band of an Ibis numeric expression (see ``AMOUNT_BANDS``)."""
    import ibis

    branches = [(amount < upper, label) for upper, label in AMOUNT_BANDS if upper is not None]
    return ibis.cases(*branches, else_=AMOUNT_BANDS[-1][1]).fill_null("(missing)")


def _requests(con: BaseBackend) -> ir.Table:
    r = con.table("requests").filter(lambda t: t.opportunity_id.notnull())
    return r.group_by("opportunity_id").aggregate(
        requests_count=r.count(), first_request_s=r.received_at.min().epoch_seconds()
    )


def _activities(
    con: BaseBackend, settings: Settings, base: ir.Table, requests: ir.Table | None
) -> ir.Table:
    """Counts by type and class (only activities up to the close: later ones would leak the
    outcome), and the first activity at or after the response clock started."""
    import ibis

    a = con.table("activities").filter(lambda t: t.opportunity_id.notnull())
    before = a.join(base.select("opportunity_id", "end_s"), "opportunity_id")
    before = before.filter(before.occurred_at.epoch_seconds() <= before.end_s)
    kind = before.type.strip().lower()
    cls = class_expr(before.type, activity_classes(settings))
    counts = before.group_by("opportunity_id").aggregate(
        activities_total=before.count(),
        **{
            column: as_int(kind == t).sum() for t, column in activity_type_columns(settings).items()
        },
        **{name: as_int(cls == c).sum() for c, name in CLASS_VARIABLES.items()},
    )
    start = base.select("opportunity_id", "start_s")
    if requests is not None:
        start = _left(start, requests)
        start = start.select(
            "opportunity_id",
            start_s=ibis.least(start.start_s, start.first_request_s.fill_null(start.start_s)),
        )
    joined = a.join(start, "opportunity_id").filter(
        lambda t: t.occurred_at.epoch_seconds() >= t.start_s
    )
    first = joined.group_by("opportunity_id").aggregate(
        first_activity_s=joined.occurred_at.min().epoch_seconds(),
    )
    return _left(_left(start.rename(response_start_s="start_s"), first), counts)


def _events(con: BaseBackend, settings: Settings, now: Any) -> ir.Table:
    """Stage events in order with rank, when the deal left the stage, and rework flags."""
    import ibis

    e = con.table("stage_events").filter(lambda t: t.opportunity_id.notnull())
    stages = settings.stages.all
    rank = ibis.cases(*[(e.stage == s, i) for i, s in enumerate(stages)], else_=len(stages))
    e = e.mutate(rank=rank)
    w = ibis.window(group_by="opportunity_id", order_by=[e.entered_at, e.rank, e.stage])
    return e.mutate(
        next_at=e.entered_at.lead().over(w),
        next_rank=e.rank.lead().over(w),
        next_stage=e.stage.lead().over(w),
        seq=ibis.row_number().over(w),
    )


def _stages(con: BaseBackend, settings: Settings, now: Any) -> ir.Table:
    import ibis

    e = _events(con, settings, now)
    opps = con.table("opportunities").select("opportunity_id", "closed_at")
    e = _left(e, opps)
    until = e.next_at.fill_null(e.closed_at.fill_null(now))
    days = _f(until.epoch_seconds() - e.entered_at.epoch_seconds()) / DAY
    is_open = e.stage.isin(list(settings.stages.order))
    e = e.mutate(days=days, is_open=is_open)
    last_open = e.filter(e.is_open).mutate(
        back=ibis.row_number().over(
            ibis.window(group_by="opportunity_id", order_by=ibis.desc(e.seq))
        )
    )
    last = last_open.filter(last_open.back == 0).select(
        "opportunity_id", days_in_last_stage=last_open.days
    )
    rework = (e.next_rank < e.rank) | (e.next_stage == e.stage)
    per_stage = {
        f"days_in_{stage_key(s)}": ibis.ifelse(e.stage == s, e.days, ibis.null("float64")).sum()
        for s in settings.stages.order
    }
    agg = e.group_by("opportunity_id").aggregate(
        backward_moves=as_int(rework.fill_null(False)).sum(), **per_stage
    )
    return _left(agg, last)


def stage_visits(con: BaseBackend, settings: Settings, now: Any) -> ir.Table:
    """Each visit of an open stage: ``opportunity_id``, ``stage`` and its span [``lo``, ``hi``)
    (until the next stage event; ``hi`` is null while the deal is still there)."""
    e = _events(con, settings, now)
    return e.filter(e.stage.isin(list(settings.stages.order))).select(
        "opportunity_id", "stage", lo=e.entered_at, hi=e.next_at
    )


def in_stage(a: ir.Table, visits: ir.Table) -> ir.Table:
    """Activities ``a`` joined with the stage visit they happened in (those outside drop out)."""
    return a.join(
        visits,
        [
            a.opportunity_id == visits.opportunity_id,
            a.occurred_at >= visits.lo,
            visits.hi.isnull() | (a.occurred_at < visits.hi),
        ],
    )


def _per_stage_activities(con: BaseBackend, settings: Settings, now: Any) -> ir.Table:
    a = con.table("activities").select("opportunity_id", "occurred_at")
    j = in_stage(a, stage_visits(con, settings, now))
    return j.group_by(opportunity_id=j.opportunity_id).aggregate(
        **{
            f"activities_in_{stage_key(s)}": as_int(j.stage == s).sum()
            for s in settings.stages.order
        }
    )


def _stalls(con: BaseBackend, base: ir.Table, present: set[str]) -> ir.Table:
    """The longest quiet spell per deal: gaps between creation, stage changes, activities, end."""
    import ibis

    points = [
        base.select("opportunity_id", t=base.start_s),
        base.select("opportunity_id", t=base.end_s),
    ]
    if "stage_events" in present:
        e = con.table("stage_events")
        points.append(e.select("opportunity_id", t=e.entered_at.epoch_seconds()))
    if "activities" in present:
        a = con.table("activities")
        points.append(a.select("opportunity_id", t=a.occurred_at.epoch_seconds()))
    u = ibis.union(*points, distinct=False)
    u = u.join(base.select("opportunity_id", lo=base.start_s, hi=base.end_s), "opportunity_id")
    u = u.filter((u.t >= u.lo) & (u.t <= u.hi))
    w = ibis.window(group_by="opportunity_id", order_by=u.t)
    u = u.mutate(gap=u.t - u.t.lag().over(w))
    return u.group_by("opportunity_id").aggregate(max_quiet_s=u.gap.max())


def _declared(con: BaseBackend, d: DeclaredVariable) -> ir.Table:
    t = require_table(con, d.table)
    missing = [c for c in (*d.filter, *([d.column] if d.column else [])) if c not in t.columns]
    if missing:
        raise ConfigError(
            f"[variables.{d.variable.name}] names column(s) {', '.join(missing)} that "
            f"{d.table!r} does not have",
            hint=f"{d.table} has: {', '.join(t.columns)}",
        )
    t = filter_rows(t.filter(t.opportunity_id.notnull()), d.filter)
    value = t.count() if d.measure == "count" else getattr(t[d.column].cast("float64"), d.measure)()
    return t.group_by("opportunity_id").aggregate(**{d.variable.name: value})


def _left(left: ir.Table, right: ir.Table) -> ir.Table:
    """Left join on ``opportunity_id``, keeping one key column."""
    joined = left.left_join(right, "opportunity_id", rname="{name}__r")
    return joined.drop("opportunity_id__r")


def filter_rows(t: ir.Table, filters: Mapping[str, Any]) -> ir.Table:
    """Rows whose column equals the value (or one of the values), any case for text."""
    for column, value in filters.items():
        if column not in t.columns:
            raise DataError(
                f"Cannot filter on {column!r}: the table has no such column",
                hint=f"Filter on one of: {', '.join(t.columns)}",
            )
        values = value if isinstance(value, Sequence) and not isinstance(value, str) else [value]
        texts = [str(v) for v in values]
        if t[column].type().is_string():  # any case matches; a value no deal holds is refused
            from salesflow.metrics.filters import as_in_data

            texts = as_in_data(column, texts, t[column], None)
        t = t.filter(t[column].cast("string").isin(texts))
    return t


def _has_rows(con: BaseBackend, name: str) -> bool:
    return name in con.list_tables() and int(con.table(name).limit(1).count().execute()) > 0


def as_of(con: BaseBackend) -> Any:
    """The latest timestamp anywhere in the deal data: the analysis's "now"."""
    import pandas as pd

    candidates = []
    for name, column in (
        ("opportunities", "created_at"),
        ("opportunities", "closed_at"),
        ("stage_events", "entered_at"),
        ("activities", "occurred_at"),
    ):
        if name in con.list_tables():
            candidates.append(con.table(name)[column].max().execute())
    stamps = [pd.Timestamp(c) for c in candidates if c is not None and not pd.isna(c)]
    if not stamps:
        raise DataError(
            "The workspace has no deals yet", hint="Import opportunities or try `salesflow demo`"
        )
    return max(stamps).to_pydatetime()


def describe_variables(workspace: Any) -> list[dict[str, Any]]:
    """Every variable with its type, when it is known, and coverage (share of deals with a value)."""
    frame, cat = feature_frame(workspace.data, workspace.settings)
    rows = []
    for name, v in cat.variables.items():
        coverage = float(frame[name].notna().mean()) if name in frame and len(frame) else 0.0
        if name.startswith(("activities", "requests_count", *CLASS_VARIABLES.values())) and (
            name in frame
        ):
            coverage = coverage if frame[name].sum() > 0 else 0.0
        rows.append({**v.as_dict(), "coverage": coverage})
    return rows
