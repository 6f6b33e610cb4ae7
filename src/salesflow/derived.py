"""Derived tables behind the process map, rebuilt from ``stage_events`` after every import.

The process map needs each deal's stage events in order (window functions, ordered string
aggregation). Recomputing that for every question costs seconds at ten million events, so
:func:`refresh` keeps the ordered facts in plain tables that ``salesflow flow`` aggregates:

- ``flow_stages``: every stage seen, its rank in the configured order and a small integer code;
- ``flow_transitions``: one row per pair of a deal's consecutive stage events (directly-follows);
- ``flow_cases``: one row per deal: variant, first and last event, duration, number of events;
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
    "fingerprint",
    "is_fresh",
    "is_fresh_attached",
    "refresh",
]

VERSION = 1
#: DuckDB's buffer while the stored tables are rebuilt; it spills to disk beyond that.
MEMORY_LIMIT = "1GB"
FLOW_TABLES = ("flow_stages", "flow_transitions", "flow_cases", "flow_variants", "flow_meta")


def refresh(
    con: BaseBackend,
    settings: Settings,
    *,
    temp: bool = False,
    portable: bool = False,
    changed: Iterable[str] | pa.Table | None = None,
) -> None:
    """Rebuild the derived flow tables from ``stage_events`` (idempotent).

    ``temp=True`` builds them as temporary tables seen only by this connection: that is how a
    read-only reader still gets a correct process map when the stored tables are stale.
    ``portable=True`` uses the Ibis build even on DuckDB (to check both builds agree).
    ``changed`` names the only deals whose stage events changed since the tables were last
    fresh (an importer knows this): on DuckDB just those deals are recomputed, unless the stage
    codes changed or they are so many that a full rebuild is cheaper.
    """
    if "stage_events" not in con.list_tables():
        return
    meta = json.dumps(fingerprint(con, settings), sort_keys=True)
    stages = _stage_codes(con, settings)
    if con.name == "duckdb" and not portable:
        ids = None if temp else _incremental(con, stages, changed)
        _build_duckdb(con, stages, meta, temp=temp, changed=ids)
    else:
        _build_ibis(con, stages, meta, temp=temp)


def fingerprint(con: BaseBackend, settings: Settings) -> dict[str, Any]:
    """What the derived tables depend on: the stage settings and a summary of ``stage_events``.

    On DuckDB the summary includes a checksum of every row, so edits that keep the row count are
    caught too; on other backends it is the row count and the time range.
    """
    s = settings.stages
    doc: dict[str, Any] = {"version": VERSION, "stages": [s.order, s.won, s.lost]}
    if con.name == "duckdb":
        doc.update(_duckdb_summary(con.con, "stage_events"))
    else:
        t = con.table("stage_events")
        row = t.aggregate(n=t.count(), lo=t.entered_at.min(), hi=t.entered_at.max()).execute()
        doc.update(rows=int(row["n"].iloc[0]), min=_iso(row["lo"].iloc[0]))
        doc["max"] = _iso(row["hi"].iloc[0])
    return json.loads(json.dumps(doc, default=str))


def is_fresh(con: BaseBackend, settings: Settings) -> bool:
    """True when every derived table exists and was built from the current data and settings."""
    tables = set(con.list_tables())
    if not set(FLOW_TABLES) <= tables or "stage_events" not in tables:
        return False
    if con.name == "duckdb":
        stored = [r[0] for r in con.con.execute("SELECT fingerprint FROM flow_meta").fetchall()]
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
    names = {
        r[0]
        for r in raw.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = ? AND schema_name = 'main'",
            [catalog],
        ).fetchall()
    }
    if not set(FLOW_TABLES) | {"stage_events"} <= names:
        return False
    stored = [
        r[0] for r in raw.execute(f"SELECT fingerprint FROM {catalog}.main.flow_meta").fetchall()
    ]
    s = settings.stages
    doc = {"version": VERSION, "stages": [list(s.order), list(s.won), list(s.lost)]}
    doc.update(_duckdb_summary(raw, f"{catalog}.main.stage_events"))
    return len(stored) == 1 and json.loads(stored[0]) == json.loads(json.dumps(doc, default=str))


def _iso(value: object) -> str | None:
    import pandas as pd

    return None if value is None or pd.isna(value) else pd.Timestamp(value).isoformat()


def _stage_codes(con: BaseBackend, settings: Settings) -> list[tuple[str, int, int]]:
    """(stage, rank, code) for every stage in the data, ordered in Python so codes never depend
    on a database's collation. Stages missing from the settings rank after all configured ones."""
    t = con.table("stage_events")
    seen = t.filter(t.stage.notnull()).select("stage").distinct().execute()["stage"]
    ranked = sorted((settings.stages.rank(str(s)), str(s)) for s in seen)
    return [(stage, rank, code) for code, (rank, stage) in enumerate(ranked)]


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _ms(column: str) -> str:
    return f"round(epoch_us({column}) / 1000.0)::BIGINT"


