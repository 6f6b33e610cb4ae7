"""Read in place: the canonical tables as views over the customer's own tables.

``[data.tables.NAME]`` maps each canonical table to an existing table or view and its columns to
the canonical names (see docs/read-in-place.md). salesflow keeps everything it writes — one view
per canonical table (an Ibis rename/select/cast over the mapped table), an empty table for each
canonical table nobody mapped, the process map's derived tables and the watermark below — in the
schema the admin names in ``[data] derived_schema``, and reads through it: the connection's
``search_path`` is that schema, so every metric, and every line of SQL, sees canonical names.
The mapped tables themselves are only ever read.

The **watermark** says what the source looked like when the derived tables were built: per
mapped table its row count and its latest timestamp. Comparing it with the source now says
whether the derived tables are stale and how (``120 new rows in crm.deals``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from datetime import date, datetime, time
from difflib import get_close_matches
from typing import TYPE_CHECKING, Any

from salesflow.errors import ConfigError, StorageError
from salesflow.schema import TABLES
from salesflow.source import connect

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

    from salesflow.settings import Settings, TableMap

__all__ = [
    "VIEWS_META",
    "WATERMARK",
    "check_names",
    "column_problems",
    "compare",
    "create_own_schema",
    "mapping_problems",
    "mismatch",
    "open_source",
    "read_watermark",
    "transaction",
    "watermark",
    "write_watermark",
]

VERSION = 1
#: Backends whose schema switch and catalog queries below are written and tested for.
SUPPORTED = ("postgres",)
#: Prefix of the temporary views Spark reads ``files =`` through (see spark_views).
FILES_VIEW = "salesflow_files_"
VIEWS_META = "salesflow_views"  # the mapping the views were made from
WATERMARK = "salesflow_watermark"  # the source as the derived tables last saw it


def check_names(settings: Settings) -> None:
    """Every ``[data.tables.NAME]`` names a canonical table. (A column that is not canonical is
    an extra one, kept as an import keeps it: on ``opportunities`` an operating variable; a
    misspelt canonical one leaves that column unmapped, which :func:`mapping_problems` names
    when it is required.)"""
    where = str(settings.config_path)
    for name in settings.data_map.tables:
        if name not in TABLES:
            close = get_close_matches(name, list(TABLES), n=1)
            guess = f'Did you mean "{close[0]}"? ' if close else ""
            raise ConfigError(
                f"[data.tables.{name}] names no canonical table",
                where=where,
                hint=f"{guess}Map one of: {', '.join(TABLES)}",
            )


def _schema_of(tm: TableMap, default_schema: str) -> str:
    return tm.schema or default_schema


def mapping_problems(
    con: BaseBackend,
    settings: Settings,
    default_schema: str,
    only: Mapping[str, TableMap] | None = None,
) -> list[str]:
    """Each way the mapping (``only`` these table maps) does not match the database, in a
    sentence with its fix."""
    problems: list[str] = []
    listed: dict[str, list[str]] = {}
    maps = settings.data_map.tables if only is None else only
    for name, tm in maps.items():
        schema = _schema_of(tm, default_schema)
        if schema not in listed:
            try:
                listed[schema] = list(con.list_tables(database=schema))
            except Exception:  # Spark: no such database (PostgreSQL lists an empty schema)
                listed[schema] = []
        if tm.name not in listed[schema]:
            close = get_close_matches(tm.name, listed[schema], n=1)
            guess = f' (did you mean "{schema}.{close[0]}"?)' if close else ""
            problems.append(
                f"The table {schema}.{tm.name} that [data.tables.{name}] reads does not exist"
                f"{guess}: create it, or correct table = in [data.tables.{name}]"
            )
            continue
        have = list(con.table(tm.name, database=schema).columns)
        problems += column_problems(tm, have, f"{schema}.{tm.name}")
    return problems


def column_problems(tm: TableMap, have: list[str], where: str | None = None) -> list[str]:
    """The mapped columns ``have`` lacks, and the required canonical ones nothing provides, each
    named with its table (``where``: the table as the database names it) and its fix."""
    subject = f"The files {tm.files} have" if tm.files else f"The table {where or tm.table} has"
    key = f"[data.tables.{tm.canonical}.columns]"
    problems = []
    for canonical, column in tm.columns.items():
        if column not in have:
            close = get_close_matches(column, have, n=1)
            guess = f' (did you mean "{close[0]}"?)' if close else ""
            problems.append(
                f"{subject} no column {column!r}, which {key} reads as "
                f"{canonical}{guess}: correct {canonical} = in {key}"
            )
    for column in TABLES[tm.canonical].required:
        if column not in tm.columns and column not in have:
            problems.append(
                f"{subject} no column for {tm.canonical}.{column}, which salesflow "
                f'needs: add {column} = "THEIR_COLUMN" under {key}'
            )
    return problems


def canonical_view(con: BaseBackend, tm: TableMap, default_schema: str) -> Any:
    """The mapped table as an Ibis expression with canonical names and types: mapped columns
    renamed and cast, canonical columns the table lacks as typed nulls, extras kept."""
    import ibis

    if tm.files:  # Spark: the files, registered as a temporary view by spark_views
        t = con.table(FILES_VIEW + tm.canonical)
    else:
        t = con.table(tm.name, database=_schema_of(tm, default_schema))
    spec = TABLES[tm.canonical]
    cols: dict[str, Any] = {}
    for col in spec.columns:
        source = tm.columns.get(col.name, col.name if col.name in t.columns else None)
        if source is None:
            cols[col.name] = ibis.null().cast(col.dtype)
            continue
        value = t[source]
        cols[col.name] = value if value.type() == ibis.dtype(col.dtype) else value.cast(col.dtype)
    for extra, source in tm.columns.items():
        if spec.column(extra) is None:
            cols[extra] = t[source]
    return t.select(**cols)


def open_source(
    settings: Settings, lock: Callable[[str], AbstractContextManager] | None = None
) -> BaseBackend:
    """The Ibis backend of a read-in-place workspace, reading through ``derived_schema``.

    Checks the mapping against the database (a :class:`ConfigError` lists every mismatch with
    its fix), creates the derived schema and the canonical views when they are missing or were
    made from another mapping (under ``lock``: one process at a time), and leaves the
    connection's ``search_path`` on the derived schema.
    """
    dm = settings.data_map
    schema = dm.derived_schema
    assert schema is not None
    con = connect(settings.resolved_data_url())
    if con.name == "pyspark":
        from salesflow.inplace.spark_views import spark_canonical_views

        try:
            spark_canonical_views(con, settings)
        except BaseException:
            con.disconnect()
            raise
        return con
    if con.name not in SUPPORTED:
        con.disconnect()
        raise ConfigError(
            f"Reading tables in place works on PostgreSQL so far, not on {con.name}",
            where=str(settings.config_path),
            hint="Import the data instead (remove [data] derived_schema, read_only and "
            "[data.tables]), or keep the tables in PostgreSQL",
        )
    default_schema = con.current_database or "public"
    problems = mapping_problems(con, settings, default_schema)
    if problems:
        con.disconnect()
        raise mismatch(settings, problems)
    fingerprint = json.dumps(
        {
            "version": VERSION,
            "default_schema": default_schema,
            "tables": {n: [t.source, dict(t.columns)] for n, t in sorted(dm.tables.items())},
        },
        sort_keys=True,
    )
    if not _views_current(con, schema, fingerprint):
        with lock("creation of the canonical views") if lock else nullcontext(), transaction(con):
            if not _views_current(con, schema, fingerprint):
                _make_views(con, settings, schema, default_schema, fingerprint)
    _exec(con, f"SELECT set_config('search_path', {_literal(schema)}, false)")
    return con


def mismatch(settings: Settings, problems: list[str]) -> ConfigError:
    """The error listing every way the mapping does not match the data, each with its fix."""
    return ConfigError(
        f"The tables {settings.config_path} maps do not match the data:\n"
        + "".join(f"- {p}\n" for p in problems),
        hint="Fix [data.tables] (see docs/read-in-place.md), then run `salesflow status`",
    )


def create_own_schema(con: BaseBackend, settings: Settings, kind: str) -> None:
    """Create ``derived_schema`` (``kind``: SCHEMA, or DATABASE on Spark) if it is missing; a
    refusal is a :class:`StorageError` saying whom to ask."""
    schema = settings.data_map.derived_schema
    assert schema is not None
    try:
        _exec(con, f"CREATE {kind} IF NOT EXISTS {_ident(schema)}")
    except Exception as exc:
        if not _refused(exc):  # a lost connection or a server error: no admin can grant that
            raise StorageError(
                f"salesflow could not create its {kind.lower()} {schema!r}: {exc}",
                where=str(settings.config_path),
                hint="Check that the database in [data] url is reachable and try again",
            ) from exc
        raise StorageError(
            f"salesflow is not allowed to create its {kind.lower()} {schema!r}: {exc}",
            where=str(settings.config_path),
            hint=f"Ask the admin to create {kind.lower()} {schema} and let salesflow's user "
            "create tables and views in it ([data] derived_schema names it)",
        ) from exc


_REFUSALS = ("permission denied", "access denied", "not authorized", "insufficient privilege")


def _refused(exc: BaseException) -> bool:
    """Whether a database refused for want of a privilege (SQLSTATE 42501, or the words Spark's
    and other catalogs use), looking through the exceptions Ibis wraps around the driver's."""
    seen: BaseException | None = exc
    while seen is not None:
        if getattr(seen, "sqlstate", None) == "42501":
            return True
        if any(word in str(seen).lower() for word in _REFUSALS):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _views_current(con: BaseBackend, schema: str, fingerprint: str) -> bool:
    names = set(con.list_tables(database=schema))
    if VIEWS_META not in names or not set(TABLES) <= names:
        return False
    stored = con.table(VIEWS_META, database=schema).to_pyarrow().column("fingerprint")
    return stored.to_pylist() == [fingerprint]


