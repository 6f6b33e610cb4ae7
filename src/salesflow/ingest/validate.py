"""Validation in the engine: every check is one SQL statement over the staged rows.

Problems land in an ``_errors`` table (row, column, value, reason). A row number is the data row as a
spreadsheet user counts it: row 1 is the first row under the header, so row 57 is line 58 of a CSV.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from salesflow.errors import RowError
from salesflow.filemodes import private_file
from salesflow.ingest.batch import Plan, sql_literal
from salesflow.ingest.numbers import hint_numbers
from salesflow.ingest.read import ident
from salesflow.ingest.spreadsheet_safe import neutralise_sql
from salesflow.schema import OUTCOMES
from salesflow.settings import StageConfig

if TYPE_CHECKING:
    import duckdb

__all__ = [
    "ERRORS",
    "MAY_BE_EMPTY",
    "Scan",
    "check_batch",
    "check_text",
    "collect_errors",
    "list_repeats",
    "missing_columns",
    "scan_batch",
    "write_rejects",
]

ERRORS = "_errors"
#: Required columns whose cells may be empty: the row is kept and a warning says how many.
MAY_BE_EMPTY = {"opportunities": {"created_at"}}


def missing_columns(plan: Plan, file: str, hints: dict[str, tuple[str, ...]]) -> list[RowError]:
    """Required canonical columns the file does not provide."""
    errors = []
    for name in plan.spec.required:
        if name not in plan.columns:
            expected = hints.get(name)
            seen = f" (looked for {', '.join(repr(h) for h in expected)})" if expected else ""
            errors.append(
                RowError(
                    file,
                    None,
                    name,
                    None,
                    f"required column {name!r} is missing{seen}; name its source column in "
                    f"[{plan.spec.name}.columns] of a mapping file (--mapping MAP.toml)",
                )
            )
    return errors


def _insert(con: duckdb.DuckDBPyConnection, select: str) -> None:
    con.execute(f"INSERT INTO {ERRORS} {select}")


@dataclass
class Scan:
    """What one pass over the batch counted: values that did not convert (per column), values
    with a UTC offset the date sample did not show (per column), each row rule's offending rows,
    rows repeating a key (by hash: maybe none really), unknown deals, events before their deal."""

    flags: dict[str, int] = field(default_factory=dict)
    late: dict[str, bool] = field(default_factory=dict)
    rules: list[int] = field(default_factory=list)
    repeated: int = 0
    unknown: int = 0
    early: int = 0


def scan_batch(
    con: duckdb.DuckDBPyConnection,
    batch: str,
    plan: Plan,
    stages: StageConfig,
    known_opportunities: str | None,
    *,
    repeats: bool = True,
) -> Scan:
    """Every check's count in one aggregate over the batch, then one join with the workspace's
    deals when its rows must name one: only a check that found something lists its rows
    afterwards. Counts are only compared with zero. ``repeats=False`` leaves out rows repeating
    a key, for a caller that finds them after the write (their hash aggregate is the scan's
    dearest part: about 1 s of 3.3 s at ten million events)."""
    key, required = plan.spec.key, [k for k in plan.spec.key if k in plan.spec.required]
    not_null = " AND ".join(f"{ident(k)} IS NOT NULL" for k in required) or "true"
    hashed = f"hash({', '.join(ident(k) for k in key)})"
    counted = [f"count(*) FILTER (WHERE {f})" for f in plan.flags.values()]
    counted += [f"COALESCE(bool_or({f}), false)" for f in plan.late_offsets.values()]
    counted += [f"count(*) FILTER (WHERE {cond})" for cond, _ in _rules(batch, plan, stages)]
    if repeats:
        counted.append(
            f"count(*) FILTER (WHERE {not_null}) - "
            f"count(DISTINCT {hashed}) FILTER (WHERE {not_null})"
        )
    else:
        counted.append("0")
    row = list(con.sql(f"SELECT {', '.join(counted)} FROM {batch}").fetchone())
    scan = Scan()
    for column in plan.flags:
        scan.flags[column] = row.pop(0)
    for column in plan.late_offsets:
        scan.late[column] = bool(row.pop(0))
    *scan.rules, scan.repeated = row
    if _joins_known(plan, known_opportunities):
        # A second pass, not folded into the first: there it would hold the deals' hash table
        # beside the duplicate check's (at 10M events, 2M deals: +100-150 MiB peak, no faster)
        early = "b.entered_at < k.created_at" if plan.spec.name == "stage_events" else "false"
        scan.unknown, scan.early = con.sql(
            f"SELECT count(*) FILTER (WHERE k.opportunity_id IS NULL), "
            f"count(*) FILTER (WHERE {early}) FROM {batch} b LEFT JOIN {known_opportunities} k "
            f"ON b.opportunity_id = k.opportunity_id WHERE b.opportunity_id IS NOT NULL"
        ).fetchone()
    return scan


def check_text(
    con: duckdb.DuckDBPyConnection,
    rows_view: Callable[[], str],
    batch: str,
    plan: Plan,
    scan: Scan,
) -> None:
    """Values that did not read as the column's type (flagged while building the batch and
    counted by :func:`scan_batch`).

    ``rows_view()`` gives the text with ``_row``; it is only built when a value is bad.
    """
    con.execute(
        f"CREATE OR REPLACE TABLE {ERRORS} "
        "(_row BIGINT, col VARCHAR, value VARCHAR, reason VARCHAR)"
    )
    for column, flag in plan.flags.items():
        n = scan.flags[column]
        if not n:
            continue
        info = plan.dates.get(column)
        if info is None:
            reason = "not a number"
        elif info.format and info.format.startswith("ISO"):
            reason = "not a date: expected an ISO date like 2024-03-31"
        else:
            reason = f"not a date: expected a date written as {info.format}"
        _insert(
            con,
            f"SELECT _row, {sql_literal(column)}, {ident(column)}, {sql_literal(reason)} "
            f"FROM {rows_view()} WHERE _row IN (SELECT _row FROM {batch} WHERE {flag})",
        )
        if info is None:
            hint_numbers(con, ERRORS, column, plan.numbers)


def check_batch(
    con: duckdb.DuckDBPyConnection,
    batch: str,
    plan: Plan,
    stages: StageConfig,
    known_opportunities: str | None,
    scan: Scan,
) -> None:
    """Rules across typed values: empty keys, duplicates, stages, amounts, dates, references.

    :func:`scan_batch` counted every rule's offending rows (duplicates by their key's hash) in
    one pass; only a rule that found some runs its own query to list the rows.
    """
    rules = _rules(batch, plan, stages)
    for (_, select), n in zip(rules, scan.rules, strict=True):
        if n:
            _insert(con, select)
    if scan.repeated:  # equal hashes: list the rows whose keys are really equal (maybe none)
        list_repeats(con, batch, plan)
    if _joins_known(plan, known_opportunities):
        _unknown_opportunities(con, batch, plan, known_opportunities, scan)


def _joins_known(plan: Plan, known: str | None) -> bool:
    """Whether the batch's rows must name a deal the workspace has (checked by a join)."""
    spec = plan.spec
    if spec.name == "opportunities" or "opportunity_id" not in plan.targets or not known:
        return False
    return spec.column("opportunity_id").required


