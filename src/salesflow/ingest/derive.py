"""Derivations that fill gaps a source leaves: stage events from snapshot dates, outcome from stages.

A CRM export with one row per deal and no stage history still says when the deal started and when
it was won or lost. From those dates salesflow derives minimal stage events (the first stage at
``created_at``, the won or lost stage at ``closed_at``), marked as derived so a real history imported
later replaces them. Outcome, closed_at and stage are derived from a deal's last stage event when the
source does not give the outcome.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from salesflow.derived.lookup import last_case_events_sql
from salesflow.ingest.batch import Plan, outcome_sql, sql_literal

if TYPE_CHECKING:
    import duckdb

    from salesflow.settings import StageConfig

__all__ = [
    "BOOKKEEPING",
    "DERIVED_EVENTS",
    "derive_snapshot_events",
    "last_cases_sql",
    "last_events_sql",
    "stage_rank_sql",
]

#: Which opportunities have derived values: what = 'outcome' (outcome, closed_at and stage may be
#: refreshed from stage events); 'events' (all their stage events derived) only in workspaces
#: written before :data:`DERIVED_EVENTS`, which replaces it at the next write.
BOOKKEEPING = "_salesflow_derived"
#: The stage events salesflow derived from dates, one row per (opportunity_id, stage): an imported
#: event of the same stage replaces them; imported events of other stages are added beside them.
DERIVED_EVENTS = "_salesflow_derived_events"


def derive_snapshot_events(
    con: duckdb.DuckDBPyConnection,
    batch: str,
    name: str,
    plan: Plan,
    stages: StageConfig,
    first_stage: str | None,
) -> int:
    """Create table ``name`` with minimal stage events for the opportunities in ``batch``."""
    first = sql_literal(first_stage or stages.order[0])
    owner = "owner" if "owner" in plan.types else "CAST(NULL AS VARCHAR)"
    amount = "amount" if "amount" in plan.types else "CAST(NULL AS DOUBLE)"
    ends = ", ".join(sql_literal(s) for s in (*stages.won, *stages.lost))
    stage = "stage" if "stage" in plan.types else "CAST(NULL AS VARCHAR)"
    end_stage = (
        f"CASE WHEN {stage} IN ({ends}) THEN {stage} "
        f"WHEN outcome = 'won' THEN {sql_literal(stages.won[0])} "
        f"ELSE {sql_literal(stages.lost[0])} END"
    )
    sql = (
        f"SELECT opportunity_id, {first} AS stage, created_at AS entered_at, {owner} AS owner, "
        f"{amount} AS amount, CAST(NULL AS VARCHAR) AS forecast_category FROM {batch} "
        f"WHERE created_at IS NOT NULL"
    )
    if "closed_at" in plan.types:
        sql += (
            f" UNION ALL SELECT opportunity_id, {end_stage}, closed_at, {owner}, {amount}, NULL "
            f"FROM {batch} WHERE closed_at IS NOT NULL AND outcome IN ('won', 'lost')"
        )
    con.execute(f"CREATE OR REPLACE TABLE {name} AS {sql}")
    return con.sql(f"SELECT count(*) FROM {name}").fetchone()[0]


def stage_rank_sql(column: str, stages: StageConfig) -> str:
    """The configured position of a stage, to order events with equal timestamps."""
    whens = " ".join(f"WHEN {sql_literal(s)} THEN {i}" for i, s in enumerate(stages.all))
    return f"CASE {column} {whens} ELSE {len(stages.all)} END"


def last_events_sql(
    events: str, ids: str, stages: StageConfig, *, window: bool = True, whole: bool = False
) -> str:
    """Each opportunity's last stage event (latest time, then furthest stage), for ``ids``.

    ``window=False`` uses DuckDB's ``arg_max`` (a hash aggregate, far faster than sorting);
    ``whole=True`` says ``events`` holds only deals of interest (a batch): aggregate it all,
    then keep ``ids``, instead of matching every event against ``ids`` first.
    """
    rank = stage_rank_sql("stage", stages)
    outcome = outcome_sql("stage", stages)
    if not window and whole:
        return _last_of_batch_sql(events, ids, stages)
    if not window:
        order = f"epoch_us(entered_at) * 1000 + {rank}"
        inner, outer = ("", f"WHERE opportunity_id IN ({ids})")
        if not whole:
            inner, outer = outer, ""
        return (
            f"SELECT opportunity_id, stage, entered_at, {outcome} AS outcome FROM (SELECT "
            f"opportunity_id, arg_max(stage, {order}) AS stage, max(entered_at) AS entered_at "
            f"FROM {events} {inner} GROUP BY opportunity_id) x {outer}"
        )
    return (
        f"SELECT opportunity_id, stage, entered_at, {outcome} AS outcome "
        f"FROM (SELECT opportunity_id, stage, entered_at, row_number() OVER "
        f"(PARTITION BY opportunity_id ORDER BY entered_at DESC, {rank} DESC) AS rn "
        f"FROM {events} WHERE opportunity_id IN ({ids})) x WHERE rn = 1"
    )


def last_cases_sql(ids: str, stages: StageConfig) -> str:
    """:func:`last_events_sql` read from the flow tables (``derived.lookup``) when they were
    just built from the same events: no second aggregate of every event. The two agree on
    events whose stages are all configured (a checked batch's)."""
    return (
        f"SELECT *, {outcome_sql('stage', stages)} AS outcome FROM ({last_case_events_sql(ids)}) l"
    )


#: The earliest moment a checked batch holds (earlier dates are refused as implausible).
_EPOCH = "TIMESTAMP '1900-01-01'"


def _last_of_batch_sql(events: str, ids: str, stages: StageConfig) -> str:
    """:func:`last_events_sql` for a checked batch, whose events all have a time from 1900 on
    and a configured stage: one ``max`` of time and stage packed in one integer (microseconds
    since 1900 times one more than the number of stages, plus the stage's position, which is
    that number for a stage not configured: unpacked as no stage) per deal, unpacked
    afterwards; no ``arg_max`` of the stage's text beside a ``max`` of the time, which cost
    the hash aggregate over ten million events half as much again."""
    n = len(stages.all) + 1
    names = "[" + ", ".join(sql_literal(s) for s in stages.all) + "]"
    key = f"(epoch_us(entered_at) - epoch_us({_EPOCH})) * {n} + {stage_rank_sql('stage', stages)}"
    stage = f"{names}[CAST(k % {n} AS INTEGER) + 1]"
    return (
        f"SELECT opportunity_id, stage, entered_at, {outcome_sql('stage', stages)} AS outcome "
        f"FROM (SELECT opportunity_id, {stage} AS stage, "
        f"make_timestamp(k // {n} + epoch_us({_EPOCH})) AS entered_at FROM (SELECT "
        f"opportunity_id, max({key}) AS k FROM {events} GROUP BY opportunity_id) x "
        f"WHERE opportunity_id IN ({ids})) y"
    )
