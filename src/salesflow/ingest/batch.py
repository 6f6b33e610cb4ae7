"""The staged batch: the file's rows as typed canonical columns, built in an in-memory engine.

Conversion never fails here: a value that does not read as a date or number becomes NULL in the
batch, and :mod:`salesflow.ingest.validate` reports it from the text, row by row.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from salesflow.ingest.dates import ISO, DateColumn, late_offset_sql, parse_sql
from salesflow.ingest.numbers import NumberStyle
from salesflow.ingest.read import ident
from salesflow.schema import Table
from salesflow.settings import StageConfig

if TYPE_CHECKING:
    import duckdb

__all__ = [
    "Plan",
    "build_batch",
    "convert_late_offsets",
    "infer_extra_types",
    "outcome_sql",
    "sql_literal",
]

NUMERIC = ("DOUBLE", "DOUBLE PRECISION", "BIGINT", "INTEGER", "FLOAT", "REAL", "DECIMAL")


@dataclass
class Plan:
    """What the import will write: typed columns and where each came from."""

    spec: Table
    columns: dict[str, str]  # canonical -> source column
    extras: dict[str, str]  # extra column -> source column
    types: dict[str, str] = field(default_factory=dict)  # every batch column -> SQL type
    dates: dict[str, DateColumn] = field(default_factory=dict)
    outcome_given: bool = False
    flags: dict[str, str] = field(default_factory=dict)  # column -> "did not convert" flag
    # the workspace's [calendar] timezone: in date columns with offsets, values with a UTC offset
    # become wall-clock time there (None: not given, offsets ignored as DuckDB does)
    timezone: str | None = None
    numbers: NumberStyle = field(default_factory=NumberStyle)  # decimal mark, thousands
    late_offsets: dict[str, str] = field(default_factory=dict)  # column -> "offset after sample"
    replace_history: bool = False  # stage events: the file replaces its deals' whole history
    history: str | None = None  # a snapshot's derived opportunity_history rows (table name)
    typed: dict[str, str] = field(default_factory=dict)  # column -> type the CSV reader gave

    @property
    def targets(self) -> list[str]:
        return [*self.columns, *self.extras]


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def outcome_sql(stage_sql: str, stages: StageConfig) -> str:
    """SQL turning a stage name into open/won/lost with the workspace's end stages."""
    won = ", ".join(sql_literal(s) for s in stages.won)
    lost = ", ".join(sql_literal(s) for s in stages.lost)
    return (
        f"CASE WHEN {stage_sql} IN ({won}) THEN 'won' WHEN {stage_sql} IN ({lost}) THEN 'lost' "
        f"WHEN {stage_sql} IS NULL THEN NULL ELSE 'open' END"
    )


def infer_extra_types(
    con: duckdb.DuckDBPyConnection,
    view: str,
    extras: list[str],
    existing: dict[str, str],
    numbers: NumberStyle | None = None,
) -> dict[str, str]:
    """Existing columns keep their type; new ones are DOUBLE when every value is a finite
    number (``NaN`` makes a column text, as ``n/a`` does)."""
    style = numbers or NumberStyle()
    types = {c: existing[c] for c in extras if c in existing}
    new = [c for c in extras if c not in existing]
    if not new:
        return types
    checks = ", ".join(
        f"bool_and(COALESCE(isfinite({style.sql(ident(c), 'DOUBLE')}), false)) FILTER "
        f"(WHERE {ident(c)} IS NOT NULL), count({ident(c)})"
        for c in new
    )
    row = con.sql(f"SELECT {checks} FROM {view}").fetchone()
    for i, c in enumerate(new):
        numeric, count = row[2 * i], row[2 * i + 1]
        types[c] = "DOUBLE" if numeric and count else "VARCHAR"
    return types


def _typed(
    column: str,
    sql_type: str,
    fmt: str | None,
    zone: str | None,
    numbers: NumberStyle,
    parsed: str | None = None,
) -> tuple[str, str]:
    """(inner expression on the text, outer expression on the inner result); ``parsed``: the
    type the CSV reader already gave the value (no text to convert, the same outer checks)."""
    col = ident(column)
    upper = sql_type.upper()
    plausible = f"CASE WHEN {col} >= TIMESTAMP '1900-01-01' THEN {col} END"
    inner = f"CAST({col} AS TIMESTAMP)" if parsed == "DATE" else col
    if upper == "TIMESTAMP":
        return inner if parsed else parse_sql(col, fmt, zone), plausible
    if upper == "DATE":
        return inner if parsed else parse_sql(col, fmt, zone), f"CAST({plausible} AS DATE)"
    if upper.startswith(NUMERIC):
        finite = f"CASE WHEN isfinite({col}) THEN {col} END" if "INT" not in upper else col
        return inner if parsed else numbers.sql(col, sql_type), finite
    return col, col


