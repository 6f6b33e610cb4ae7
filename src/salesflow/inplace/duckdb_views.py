"""Read in place on DuckDB: other DuckDB files and Parquet/CSV files seen as the canonical tables.

A DuckDB workspace keeps salesflow's own tables (the process map's, the watermark) in its own file
(``[data] url``), written like every DuckDB workspace: a new generation swapped in. What it reads
is never written: each DuckDB file of ``[data.attach]`` is attached ``READ_ONLY`` (DuckDB itself
refuses any write into it), and ``files =`` are read with ``read_parquet``/``read_csv``. Each
connection gets one *temporary* view per canonical table (a rename, select and cast over the
mapped table; an empty typed view for a table nobody maps): views cost nothing to make, so they
are made afresh whenever the file is opened and never stored, even in salesflow's own file.
"""

from __future__ import annotations

import glob
from pathlib import Path
from typing import TYPE_CHECKING

from salesflow.errors import ConfigError, StorageError
from salesflow.schema import TABLES

if TYPE_CHECKING:
    import duckdb

    from salesflow.settings import Settings, TableMap

__all__ = ["duckdb_canonical_views", "duckdb_mapping_problems"]


def duckdb_canonical_views(raw: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Attach ``[data.attach]`` read-only, check the mapping (a :class:`ConfigError` lists every
    mismatch with its fix) and make the canonical tables temporary views on ``raw``."""
    from salesflow.inplace import _ident, _literal, mismatch

    for name, path in settings.data_map.attach.items():
        file = _path(settings, path)
        if not file.is_file():
            raise ConfigError(
                f"The DuckDB file {file} that [data.attach] {name} names does not exist",
                where=str(settings.config_path),
                hint=f"Correct {name} = in [data.attach] (a path relative to the workspace folder)",
            )
        try:
            raw.execute(f"ATTACH {_literal(str(file))} AS {_ident(name)} (READ_ONLY)")
        except Exception as exc:  # held for writing by its pipeline, not a DuckDB file …
            raise StorageError(
                f"The DuckDB file {file} ([data.attach] {name}) cannot be read: {exc}",
                where=str(file),
                hint="Check the file is a DuckDB database and no program holds it for writing",
            ) from exc
    problems = duckdb_mapping_problems(raw, settings)
    if problems:
        raise mismatch(settings, problems)
    for name, spec in TABLES.items():
        tm = settings.data_map.tables.get(name)
        if tm is None:  # nobody maps it: empty, as in a workspace that has not imported it
            cols = ", ".join(
                f"CAST(NULL AS {c.sql_type}) AS {_ident(c.name)}" for c in spec.columns
            )
            body = f"SELECT {cols} WHERE false"
        else:
            body = _select(raw, settings, tm)
        raw.execute(f"CREATE OR REPLACE TEMP VIEW {_ident(name)} AS {body}")


def duckdb_mapping_problems(raw: duckdb.DuckDBPyConnection, settings: Settings) -> list[str]:
    """Each way the mapping does not match the attached files and Parquet/CSV files."""
    from salesflow.inplace import column_problems

    problems: list[str] = []
    for name, tm in settings.data_map.tables.items():
        if tm.files is not None and not _matches(settings, tm.files):
            problems.append(
                f"No files match {tm.files} that [data.tables.{name}] reads: write them there, "
                f"or correct files = in [data.tables.{name}] (relative to the workspace folder)"
            )
            continue
        try:
            have = _columns(raw, settings, tm)
        except Exception as exc:
            problems.append(_unreadable(raw, tm, exc))
            continue
        problems += column_problems(tm, have)
    return problems


def _unreadable(raw: duckdb.DuckDBPyConnection, tm: TableMap, exc: Exception) -> str:
    from difflib import get_close_matches

    key = f"[data.tables.{tm.canonical}]"
    if tm.files is not None:
        return f"The files {tm.files} that {key} reads cannot be read: {exc}"
    catalog = tm.schema or ""
    names = [
        f"{catalog}.{r[0]}"
        for r in raw.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = ? UNION ALL "
            "SELECT view_name FROM duckdb_views() WHERE database_name = ?",
            [catalog, catalog],
        ).fetchall()
    ]
    close = get_close_matches(tm.table, names, n=1)
    guess = f' (did you mean "{close[0]}"?)' if close else ""
    return (
        f"The table {tm.table} that {key} reads does not exist{guess}: create it, or correct "
        f"table = in {key}"
    )


def _select(raw: duckdb.DuckDBPyConnection, settings: Settings, tm: TableMap) -> str:
    """The SQL of the canonical view over ``tm``: mapped columns renamed and cast, canonical
    columns the source lacks as typed nulls, extra columns kept."""
    from salesflow.inplace import _ident

    have = set(_columns(raw, settings, tm))
    spec = TABLES[tm.canonical]
    cols = []
    for col in spec.columns:
        source = tm.columns.get(col.name, col.name if col.name in have else None)
        value = "NULL" if source is None else _ident(source)
        cols.append(f"CAST({value} AS {col.sql_type}) AS {_ident(col.name)}")
    for extra, source in tm.columns.items():
        if spec.column(extra) is None:
            cols.append(f"{_ident(source)} AS {_ident(extra)}")
    return f"SELECT {', '.join(cols)} FROM {_from(settings, tm)}"


def _columns(raw: duckdb.DuckDBPyConnection, settings: Settings, tm: TableMap) -> list[str]:
    return [r[0] for r in raw.execute(f"DESCRIBE SELECT * FROM {_from(settings, tm)}").fetchall()]


def _from(settings: Settings, tm: TableMap) -> str:
    """The mapped table in SQL: ``catalog.table``, or a reader over the files."""
    from salesflow.inplace import _ident, _literal

    if tm.files is None:
        return f"{_ident(tm.schema or '')}.{_ident(tm.name)}"
    pattern = _pattern(settings, tm.files)
    reader = "read_csv" if ".csv" in pattern.lower() else "read_parquet"
    return f"{reader}({_literal(pattern)}, union_by_name = true)"


def _pattern(settings: Settings, files: str) -> str:
    """The files as an absolute glob: a folder means every Parquet file under it."""
    path = str(_path(settings, files))
    return path.rstrip("/") + "/**/*.parquet" if files.endswith("/") else path


def _matches(settings: Settings, files: str) -> bool:
    return bool(glob.glob(_pattern(settings, files), recursive=True))


def _path(settings: Settings, path: str) -> Path:
    return (settings.workspace / Path(path).expanduser()).resolve()