def _make_views(
    con: BaseBackend, settings: Settings, schema: str, default_schema: str, fingerprint: str
) -> None:
    import ibis

    create_own_schema(con, settings, "SCHEMA")
    kinds = dict(
        _rows(
            con,
            "SELECT table_name, table_type FROM information_schema.tables "
            f"WHERE table_schema = {_literal(schema)}",
        )
    )
    for name, spec in TABLES.items():
        tm = settings.data_map.tables.get(name)
        target = f"{_ident(schema)}.{_ident(name)}"
        if kinds.get(name) == "VIEW":
            _exec(con, f"DROP VIEW {target}")
        if tm is not None:
            if name in kinds and kinds[name] != "VIEW":
                _exec(con, f"DROP TABLE {target}")
            con.create_view(name, canonical_view(con, tm, default_schema), database=schema)
        else:  # nobody maps it: an empty table, as in a workspace that has not imported it
            cols = ", ".join(f'"{c.name}" {c.sql_type}' for c in spec.columns)
            _exec(con, f"CREATE TABLE IF NOT EXISTS {target} ({cols})")
    meta = ibis.memtable({"fingerprint": [fingerprint]}, schema={"fingerprint": "string"})
    con.create_table(VIEWS_META, meta, database=schema, overwrite=True)


# -- the watermark ---------------------------------------------------------------------------


