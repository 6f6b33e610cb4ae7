"""Read an export (CSV, Excel, Parquet) into the engine, every column as text, rows in file order.

Everything is read as text first so that no value is lost or silently converted before validation:
the checks then say exactly which row and value could not be read as a date or a number.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import TYPE_CHECKING

from salesflow.errors import ConfigError, DataError, ImportValidationError, NotFoundError
from salesflow.ingest.excel import check_workbook
from salesflow.ingest.textfile import check_csv, duplicate_columns, header_fields, nul_error

if TYPE_CHECKING:
    import duckdb

__all__ = [
    "ENCODINGS",
    "FORMATS",
    "check_file",
    "encoding_name",
    "file_kind",
    "ident",
    "materialise",
    "read_into",
    "reader_error",
    "source_view",
    "trimmed",
    "typed_csv_view",
    "unreadable",
]

FORMATS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".xlsx": "excel", ".parquet": "parquet"}
#: The text encodings DuckDB's CSV reader knows without extensions, and names people use for them.
ENCODINGS = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "utf-16": "utf-16",
    "utf16": "utf-16",
    "latin-1": "latin-1",
    "latin1": "latin-1",
    "iso-8859-1": "latin-1",
}
_ENCODING_HINT = (
    "Save it from Excel as 'CSV UTF-8', or name its encoding: --encoding latin-1 (Windows and "
    "older Excel exports) or --encoding utf-16"
)


def encoding_name(text: str, *, where: str = "--encoding") -> str:
    """The reader's name for an encoding (``Latin1`` -> ``latin-1``); a clear error otherwise."""
    name = ENCODINGS.get(text.strip().lower().replace("_", "-"))
    if name is None:
        raise ConfigError(
            f"salesflow cannot read text encoded as {text!r}",
            where=where,
            hint="Use utf-8, utf-16 or latin-1 (for Windows-1252 files too, apart from € and "
            "curly quotes); or save the file from Excel as 'CSV UTF-8'",
        )
    return name


def unreadable(exc: Exception, path: Path, kind: str = "csv") -> DataError:
    """DuckDB's reader error as one line a sales-ops analyst can act on."""
    text = str(exc)
    line = re.search(r"CSV Error on Line: (\d+)", text)
    at = f" (line {line.group(1)})" if line else ""
    if "Invalid unicode" in text or "not utf-8 encoded" in text:
        return DataError(f"{path.name} is not UTF-8 text{at}", where=str(path), hint=_ENCODING_HINT)
    where = f"{path}, line {line.group(1)}" if line else str(path)
    fix = "Export the file again, or correct that line and save the file"
    if "unterminated quote" in text:
        return DataError(
            f'{path.name}{at} opens a quote (") that is never closed: the export may have been '
            f"cut short, or a value holds a stray quote; nothing was imported",
            where=where,
            hint=fix,
        )
    columns = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", text)
    if columns:
        return DataError(
            f"{path.name}{at} has {columns.group(2)} values where the header has "
            f"{columns.group(1)}: the export may have been cut short, or a value holds an "
            f"unquoted separator; nothing was imported",
            where=where,
            hint=fix,
        )
    if "sniffing file" in text:
        return DataError(
            f"salesflow cannot tell how the values of {path.name} are separated: a row may have "
            f'fewer values than the header, or a quote (") may be left open',
            where=str(path),
            hint="Check that the file is a complete export, with one header line",
        )
    first = text.split("\n", 1)[0].removeprefix("Invalid Input Error: ")
    return DataError(
        f"{path.name} cannot be read as {kind.upper()}{at}: {first}",
        where=str(path),
        hint="Check that the file is a complete, well-formed export",
    )


def reader_error(exc: Exception) -> bool:
    """Whether DuckDB's error comes from reading a malformed file (rather than from the data)."""
    text = str(exc)
    return type(exc).__name__ == "InvalidInputException" and (
        "CSV Error on Line" in text or "sniffing file" in text or "Invalid unicode" in text
    )


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