def _duckdb_statements(
    stages: list[tuple[str, int, int]], meta: str, kind: str, changed: str | None = None
) -> list[str]:
    """The DuckDB build: one sort of the events by deal and time; the rest streams over it.

    A deal's variant is packed into a 128-bit integer, ``bits`` per event at position ``seq``: a
    plain sum per deal, no ordered string aggregation (the slow part at millions of deals). Deals
    with more events than fit get an ordered string instead; both decode to the same codes text.
    Stage names and ranks are looked up by code in list literals (no joins), and the sorted events
    keep only what later steps need, so the build stays within a small memory budget.

    With ``changed`` (a table of opportunity ids) only those deals are recomputed: their rows are
    deleted and inserted again, new variants appended and every variant's count refreshed.
    """
    full = changed is None
    create = f"CREATE OR REPLACE {kind}TABLE"
    values = ", ".join(f"({_sql_text(s)}, {r}, {c})" for s, r, c in stages) or "(NULL, 0, 0)"
    names = "[" + (", ".join(_sql_text(s) for s, _, _ in stages) or "NULL::VARCHAR") + "]"
    ranks = "[" + (", ".join(str(r) for _, r, _ in stages) or "0") + "]"
    bits = max(1, len(stages).bit_length())
    per, mask = 126 // bits, (1 << bits) - 1
    rework = f"({ranks}[next_code + 1] < {ranks}[code + 1] OR next_code = code)"
    decode = (
        f"array_to_string(list_transform(range(n_events), "
        f"i -> (((pkey >> ({bits} * i)) & {mask}) - 1)::VARCHAR), ',')"
    )
    only = f"AND e.opportunity_id IN (SELECT opportunity_id FROM {changed})" if changed else ""

    def into(table: str, select: str) -> str:
        return f"{create} {table} AS {select}" if full else f"INSERT INTO {table} {select}"

    if full:
        head = [
            f"""{create} flow_stages AS SELECT stage::VARCHAR AS stage, rank::INTEGER AS rank,
            code::INTEGER AS code FROM (VALUES {values}) AS v(stage, rank, code)
            WHERE stage IS NOT NULL"""
        ]
        variants = f"""CREATE OR REPLACE TEMP TABLE _flow_variant_keys AS
            SELECT (row_number() OVER (ORDER BY n_cases DESC, codes) - 1)::INTEGER AS variant_id, *
            FROM ({_variant_groups(decode)})"""
        tail = [
            f"{create} flow_variants AS SELECT variant_id, codes, n_cases FROM _flow_variant_keys"
        ]
        recount = []
    else:
        head = [
            f"DELETE FROM {t} WHERE opportunity_id IN (SELECT opportunity_id FROM {changed})"
            for t in ("flow_transitions", "flow_cases")
        ]
        variants = f"""CREATE OR REPLACE TEMP TABLE _flow_variant_keys AS
            SELECT coalesce(v.variant_id, (SELECT coalesce(max(variant_id), -1) FROM flow_variants)
                   + row_number() OVER (PARTITION BY v.variant_id IS NULL ORDER BY k.codes))::INTEGER
                   AS variant_id, k.*
            FROM ({_variant_groups(decode)}) k LEFT JOIN flow_variants v USING (codes)"""
        tail = [
            "INSERT INTO flow_variants SELECT variant_id, codes, 0 FROM _flow_variant_keys "
            "WHERE codes NOT IN (SELECT codes FROM flow_variants)"
        ]
        recount = [
            "UPDATE flow_variants SET n_cases = c.n FROM (SELECT variant_id, count(*) AS n "
            "FROM flow_cases GROUP BY variant_id) c WHERE flow_variants.variant_id = c.variant_id",
            "DELETE FROM flow_variants WHERE variant_id NOT IN (SELECT variant_id FROM flow_cases)",
        ]
    return [
        *head,
        f"""CREATE OR REPLACE TEMP TABLE _flow_events AS
        SELECT e.opportunity_id, s.code, e.entered_at, row_number() OVER w AS seq,
               lead(s.code) OVER w AS next_code, lead(e.entered_at) OVER w AS next_at
        FROM stage_events e JOIN flow_stages s USING (stage)
        WHERE e.opportunity_id IS NOT NULL AND e.entered_at IS NOT NULL {only}
        WINDOW w AS (PARTITION BY e.opportunity_id ORDER BY e.entered_at, s.code)""",
        into(
            "flow_transitions",
            f"""SELECT opportunity_id, seq::INTEGER AS seq, {names}[code + 1] AS from_stage,
               {names}[next_code + 1] AS to_stage, entered_at AS from_at, next_at AS to_at,
               {_ms("next_at")} - {_ms("entered_at")} AS duration_ms, {rework} AS is_rework
            FROM _flow_events WHERE next_code IS NOT NULL""",
        ),
        f"""CREATE OR REPLACE TEMP TABLE _flow_case_keys AS
        SELECT opportunity_id,
               sum(CASE WHEN seq <= {per} THEN (code + 1)::HUGEINT << ({bits} * (seq - 1)) END)
                   AS pkey,
               min(entered_at) AS first_at, max(entered_at) AS last_at,
               {_ms("max(entered_at)")} - {_ms("min(entered_at)")} AS duration_ms,
               max(code) FILTER (WHERE seq = 1) AS first_code,
               max(code) FILTER (WHERE next_code IS NULL) AS last_code,
               count(*)::INTEGER AS n_events,
               count(*) FILTER (WHERE {rework})::INTEGER AS n_rework
        FROM _flow_events GROUP BY opportunity_id""",
        f"""CREATE OR REPLACE TEMP TABLE _flow_long AS
        SELECT opportunity_id, string_agg(code::VARCHAR, ',' ORDER BY seq) AS long_codes
        FROM _flow_events WHERE opportunity_id IN
            (SELECT opportunity_id FROM _flow_case_keys WHERE n_events > {per})
        GROUP BY opportunity_id""",
        "DROP TABLE IF EXISTS _flow_events",
        variants,
        *tail,
        into(
            "flow_cases",
            f"""SELECT k.opportunity_id, v.variant_id, k.first_at, k.last_at, k.duration_ms,
               {names}[k.first_code + 1] AS first_stage, {names}[k.last_code + 1] AS last_stage,
               k.n_events, k.n_rework
            FROM _flow_case_keys k LEFT JOIN _flow_long l USING (opportunity_id)
            JOIN _flow_variant_keys v ON v.pkey = k.pkey AND v.n_events = k.n_events
                 AND v.long_codes IS NOT DISTINCT FROM l.long_codes""",
        ),
        *recount,
        f"{create} flow_meta AS SELECT {_sql_text(meta)} AS fingerprint",
        *(f"DROP TABLE IF EXISTS {t}" for t in _DUCKDB_SCRATCH),
    ]


