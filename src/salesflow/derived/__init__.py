"""Derived tables behind the process map, rebuilt from ``stage_events`` after every import.

The process map needs each deal's stage events in order (window functions, ordered string
aggregation). Recomputing that for every question costs seconds at ten million events, so
:func:`refresh` keeps the ordered facts in plain tables that ``salesflow flow`` aggregates:

- ``flow_stages``: every stage seen, its rank in the configured order and a small integer code;
- ``flow_transitions``: one row per pair of a deal's consecutive stage events (directly-follows),
  stages as their codes in ``flow_stages`` (small integers: a third cheaper to write than names);
- ``flow_cases``: one row per deal: variant, first and last event, duration, number of events,
  and (DuckDB build) a checksum of its events (XOR of each event's hash with its place), so an
  update can tell which deals only gained events after their last one;
- ``flow_variants``: one row per distinct stage sequence (its stage codes) with its deal count;
- ``flow_meta``: a fingerprint of ``stage_events`` and of the stage settings they were built from.

A deal's events are ordered by ``entered_at``, ties by the configured stage order, then by stage
name. Durations are whole milliseconds (each timestamp rounded to the millisecond), so sums and
medians are exact and equal on every backend. DuckDB gets hand-written SQL (the fast path); any
other Ibis backend gets the same tables from Ibis expressions.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from salesflow.derived.seal import sealed_fingerprint
from salesflow.source import table_names

if TYPE_CHECKING:
    from collections.abc import Iterable

    import duckdb
    import pyarrow as pa
    from ibis.backends import BaseBackend

    from salesflow.settings import Settings

__all__ = [
    "FLOW_TABLES",
    "MEMORY_LIMIT",
    "VERSION",
    "duckdb_connection",
    "fingerprint",
    "is_fresh",
    "is_fresh_attached",
    "refresh",
]

VERSION = 3  # 2: flow_transitions holds stage codes; 3: flow_cases.checksum
#: DuckDB's buffer while the stored tables are rebuilt; it spills to disk beyond that.
MEMORY_LIMIT = "1GB"
FLOW_TABLES = ("flow_stages", "flow_transitions", "flow_cases", "flow_variants", "flow_meta")


def refresh(
    con: BaseBackend | duckdb.DuckDBPyConnection,
    settings: Settings,
    *,
    temp: bool = False,
    portable: bool = False,
    changed: Iterable[str] | pa.Table | None = None,
    added: pa.Table | None = None,
) -> None:
    """Rebuild the derived flow tables from ``stage_events`` (idempotent).

    ``con`` is an Ibis backend, or a DuckDB connection (an importer's: then Ibis is not
    imported). ``temp=True`` builds them as temporary tables seen only by this connection: that
    is how a read-only reader still gets a correct process map when the stored tables are stale.
    ``portable=True`` uses the Ibis build even on DuckDB (to check both builds agree).
    ``changed`` names the only deals whose stage events changed since the tables were last
    fresh (an importer knows this): on DuckDB just those deals are recomputed, unless the stage
    codes changed or they are so many that a full rebuild is cheaper. ``added`` (Arrow:
    ``opportunity_id, stage, entered_at``) may list the rows written to those deals when they
    were the only change to ``stage_events`` since then (rows only inserted, none deleted or
    edited): deals whose new rows all come after their last event are then updated from
    ``flow_cases`` and these rows, without reading ``stage_events``.
    """
    raw = duckdb_connection(con)
    if raw is None or portable:
        _refresh_portable(_ibis(raw) if con is raw else con, settings, temp=temp)
        return
    from salesflow.derived import duckdb_build

    updated = changed is not None and not temp  # an update checks the tables itself
    if updated and duckdb_build.update(raw, settings, changed, added):
        return
    if "stage_events" not in table_names(raw):
        return
    meta = json.dumps(fingerprint(raw, settings), sort_keys=True)
    duckdb_build.build(raw, _stage_codes(raw, settings), meta, temp=temp)


def _refresh_portable(con: BaseBackend, settings: Settings, *, temp: bool) -> None:
    from salesflow.derived import portable as portable_build

    if "stage_events" not in con.list_tables():
        return
    meta = json.dumps(fingerprint(con, settings), sort_keys=True)
    portable_build.build(con, _stage_codes(con, settings), meta, temp=temp)


def duckdb_connection(con: object) -> duckdb.DuckDBPyConnection | None:
    """The DuckDB connection ``con`` is or wraps (an Ibis DuckDB backend); None for any other
    backend."""
    if getattr(con, "name", None) == "duckdb":
        return con.con  # type: ignore[attr-defined]
    import duckdb

    return con if isinstance(con, duckdb.DuckDBPyConnection) else None


def _ibis(raw: duckdb.DuckDBPyConnection) -> BaseBackend:
    import ibis

    return ibis.duckdb.from_connection(raw)


def fingerprint(con: BaseBackend | duckdb.DuckDBPyConnection, settings: Settings) -> dict[str, Any]:
    """What the derived tables depend on: the stage settings and a summary of ``stage_events``.

    On DuckDB the summary includes a checksum of every row, so edits that keep the row count are
    caught too; on other backends it is the row count and the time range.
    """
    s = settings.stages
    doc: dict[str, Any] = {"version": VERSION, "stages": [s.order, s.won, s.lost]}
    raw = duckdb_connection(con)
    if raw is not None:
        doc.update(_duckdb_summary(raw, "stage_events"))
    else:
        t = con.table("stage_events")
        row = t.aggregate(n=t.count(), lo=t.entered_at.min(), hi=t.entered_at.max()).execute()
        doc.update(rows=int(row["n"].iloc[0]), min=_iso(row["lo"].iloc[0]))
        doc["max"] = _iso(row["hi"].iloc[0])
    return json.loads(json.dumps(doc, default=str))


def is_fresh(con: BaseBackend | duckdb.DuckDBPyConnection, settings: Settings) -> bool:
    """True when every derived table exists and was built from the current data and settings."""
    raw = duckdb_connection(con)
    tables = table_names(con)
    if not set(FLOW_TABLES) <= tables or "stage_events" not in tables:
        return False
    if raw is not None:
        stored = [r[0] for r in raw.execute("SELECT fingerprint FROM flow_meta").fetchall()]
    else:
        stored = list(con.table("flow_meta").execute()["fingerprint"])
    return len(stored) == 1 and json.loads(stored[0]) == fingerprint(con, settings)


def _duckdb_summary(raw: duckdb.DuckDBPyConnection, table: str) -> dict[str, Any]:
    row = raw.execute(
        "SELECT count(*), min(entered_at)::VARCHAR, max(entered_at)::VARCHAR, "
        f"sum(hash(opportunity_id, stage, entered_at))::VARCHAR FROM {table}"
    ).fetchone()
    return {"rows": int(row[0]), "min": row[1], "max": row[2], "checksum": row[3]}


def is_fresh_attached(raw: duckdb.DuckDBPyConnection, settings: Settings, catalog: str) -> bool:
    """:func:`is_fresh` for a DuckDB workspace attached as ``catalog`` to another connection.

    An importer asks this before it writes: only if the tables were fresh then may it have
    them updated for just the deals it changed (``refresh(..., changed=ids)``).
    """
    literal = "'" + catalog.replace("'", "''") + "'"  # bound parameters would import pandas
    names = {
        r[0]
        for r in raw.execute(
            "SELECT table_name FROM duckdb_tables() "
            f"WHERE database_name = {literal} AND schema_name = 'main'"
        ).fetchall()
    }
    if not set(FLOW_TABLES) | {"stage_events"} <= names:
        return False
    stored = [
        r[0] for r in raw.execute(f"SELECT fingerprint FROM {catalog}.main.flow_meta").fetchall()
    ]
    if len(stored) != 1:
        return False
    s = settings.stages
    doc = {"version": VERSION, "stages": [list(s.order), list(s.won), list(s.lost)]}
    sealed = sealed_fingerprint(_file_of(raw, literal), stored[0])
    if sealed is not None:  # the file is as the importer left it: only the settings can differ
        wanted = json.loads(json.dumps(doc, default=str))
        return all(sealed.get(k) == v for k, v in wanted.items())
    doc.update(_duckdb_summary(raw, f"{catalog}.main.stage_events"))
    return json.loads(stored[0]) == json.loads(json.dumps(doc, default=str))


def _file_of(raw: duckdb.DuckDBPyConnection, literal: str) -> str | None:
    """The file behind an attached catalog (None in memory)."""
    row = raw.execute(f"SELECT path FROM duckdb_databases() WHERE database_name = {literal}")
    got = row.fetchone()
    return got[0] if got else None


def _iso(value: object) -> str | None:
    import pandas as pd

    return None if value is None or pd.isna(value) else pd.Timestamp(value).isoformat()


def _stage_codes(
    con: BaseBackend | duckdb.DuckDBPyConnection, settings: Settings
) -> list[tuple[str, int, int]]:
    """(stage, rank, code) for every stage in the data, ordered in Python so codes never depend
    on a database's collation. Stages missing from the settings rank after all configured ones."""
    raw = duckdb_connection(con)
    if raw is not None:  # plain SQL: a fifth of the time Ibis takes (an incremental refresh)
        query = "SELECT DISTINCT stage FROM stage_events WHERE stage IS NOT NULL"
        seen = [r[0] for r in raw.execute(query).fetchall()]
    else:
        t = con.table("stage_events")
        seen = t.filter(t.stage.notnull()).select("stage").distinct().execute()["stage"]
    ranked = sorted((settings.stages.rank(str(s)), str(s)) for s in seen)
    return [(stage, rank, code) for code, (rank, stage) in enumerate(ranked)]