def watermark(con: BaseBackend, settings: Settings) -> dict[str, dict[str, Any]]:
    """Per mapped table, read through its canonical view: ``{"table", "rows", "latest"}``
    (its row count and latest timestamp, ISO 8601). One query for all tables (a union of one
    row per table): on Spark each query is a job that costs about a second to start."""
    import ibis

    maps = sorted(settings.data_map.tables.items())
    if not maps:
        return {}
    stamps = {n: [c.name for c in TABLES[n].columns if c.dtype == "timestamp"] for n, _ in maps}
    width = max(len(cols) for cols in stamps.values())
    rows = []
    for name, _ in maps:
        t = con.table(name)
        his = [t[c].max().cast("timestamp") for c in stamps[name]]
        his += [ibis.null().cast("timestamp")] * (width - len(his))
        rows.append(
            t.aggregate(
                table=ibis.literal(name), n=t.count(), **{f"hi_{i}": h for i, h in enumerate(his)}
            )
        )
    found = {r["table"]: r for r in ibis.union(*rows).to_pyarrow().to_pylist()}
    doc: dict[str, dict[str, Any]] = {}
    for name, tm in maps:
        row = found[name]
        values = [_moment(row[f"hi_{i}"]) for i in range(width) if row[f"hi_{i}"] is not None]
        latest = max(values) if values else None
        doc[name] = {
            "table": tm.source,
            "rows": int(row["n"]),
            "latest": latest.isoformat() if latest else None,
        }
    return doc