def read_into(
    con: duckdb.DuckDBPyConnection, path: Path, name: str, *, encoding: str | None = None
) -> list[str]:
    """Make ``name`` the file's columns as text, in file order; return the header.

    For CSV and Parquet ``name`` is a view over the file (read again only when needed, so a
    large file is held once, as the typed batch); for Excel it is a table. ``encoding`` is a
    CSV file's text encoding (default UTF-8, with or without a byte-order mark).
    """
    kind = check_file(path, encoding=encoding)
    try:
        header = None
        if kind == "csv":
            header = _csv_view(con, path, name, encoding)
        elif kind == "parquet":
            con.execute(
                f"CREATE VIEW {name} AS SELECT COLUMNS(*)::VARCHAR "
                f"FROM read_parquet({_q(str(path))})"
            )
        else:
            _read_excel(con, path, name)
        if header is None:
            header = [r[0] for r in con.execute(f"DESCRIBE {name}").fetchall()]
    except (DataError, ImportValidationError):
        raise
    except Exception as exc:
        raise unreadable(exc, path, kind) from exc
    if kind == "csv" and _renamed(header):  # DuckDB calls a repeated "amount" "amount_1"
        duplicate_columns(header_fields(path, encoding, len(header))[1], path.name)
    if kind == "parquet":
        _check_parquet(con, name, path, header)
    return header


def _check_parquet(
    con: duckdb.DuckDBPyConnection, name: str, path: Path, header: list[str]
) -> None:
    """A column named twice, or a NUL byte in a value (one scan of the text columns)."""
    if _renamed(header):
        import pyarrow.parquet as pq

        duplicate_columns(pq.read_schema(path).names, path.name)
    if not header:
        return
    hits = con.execute(
        "SELECT "
        + ", ".join(f"bool_or(contains({ident(c)}, chr(0)))" for c in header)
        + f" FROM {name}"
    ).fetchone()
    column = next((c for c, hit in zip(header, hits, strict=True) if hit), None)
    if column is not None:
        row = con.execute(
            f"SELECT min(_r) FROM (SELECT row_number() OVER () AS _r, {ident(column)} AS v "
            f"FROM {name}) WHERE contains(v, chr(0))"
        ).fetchone()[0]
        raise nul_error(path, f"in row {row}, column {column!r}", f"{path}, row {row}")


def _csv_options(encoding: str | None) -> str:
    coded = f", encoding = {_q(encoding)}" if encoding and encoding != "utf-8" else ""
    return f"header = true, quote = '\"', escape = '\"'{coded}"


