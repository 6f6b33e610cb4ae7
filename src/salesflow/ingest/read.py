"""Read an export (CSV, Excel, Parquet) into the engine, every column as text, rows in file order.

Everything is read as text first so that no value is lost or silently converted before validation:
the checks then say exactly which row and value could not be read as a date or a number.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from salesflow.errors import DataError, NotFoundError

if TYPE_CHECKING:
    import duckdb

__all__ = ["FORMATS", "file_kind", "ident", "read_into", "source_view"]

FORMATS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".xlsx": "excel", ".parquet": "parquet"}


def file_kind(path: Path) -> str:
    """``csv``, ``excel`` or ``parquet``, from the file name."""
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise DataError(
            f"salesflow cannot read {path.name}: unknown file type {path.suffix or '(none)'}",
            hint="Export the data as CSV, Excel (.xlsx) or Parquet",
        )
    return kind


def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def ident(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def read_into(con: duckdb.DuckDBPyConnection, path: Path, name: str) -> list[str]:
    """Create table ``name`` with the file's columns as text, in file order; return the header."""
    if not path.is_file():
        raise NotFoundError(f"No file at {path}", hint="Check the path of the file to import")
    kind = file_kind(path)
    try:
        if kind == "csv":
            con.execute(
                f"CREATE TABLE {name} AS SELECT * FROM read_csv({_q(str(path))}, "
                "all_varchar = true, header = true)"
            )
        elif kind == "parquet":
            con.execute(
                f"CREATE TABLE {name} AS SELECT COLUMNS(*)::VARCHAR "
                f"FROM read_parquet({_q(str(path))})"
            )
        else:
            _read_excel(con, path, name)
    except DataError:
        raise
    except Exception as exc:  # the reader's own words say what is wrong with the file
        raise DataError(
            f"{path.name} cannot be read as {kind.upper()}: {exc}",
            where=str(path),
            hint="Check that the file is a complete, well-formed export",
        ) from exc
    return [r[0] for r in con.execute(f"DESCRIBE {name}").fetchall()]


def _read_excel(con: duckdb.DuckDBPyConnection, path: Path, name: str) -> None:
    """First sheet via openpyxl (DuckDB's excel extension is not always installable)."""
    import pandas as pd
    import pyarrow as pa

    frame = pd.read_excel(path, sheet_name=0, dtype=object, engine="openpyxl")
    frame.columns = [str(c) for c in frame.columns]
    columns = {
        c: pa.array([_cell_text(v) for v in frame[c].tolist()], type=pa.string())
        for c in frame.columns
    }
    arrow = pa.table(columns) if columns else pa.table({})
    con.register("_excel_frame", arrow)
    con.execute(f"CREATE TABLE {name} AS SELECT * FROM _excel_frame")
    con.unregister("_excel_frame")


def _cell_text(value: object) -> str | None:
    """Excel cells as text: real dates become ISO, whole numbers lose their ``.0``."""
    import datetime as dt

    import pandas as pd

    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def source_view(
    con: duckdb.DuckDBPyConnection,
    raw: str,
    name: str,
    columns: dict[str, str],
    values: dict[str, dict[str, str]],
) -> None:
    """View ``name``: ``_row`` (1-based data row) and each target column as trimmed text.

    Empty cells become NULL; ``values`` translates source values (``"Closed Won" = "won"``).
    """
    parts = ["rowid + 1 AS _row"]
    for target, source in columns.items():
        expr = f"NULLIF(TRIM({ident(source)}), '')"
        mapping = values.get(target)
        if mapping:
            cases = " ".join(f"WHEN {_q(k)} THEN {_q(v)}" for k, v in mapping.items())
            expr = f"CASE {expr} {cases} ELSE {expr} END"
        parts.append(f"{expr} AS {ident(target)}")
    con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT {', '.join(parts)} FROM {raw}")