def build_batch(
    con: duckdb.DuckDBPyConnection, view: str, name: str, plan: Plan, stages: StageConfig
) -> None:
    """Create table ``name``_t from the text view in one pass (typed columns, a flag per
    converted column marking values that did not convert, outcome derived from stage) and view
    ``name`` adding ``_row``."""
    inner, outer = [], []
    for i, column in enumerate(plan.targets):
        dated = plan.dates.get(column)
        fmt = dated.format if dated else None
        zone = plan.timezone if dated and dated.offsets else None
        parsed = plan.typed.get(column)
        first, second = _typed(column, plan.types[column], fmt, zone, plan.numbers, parsed)
        if column == "outcome":
            second = f"LOWER({second})"
        inner.append(f"{first} AS {ident(column)}")
        outer.append(f"{second} AS {ident(column)}")
        if parsed:  # read by the reader: flag the values it read that the checks refuse
            plan.flags[column] = f"_bad_{i}"
            outer.append(f"({ident(column)} IS NOT NULL AND ({second}) IS NULL) AS _bad_{i}")
        elif first != ident(column):  # converted: keep a flag for values that did not convert
            flag = f"_bad_{i}"
            inner.append(f"{ident(column)} AS {ident('_text_' + str(i))}")
            outer.append(f"(_text_{i} IS NOT NULL AND ({second}) IS NULL) AS {flag}")
            plan.flags[column] = flag
            if dated and dated.format == ISO and not dated.offsets and plan.timezone:
                outer.append(f"{late_offset_sql(f'_text_{i}')} AS _late_{i}")
                plan.late_offsets[column] = f"_late_{i}"
    if plan.spec.name == "opportunities" and not plan.outcome_given:
        derived = outcome_sql(ident("stage"), stages) if "stage" in plan.columns else "NULL"
        outer.append(f"CAST({derived} AS VARCHAR) AS outcome")
        plan.types["outcome"] = "VARCHAR"
    con.execute(
        f"CREATE TABLE {name}_t AS SELECT {', '.join(outer)} "
        f"FROM (SELECT {', '.join(inner)} FROM {view})"
    )
    _closed_from_close_date(con, f"{name}_t", plan)
    # rows keep file order, so rowid + 1 is the data row number (stable across deletes)
    con.execute(f"CREATE VIEW {name} AS SELECT rowid + 1 AS _row, * FROM {name}_t")


def _closed_from_close_date(con: duckdb.DuckDBPyConnection, table: str, plan: Plan) -> None:
    """A CRM's close date is the expected close while a deal is open: it becomes ``closed_at``
    only for won and lost deals (when the file gives no closing moment of its own)."""
    if plan.spec.name != "opportunities" or "closed_at" in plan.columns:
        return
    if "close_date" not in plan.columns:
        return
    con.execute(f"ALTER TABLE {table} ADD COLUMN closed_at TIMESTAMP")
    con.execute(
        f"UPDATE {table} SET closed_at = CAST(close_date AS TIMESTAMP) "
        f"WHERE outcome IN ('won', 'lost')"
    )
    plan.types["closed_at"] = "TIMESTAMP"


def convert_late_offsets(
    con: duckdb.DuckDBPyConnection,
    view: str,
    name: str,
    plan: Plan,
    stages: StageConfig,
    found: dict[str, bool],
) -> list[str]:
    """Date columns whose sample had no UTC offset but later values do (``found``, per column
    of ``plan.late_offsets``, counted with the other checks): the batch is built again
    converting them (rare, so the common file is read once). Returns those columns."""
    if not plan.late_offsets:
        return []
    late = [c for c in plan.late_offsets if found.get(c)]
    plan.late_offsets = {}
    if late:
        for column in late:
            plan.dates[column] = replace(plan.dates[column], offsets=True)
        con.execute(f"DROP VIEW {name}")
        con.execute(f"DROP TABLE {name}_t")
        build_batch(con, view, name, plan, stages)
    return late
