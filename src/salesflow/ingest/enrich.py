"""Enrichment: lookup files beside the export (accounts, products, teams) add columns to each deal.

Names are matched exactly first, then ignoring case, spaces and punctuation; a value matched only
that second way is rewritten to the lookup file's spelling and reported, so ``GTXPro`` and
``GTX Pro`` become one product without losing a row.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from salesflow.ingest.batch import Plan, infer_extra_types, sql_literal
from salesflow.ingest.mapping import Enrichment
from salesflow.ingest.read import ident, read_into, source_view

if TYPE_CHECKING:
    import duckdb

__all__ = ["enrich"]

_NORM = "regexp_replace(lower({}), '[^0-9a-z]', '', 'g')"


def enrich(
    con: duckdb.DuckDBPyConnection,
    batch: str,
    plan: Plan,
    folder: Path,
    enrichments: tuple[Enrichment, ...],
    warnings: list[str],
) -> list[str]:
    """Join each lookup file that exists beside the import; return the files used."""
    used = []
    for i, e in enumerate(enrichments):
        path = folder / e.file
        if not path.is_file() or e.key not in plan.types:
            continue
        raw, view = f"_lookup_raw_{i}", f"_lookup_{i}"
        header = read_into(con, path, raw)
        wanted = {e.on: e.on, **{t: s for t, s in e.columns.items() if s in header}}
        if e.on not in header:
            warnings.append(f"{e.file} has no column {e.on!r}; it was not used")
            continue
        source_view(con, raw, view, {f"_lk_{t}": s for t, s in wanted.items()}, {})
        _respell(con, batch, view, e, warnings)
        _add_columns(con, batch, view, e, plan, [t for t in wanted if t != e.on])
        used.append(e.file)
    return used


def _respell(
    con: duckdb.DuckDBPyConnection, batch: str, view: str, e: Enrichment, warnings: list[str]
) -> None:
    key, on = ident(e.key), ident(f"_lk_{e.on}")
    pairs = con.sql(
        f"SELECT b.{key}, l.{on}, count(*) FROM {batch} b JOIN {view} l "
        f"ON {_NORM.format('b.' + key)} = {_NORM.format('l.' + on)} "
        f"WHERE b.{key} <> l.{on} AND b.{key} NOT IN (SELECT {on} FROM {view} "
        f"WHERE {on} IS NOT NULL) GROUP BY ALL ORDER BY 1"
    ).fetchall()
    for old, new, n in pairs:
        con.execute(
            f"UPDATE {batch} SET {key} = {sql_literal(new)} WHERE {key} = {sql_literal(old)}"
        )
        warnings.append(
            f"{n:,} rows name {e.key} {old!r}, which {e.file} spells {new!r}; "
            f"they were imported as {new!r}"
        )
    missing = con.sql(
        f"SELECT count(*), count(DISTINCT {key}) FROM {batch} WHERE {key} IS NOT NULL AND "
        f"{key} NOT IN (SELECT {on} FROM {view} WHERE {on} IS NOT NULL)"
    ).fetchone()
    if missing[0]:
        warnings.append(
            f"{missing[0]:,} rows have a {e.key} ({missing[1]} different) that {e.file} "
            f"does not list; they were imported without its details"
        )


def _add_columns(
    con: duckdb.DuckDBPyConnection,
    batch: str,
    view: str,
    e: Enrichment,
    plan: Plan,
    targets: list[str],
) -> None:
    types = infer_extra_types(con, view, [f"_lk_{t}" for t in targets], {})
    for target in targets:
        sql_type = plan.types.get(target) or types[f"_lk_{target}"]
        if target not in plan.types:
            con.execute(f"ALTER TABLE {batch} ADD COLUMN {ident(target)} {sql_type}")
            plan.types[target] = sql_type
            if plan.spec.column(target) is not None:
                plan.columns[target] = f"{e.file}:{e.columns[target]}"
            else:
                plan.extras[target] = f"{e.file}:{e.columns[target]}"
        col, lk = ident(target), ident(f"_lk_{target}")
        con.execute(
            f"UPDATE {batch} SET {col} = COALESCE({batch}.{col}, TRY_CAST(l.{lk} AS {sql_type})) "
            f"FROM (SELECT DISTINCT ON ({ident('_lk_' + e.on)}) * FROM {view}) l "
            f"WHERE {batch}.{ident(e.key)} = l.{ident('_lk_' + e.on)}"
        )
