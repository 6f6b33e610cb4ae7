"""The pipeline waterfall: what happened to a period's pipeline, from the deals' history.

A deal is *in the period's pipeline* at a moment when its last known state (its latest
``opportunity_history`` row before that moment) is open and its expected close date falls in the
period. ``start`` is the pipeline at the period's first moment, ``end`` at its last. Between them
every deal moves in exactly one way, so the identity

    start + created + pulled_in − pushed_out − won − lost + amount_up − amount_down = end

holds exactly, for amounts in cents and for counts (the amount changes have counts of their own,
outside the identity):

- in at start, still in at the end: its amount change (``amount_up`` or ``amount_down``);
- in at start, won or lost in the period: ``won``/``lost`` at its final amount, plus the change;
- in at start, neither in at the end nor closed in it: ``pushed_out`` at its start amount
  (its close date moved beyond the period, or out of it);
- not in at start, but in at the end or won or lost in the period: ``created`` (no history before
  the period) or ``pulled_in`` (it existed), at its final amount.

A deal that came and went within the period is not shown. Everything is computed in the data
source's engine (each deal's last moments, its states joined on the table's key (deal, moment),
then one aggregate over deals), never row by row in Python.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from salesflow.errors import ConfigError, DataError

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from ibis.backends import BaseBackend

    from salesflow.settings import StageConfig

__all__ = [
    "COMPONENTS",
    "LABELS",
    "Period",
    "parse_period",
    "pipeline_waterfall",
    "waterfall_table",
]

#: The waterfall's bars, in the order they are drawn; each has a count and an amount.
COMPONENTS = (
    "start",
    "created",
    "pulled_in",
    "pushed_out",
    "won",
    "lost",
    "amount_up",
    "amount_down",
    "end",
)
#: Each bar in a sales leader's words.
LABELS = {
    "start": "Pipeline at the start",
    "created": "Created",
    "pulled_in": "Pulled in",
    "pushed_out": "Pushed out",
    "won": "Won",
    "lost": "Lost",
    "amount_up": "Amounts increased",
    "amount_down": "Amounts decreased",
    "end": "Pipeline at the end",
}
#: +1 adds to the pipeline, −1 takes from it (start and end are the levels).
SIGNS = {"created": 1, "pulled_in": 1, "pushed_out": -1, "won": -1, "lost": -1}
AMOUNT_SIGNS = {**SIGNS, "amount_up": 1, "amount_down": -1}
HISTORY = "opportunity_history"


@dataclass(frozen=True)
class Period:
    """A quarter (``2025-Q3``) or a month (``2025-07``): first day, and first day after it."""

    label: str
    first: date
    after: date


def parse_period(text: str) -> Period:
    """``2025-Q3`` or ``2025-07`` as a :class:`Period`; a clear error for anything else."""
    raw = text.strip().upper()
    quarter = re.fullmatch(r"(\d{4})-Q([1-4])", raw)
    month = re.fullmatch(r"(\d{4})-(\d{1,2})", raw)
    if not 1900 <= int((quarter or month or ["", "0"])[1]) <= 2999:
        quarter = month = None  # not a year a sales period falls in
    if quarter:
        year, q = int(quarter[1]), int(quarter[2])
        first, months = date(year, 3 * q - 2, 1), 3
    elif month and 1 <= int(month[2]) <= 12:
        first, months = date(int(month[1]), int(month[2]), 1), 1
    else:
        raise ConfigError(
            f"{text!r} is not a period",
            hint="Name a quarter like 2025-Q3 or a month like 2025-07",
        )
    index = first.month - 1 + months
    after = date(first.year + index // 12, index % 12 + 1, 1)
    label = f"{first.year}-Q{(first.month + 2) // 3}" if months == 3 else first.strftime("%Y-%m")
    return Period(label, first, after)


STATE = ("stage", "amount", "close_date", "owner")


def _states(h: ir.Table, period: Period) -> ir.Table:
    """One row per deal with a state before the period's end: ``s_<column>`` its state before
    the period (NULL when it had none: ``s_seen`` false), ``e_<column>`` its state at the end.

    The moments of the last states come from one hash aggregate; the states are then joined on
    (deal, moment), the table's key: faster than an ordered ``argmax`` and on every backend."""
    p0 = datetime.combine(period.first, datetime.min.time())
    p1 = datetime.combine(period.after, datetime.min.time())
    h = h.filter(h.changed_at < p1)  # later changes do not matter
    last = h.group_by("opportunity_id").aggregate(
        s_when=h.changed_at.max(where=h.changed_at < p0), e_when=h.changed_at.max()
    )
    for prefix in ("s_", "e_"):
        side = h.select(
            **{f"{prefix}id": h.opportunity_id, f"{prefix}at": h.changed_at},
            **{f"{prefix}{c}": h[c] for c in STATE},
        )
        on = [
            last.opportunity_id == side[f"{prefix}id"],
            last[f"{prefix}when"] == side[f"{prefix}at"],
        ]
        last = last.left_join(side, on).drop(f"{prefix}id", f"{prefix}at")
    return last.mutate(s_seen=last.s_when.notnull())


