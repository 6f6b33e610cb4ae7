"""``--filter column=value`` and ``--by column`` on any column, imported attributes included.

A column is looked up first on the metric's own rows (a stage event's ``stage``, an activity's
``owner``), then on the deal the row belongs to: metrics over stage events, activities or requests
join ``opportunities`` when a filter or breakdown names one of its columns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from salesflow.errors import ConfigError, FilterValueError, NotFoundError, did_you_mean

if TYPE_CHECKING:
    import ibis.expr.types as ir

__all__ = ["apply_filters", "as_in_data", "parse_pairs", "resolve_column"]

Filters = Mapping[str, Any]


def parse_pairs(pairs: Iterable[str], *, option: str = "--filter") -> dict[str, list[str]]:
    """``["owner=Ann", "owner=Bob", "segment=SMB"]`` → ``{"owner": ["Ann", "Bob"], …}``."""
    out: dict[str, list[str]] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(
                f"{option} {pair!r} is not of the form name=value",
                hint=f"Write it like {option} owner=Ann",
            )
        out.setdefault(key.strip(), []).append(value.strip())
    return out


def _hidden(name: str) -> bool:
    return name.startswith("_") or name == "period"


def visible_columns(rows: ir.Table, opportunities: ir.Table | None) -> list[str]:
    names = [c for c in rows.columns if not _hidden(c)]
    if opportunities is not None and "opportunity_id" in rows.columns:
        names += [c for c in opportunities.columns if c not in names]
    return names


def resolve_column(
    rows: ir.Table, name: str, opportunities: ir.Table | None, metric_id: str
) -> ir.Table:
    """``rows`` with column ``name`` present, joining the deal's column when it is not its own."""
    if name in rows.columns and not _hidden(name):
        return rows
    if (
        opportunities is not None
        and "opportunity_id" in rows.columns
        and name in opportunities.columns
    ):
        extra = opportunities.select(_oid=opportunities.opportunity_id, **{name: name})
        joined = rows.left_join(extra, rows.opportunity_id == extra._oid)
        return joined.drop("_oid")
    columns = sorted(visible_columns(rows, opportunities))
    raise NotFoundError(
        f"Metric {metric_id!r} has no column {name!r} to filter or group by",
        hint=f"{did_you_mean(name, columns)}Valid columns: {', '.join(columns)}",
    )


def apply_filters(
    rows: ir.Table,
    filters: Filters,
    opportunities: ir.Table | None,
    metric_id: str,
    *,
    known: Mapping[str, Sequence[str]] | None = None,
) -> ir.Table:
    """Keep the rows whose columns equal one of the given values (repeat a key for OR).

    A text value is matched against the data regardless of case (``source=Partner`` keeps the
    ``partner`` deals); one that no row holds is refused with the nearest values, so a typo
    never reads as "no data". ``known`` names values that are valid without rows (the
    configured stages: a window may hold no Proposal stay)."""
    unfiltered = rows
    for name, wanted in filters.items():
        rows = resolve_column(rows, name, opportunities, metric_id)
        values = list(wanted) if _is_many(wanted) else [wanted]
        col = rows[name]
        typed = [_coerce(v, col, name) for v in values]
        if col.type().is_string():
            domain = resolve_column(unfiltered, name, opportunities, metric_id)[name]
            typed = as_in_data(name, typed, domain, opportunities, (known or {}).get(name, ()))
        rows = rows.filter(col.isin(typed) if len(typed) > 1 else col == typed[0])
    return rows


def as_in_data(
    name: str,
    values: list[Any],
    column: ir.StringColumn,
    opportunities: ir.Table | None,
    known: Sequence[str] = (),
) -> list[Any]:
    """The values as the data spells them; a :class:`FilterValueError` for one it lacks."""
    texts = [v for v in values if isinstance(v, str)]
    if not texts:
        return values
    if opportunities is not None and name in opportunities.columns:
        column = opportunities[name]  # every deal's value, not only those in the window
    lowered = column.lower()
    found = column.name("value").as_table().filter(lowered.isin([t.lower() for t in texts]))
    spelled = [str(v) for v in found.distinct().to_pyarrow().column("value").to_pylist()]
    spelled += [k for k in known if k not in spelled]
    out: list[Any] = [v for v in values if not isinstance(v, str)]
    for text in texts:
        same = [v for v in spelled if v.lower() == text.lower()]
        if not same:
            raise _no_such_value(name, text, column, known)
        out += same
    return out


def _no_such_value(
    name: str, text: str, column: ir.StringColumn, known: Sequence[str]
) -> FilterValueError:
    """The error for a value no row holds, with the nearest spellings and the values there are."""
    values = column.name("value").as_table().distinct().limit(10_000).to_pyarrow()
    held = {str(v) for v in values.column("value").to_pylist() if v is not None}
    known = sorted(held.union(known))
    shown = ", ".join(known[:12]) + (f" and {len(known) - 12} more" if len(known) > 12 else "")
    hint = did_you_mean(text, known)
    hint += f"The data holds these {name} values: {shown}" if known else f"No row has a {name}"
    return FilterValueError(f"Filter {name}={text!r} matches nothing in the data", hint=hint)


def _is_many(value: Any) -> bool:
    return isinstance(value, Sequence | set | frozenset) and not isinstance(value, str | bytes)


def _coerce(value: Any, col: ir.Value, name: str) -> Any:
    """A command-line string as the column's type, with an error naming the column."""
    if not isinstance(value, str):
        return value
    dtype = col.type()
    try:
        if dtype.is_numeric():
            number = float(value)
            return int(number) if dtype.is_integer() and number.is_integer() else number
        if dtype.is_timestamp():
            return datetime.fromisoformat(value)
        if dtype.is_date():
            return date.fromisoformat(value)
        if dtype.is_boolean():
            return value.lower() in ("1", "true", "yes", "y")
    except ValueError:
        raise ConfigError(
            f"Filter {name}={value!r}: {name} holds {dtype} values",
            hint="Give a number for numeric columns and YYYY-MM-DD for dates",
        ) from None
    return value
