"""Date formats: detect them per column, in the engine, and refuse to guess day versus month.

ISO dates (``2024-03-31``, ``2024-03-31 14:05:00``, ``2024-03-31T14:05:00Z``) are read directly. Other
common export formats are tried on the column's distinct values; a format is chosen only when it
reads every value. When both a day-first and a month-first format read the most values (all days
are 12 or less), the column is ambiguous and the user is asked to say which with ``--date-format``,
even when a few unreadable rows mean no format reads every value.

Timestamps are stored as wall-clock time in the workspace's zone. An ISO column whose sample has
values with a UTC offset (``Z``, ``+02:00``: API exports) is marked ``offsets`` and converted; in
other ISO columns a length test per value (:func:`late_offset_sql`) catches an offset further down,
so a file of local times pays almost nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from salesflow.errors import RowError

if TYPE_CHECKING:
    import duckdb

__all__ = ["CANDIDATES", "ISO", "DateColumn", "detect", "late_offset_sql", "parse_sql", "valid_sql"]

ISO = "ISO 8601"
_DAY_FIRST = ("%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%d/%m/%y", "%d.%m.%y", "%d-%m-%y")
_MONTH_FIRST = ("%m/%d/%Y", "%m-%d-%Y", "%m/%d/%y", "%m-%d-%y")
_OTHER = ("%Y/%m/%d", "%Y.%m.%d", "%d %b %Y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y", "%d-%b-%Y")
_TIMES = ("", " %H:%M", " %H:%M:%S", " %I:%M %p", " %I:%M:%S %p")
CANDIDATES = tuple(d + t for d in (*_DAY_FIRST, *_MONTH_FIRST, *_OTHER) for t in _TIMES)
_EARLIEST = "TIMESTAMP '1900-01-01'"  # '%Y' reads "16" as the year 16: not a real CRM date
# A time followed by a UTC offset as DuckDB reads one: Z, +02, +0200, +02:00, UTC (any case).
_OFFSET = r"'\d:\d\d(:\d\d(\.\d*)?)?(z|[+-]\d\d(:?\d\d)*| ?utc)\s*$'"


@dataclass(frozen=True)
class DateColumn:
    """The format chosen for one column, or the errors that stopped us choosing one."""

    column: str
    format: str | None
    ambiguity: RowError | None = None
    offsets: bool = False  # values carry a UTC offset: convert them to the workspace's zone

    def describe(self) -> str:
        return self.format or "ambiguous"


def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def parse_sql(column_sql: str, fmt: str | None, zone: str | None = None) -> str:
    """SQL that turns the text column into a TIMESTAMP (NULL where it does not parse).

    With ``zone``, a value that carries a UTC offset (``2024-03-31T14:05:00Z``) becomes the
    wall-clock time there; one without is local already and kept as written. Without ``zone``
    the offset is ignored (DuckDB keeps the written wall-clock time).
    """
    if fmt not in (None, ISO):
        parsed = f"TRY_STRPTIME({column_sql}, {_q(fmt)})"
        return f"timezone({_q(zone or 'UTC')}, {parsed})" if "%z" in fmt.lower() else parsed
    naive = f"TRY_CAST({column_sql} AS TIMESTAMP)"
    if zone is None:
        return naive
    return (
        f"CASE WHEN regexp_matches({column_sql}, {_OFFSET}, 'i') "
        f"THEN timezone({_q(zone)}, TRY_CAST({column_sql} AS TIMESTAMPTZ)) ELSE {naive} END"
    )


def late_offset_sql(column_sql: str) -> str:
    """SQL, true where a value carries a UTC offset though its column's sample had none.

    Plain ISO values (10, 16 or 19 characters) skip the pattern: at ten million values the
    length test costs 0.03 s, the pattern on every value 0.8 s.
    """
    return (
        f"COALESCE(strlen({column_sql}) NOT IN (10, 16, 19) "
        f"AND regexp_matches({column_sql}, {_OFFSET}, 'i'), false)"
    )


def valid_sql(column_sql: str, fmt: str | None) -> str:
    """SQL that is true where the text reads as a plausible date in ``fmt``."""
    parsed = parse_sql(column_sql, fmt)
    return f"COALESCE({parsed} >= {_EARLIEST}, false)"


def _iso_sample(con: duckdb.DuckDBPyConnection, view: str, column: str) -> tuple[int, bool]:
    """In one read of the first 10,000 rows: how many values are not ISO dates, and whether any
    carries a UTC offset."""
    col = f'"{column}"'
    not_iso = f"{col} IS NOT NULL AND NOT {valid_sql(col, ISO)}"
    offset = f"regexp_matches({col}, {_OFFSET}, 'i')"
    sample = f"(SELECT * FROM {view} LIMIT 10000)"
    sql = f"SELECT count(*) FILTER (WHERE {not_iso}), bool_or({offset}) FROM {sample}"
    failures, offsets = con.sql(sql).fetchone()
    return failures, bool(offsets)


def detect(
    con: duckdb.DuckDBPyConnection, view: str, column: str, *, file: str, given: str | None
) -> DateColumn:
    """Choose the format of ``view.column`` (a text column); ambiguity is reported, not guessed."""
    if given:
        return DateColumn(column, given, offsets="%z" in given.lower())
    not_iso, offsets = _iso_sample(con, view, column)
    if not_iso == 0:
        # ISO on a sample: assume ISO; any later value that is not becomes a row error
        return DateColumn(column, ISO, offsets=offsets)
    col = f'"{column}"'
    counts = ", ".join(
        f"count(*) FILTER (WHERE NOT {valid_sql('v', f)})" for f in (ISO, *CANDIDATES)
    )
    total, *row = con.sql(
        f"SELECT count(*), {counts} FROM (SELECT DISTINCT {col} AS v FROM {view} WHERE {col} IS NOT NULL)"
    ).fetchone()
    failures = dict(zip((ISO, *CANDIDATES), row, strict=True))
    # the formats that read the most values (all of them, or all but a few unreadable rows,
    # which become row errors); day versus month is asked before any of them is chosen
    fewest = min(failures.values())
    best = [f for f, n in failures.items() if n == fewest]
    day = [f for f in best if f.startswith(_DAY_FIRST)]
    month = [f for f in best if f.startswith(_MONTH_FIRST)]
    if day and month and fewest < total:  # (when none reads a value, every row is an error)
        return DateColumn(column, None, _ambiguous(con, view, column, file, day[0], month[0]))
    return DateColumn(column, best[0], offsets=best[0] == ISO and offsets)


def _ambiguous(
    con: duckdb.DuckDBPyConnection, view: str, column: str, file: str, day: str, month: str
) -> RowError:
    col = f'"{column}"'
    sql = f"SELECT {col}, {valid_sql(col, day)} FROM {view} LIMIT 1000"  # in file order
    examples = [(n, v) for n, (v, ok) in enumerate(con.sql(sql).fetchall(), 1) if ok][:3]
    shown = ", ".join(f"row {n}: {v}" for n, v in examples)
    return RowError(
        file,
        None,
        column,
        examples[0][1] if examples else None,
        f"dates could be day-month or month-day (no day is above 12; e.g. {shown}), so "
        f"salesflow will not guess; say which with --date-format '{day}' (day first) or "
        f"--date-format '{month}' (month first), or in a mapping file with "
        f'date_format = "{day}"',
    )