def _variant_groups(decode: str) -> str:
    """One row per distinct packed key (and long codes) with its codes text and deal count."""
    return f"""SELECT pkey, long_codes, n_events, count(*)::BIGINT AS n_cases,
                      coalesce(long_codes, {decode}) AS codes
               FROM _flow_case_keys LEFT JOIN _flow_long USING (opportunity_id)
               GROUP BY pkey, long_codes, n_events"""


_DUCKDB_SCRATCH = (
    "_flow_events",
    "_flow_case_keys",
    "_flow_long",
    "_flow_variant_keys",
    "_flow_ids",
)


def _build_duckdb(
    con: BaseBackend, stages: list, meta: str, *, temp: bool, changed: str | None = None
) -> None:
    """Run the build in one transaction, so readers see all tables or none.

    A stored build writes rows in any order (parallel, nothing left for the checkpoint to
    re-compress) within a 1 GB buffer that spills to disk, keeping ten million events under
    1.5 GiB; the connection's own settings are restored afterwards.
    """
    raw = con.con
    saved = raw.execute(
        "SELECT current_setting('memory_limit'), current_setting('preserve_insertion_order')"
    ).fetchone()
    if not temp:
        raw.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
        raw.execute("SET preserve_insertion_order = false")
    raw.execute("BEGIN TRANSACTION")
    try:
        for statement in _duckdb_statements(stages, meta, "TEMP " if temp else "", changed):
            raw.execute(statement)
        raw.execute("COMMIT")
    except BaseException:
        raw.execute("ROLLBACK")
        raise
    finally:
        raw.execute(f"SET memory_limit = '{saved[0]}'")
        raw.execute(f"SET preserve_insertion_order = {str(saved[1]).lower()}")


def _incremental(con: BaseBackend, stages: list, changed: Any) -> str | None:
    """A temp table of the changed deals when updating them alone is valid and worth it.

    Valid when every flow table exists and the stage codes are unchanged (the caller vouches
    that the tables were fresh before it changed those deals' events); worth it while the
    changed deals are under half of those in ``flow_cases``.
    """
    if changed is None or not set(FLOW_TABLES) <= set(con.list_tables()):
        return None
    raw = con.con
    stored = raw.execute("SELECT stage, rank, code FROM flow_stages ORDER BY code").fetchall()
    if [tuple(r) for r in stored] != [tuple(s) for s in stages]:
        return None
    import pyarrow as pa

    ids = changed if isinstance(changed, pa.Table) else pa.table({"opportunity_id": list(changed)})
    raw.register("_flow_changed", ids)
    try:
        raw.execute(
            "CREATE OR REPLACE TEMP TABLE _flow_ids AS "
            "SELECT DISTINCT opportunity_id::VARCHAR AS opportunity_id FROM _flow_changed"
        )
    finally:
        raw.unregister("_flow_changed")
    n, cases = raw.execute(
        "SELECT (SELECT count(*) FROM _flow_ids), (SELECT count(*) FROM flow_cases)"
    ).fetchone()
    if 2 * n > cases:
        raw.execute("DROP TABLE _flow_ids")
        return None
    return "_flow_ids"