def _rules(batch: str, plan: Plan, stages: StageConfig) -> list[tuple[str, str]]:
    """(condition on a batch row, SELECT listing the offending rows) for each row rule."""
    spec, present = plan.spec, set(plan.targets) | {"outcome"} & set(plan.types)
    allowed_empty = MAY_BE_EMPTY.get(spec.name, set())
    empty = [n for n in spec.required if n in present and n not in allowed_empty]
    rules: list[tuple[str, str]] = []
    for name in empty:
        flag = plan.flags.get(name)
        cond = f"{ident(name)} IS NULL" + (f" AND NOT {flag}" if flag else "")
        rules.append(
            (
                cond,
                f"SELECT b._row, {sql_literal(name)}, NULL, 'empty, but every row needs one' "
                f"FROM {batch} b WHERE b.{ident(name)} IS NULL AND b._row NOT IN "
                f"(SELECT _row FROM {ERRORS} WHERE col = {sql_literal(name)})",
            )
        )
    if "stage" in present:
        known = ", ".join(sql_literal(s) for s in stages.all)
        cond = f"stage IS NOT NULL AND stage NOT IN ({known})"
        rules.append(
            (
                cond,
                f"SELECT _row, 'stage', stage, 'stage is not one of the stages in salesflow.toml' "
                f"FROM {batch} WHERE {cond}",
            )
        )
    if "amount" in present:
        rules.append(
            (
                "amount < 0",
                f"SELECT _row, 'amount', CAST(amount AS VARCHAR), 'amount is negative' "
                f"FROM {batch} WHERE amount < 0",
            )
        )
    if "outcome" in present and plan.outcome_given:
        allowed = ", ".join(sql_literal(o) for o in OUTCOMES)
        cond = f"outcome IS NOT NULL AND outcome NOT IN ({allowed})"
        rules.append(
            (
                cond,
                f"SELECT _row, 'outcome', outcome, 'outcome must be open, won or lost "
                f"(translate other words in [{spec.name}.values.outcome])' FROM {batch} WHERE {cond}",
            )
        )
    if {"created_at", "closed_at"} <= present:
        rules.append(
            (
                "closed_at < created_at",
                f"SELECT _row, 'closed_at', CAST(closed_at AS VARCHAR), "
                f"'closed before it was created (' || CAST(created_at AS VARCHAR) || ')' "
                f"FROM {batch} WHERE closed_at < created_at",
            )
        )
    return rules