def _csv_view(
    con: duckdb.DuckDBPyConnection, path: Path, name: str, encoding: str | None
) -> list[str] | None:
    """A view over the CSV, every column text; its column names when the sniffer read them
    (each DESCRIBE sniffs the file again: 30 ms at a million rows), else None. Quote and escape
    are named, so a quote left open is an error rather than part of a value. When DuckDB's
    sniffer sees one column (a short or broken row in its sample) but the header has several,
    the delimiter is named too, so the reader says which line is wrong instead of reading
    every line as one value."""
    options = f"all_varchar = true, {_csv_options(encoding)}"
    source = _q(str(path))
    try:
        con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_csv({source}, {options})")
        described = [r[0] for r in con.execute(f"DESCRIBE {name}").fetchall()]
    except Exception:  # the sniffer gave up: name the delimiter and let the reader say where
        described = []
        with contextlib.suppress(Exception):
            con.execute("ROLLBACK")
    if len(described) > 1:
        return described
    delimiter, fields = header_fields(path, encoding)
    if len(fields) > 1 or not described:
        con.execute(
            f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_csv({source}, {options}, "
            f"delim = {_q(delimiter)}, auto_detect = false, columns = {_columns(fields)})"
        )
        return None
    return described


def typed_csv_view(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    name: str,
    header: list[str],
    types: dict[str, str],
    formats: dict[str, str],
    encoding: str | None = None,
) -> bool:
    """View ``name`` over the CSV with the source columns of ``types`` parsed by DuckDB's reader
    (``TIMESTAMP`` and ``DATE`` strictly in their ``formats``), every other column text. False,
    and no view, when the reader does not see the file as :func:`read_into` did (use the text)."""
    typed = "{" + ", ".join(f"{_q(c)}: {_q(t)}" for c, t in types.items()) + "}"
    options = (
        f"{_csv_options(encoding)}, auto_type_candidates = ['VARCHAR'], types = {typed}, "
        f"timestampformat = {_q(formats['TIMESTAMP'])}, dateformat = {_q(formats['DATE'])}"
    )
    try:
        con.execute(
            f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_csv({_q(str(path))}, {options})"
        )
        described = con.execute(f"DESCRIBE {name}").fetchall()
    except Exception:  # the sniffer met a value of a typed column it cannot read: use the text
        with contextlib.suppress(Exception):
            con.execute("ROLLBACK")
        return False
    seen = {column: kind for column, kind, *_ in described}
    if [c for c, *_ in described] == header and all(seen[c] == t for c, t in types.items()):
        return True
    con.execute(f"DROP VIEW {name}")
    return False


def _columns(fields: list[str]) -> str:
    """``{'name': 'VARCHAR', …}`` for ``read_csv``; unnamed or repeated columns get numbers
    (repeated names are refused afterwards, by the header check)."""
    seen: set[str] = set()
    names = []
    for i, field in enumerate(fields):
        name = field.strip() or f"column{i}"
        while name.lower() in seen:
            name = f"{name}_1"
        seen.add(name.lower())
        names.append(name)
    return "{" + ", ".join(f"{_q(n)}: 'VARCHAR'" for n in names) + "}"


def check_file(path: Path, *, encoding: str | None = None) -> str:
    """The file's kind, after the checks that need no engine: a CSV's bytes (NUL, a cut-short
    last line), a workbook's unpacked size, cell count and unsaved formulas. Cheap, so the web
    app runs them before it takes any lock."""
    if not path.is_file():
        raise NotFoundError(f"No file at {path}", hint="Check the path of the file to import")
    kind = file_kind(path)
    if kind == "csv":
        check_csv(path, encoding)
    elif kind == "excel":
        check_workbook(path)
    return kind


def _renamed(header: list[str]) -> bool:
    names = {h.lower() for h in header}
    return any((m := re.match(r"^(.*)_\d+$", h)) and m.group(1).lower() in names for h in header)


def materialise(con: duckdb.DuckDBPyConnection, name: str) -> str:
    """A table of view ``name`` in file order (its ``rowid`` + 1 is the data row number)."""
    kind = con.execute(
        "SELECT count(*) FROM duckdb_views() WHERE view_name = ? AND NOT internal", [name]
    ).fetchone()[0]
    if not kind:
        return name
    table = f"{name}_rows"
    con.execute(f"CREATE TABLE IF NOT EXISTS {table} AS SELECT * FROM {name}")
    return table


def _read_excel(con: duckdb.DuckDBPyConnection, path: Path, name: str) -> None:
    """First sheet via openpyxl (DuckDB's excel extension is not always installable)."""
    import pandas as pd
    import pyarrow as pa

    # na_filter=False: "n/a" or "NULL" typed in a cell are values to check, not blanks;
    # header=None: the header as written (pandas would rename a repeated "amount" "amount.1")
    frame = pd.read_excel(
        path, sheet_name=0, dtype=object, engine="openpyxl", na_filter=False, header=None
    )
    names = (
        [_cell_text(c) or f"Unnamed: {i}" for i, c in enumerate(frame.iloc[0])]
        if len(frame)
        else []
    )
    duplicate_columns(names, path.name)
    frame = frame.iloc[1:]
    frame.columns = names
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


def trimmed(column_sql: str) -> str:
    """``NULLIF(TRIM(x), '')``, calling the costly Unicode ``TRIM`` only where it can change x.

    DuckDB's ``TRIM`` strips spaces and other Unicode space separators; of ASCII only ``' '``.
    So an all-ASCII value (byte length = character length) not starting or ending with a space
    is already trimmed: at ten million values this halves the cost of reading a file.
    """
    x = column_sql
    return (
        f"CASE WHEN starts_with({x}, ' ') OR ends_with({x}, ' ') OR strlen({x}) <> length({x}) "
        f"THEN NULLIF(TRIM({x}), '') ELSE NULLIF({x}, '') END"
    )


def source_view(
    con: duckdb.DuckDBPyConnection,
    raw: str,
    name: str,
    columns: dict[str, str],
    values: dict[str, dict[str, str]],
    *,
    rows: bool = False,
    typed: frozenset[str] = frozenset(),
) -> None:
    """View ``name``: each target column as trimmed text (and ``_row``, the 1-based data row,
    when ``rows`` and ``raw`` is a table); the ``typed`` ones as the reader parsed them.

    Empty cells become NULL; ``values`` translates source values (``"Closed Won" = "won"``).
    """
    parts = ["rowid + 1 AS _row"] if rows else []
    for target, source in columns.items():
        if target in typed:
            parts.append(f"{ident(source)} AS {ident(target)}")
            continue
        expr = trimmed(ident(source))
        mapping = values.get(target)
        if mapping:
            cases = " ".join(f"WHEN {_q(k)} THEN {_q(v)}" for k, v in mapping.items())
            expr = f"CASE {expr} {cases} ELSE {expr} END"
        parts.append(f"{expr} AS {ident(target)}")
    con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT {', '.join(parts)} FROM {raw}")
