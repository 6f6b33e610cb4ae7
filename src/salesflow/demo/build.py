"""``build_demo``: a new workspace holding the demo company, generated chunk by chunk.

Each chunk of 50,000 candidate deals is drawn from its own seeded random stream, turned into
Arrow tables and appended to the data source, so memory stays flat whatever the size and the
same seed always gives the same rows.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from queue import Full, Queue
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pyarrow as pa

from salesflow.demo import effects as fx
from salesflow.demo.activity import generate_activities
from salesflow.demo.company import Company, make_company
from salesflow.demo.deals import generate_deals
from salesflow.demo.forecasts import add_actuals, forecast_table
from salesflow.demo.requests import generate_requests
from salesflow.demo.tables import EXTRA_COLUMNS, activity_table, deal_tables, request_table
from salesflow.errors import ConfigError, WorkspaceError
from salesflow.schema import TABLES
from salesflow.settings import CONFIG_FILE

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

    from salesflow.workspace import Workspace

__all__ = ["CHUNK", "DemoReport", "build_demo"]

CHUNK = 50_000
# Share of candidate deals kept: warm-up deals that closed before DATA_START are dropped.
KEEP_SHARE = 0.90
STAGE_NAMES = ("Lead", "Qualified", "Discovery", "Proposal", "Negotiation")
MEMORY_LIMIT = "1GB"  # DuckDB's buffer during the load; it spills to disk beyond that
Progress = Callable[[int, int], None]
T = TypeVar("T")


@dataclass
class DemoReport:
    """What ``build_demo`` made: rows per table, the seed, the time it took, the effects."""

    workspace: Path
    seed: int
    opportunities_requested: int
    rows: dict[str, int]
    seconds: float
    effects: list[dict[str, Any]] = field(default_factory=fx.effect_summary)

    def to_dict(self) -> dict[str, Any]:
        """The ``salesflow demo --json`` document."""
        return {
            "workspace": str(self.workspace),
            "seed": self.seed,
            "opportunities_requested": self.opportunities_requested,
            "rows": dict(self.rows),
            "seconds": round(self.seconds, 2),
            "period": {"start": fx.DATA_START.isoformat(), "end": _last_day().isoformat()},
            "effects": self.effects,
            "no_effect_attributes": list(fx.NO_EFFECT_ATTRIBUTES),
        }


def _last_day():
    from datetime import timedelta

    return fx.DATA_END - timedelta(days=1)


def build_demo(
    path: Path | str,
    *,
    opportunities: int = 5000,
    seed: int = 7,
    force: bool = False,
    progress: Progress | None = None,
    data_url: str = "duckdb:///data.duckdb",
) -> DemoReport:
    """Create a workspace at ``path`` filled with the demo company (about ``opportunities`` deals).

    ``progress(done, total)`` is called after each chunk with candidate deals done and in all.
    """
    if opportunities < 1:
        raise ConfigError(
            f"--opportunities must be at least 1, not {opportunities}",
            hint="Try the default of 5,000 or up to 1,000,000 for benchmarks",
        )
    started = time.perf_counter()
    workspace, old_app = _fresh_workspace(Path(path), force=force, data_url=data_url)
    # the new data is built beside the old and swapped in whole: a rebuild killed half-way
    # leaves the previous data as it was
    with workspace.writing("demo rebuild", fresh=True) as writer:
        con = writer.data
        _empty_tables(con, drop=force)
        _add_extra_columns(con)
        rows = _fill(con, seed, opportunities, progress)
        if con.name == "duckdb":  # the derived tables choose their own memory budget
            con.con.execute("RESET memory_limit")
        from salesflow.derived import refresh

        refresh(con, writer.settings)
        _targets(workspace, con)
    if old_app is not None:  # the old knowledge base goes once the new data is in place
        _remove_local_file(old_app, workspace.path)
    return DemoReport(workspace.path, seed, opportunities, rows, time.perf_counter() - started)


def _fresh_workspace(folder: Path, *, force: bool, data_url: str) -> tuple[Workspace, str | None]:
    """A workspace to fill, and with ``force`` the app DB URL of the one it replaces."""
    from salesflow.settings import load_settings
    from salesflow.workspace import init_workspace

    folder = folder.expanduser().resolve()
    old_app = None
    if (folder / CONFIG_FILE).exists():
        if not force:
            raise WorkspaceError(
                f"{folder} is already a salesflow workspace",
                hint="Choose another folder, or pass --force to replace it with a fresh demo",
            )
        old_app = load_settings(folder).resolved_app_url()
    workspace = init_workspace(
        folder, data_url=data_url, stages=STAGE_NAMES, won=("Won",), lost=("Lost",), force=force
    )
    workspace = _exported_on(workspace)
    return workspace, old_app


def _empty_tables(con: BaseBackend, *, drop: bool) -> None:
    """Start from empty canonical tables (with ``drop`` a database server's old ones go)."""
    from salesflow.source import ensure_tables

    for name in TABLES if drop else ():
        con.raw_sql(f'DROP TABLE IF EXISTS "{name}"')
    ensure_tables(con)


def _exported_on(workspace: Workspace) -> Workspace:
    """The demo describes the moment its export was taken (the first day after its data, so
    its last month is complete): ``[calendar] as_of`` in its settings."""
    from salesflow.demo.effects import DATA_END
    from salesflow.workspace import Workspace as Opened

    config = workspace.settings.config_path
    text = config.read_text(encoding="utf-8")
    config.write_text(
        f"{text}as_of = {DATA_END.isoformat()}  # the moment the data describes (the export)\n",
        encoding="utf-8",
    )
    workspace.close()
    return Opened.open(workspace.path)


def _remove_local_file(url: str, folder: Path) -> None:
    """Delete a DuckDB or SQLite file that lives inside the workspace folder (and its WAL)."""
    for scheme in ("duckdb:///", "sqlite:///"):
        if url.startswith(scheme):
            file = Path(url[len(scheme) :])
            if file.is_relative_to(folder):
                for f in (file, file.with_name(file.name + ".wal")):
                    f.unlink(missing_ok=True)


def _add_extra_columns(con: BaseBackend) -> None:
    for table, columns in EXTRA_COLUMNS.items():
        for col in columns:
            con.raw_sql(_add_column(con, table, col))


def _add_column(con: BaseBackend, table: str, col) -> str:
    """``ALTER TABLE … ADD COLUMN`` in the backend's SQL: Spark says ``ADD COLUMNS (…)`` and
    has no ``DOUBLE PRECISION``, so there the type is Ibis's own name for it on Spark."""
    if con.name != "pyspark":
        return f'ALTER TABLE "{table}" ADD COLUMN "{col.name}" {col.sql_type}'
    import ibis

    kind = con.compiler.type_mapper.to_string(ibis.dtype(col.dtype))
    return f'ALTER TABLE "{table}" ADD COLUMNS ("{col.name}" {kind})'


def _append(con: BaseBackend, name: str, table: pa.Table) -> None:
    """Append an Arrow table by column name: DuckDB's native scan, Spark's Arrow reader (Ibis's
    ``insert`` goes through pandas there, where a missing number becomes NaN), else Ibis."""
    if con.name == "pyspark":
        from salesflow.spark import append_arrow

        append_arrow(con, name, table)
    elif con.name == "duckdb":
        raw = con.con
        raw.register("_salesflow_demo_chunk", table)
        try:
            raw.execute(f'INSERT INTO "{name}" BY NAME SELECT * FROM _salesflow_demo_chunk')
        finally:
            raw.unregister("_salesflow_demo_chunk")
    else:
        import ibis

        con.insert(name, ibis.memtable(table))


def _fill(
    con: BaseBackend, seed: int, opportunities: int, progress: Progress | None
) -> dict[str, int]:
    company = make_company(seed, opportunities)
    candidates = math.ceil(opportunities / KEEP_SHARE)
    actuals = np.zeros((len(company.reps), fx.MONTHS))
    rows = dict.fromkeys(TABLES, 0)
    _tune(con)
    # Generating the next chunk overlaps with writing this one (NumPy, Arrow and DuckDB all
    # release the GIL); the order of chunks, and so the data, stays the same.
    for done, tables in _prefetch(_chunks(seed, company, candidates, actuals)):
        for name, table in tables:
            _append(con, name, table)
            rows[name] += table.num_rows
        if progress is not None:
            progress(done, candidates)
    forecasts = forecast_table(seed, company, actuals)
    _append(con, "forecasts", forecasts)
    rows["forecasts"] = forecasts.num_rows
    rows["opportunity_history"] = _history(con, seed)
    _close_dates(con)
    return rows


def _history(con: BaseBackend, seed: int) -> int:
    """The deals' history of stages, amounts and expected close dates (pushes, sandbagging)."""
    import pandas as pd

    from salesflow.demo.history import history_frame

    frame = history_frame(con, seed, pd.Timestamp(fx.DATA_END))
    _append(con, "opportunity_history", pa.Table.from_pandas(frame, preserve_index=False))
    return len(frame)


def _close_dates(con: BaseBackend) -> None:
    """Each deal's ``close_date`` as its CRM export has it: the expected close of its last
    history row while open, the day it was won or lost once closed."""
    if con.name == "pyspark":  # Spark's Parquet tables have no UPDATE: the table is rewritten
        _rewrite_close_dates(con)
        return
    con.raw_sql(
        "UPDATE opportunities SET close_date = last.close_date FROM ("
        "SELECT opportunity_id AS oid, close_date FROM (SELECT opportunity_id, close_date, "
        "row_number() OVER (PARTITION BY opportunity_id ORDER BY changed_at DESC) AS rn "
        "FROM opportunity_history) AS ranked WHERE rn = 1) AS last "
        "WHERE opportunities.opportunity_id = last.oid"
    )


def _rewrite_close_dates(con: BaseBackend) -> None:
    """:func:`_close_dates` as Ibis: the deals with their last history row's ``close_date``
    (kept as it was where a deal has no history), written as a new table that replaces the old."""
    import ibis

    t, h = con.table("opportunities"), con.table("opportunity_history")
    ranked = h.mutate(
        rn=ibis.row_number().over(group_by=h.opportunity_id, order_by=h.changed_at.desc())
    )
    last = ranked.filter(ranked.rn == 0).select(
        oid=ranked.opportunity_id, last_close=ranked.close_date, hit=ibis.literal(True)
    )
    j = t.left_join(last, t.opportunity_id == last.oid)
    close = ibis.ifelse(j.hit.notnull(), j.last_close, j.close_date).name("close_date")
    new = j.select(*(close if c == "close_date" else j[c] for c in t.columns))
    staged = "_salesflow_demo_opportunities"
    con.create_table(staged, new, overwrite=True)
    con.drop_table("opportunities")
    con.rename_table(staged, "opportunities")


def _targets(workspace: Workspace, con: BaseBackend) -> None:
    """``[targets]``: the amount to win per quarter and month, a tenth above the average won
    (two significant digits), so the demo's pipeline coverage has something to divide by."""
    t = con.table("opportunities")
    won = t.filter(t.outcome == "won").amount.sum().execute()
    if won is None or not won > 0:
        return
    quarter = float(f"{1.1 * float(won) / (fx.MONTHS / 3):.2g}")
    month = float(f"{quarter / 3:.2g}")
    config = workspace.settings.config_path
    text = config.read_text(encoding="utf-8").rstrip("\n")
    config.write_text(
        f"{text}\n\n[targets]  # the amount to win per period (pipeline_coverage)\n"
        f"quarter = {quarter:.0f}\nmonth = {month:.0f}\n",
        encoding="utf-8",
    )


def _tune(con: BaseBackend) -> None:
    """Keep DuckDB quiet on stdout and its memory bounded during the load."""
    if con.name == "duckdb":
        con.con.execute("SET enable_progress_bar = false")
        con.con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")


def _prefetch(items: Iterator[T], depth: int = 1) -> Iterator[T]:
    """Iterate ``items`` in a background thread, ``depth`` items ahead of the consumer."""
    queue: Queue = Queue(maxsize=depth)
    cancelled = threading.Event()
    stop = object()

    def put(entry: tuple) -> None:
        while not cancelled.is_set():
            try:
                queue.put(entry, timeout=0.1)
                return
            except Full:
                continue

    def produce() -> None:
        try:
            for item in items:
                if cancelled.is_set():
                    return
                put((True, item))
        except BaseException as exc:  # handed to the consumer, raised there
            put((False, exc))
            return
        put((True, stop))

    thread = threading.Thread(target=produce, name="salesflow-demo", daemon=True)
    thread.start()
    try:
        while True:
            ok, item = queue.get()
            if not ok:
                raise item
            if item is stop:
                return
            yield item
    finally:
        cancelled.set()
        thread.join()


def _chunks(seed: int, company: Company, candidates: int, actuals: np.ndarray):
    """``(candidates done, [(table name, Arrow table)…])`` for each chunk, in order."""
    width = max(6, len(str(candidates)))
    offsets = dict.fromkeys(TABLES, 1)
    for index, start in enumerate(range(0, candidates, CHUNK)):
        size = min(CHUNK, candidates - start)
        tables = _chunk(seed, index, size, company, offsets, width, actuals)
        for name, table in tables:
            offsets[name] += table.num_rows
        yield start + size, tables


def _chunk(seed: int, index: int, size: int, company: Company, first: dict, width: int, actuals):
    """The tables of one chunk; every part draws from its own stream so parts stay independent.

    ``first`` holds the first id number per table for this chunk.
    """
    deals = generate_deals(np.random.default_rng([seed, index, 0]), company, size)
    opps, events, deal_ids = deal_tables(
        deals, company, first["opportunities"], width, np.random.default_rng([seed, index, 3])
    )
    won = deals.outcome == 1
    add_actuals(actuals, deals.owner[won], deals.closed[won], deals.amount[won])
    acts = generate_activities(np.random.default_rng([seed, index, 1]), deals, len(company.reps))
    reqs = generate_requests(np.random.default_rng([seed, index, 2]), deals)
    rng = np.random.default_rng([seed, index, 4])
    return [
        ("opportunities", opps),
        ("stage_events", events),
        ("activities", activity_table(acts, deals, company, deal_ids, first["activities"])),
        ("requests", request_table(reqs, deals, company, deal_ids, first["requests"], rng)),
    ]