def _unknown_opportunities(
    con: duckdb.DuckDBPyConnection, batch: str, plan: Plan, known: str, scan: Scan
) -> None:
    """List rows naming a deal the workspace does not have, and stage events dated before
    their deal was created (a negative cycle time): both counted by :func:`scan_batch`."""
    early = "b.entered_at < k.created_at" if plan.spec.name == "stage_events" else "false"
    joined = (
        f"FROM {batch} b LEFT JOIN {known} k ON b.opportunity_id = k.opportunity_id "
        f"WHERE b.opportunity_id IS NOT NULL"
    )
    if scan.unknown:
        _insert(
            con,
            f"SELECT b._row, 'opportunity_id', b.opportunity_id, "
            f"'no such opportunity in the workspace; import the opportunities first' "
            f"{joined} AND k.opportunity_id IS NULL",
        )
    if scan.early:
        _insert(
            con,
            f"SELECT b._row, 'entered_at', CAST(b.entered_at AS VARCHAR), 'before the deal was "
            f"created (' || CAST(k.created_at AS VARCHAR) || '); correct the date here or the "
            f"deal''s created_at in the opportunities file' {joined} AND {early}",
        )


def list_repeats(con: duckdb.DuckDBPyConnection, batch: str, plan: Plan) -> None:
    """Later rows repeating an earlier row's key (rows with an empty required key are already
    reported as empty)."""
    key = plan.spec.key
    required = [k for k in key if k in plan.spec.required]
    cols = ", ".join(ident(k) for k in key)
    label = sql_literal(", ".join(key))
    shown = " || ' / ' || ".join(f"COALESCE(CAST({ident(k)} AS VARCHAR), '')" for k in key)
    using = " AND ".join(f"b.{ident(k)} IS NOT DISTINCT FROM d.{ident(k)}" for k in key)
    not_null = " AND ".join(f"{ident(k)} IS NOT NULL" for k in required) or "true"
    _insert(
        con,
        f"SELECT b._row, {label}, {shown.replace('CAST(', 'CAST(b.')}, 'same ' || {label} || "
        f"' as row ' || CAST(d.first_row AS VARCHAR) FROM {batch} b JOIN "
        f"(SELECT {cols}, min(_row) AS first_row FROM {batch} WHERE {not_null} "
        f"GROUP BY ALL HAVING count(*) > 1) d ON {using} WHERE b._row <> d.first_row",
    )


def collect_errors(
    con: duckdb.DuckDBPyConnection, file: str, *, kind: str, limit: int = 50
) -> tuple[list[RowError], int]:
    """The first ``limit`` errors in row order and the total number of problems.

    Row 57 is the 57th data row: line 58 of a CSV, row 58 of an Excel sheet (under its header).
    """
    where = {"csv": "line {} of the file", "excel": "row {} of the sheet"}.get(kind)
    total = con.sql(f"SELECT count(*) FROM {ERRORS}").fetchone()[0]
    rows = con.sql(
        f"SELECT _row, col, value, reason FROM {ERRORS} ORDER BY _row, col LIMIT {limit}"
    ).fetchall()
    errors = [
        RowError(file, r, c, v, f"{why} ({where.format(r + 1)})" if where and r else why)
        for r, c, v, why in rows
    ]
    return errors, total


def rejected_rows(con: duckdb.DuckDBPyConnection) -> int:
    return con.sql(f"SELECT count(DISTINCT _row) FROM {ERRORS}").fetchone()[0]


def write_rejects(con: duckdb.DuckDBPyConnection, raw: str, path: Path) -> int:
    """Every rejected row with all its original columns, plus ``_row`` and ``_reason``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = (
        f"SELECT r.* EXCLUDE (_row_id), e._row, e._reason FROM (SELECT rowid + 1 AS _row_id, * FROM {raw}) r "
        f"JOIN (SELECT _row, string_agg(col || ': ' || reason, '; ' ORDER BY col) AS _reason "
        f"FROM {ERRORS} GROUP BY _row) e ON r._row_id = e._row ORDER BY e._row"
    )
    columns = [
        neutralise_sql(ident(name)) + f" AS {ident(name)}" if kind == "VARCHAR" else ident(name)
        for name, kind, *_ in con.execute(f"DESCRIBE {rows}").fetchall()
    ]  # a rejects file is opened in a spreadsheet: no cell may run as a formula
    con.execute(
        f"COPY (SELECT {', '.join(columns)} FROM ({rows})) "
        f"TO {sql_literal(str(path))} (HEADER, DELIMITER ',')"
    )
    private_file(path)
    return rejected_rows(con)
