"""Read in place on Spark: tables of the Spark catalog and Parquet/CSV files as the canonical tables.

The session's current database is ``[data] derived_schema``, where salesflow keeps its own tables
(the process map's, the watermark). The canonical tables are *temporary* views of the session
(an Ibis rename, select and cast over the mapped table, as on PostgreSQL): Spark resolves a
temporary view before any table of the current database, views cost nothing to make, and a
session's temporary views are never stored, so nothing is ever written into the catalog's other
databases or the files. ``files =`` are read with Spark's own Parquet/CSV readers.
"""

from __future__ import annotations

import glob
from typing import TYPE_CHECKING

from salesflow.schema import TABLES

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

    from salesflow.settings import Settings, TableMap

__all__ = ["spark_canonical_views"]


def spark_canonical_views(con: BaseBackend, settings: Settings) -> None:
    """Check the mapping (a :class:`ConfigError` lists every mismatch with its fix), make the
    canonical tables temporary views of the session and switch it to ``derived_schema``."""
    from salesflow.inplace import (
        _ident,
        canonical_view,
        create_own_schema,
        mapping_problems,
        mismatch,
    )

    dm = settings.data_map
    default = "default"  # TABLE alone; not current_database: the last open moved it to ours
    problems = [p for tm in dm.tables.values() if tm.files for p in _files(con, settings, tm)]
    table_maps = {n: t for n, t in dm.tables.items() if not t.files}
    problems += mapping_problems(con, settings, default, only=table_maps)
    if problems:
        raise mismatch(settings, problems)
    create_own_schema(con, settings, "DATABASE")
    for name, spec in TABLES.items():
        tm = dm.tables.get(name)
        if tm is None:  # nobody maps it: empty, as in a workspace that has not imported it
            cols = ", ".join(f"CAST(NULL AS {_spark_type(c.dtype)}) AS {_ident(c.name)}"
                             for c in spec.columns)  # fmt: skip
            con.raw_sql(
                f"CREATE OR REPLACE TEMPORARY VIEW {_ident(name)} AS SELECT {cols} WHERE false"
            )
        else:
            con.create_view(name, canonical_view(con, tm, default), overwrite=True)
    con.raw_sql(f"USE {_ident(dm.derived_schema)}")


def _files(con: BaseBackend, settings: Settings, tm: TableMap) -> list[str]:
    """Register ``tm``'s files as a temporary view (named like the table map's canonical table,
    so :func:`canonical_view` finds it) and say what is wrong with them, if anything."""
    from salesflow.inplace import FILES_VIEW, column_problems

    key = f"[data.tables.{tm.canonical}]"
    remote = "://" in tm.files  # s3a://, abfss://: Spark's to find (and to say when it cannot)
    path = tm.files if remote else str((settings.workspace / tm.files).resolve())
    pattern = path.rstrip("/") + "/**/*.parquet" if tm.files.endswith("/") else path
    if not remote and not glob.glob(pattern, recursive=True):
        return [
            f"No files match {tm.files} that {key} reads: write them there, or correct files = "
            f"in {key} (relative to the workspace folder)"
        ]
    reader = con._session.read
    try:
        if ".csv" in path.lower():
            frame = reader.csv(path, header=True, inferSchema=True)
        else:
            frame = reader.parquet(path)
        frame.createOrReplaceTempView(FILES_VIEW + tm.canonical)
    except Exception as exc:
        return [f"The files {tm.files} that {key} reads cannot be read: {exc}"]
    return column_problems(tm, list(frame.columns))


def _spark_type(dtype: str) -> str:
    import ibis
    from ibis.backends.sql.datatypes import PySparkType

    return PySparkType.from_ibis(ibis.dtype(dtype)).sql("spark")
