"""Deal history from successive snapshot exports (``import opportunities --snapshot-date``).

Many teams cannot export a CRM's field history, but can save the "all open deals" report every
week. Each snapshot says what every deal looked like on that day; comparing it with the deal's
last known state before that day gives the changes: a history row is written for a deal whose
stage, amount, expected close date, forecast category or owner differs (or that is new). Three
snapshots therefore give the same ``opportunity_history`` as the equivalent change log.

A deal missing from a later snapshot gets no row: a file of open deals does not say whether it
was won, lost or deleted (the opportunities import records its outcome when it is known).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from salesflow.ingest.batch import Plan, sql_literal
from salesflow.ingest.read import ident
from salesflow.schema import TABLES

if TYPE_CHECKING:
    import duckdb

    from salesflow.ingest.workspace_data import WorkspaceData

__all__ = ["HISTORY_BATCH", "STATE_COLUMNS", "derive_snapshot_history"]

#: The in-memory table holding the history rows a snapshot import writes.
HISTORY_BATCH = "_snapshot_history"
#: The columns whose change makes a history row (all of opportunity_history but key and time).
STATE_COLUMNS = tuple(
    c.name
    for c in TABLES["opportunity_history"].columns
    if c.name not in ("opportunity_id", "changed_at")
)
_TYPES = {c.name: c.sql_type for c in TABLES["opportunity_history"].columns}


def derive_snapshot_history(
    mem: duckdb.DuckDBPyConnection, ws: WorkspaceData, batch: str, plan: Plan, day: date
) -> int:
    """Create :data:`HISTORY_BATCH` with a row for each deal of ``batch`` that changed since its
    last known state before ``day`` (or is new); returns how many rows."""
    when = f"TIMESTAMP {sql_literal(day.isoformat())}"
    values = ", ".join(
        f"CAST({ident(c) if c in plan.types else 'NULL'} AS {_TYPES[c]}) AS {ident(c)}"
        for c in STATE_COLUMNS
    )
    mem.execute(
        f"CREATE OR REPLACE TABLE _snapshot_state AS SELECT opportunity_id, "
        f"{when} AS changed_at, {values} FROM {batch}"
    )
    prior = _prior_states(mem, ws, when)
    differs = " OR ".join(f"s.{ident(c)} IS DISTINCT FROM p.{ident(c)}" for c in STATE_COLUMNS)
    mem.execute(
        f"CREATE OR REPLACE TABLE {HISTORY_BATCH} AS SELECT s.* FROM _snapshot_state s "
        f"LEFT JOIN {prior} p USING (opportunity_id) WHERE p.opportunity_id IS NULL OR {differs}"
    )
    return mem.sql(f"SELECT count(*) FROM {HISTORY_BATCH}").fetchone()[0]


def _prior_states(mem: duckdb.DuckDBPyConnection, ws: WorkspaceData, when: str) -> str:
    """A relation: each snapshot deal's last stored state strictly before the snapshot."""
    name = "_snapshot_prior"
    cols = ", ".join(f"{ident(c)} {_TYPES[c]}" for c in STATE_COLUMNS)
    mem.execute(f"CREATE OR REPLACE TABLE {name} (opportunity_id VARCHAR, {cols})")
    if "opportunity_history" not in ws.tables():
        return name
    if ws.backend is not None:
        stored = ws.backend.table("opportunity_history").to_pyarrow()
        mem.register("_snapshot_stored", stored)
        source = "_snapshot_stored"
    else:
        source = "ws.main.opportunity_history"
    # a struct is never NULL, so an empty value in the last state is kept (arg_max skips NULLs)
    packed = ", ".join(f"{ident(c)} := {ident(c)}" for c in STATE_COLUMNS)
    unpacked = ", ".join(f"last.{ident(c)} AS {ident(c)}" for c in STATE_COLUMNS)
    mem.execute(
        f"INSERT INTO {name} SELECT opportunity_id, {unpacked} FROM (SELECT opportunity_id, "
        f"arg_max(struct_pack({packed}), changed_at) AS last FROM {source} "
        f"WHERE changed_at < {when} AND opportunity_id IN "
        f"(SELECT opportunity_id FROM _snapshot_state) GROUP BY opportunity_id)"
    )
    return name