def _build_ibis(con: BaseBackend, stages: list, meta: str, *, temp: bool) -> None:
    """The same tables from Ibis expressions, for PostgreSQL and every other backend."""
    import ibis

    def save(name: str, expr: Any) -> Any:
        _drop(con, name, temp=temp or name.startswith("_"))
        con.create_table(name, expr, temp=temp or name.startswith("_"))
        return con.table(name)

    codes = ibis.memtable(
        {"stage": [s for s, _, _ in stages], "rank": [r for _, r, _ in stages]}
        | {"code": [c for _, _, c in stages]},
        schema={"stage": "string", "rank": "int32", "code": "int32"},
    )
    flow_stages = save("flow_stages", codes)
    events = save("_flow_events", _ordered_events(con.table("stage_events"), flow_stages))
    save("flow_transitions", _transitions(events))
    keys = save("_flow_case_keys", _case_keys(events))
    variants = keys.group_by(codes=keys.variant).aggregate(n_cases=keys.count())
    order = [ibis.desc(variants.n_cases), variants.codes]
    variant_id = ibis.row_number().over(order_by=order).cast("int32")
    variants = save(
        "flow_variants", variants.select(variant_id=variant_id, codes="codes", n_cases="n_cases")
    )
    cases = keys.join(variants, keys.variant == variants.codes)
    save(
        "flow_cases",
        cases.select(
            "opportunity_id",
            "variant_id",
            "first_at",
            "last_at",
            "duration_ms",
            "first_stage",
            "last_stage",
            "n_events",
            "n_rework",
        ),
    )
    save("flow_meta", ibis.memtable({"fingerprint": [meta]}))
    for name in ("_flow_events", "_flow_case_keys"):
        _drop(con, name, temp=True)


def _drop(con: BaseBackend, name: str, *, temp: bool) -> None:
    """``DROP TABLE IF EXISTS``, never touching a stored table when a temporary one is meant.

    (Plain SQL: Ibis 12's own drop renders without a table name under the pinned sqlglot.)
    """
    schema = {"postgres": "pg_temp.", "duckdb": "temp.main."}.get(con.name, "") if temp else ""
    cursor = con.raw_sql(f'DROP TABLE IF EXISTS {schema}"{name}"')
    if con.name != "duckdb":  # DuckDB hands back the connection itself
        cursor.close()


def _ordered_events(events: Any, stages: Any) -> Any:
    import ibis

    e = events.filter(events.opportunity_id.notnull(), events.entered_at.notnull())
    e = e.join(stages, "stage")
    w = ibis.window(group_by=e.opportunity_id, order_by=[e.entered_at, e.code])
    ms = (e.entered_at.epoch_seconds().cast("float64") * 1000).round().cast("int64")
    return e.select(
        "opportunity_id",
        "stage",
        "code",
        "rank",
        "entered_at",
        ms=ms,
        seq=(ibis.row_number().over(w) + 1).cast("int32"),
        next_stage=e.stage.lead().over(w),
        next_rank=e.rank.lead().over(w),
        next_at=e.entered_at.lead().over(w),
        next_ms=ms.lead().over(w),
    )


def _rework(e: Any) -> Any:
    return (e.next_rank < e.rank) | (e.next_stage == e.stage)


def _transitions(e: Any) -> Any:
    return e.filter(e.next_stage.notnull()).select(
        "opportunity_id",
        "seq",
        from_stage=e.stage,
        to_stage=e.next_stage,
        from_at=e.entered_at,
        to_at=e.next_at,
        duration_ms=e.next_ms - e.ms,
        is_rework=_rework(e),
    )


def _case_keys(e: Any) -> Any:
    return e.group_by("opportunity_id").aggregate(
        variant=e.code.cast("string").group_concat(",", order_by=e.seq),
        first_at=e.entered_at.min(),
        last_at=e.entered_at.max(),
        duration_ms=e.ms.max() - e.ms.min(),
        first_stage=e.stage.max(where=e.seq == 1),
        last_stage=e.stage.max(where=e.next_stage.isnull()),
        n_events=e.count().cast("int32"),
        n_rework=_rework(e).fill_null(False).cast("int32").sum().cast("int32"),
    )
