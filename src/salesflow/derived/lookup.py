"""Questions other layers ask of the flow tables, answered here so that only this package
knows their layout."""

from __future__ import annotations

from typing import TYPE_CHECKING

from salesflow.source import table_names

if TYPE_CHECKING:
    import duckdb


def repeats_an_event(con: duckdb.DuckDBPyConnection, *, flow_fresh: bool) -> bool:
    """Whether ``stage_events`` holds two events of one deal with the same stage and time. In
    fresh flow tables (``flow_fresh``) they follow each other (events are ordered by time, then
    stage): a transition from a stage to itself taking no time, found by a scan of
    ``flow_transitions``. Else one aggregate over every event."""
    if flow_fresh:
        query = "SELECT 1 FROM flow_transitions WHERE from_code = to_code AND from_at = to_at"
    else:
        query = (
            "SELECT 1 FROM stage_events GROUP BY opportunity_id, stage, entered_at "
            "HAVING count(*) > 1"
        )
    return bool(con.execute(f"SELECT count(*) FROM ({query} LIMIT 1) x").fetchone()[0])


def last_case_events_sql(ids: str) -> str:
    """SQL: the last event (``opportunity_id, stage, entered_at``) of each deal the query
    ``ids`` lists, as the flow orders events (time, then configured stage, then name), read
    from ``flow_cases`` (one row per deal): valid while the flow tables are fresh."""
    return (
        "SELECT opportunity_id, last_stage AS stage, last_at AS entered_at FROM flow_cases "
        f"WHERE opportunity_id IN ({ids})"
    )


def stored_fingerprint(con: duckdb.DuckDBPyConnection) -> str | None:
    """The fingerprint ``flow_meta`` holds: what the flow tables were built from (None when
    there is no such table or it does not hold exactly one)."""
    if "flow_meta" not in table_names(con):
        return None
    rows = con.execute("SELECT fingerprint FROM flow_meta").fetchall()
    return rows[0][0] if len(rows) == 1 else None