def _deals(h: ir.Table, period: Period, stages: StageConfig) -> ir.Table:
    """One row per deal: its flags and amounts (cents) for the period's waterfall."""
    import ibis

    agg = _states(h, period)
    ends = (*stages.won, *stages.lost)

    def in_pipe(prefix: str) -> ir.BooleanValue:
        is_open = ~agg[f"{prefix}stage"].isin(ends).fill_null(False)
        close = agg[f"{prefix}close_date"]
        in_period = (close >= period.first) & (close < period.after)
        return agg[f"{prefix}when"].notnull() & is_open & in_period.fill_null(False)

    def cents(prefix: str) -> ir.IntegerValue:
        return (agg[f"{prefix}amount"].fill_null(0) * 100).round().cast("int64")

    def ended(prefix: str, names: Sequence[str]) -> ir.BooleanValue:
        return agg[f"{prefix}stage"].isin(names).fill_null(False)

    # won (lost) in the period: won (lost) at its end, and not already so before it
    won_now = ended("e_", stages.won) & ~(agg.s_seen & ended("s_", stages.won))
    lost_now = ended("e_", stages.lost) & ~(agg.s_seen & ended("s_", stages.lost))
    return agg.select(
        "opportunity_id",
        owner=agg.e_owner.fill_null(agg.s_owner),
        s_in=in_pipe("s_"),
        e_in=in_pipe("e_"),
        is_won=won_now,
        is_lost=lost_now,
        existed=agg.s_seen,
        s_amt=cents("s_"),
        e_amt=cents("e_"),
    ).mutate(closed=ibis._.is_won | ibis._.is_lost)


def _bars(d: ir.Table) -> dict[str, tuple[ir.BooleanValue, ir.IntegerValue]]:
    """Each bar's (which deals, what amount in cents)."""
    stays = d.s_in & (d.e_in | d.closed)
    enters = ~d.s_in & (d.e_in | d.closed)
    change = d.e_amt - d.s_amt
    return {
        "start": (d.s_in, d.s_amt),
        "created": (enters & ~d.existed, d.e_amt),
        "pulled_in": (enters & d.existed, d.e_amt),
        "pushed_out": (d.s_in & ~d.e_in & ~d.closed, d.s_amt),
        "won": (d.is_won, d.e_amt),
        "lost": (d.is_lost, d.e_amt),
        "amount_up": (stays & (change > 0), change),
        "amount_down": (stays & (change < 0), -change),
        "end": (d.e_in, d.e_amt),
    }


