"""The data source: the canonical tables behind an Ibis backend (embedded DuckDB by default).

Any Ibis URL works (``postgres://…``, ``snowflake://…``); salesflow only ever speaks Ibis to it,
except for the importer's bulk path on DuckDB, which uses DuckDB's native CSV/Parquet readers.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from salesflow.errors import ConfigError, DataError, StorageError, WorkspaceBusy
from salesflow.schema import TABLES
from salesflow.storage import data_file, read_wait

if TYPE_CHECKING:
    import duckdb
    from ibis.backends import BaseBackend

__all__ = [
    "as_int",
    "columns",
    "connect",
    "connect_duckdb",
    "ensure_tables",
    "fetch",
    "is_duckdb",
    "table_exists",
    "table_names",
]


def connect(url: str, *, read_only: bool = False) -> BaseBackend:
    """Open the Ibis backend behind ``url`` (already resolved to absolute paths).

    A DuckDB file another program holds for writing is retried for ``SALESFLOW_READ_WAIT``
    seconds, then reported as :class:`WorkspaceBusy`; other I/O failures are a
    :class:`StorageError`: neither is ever mistaken for a setting or a fact about the data.
    """
    import ibis

    if url.startswith("duckdb://"):
        return ibis.duckdb.from_connection(connect_duckdb(url, read_only=read_only))
    if url.startswith(("pyspark:", "sc://")):
        from salesflow import spark

        return spark.connect(url)
    try:
        return ibis.connect(url)
    except Exception as exc:  # the driver's own words are the most useful detail
        raise _cannot_open(url, exc) from exc


def connect_duckdb(url: str, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """The DuckDB connection behind a ``duckdb://`` URL, set up as Ibis sets up its own (UTC,
    no replacement scans), so SQL on it and Ibis on it agree. Commands that need only SQL use
    it directly and start without importing Ibis or pandas; :func:`connect` wraps it."""
    try:
        file = data_file(url)
        if file is not None:
            file.parent.mkdir(parents=True, exist_ok=True)
        con = _duckdb(":memory:" if file is None else str(file), read_only=read_only)
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET python_enable_replacements = false")
        # DuckDB draws its own progress bar on stdout for long queries: that would corrupt --json.
        con.execute("SET enable_progress_bar = false")
        return con
    except StorageError:
        raise
    except Exception as exc:
        raise _cannot_open(url, exc) from exc


#: The extra that installs the driver of each URL scheme (``pip install 'salesflow[EXTRA]'``).
EXTRAS = {"postgres": "postgres", "postgresql": "postgres"}


def _cannot_open(url: str, exc: Exception) -> ConfigError:
    if isinstance(exc, ImportError):  # the backend's driver is an extra the install left out
        scheme = url.split(":", 1)[0].split("+", 1)[0].lower()
        extra = EXTRAS.get(scheme)
        return ConfigError(
            f"The data source {url!r} needs a driver that is not installed",
            hint=f"Install it with `pip install 'salesflow[{extra}]'`"
            if extra
            else f"Install the Ibis backend for {scheme}:// (see docs/backends.md)",
        )
    return ConfigError(
        f"Cannot open the data source {url!r}: {exc}",
        hint="Check [data] url in salesflow.toml (any Ibis URL, e.g. duckdb:///data.duckdb)",
    )


def _duckdb(path: str, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    import duckdb

    deadline = time.monotonic() + read_wait()
    while True:
        try:
            return duckdb.connect(path, read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise StorageError(
                    f"The data file cannot be opened: {exc}",
                    where=path,
                    hint="Check the file exists, is readable and the disk is not full",
                ) from exc
            if time.monotonic() >= deadline:
                raise WorkspaceBusy(
                    f"The data file is held for writing by another program: {exc}",
                    where=path,
                    hint="Close the program holding it (a DuckDB shell, another tool) and try "
                    "again; salesflow itself never writes the file in place",
                ) from exc
            time.sleep(0.2)


def _is_ibis(con: object) -> bool:
    return hasattr(con, "list_tables")


def fetch(con: BaseBackend | duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    """The rows of a small query written in SQL every backend speaks (unquoted lower-case
    names, standard aggregates, every column named): on a DuckDB connection straight, with no
    Ibis, pandas or bound parameters (DuckDB imports pandas to bind them); on Ibis via ``sql``."""
    if not _is_ibis(con):
        return con.execute(sql).fetchall()
    table = con.sql(sql).to_pyarrow()
    return list(zip(*(column.to_pylist() for column in table.columns), strict=True))


def table_names(con: BaseBackend | duckdb.DuckDBPyConnection) -> set[str]:
    """The tables of the data source (Ibis backend or DuckDB connection)."""
    if _is_ibis(con):
        return set(con.list_tables())
    return {row[0] for row in con.execute("SHOW TABLES").fetchall()}


def columns(con: BaseBackend | duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """The column names of ``table`` (Ibis backend or DuckDB connection)."""
    if _is_ibis(con):
        return list(con.table(table).columns)
    return [d[0] for d in con.execute(f"SELECT * FROM {table} LIMIT 0").description]


def is_duckdb(con: BaseBackend) -> bool:
    return con.name == "duckdb"


def table_exists(con: BaseBackend, name: str) -> bool:
    return name in con.list_tables()


def ensure_tables(con: BaseBackend) -> None:
    """Create any missing canonical table, empty, with its typed columns."""
    existing = set(con.list_tables())
    for name, spec in TABLES.items():
        if name in existing:
            continue
        if con.name == "pyspark":  # Spark's SQL has no DOUBLE PRECISION nor VARCHAR sans length
            con.create_table(name, schema=spec.ibis_schema())
        else:
            con.raw_sql(spec.create_sql())


def require_table(con: BaseBackend, name: str):
    """The Ibis table ``name``, or a DataError saying how to load it."""
    if not table_exists(con, name):
        raise DataError(
            f"The workspace has no {name!r} data yet",
            hint=f"Load it with `salesflow import {name} FILE` or try `salesflow demo`",
        )
    return con.table(name)


def as_int(condition: Any) -> Any:
    """1 where a boolean Ibis expression holds, 0 where it does not, null where it is null.

    Portable: PostgreSQL has no boolean → bigint cast, so ``condition.cast("int64")`` fails there
    (tests/parity/test_portable_code.py keeps it out of the code)."""
    import ibis

    return ibis.cases((condition, 1), (~condition, 0)).cast("int64")