def read_watermark(con: BaseBackend) -> tuple[dict[str, dict[str, Any]], str] | None:
    """The stored watermark and when it was taken (``None``: derived tables never built)."""
    if WATERMARK not in con.list_tables():
        return None
    rows = con.table(WATERMARK).to_pyarrow().to_pylist()
    if len(rows) != 1:
        return None
    return json.loads(rows[0]["doc"]), rows[0]["built_at"]


def write_watermark(con: BaseBackend, mark: dict[str, dict[str, Any]], built_at: str) -> None:
    import ibis

    table = ibis.memtable(
        {"doc": [json.dumps(mark, sort_keys=True)], "built_at": [built_at]},
        schema={"doc": "string", "built_at": "string"},
    )
    con.create_table(WATERMARK, table, overwrite=True)


def compare(before: dict[str, dict[str, Any]], now: dict[str, dict[str, Any]]) -> list[dict]:
    """How the source changed between two watermarks, per table, in figures and in words."""
    changes = []
    for name, cur in sorted(now.items()):
        old = before.get(name)
        if old == cur:
            continue
        if old is None or old.get("table") != cur["table"]:
            words = f"{cur['table']} is newly mapped"
            delta = None
        else:
            delta = cur["rows"] - old["rows"]
            if delta > 0:
                words = f"{delta:,} new rows in {cur['table']}"
            elif delta < 0:
                words = f"{-delta:,} fewer rows in {cur['table']}"
            else:
                words = f"rows changed in {cur['table']} (latest timestamp {cur['latest']})"
        changes.append(
            {
                "table": name,
                "source": cur["table"],
                "rows_before": None if old is None else old["rows"],
                "rows_now": cur["rows"],
                "new_rows": delta,
                "latest_before": None if old is None else old.get("latest"),
                "latest_now": cur["latest"],
                "words": words,
            }
        )
    return changes


def transaction(con: BaseBackend) -> AbstractContextManager:
    """One transaction around several statements on PostgreSQL, whose DDL is transactional:
    readers see the old tables or the new ones, never a half-built set (elsewhere: none)."""
    if con.name == "postgres":
        return con.con.transaction()
    return nullcontext()


# -- small SQL helpers (every server backend speaks these) ------------------------------------


def _moment(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return datetime.combine(value, time())
    return datetime.fromisoformat(str(value))


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _exec(con: BaseBackend, sql: str) -> None:
    cursor = con.raw_sql(sql)
    if hasattr(cursor, "close"):
        cursor.close()


def _rows(con: BaseBackend, sql: str) -> list[tuple]:
    cursor = con.raw_sql(sql)
    try:
        return list(cursor.fetchall())
    finally:
        cursor.close()