def waterfall_table(
    con: BaseBackend,
    stages: StageConfig,
    period: Period,
    *,
    by: str | None = None,
    filters: Mapping[str, Sequence[str]] | None = None,
) -> ir.Table:
    """An Ibis table: one row (per ``by`` group) with ``<bar>_count`` and ``<bar>_cents``."""
    if HISTORY not in con.list_tables():
        raise DataError(
            "The workspace has no deal history yet",
            hint="Import it with `salesflow import opportunity_history FILE`, or import weekly "
            "deal exports with --snapshot-date",
        )
    d = _with_columns(con, _deals(con.table(HISTORY), period, stages), by, filters)
    metrics = {}
    for name, (which, cents) in _bars(d).items():
        metrics[f"{name}_count"] = which.ifelse(1, 0).sum().fill_null(0)  # PostgreSQL: no bool->int
        metrics[f"{name}_cents"] = which.ifelse(cents, 0).sum().fill_null(0)
    return d.group_by(by).aggregate(**metrics) if by else d.aggregate(**metrics)


def _with_columns(
    con: BaseBackend,
    d: ir.Table,
    by: str | None,
    filters: Mapping[str, Sequence[str]] | None,
) -> ir.Table:
    """``d`` restricted by ``filters``, with ``by`` present: the owner at the period's end is the
    deal's own; any other column comes from ``opportunities``."""
    wanted = [c for c in dict.fromkeys((by, *(filters or {}))) if c and c != "owner"]
    if wanted:
        opps = con.table("opportunities") if "opportunities" in con.list_tables() else None
        missing = [
            c for c in wanted if opps is None or c not in opps.columns or c == "opportunity_id"
        ]
        if missing:
            raise ConfigError(
                f"Deals have no column {missing[0]!r}",
                hint="Use owner or a column of the opportunities table (team, segment, source…)",
            )
        extra = opps.select("opportunity_id", *wanted).distinct(on="opportunity_id")
        d = d.left_join(extra, "opportunity_id").drop("opportunity_id_right")
    for column, values in (filters or {}).items():
        d = d.filter(d[column].cast("string").isin(list(values)))
    return d


def pipeline_waterfall(
    con: BaseBackend,
    stages: StageConfig,
    period: str | Period,
    *,
    by: str | None = None,
    filters: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, Any]:
    """The waterfall as the ``salesflow pipeline --json`` document (see docs/pipeline.md)."""
    chosen = parse_period(period) if isinstance(period, str) else period
    total = waterfall_table(con, stages, chosen, filters=filters).execute()
    doc: dict[str, Any] = {
        "period": chosen.label,
        "from": chosen.first.isoformat(),
        "to": chosen.after.isoformat(),
        "filters": {k: list(v) for k, v in (filters or {}).items()},
        **_components(total.iloc[0]),
    }
    if by:
        frame = waterfall_table(con, stages, chosen, by=by, filters=filters).execute()
        # ties in name order: every backend returns the groups in an order of its own
        frame = frame.sort_values(["end_cents", by], ascending=[False, True], kind="stable")
        doc["by"] = by
        doc["groups"] = [{by: _plain(row[by]), **_components(row)} for _, row in frame.iterrows()]
    return doc


def _components(row: Any) -> dict[str, dict[str, Any]]:
    parts = {}
    for name in COMPONENTS:
        cents = int(row[f"{name}_cents"])
        parts[name] = {
            "count": int(row[f"{name}_count"]),
            "amount": cents / 100,
            "amount_cents": cents,
        }
    _check(parts)
    return parts


def _check(parts: dict[str, dict[str, Any]]) -> None:
    """The identity, by construction; a failure is a bug, never a figure to show."""
    amount = parts["start"]["amount_cents"] + sum(
        s * parts[k]["amount_cents"] for k, s in AMOUNT_SIGNS.items()
    )
    count = parts["start"]["count"] + sum(s * parts[k]["count"] for k, s in SIGNS.items())
    if (amount, count) != (parts["end"]["amount_cents"], parts["end"]["count"]):
        raise AssertionError(f"pipeline waterfall does not add up: {parts}")


def _plain(value: Any) -> Any:
    """A group label as JSON has it (an empty one is None)."""
    import pandas as pd

    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else value
