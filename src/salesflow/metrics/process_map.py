"""The process map (value stream): stages, transitions, variants, deal durations, rework loops.

A few small aggregations over the derived flow tables (:mod:`salesflow.derived`), written once in
Ibis so they run unchanged on DuckDB, PostgreSQL or any other backend. When those tables are
missing or stale (someone wrote ``stage_events`` directly), they are rebuilt as temporary tables
for this connection only: the answer is always computed from the current data, and a read-only
reader never writes the workspace.

Definitions (they match PM4Py's DFG, performance DFG, variants and case durations):

- a deal's events are ordered by time, ties by the configured stage order, then stage name;
- an *edge* A→B counts each pair of consecutive events; its hours are the time between them;
- time in a stage is the time from entering it to the deal's next stage event (deals whose last
  event is the stage have no time in it yet), so a stage's exits are its outgoing edges;
- a deal's duration is its first to its last event (0 for a deal with one event);
- a *median* is the middle value, or the mean of the two middle values when their number is even
  (as ``numpy.median``, pandas and PM4Py define it);
- *rework* is an edge that goes back in the configured order or repeats the same stage.

Every duration is on a clock (:mod:`salesflow.metrics.clock`): the calendar clock by default, or
the business clock (``clock="business"``: only the ``[calendar]`` business hours of workdays that
are not holidays count), which replaces each transition's and each deal's milliseconds before any
aggregate, so every time in the map — and the value-stream map's time in stage and work share —
is business time. Hours stay hours; a business day is one day's business hours (``day_hours``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple, TypedDict

from salesflow.derived import is_fresh, is_fresh_attached, refresh
from salesflow.errors import DataError

if TYPE_CHECKING:
    import duckdb
    from ibis.backends import BaseBackend

    from salesflow.settings import Settings

__all__ = ["CaseStats", "Edge", "ProcessMap", "StageStats", "Variant", "process_map"]

MS_PER_HOUR = 3_600_000


class StageStats(TypedDict):
    stage: str
    entries: int
    exits: int
    median_hours: float | None


class Edge(TypedDict):
    to: str
    count: int
    mean_hours: float
    median_hours: float
    rework: bool


class Variant(TypedDict):
    stages: list[str]
    count: int
    share: float


class CaseStats(TypedDict):
    count: int
    median_hours: float | None
    mean_hours: float | None
    with_rework: int


class ProcessMap(TypedDict):
    """The ``salesflow flow --json`` document (edges also carry the key ``from``)."""

    stages: list[StageStats]
    edges: list[dict[str, Any]]
    variants: list[Variant]
    cases: CaseStats
    filters: dict[str, list[str]]
    derived_fresh: bool  # False: the stored tables were stale, this map was computed directly
    clock: str  # "calendar" or "business": what every time in the map counts
    day_hours: float  # hours in one day on that clock (24, or one day's business hours)
    as_of: str  # the moment WIP is counted at (ISO 8601)
    window: dict[str, Any]  # the complete weeks throughput and time in stage describe
    flow_efficiency: float | None  # work ÷ time in stage over open stages (None: no activities)
    work_basis: str | None  # how work time was measured, in words


def process_map(
    con: BaseBackend | duckdb.DuckDBPyConnection,
    settings: Settings,
    *,
    filters: Mapping[str, Sequence[str]] | None = None,
    top: int = 10,
    portable: bool = False,
    as_of: datetime | None = None,
    clock: str = "calendar",
) -> ProcessMap:
    """The value stream of the deals that match ``filters`` (opportunity column → allowed values).

    ``top`` limits the variants to the most frequent ones (ties broken by stage order). ``con``
    is an Ibis backend or a DuckDB connection. On DuckDB with no filters the aggregations and
    the value-stream map are plain SQL on the DuckDB connection (with fresh tables a new
    ``salesflow flow`` process then never imports Ibis or pandas); otherwise, or with
    ``portable=True``, they are Ibis. Each open stage
    also carries its value-stream map figures at ``as_of`` (default: the workspace's as-of
    moment; see :mod:`salesflow.metrics.stream_map`). ``clock="business"`` measures every time
    on the business clock (always through Ibis: the durations are computed per row).
    """
    from salesflow.metrics.clock import check_clock, day_length

    check_clock(clock)
    filters = {k: [str(v) for v in vs] for k, vs in (filters or {}).items()}
    raw = None if filters or portable or clock != "calendar" else _duckdb_of(con)
    if raw is not None and is_fresh_attached(raw, settings, _catalog(raw)):
        rows, fresh = _sql_rows(raw), True
    else:
        rows, fresh = _ibis_rows(_as_ibis(con), settings, filters, clock)
    names = [str(s) for _, s in sorted(rows.stages)]
    order = [*settings.stages.all, *(s for s in names if s not in settings.stages.all)]
    edges = _edge_rows(rows.edges, names, order)
    flow = _stream_map(con, raw, settings, filters, names, as_of, clock)
    stages = _stage_stats(rows, edges, names, order)
    return {
        "stages": [{**s, **flow["stages"].get(s["stage"], {})} for s in stages],  # type: ignore[typeddict-item]
        "edges": edges,
        "variants": _variants(rows.variants, names, top),
        "cases": _case_stats(rows.cases),
        "filters": filters,
        "derived_fresh": fresh,
        "clock": clock,
        "day_hours": day_length(settings, clock) / 3600,
        "as_of": flow["as_of"],
        "window": flow["window"],
        "flow_efficiency": flow["flow_efficiency"],
        "work_basis": flow["work_basis"],
    }


def _stream_map(
    con: BaseBackend | duckdb.DuckDBPyConnection,
    raw: duckdb.DuckDBPyConnection | None,
    settings: Settings,
    filters: Mapping[str, list[str]],
    names: list[str],
    as_of: datetime | None,
    clock: str,
) -> dict[str, Any]:
    """The value-stream map figures per stage (WIP, throughput, times): in plain SQL on a DuckDB
    connection (``raw``: no filters, not portable, calendar clock), else in Ibis on any backend."""
    from salesflow.metrics import stream_map
    from salesflow.workspace import resolve_as_of

    if raw is not None:
        moment = as_of if as_of is not None else resolve_as_of(settings, raw)
        return stream_map.stage_flow_sql(raw, settings, names, moment)
    ibis_con = _as_ibis(con)
    cases, transitions = _selected(ibis_con, filters, settings, clock)
    moment = as_of if as_of is not None else resolve_as_of(settings, ibis_con)
    return stream_map.stage_flow(ibis_con, settings, cases, transitions, names, moment, clock=clock)


class _Rows(NamedTuple):
    """The few aggregates the map is made of, as plain Python rows (codes index flow_stages)."""

    stages: list[tuple[int, str]]  # (code, stage)
    edges: list[tuple[int, int, int, int, float | None, bool]]  # from, to, n, ms, median, rework
    medians: list[tuple[int, float | None]]  # (from code, median ms)
    starts: list[tuple[str, int]]  # (first stage, deals)
    variants: list[tuple[str, int]]  # (codes "0,1,2", deals)
    cases: tuple[int, int | None, float | None, int | None]  # deals, total ms, median ms, rework


def _duckdb_of(con: Any) -> Any:
    """The DuckDB connection under ``con`` (itself, or an Ibis DuckDB backend's), else None."""
    if not hasattr(con, "list_tables"):
        return con
    return con.con if con.name == "duckdb" else None


def _as_ibis(con: Any) -> BaseBackend:
    if hasattr(con, "list_tables"):
        return con
    import ibis

    return ibis.duckdb.from_connection(con)


def _catalog(raw: duckdb.DuckDBPyConnection) -> str:
    return raw.execute("SELECT current_database()").fetchone()[0]


_SQL = {
    "stages": "SELECT code, stage FROM flow_stages",
    "edges": "SELECT from_code, to_code, count(*), sum(duration_ms), median(duration_ms), "
    "bool_or(is_rework) FROM flow_transitions GROUP BY ALL",
    "medians": "SELECT from_code, median(duration_ms) FROM flow_transitions GROUP BY ALL",
    "starts": "SELECT first_stage, count(*) FROM flow_cases GROUP BY ALL",
    "variants": "SELECT v.codes, c.n FROM (SELECT variant_id, count(*) AS n FROM flow_cases "
    "GROUP BY ALL) c JOIN flow_variants v USING (variant_id)",
    "cases": "SELECT count(*), sum(duration_ms), median(duration_ms), count_if(n_rework > 0) "
    "FROM flow_cases",
}


def _sql_rows(raw: duckdb.DuckDBPyConnection) -> _Rows:
    """The aggregates in DuckDB SQL: the same numbers as :func:`_ibis_rows` on the same tables."""
    got = {k: raw.execute(q).fetchall() for k, q in _SQL.items()}
    return _Rows(**{**got, "cases": got["cases"][0]})


def _ibis_rows(
    con: BaseBackend, settings: Settings, filters: Mapping[str, list[str]], clock: str
) -> tuple[_Rows, bool]:
    """The aggregates through Ibis (any backend, filters), rebuilding stale tables for this
    connection first; and whether the stored tables were fresh."""
    if "stage_events" not in con.list_tables():
        raise DataError(
            "The workspace has no stage history yet",
            hint="Load it with `salesflow import stage_events FILE` or try `salesflow demo`",
        )
    fresh = is_fresh(con, settings)
    if not fresh:
        refresh(con, settings, temp=True)
    c, t = _selected(con, filters, settings, clock)
    counts = c.group_by("variant_id").aggregate(n=c.count())
    queries = {
        "stages": con.table("flow_stages").select("code", "stage"),
        "edges": t.group_by(["from_code", "to_code"]).aggregate(
            n=t.count(), ms=t.duration_ms.sum(), med=t.duration_ms.median(), re=t.is_rework.any()
        ),
        "medians": t.group_by("from_code").aggregate(med=t.duration_ms.median()),
        "starts": c.group_by("first_stage").aggregate(n=c.count()),
        "variants": counts.join(con.table("flow_variants"), "variant_id").select("codes", "n"),
        "cases": c.aggregate(
            n=c.count(),
            ms=c.duration_ms.sum(),
            med=c.duration_ms.median(),
            re=(c.n_rework > 0).sum(),
        ),
    }
    got = {k: _tuples(q.to_pyarrow()) for k, q in queries.items()}
    return _Rows(**{**got, "cases": got["cases"][0]}), fresh


def _tuples(table: Any) -> list[tuple]:
    return list(zip(*(col.to_pylist() for col in table.columns), strict=True))


def _selected(
    con: BaseBackend, filters: Mapping[str, list[str]], settings: Settings, clock: str
) -> tuple[Any, Any]:
    """``flow_cases`` and ``flow_transitions`` restricted to the deals matching the filters,
    their ``duration_ms`` on ``clock``."""
    cases, transitions = _on_clock(con, settings, clock)
    if not filters:
        return cases, transitions
    if "opportunities" not in con.list_tables():
        raise DataError(
            "Filters need the opportunities table, and the workspace has none",
            hint="Import it with `salesflow import opportunities FILE`, or drop --filter",
        )
    opps = con.table("opportunities")
    for column, values in filters.items():
        opps = opps.filter(_matches(opps, column, values))
    ids = opps.select("opportunity_id")
    return (
        cases.semi_join(ids, "opportunity_id"),
        transitions.semi_join(ids, "opportunity_id"),
    )


def _on_clock(con: BaseBackend, settings: Settings, clock: str) -> tuple[Any, Any]:
    """``flow_cases`` and ``flow_transitions``, with ``duration_ms`` (first to last event; one
    stay) counted on ``clock``, in whole milliseconds as the stored ones."""
    cases, transitions = con.table("flow_cases"), con.table("flow_transitions")
    if clock == "calendar":
        return cases, transitions
    from salesflow.metrics.clock import SECONDS, elapsed
    from salesflow.metrics.query import Query

    q = Query(con, settings)

    def timed(t: Any, start: str, end: str) -> Any:
        t = elapsed(q, t, start, end, clock=clock)
        return t.mutate(duration_ms=(t[SECONDS] * 1000).round().cast("int64")).drop(SECONDS)

    return timed(cases, "first_at", "last_at"), timed(transitions, "from_at", "to_at")


def _matches(opps: Any, column: str, values: list[str]) -> Any:
    if column not in opps.columns:
        raise DataError(
            f"Cannot filter on {column!r}: deals have no such column",
            where="--filter",
            hint=f"Use one of: {', '.join(opps.columns)}",
        )
    col = opps[column]
    if col.type().is_numeric():
        try:
            return col.isin([float(v) for v in values])
        except ValueError:
            raise DataError(
                f"--filter {column}={values[0]!r}: {column} holds numbers",
                hint=f"Give a number, e.g. --filter {column}=1000",
            ) from None
    if col.type().is_string():
        from salesflow.metrics.filters import as_in_data

        return col.isin(as_in_data(column, list(values), col, None))
    return col.cast("string").isin(values)


def _hours(ms: float | None) -> float | None:
    return None if ms is None or ms != ms else float(ms) / MS_PER_HOUR


def _edge_rows(rows: list[tuple], names: list[str], order: list[str]) -> list[dict[str, Any]]:
    """One row per directly-follows pair; ``names[code]`` is the stage of a code."""
    rank = {s: i for i, s in enumerate(order)}
    pairs = [(names[int(a)], names[int(b)], r) for a, b, *r in rows]
    pairs.sort(key=lambda p: (rank[p[0]], rank[p[1]]))
    return [
        {
            "from": a,
            "to": b,
            "count": int(n),
            "mean_hours": int(ms) / int(n) / MS_PER_HOUR,
            "median_hours": _hours(med),
            "rework": bool(rework),
        }
        for a, b, (n, ms, med, rework) in pairs
    ]


def _stage_stats(
    rows: _Rows, edges: list[dict[str, Any]], names: list[str], order: list[str]
) -> list[StageStats]:
    """Entries are a deal's first event plus incoming edges; exits are outgoing edges."""
    median = {names[int(c)]: m for c, m in rows.medians}
    entries = {str(s): int(n) for s, n in rows.starts}
    exits: dict[str, int] = {}
    for e in edges:
        entries[e["to"]] = entries.get(e["to"], 0) + e["count"]
        exits[e["from"]] = exits.get(e["from"], 0) + e["count"]
    return [
        {
            "stage": s,
            "entries": entries.get(s, 0),
            "exits": exits.get(s, 0),
            "median_hours": _hours(median.get(s)),
        }
        for s in order
    ]


def _variants(rows: list[tuple[str, int]], names: list[str], top: int) -> list[Variant]:
    total = sum(int(n) for _, n in rows)
    keyed = [(tuple(int(c) for c in str(k).split(",")), int(n)) for k, n in rows]
    keyed.sort(key=lambda kn: (-kn[1], kn[0]))
    return [
        {"stages": [names[c] for c in codes], "count": n, "share": n / total}
        for codes, n in keyed[: max(top, 0)]
    ]


def _case_stats(row: tuple) -> CaseStats:
    n, ms, med, rework = row
    n = int(n)
    return {
        "count": n,
        "median_hours": _hours(med) if n else None,
        "mean_hours": int(ms) / n / MS_PER_HOUR if n else None,
        "with_rework": int(rework) if n else 0,
    }
