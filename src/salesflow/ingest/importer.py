"""``import_file``: read, map, validate in an in-memory engine, then write all or nothing.

The file is read before the workspace's write lock is taken; then the workspace's data file is
only read (attached read-only) until every check has passed, so a failing import leaves the
workspace byte-for-byte unchanged. The write goes to the next generation of the data file
(:meth:`salesflow.workspace.Workspace.next_generation`), published in one rename.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from salesflow.derived.lookup import repeats_an_event, stored_fingerprint
from salesflow.derived.seal import write_seal
from salesflow.errors import ConfigError, ImportValidationError, RowError, StorageError
from salesflow.ingest import stages as stage_rules
from salesflow.ingest.batch import (
    NUMERIC,
    Plan,
    build_batch,
    convert_late_offsets,
    infer_extra_types,
)
from salesflow.ingest.dates import detect
from salesflow.ingest.derive import derive_snapshot_events
from salesflow.ingest.enrich import enrich
from salesflow.ingest.load import (
    DuckTarget,
    IbisTarget,
    count_changes,
    outcomes_after_refresh,
    write,
)
from salesflow.ingest.mapping import (
    Preset,
    TableMapping,
    load_mapping_file,
    load_preset,
    resolve_columns,
)
from salesflow.ingest.numbers import NumberStyle, thousands_separator
from salesflow.ingest.read import (
    encoding_name,
    file_kind,
    ident,
    materialise,
    read_into,
    reader_error,
    source_view,
    unreadable,
)
from salesflow.ingest.report import ImportReport
from salesflow.ingest.snapshots import HISTORY_BATCH, derive_snapshot_history
from salesflow.ingest.typed import build_typed
from salesflow.ingest.validate import (
    ERRORS,
    check_batch,
    check_text,
    collect_errors,
    list_repeats,
    missing_columns,
    scan_batch,
    write_rejects,
)
from salesflow.ingest.workspace_data import WorkspaceData
from salesflow.schema import table as table_spec

if TYPE_CHECKING:
    import duckdb

    from salesflow.workspace import Workspace

__all__ = ["STEPS", "Progress", "import_file"]

#: ``progress(step_description, step_number, total_steps)``
Progress = Callable[[str, int, int], None]
#: Reading, checking, writing the file's rows, deriving from them, the flow tables, done.
STEPS = 6
#: The step that derives values from the rows written (tables with nothing to derive skip it):
#: the deals' stage, outcome and closed_at from their last event; for deals, their derived
#: stage events (and a snapshot's history rows).
_DERIVING = {
    "stage_events": "Deriving deal outcomes",
    "opportunities": "Deriving stage events and outcomes",
}


def _engine(tmp: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory engine with bounded memory that spills to ``tmp``."""
    import duckdb

    con = duckdb.connect(
        ":memory:",
        config={
            "memory_limit": "1GB",
            "temp_directory": str(tmp),
            "preserve_insertion_order": True,
        },
    )
    con.execute("SET enable_progress_bar = false")
    return con


def _mapping(table: str, mapping: Path | None, preset: Preset | None) -> TableMapping:
    base = preset.tables.get(table) if preset else None
    if preset and base is None:
        raise ConfigError(
            f"The {preset.name} preset has no mapping for {table}",
            hint=f"It maps: {', '.join(preset.tables)}; or use --mapping MAP.toml",
        )
    own = load_mapping_file(mapping, table) if mapping else None
    return (base or TableMapping(table)).merged(own)


def import_file(
    workspace: Workspace,
    table: str,
    path: Path,
    *,
    mapping: Path | None = None,
    preset: str | None = None,
    date_format: str | None = None,
    encoding: str | None = None,
    decimal_comma: bool = False,
    thousands: str | None = None,
    dry_run: bool = False,
    skip_invalid: Path | None = None,
    replace_history: bool = False,
    snapshot_date: date | None = None,
    progress: Progress | None = None,
    who: str | None = None,
) -> ImportReport:
    """Import ``path`` into canonical ``table`` of ``workspace``; all or nothing by default.

    Stage events are added to their deals' histories; ``replace_history`` makes the file replace
    the whole history of each deal it names. ``thousands`` (the thousands separator: ``,`` for
    ``12,500.00``) overrides the mapping's.

    Raises :class:`~salesflow.errors.ImportValidationError` listing bad rows (nothing written)
    unless ``skip_invalid`` names a file for the rejected rows. ``encoding`` (a CSV file's text
    encoding) and ``decimal_comma`` (numbers written ``1.234,56``) override the mapping's.
    ``snapshot_date`` says the file is a snapshot of the deals on that day: besides updating
    the deals, each deal that changed since its last known state gets an ``opportunity_history``
    row (see :mod:`salesflow.ingest.snapshots`).
    ``who`` is named to anyone who has to wait for this import (default: ``SALESFLOW_USER``).
    The rows and the flow tables are published together, or not at all (even under ``kill -9``).

    Stage events written to the DuckDB file are checked for repeated keys after the write, in
    the flow tables the import builds anyway; when a key repeats, nothing is published and the
    import starts over checking repeats first, which names the rows (see :class:`_Repeated`).
    """
    options = dict(locals())
    started = time.perf_counter()
    try:
        return _import(**options, repeats_later=True)
    except _Repeated:
        if progress is not None:
            progress("Some events repeat: checking every row again to name them", 1, STEPS)
        report = _import(**options, repeats_later=False)  # refuses the file if they are its own
    report.seconds = round(time.perf_counter() - started, 3)
    report.warnings.append(
        "The workspace already held stage events that repeat (the same deal, stage and time "
        "twice), so this file was checked twice; flow figures count each of those events twice "
        "until the deals' whole histories are imported again, replacing the old ones"
    )
    return report


class _Repeated(Exception):  # a signal, not an error: the import starts over
    """Rows written with their keys unchecked for repeats (the check every other rule passed)
    repeat a key: the generation is thrown away and the import runs again checking repeats in
    the batch first, which lists the rows. A hash aggregate over every row costs a third of the
    checks at ten million events; consecutive equal events cost the flow tables nothing."""


def _import(
    workspace: Workspace,
    table: str,
    path: Path,
    *,
    mapping: Path | None,
    preset: str | None,
    date_format: str | None,
    encoding: str | None,
    decimal_comma: bool,
    thousands: str | None,
    dry_run: bool,
    skip_invalid: Path | None,
    replace_history: bool,
    snapshot_date: date | None,
    progress: Progress | None,
    who: str | None,
    repeats_later: bool,
) -> ImportReport:
    """:func:`import_file`; ``repeats_later``: stage events written to a DuckDB file may leave
    their check for repeated keys to the flow tables."""
    started = time.perf_counter()
    path = Path(path).expanduser().resolve()
    spec = table_spec(table)
    workspace.check_writable(f"import of {path.name}")
    if replace_history and spec.name != "stage_events":
        raise ConfigError(
            f"--replace-history applies to stage_events, not {spec.name}",
            hint=f"Import {spec.name} without it: rows with the same key are replaced anyway",
        )
    if snapshot_date is not None and spec.name != "opportunities":
        raise ConfigError(
            f"--snapshot-date applies to opportunities, not {spec.name}",
            hint="A snapshot is an export of the deals as they were on one day",
        )
    chosen = load_preset(preset) if preset else None
    tm = _mapping(table, mapping, chosen)
    if thousands:
        tm = dataclasses.replace(tm, thousands=thousands_separator(thousands))
    report = ImportReport(table, str(path), file_kind(path), preset, dry_run)
    step = progress or (lambda *_: None)
    workspace.close()  # nothing of ours holds the data file open while we validate
    tmp = Path(tempfile.mkdtemp(prefix="salesflow-import-"))
    mem = _engine(tmp)
    try:
        step("Reading the file", 1, STEPS)
        coding = encoding_name(encoding) if encoding else tm.encoding
        header = read_into(mem, path, "raw", encoding=coding)
        # one writer at a time, from the check of the workspace's rows to the published result
        lock = nullcontext() if dry_run else workspace.write_lock(f"import of {path.name}", who=who)
        with lock, WorkspaceData.attach(mem, workspace.settings) as ws:
            stages, adopted = stage_rules.choose(workspace.settings, chosen, ws)
            comma = decimal_comma or tm.decimal == ","
            plan = _plan(mem, spec, tm, header, ws, report, path.name, comma)
            plan.replace_history = replace_history
            later = repeats_later and spec.name == "stage_events" and ws.backend is None
            later = later and not dry_run and skip_invalid is None
            step("Checking every row", 2, STEPS)
            later = _validate(
                mem, plan, tm, stages, ws, report, path, date_format, skip_invalid, coding, header,
                repeats_later=later,
            )  # fmt: skip
            if adopted:
                report.stages_adopted = stage_rules.as_dict(stages)
                report.warnings.append(stage_rules.adopted_message(chosen, dry_run))
            events = None
            if spec.name == "opportunities":
                report.derived_stage_events = derive_snapshot_events(
                    mem, "batch", "_derived_events", plan, stages, tm.first_stage
                )
                events = "_derived_events"
            if snapshot_date is not None:
                report.history_rows = derive_snapshot_history(mem, ws, "batch", plan, snapshot_date)
                plan.history = HISTORY_BATCH
            report.rows_written = mem.sql("SELECT count(*) FROM batch").fetchone()[0]
            if dry_run:
                if ws.attached and spec.name in ws.tables():  # as the write would count
                    target = DuckTarget(mem, "batch", None)
                    report.updated, report.unchanged = count_changes(
                        target, plan, ws.columns(spec.name)
                    )
                matched = report.updated + report.unchanged
                report.inserted = report.rows_written - matched
                return report
            step("Writing to the workspace", 3, STEPS)
            changed = _changed_deals(mem, spec.name, ws, workspace.settings)
            rows = _rows_to_hand(mem, plan, ws) if changed is not None else None
            deriving = _DERIVING.get(spec.name)
            with workspace.next_generation() as nxt:
                result = ws.write(
                    nxt.data_file,
                    lambda target_con, backend: _target(target_con, backend, mem, plan, events),
                    lambda target: write(
                        target,
                        plan,
                        stages,
                        ws.columns(spec.name),
                        (lambda: step(deriving, 4, STEPS)) if deriving else None,
                        outcomes_later=isinstance(target, DuckTarget),
                    ),
                )
                ws.detach()
                mem.close()  # free the batch before the flow tables take their own memory
                step("Refreshing derived tables", 5, STEPS)
                settings = replace(nxt.settings, stages=stages)
                if result.updated or result.unchanged:  # stored rows were replaced: not an append
                    rows = None
                data = nxt.data if nxt.raw is None else nxt.raw  # DuckDB: no Ibis to import
                fresh = _refresh_derived(data, settings, report, changed, rows)
                if result.outcomes_pending:  # a first load: outcomes from the fresh flow_cases
                    result.refreshed_opportunities = outcomes_after_refresh(
                        nxt.raw, stages, flow_fresh=fresh is not None
                    )
                if later and repeats_an_event(nxt.raw, flow_fresh=fresh is not None):
                    raise _Repeated
            live = workspace.live_file  # an import inside another writer's generation: no seal
            if fresh is not None and live is not None:
                write_seal(live, fresh)  # the next import skips the full checksum
            if adopted:  # after the data: a crash in between leaves flow tables to rebuild
                stage_rules.write_settings(workspace, stages)
        report.inserted, report.updated = result.inserted, result.updated
        report.unchanged = result.unchanged
        report.added_columns = result.added_columns
        report.refreshed_opportunities = result.refreshed_opportunities
        if spec.name == "opportunities" and result.derived_stage_events is not None:
            report.derived_stage_events = result.derived_stage_events
        step("Done", STEPS, STEPS)
        return report
    except Exception as exc:
        if reader_error(exc):  # a malformed line met while reading the file, at any step
            raise unreadable(exc, path, report.format) from exc
        raise
    finally:
        mem.close()
        shutil.rmtree(tmp, ignore_errors=True)
        report.seconds = round(time.perf_counter() - started, 3)


def _changed_deals(mem, table: str, ws: WorkspaceData, settings) -> Any:
    """The batch's deal ids when the workspace's flow tables are fresh before this write: then
    only those deals' flow rows need recomputing (``None``: rebuild them all)."""
    from salesflow import derived

    if table not in ("stage_events", "opportunities") or not ws.attached:
        return None
    if "flow_cases" not in ws.tables():
        return None
    cases = mem.sql("SELECT count(*) FROM ws.main.flow_cases").fetchone()[0]
    deals = mem.sql("SELECT approx_count_distinct(opportunity_id) FROM batch").fetchone()[0]
    if deals > cases // 2 or not derived.is_fresh_attached(mem, settings, "ws"):
        return None  # most deals change (a rebuild is cheaper) or the tables are stale anyway
    return mem.sql("SELECT DISTINCT opportunity_id FROM batch").to_arrow_table()


def _rows_to_hand(mem, plan: Plan, ws: WorkspaceData) -> Any:
    """The batch's events (Arrow) when the write can only insert them into ``stage_events``:
    a file of events added to the deals' histories, none of its deals with events derived from
    a deal import (the write may delete those). The refresh then needs no read of
    ``stage_events`` for deals that only gained events after their last one. The caller still
    drops them if the write replaced stored rows (same deal, stage and time)."""
    if plan.spec.name != "stage_events" or plan.replace_history:
        return None
    from salesflow.ingest.derive import BOOKKEEPING, DERIVED_EVENTS

    tables = ws.tables()
    if DERIVED_EVENTS in tables:
        listed = mem.sql(
            f"SELECT count(*) FROM (SELECT 1 FROM ws.main.{DERIVED_EVENTS} WHERE opportunity_id "
            "IN (SELECT opportunity_id FROM batch) LIMIT 1)"
        ).fetchone()[0]
        if listed:
            return None
    if BOOKKEEPING in tables:  # an older workspace's marks of whole derived histories
        marked = mem.sql(
            f"SELECT count(*) FROM (SELECT 1 FROM ws.main.{BOOKKEEPING} WHERE what = 'events' "
            "LIMIT 1)"
        ).fetchone()[0]
        if marked:
            return None
    return mem.sql("SELECT opportunity_id, stage, entered_at FROM batch").to_arrow_table()


def _refresh_derived(
    con, settings, report: ImportReport, changed: Any = None, added: Any = None
) -> str | None:
    """Update the flow tables in the generation being written; return their stored fingerprint
    (DuckDB) when they are fresh. A query that fails is a warning (readers rebuild stale tables
    for themselves); a storage failure aborts the whole import."""
    import duckdb

    from salesflow import derived

    try:
        derived.refresh(con, settings, changed=changed, added=added)
    except (OSError, StorageError, duckdb.IOException):
        raise
    except Exception as exc:  # the rows are in; say what is stale rather than fail the import
        report.warnings.append(
            f"The data was imported, but the derived flow tables could not be refreshed "
            f"({type(exc).__name__}: {exc}); flow figures may be stale until the next import"
        )
        return None
    raw = derived.duckdb_connection(con)
    return None if raw is None else stored_fingerprint(raw)


def _target(con, backend, mem, plan: Plan, events):
    if backend is None:
        return DuckTarget(con, "batch", events, plan.history)
    batch = mem.sql(f"SELECT {', '.join(ident(c) for c in plan.types)} FROM batch").to_arrow_table()
    derived = mem.sql(f"SELECT * FROM {events}").to_arrow_table() if events else None
    history = mem.sql(f"SELECT * FROM {plan.history}").to_arrow_table() if plan.history else None
    if backend.name == "pyspark":  # no DELETE/UPDATE on Spark's tables: staged rewrites
        from salesflow.ingest.spark_load import SparkTarget

        return SparkTarget(backend, batch, derived, history)
    return IbisTarget(backend, batch, derived, history)


def _plan(mem, spec, tm, header, ws, report, file, decimal_comma: bool) -> Plan:
    resolved = resolve_columns(spec, tm, header)
    plan = Plan(spec, resolved.canonical, resolved.extras, timezone=ws.settings.timezone)
    plan.numbers = numbers = NumberStyle(decimal_comma, tm.thousands)
    plan.outcome_given = "outcome" in plan.columns
    missing = missing_columns(plan, file, tm.columns)
    if missing:
        raise ImportValidationError(missing)
    source_view(mem, "raw", "src", {**plan.columns, **plan.extras}, tm.values)
    plan.types = {c: spec.column(c).sql_type for c in plan.columns}
    existing = ws.columns(spec.name)
    plan.types.update(infer_extra_types(mem, "src", list(plan.extras), existing, numbers))
    report.columns = dict(plan.columns)
    report.extra_columns = list(plan.extras)
    return plan


def _validate(
    mem,
    plan,
    tm,
    stages,
    ws,
    report,
    path,
    date_format,
    skip_invalid,
    coding,
    header,
    *,
    repeats_later: bool = False,
) -> bool:
    """Every check of the rows. ``repeats_later``: repeated keys may be left to the caller
    when the file is large beside the stored events and no other check fails (then every
    problem is listed at once); returns whether they were."""
    import duckdb

    file = path.name
    fmt = date_format or tm.date_format
    ambiguous: list[RowError] = []
    for column, sql_type in plan.types.items():
        if sql_type in ("TIMESTAMP", "DATE"):
            info = detect(mem, "src", column, file=file, given=fmt)
            plan.dates[column] = info
            report.date_formats[column] = info.describe()
            if info.ambiguity:
                ambiguous.append(info.ambiguity)
    if ambiguous:
        raise ImportValidationError(ambiguous)
    known = ws.known_opportunities()
    try:
        source = None
        if report.format == "csv":  # dates and numbers parsed by the reader when it can
            source = build_typed(mem, path, plan, stages, tm.values, header, coding)
        if source is None:
            source = "src"
            build_batch(mem, source, "batch", plan, stages)
    except duckdb.Error as exc:  # a malformed line surfaces while reading the whole file
        raise unreadable(exc, path, report.format) from exc
    report.rows_read = mem.sql("SELECT count(*) FROM batch_t").fetchone()[0]  # a rebuild keeps them
    repeats = not (repeats_later and _large_beside_stored(report.rows_read, ws))
    scan = scan_batch(mem, "batch", plan, stages, known, repeats=repeats)  # one pass
    try:
        late = convert_late_offsets(mem, source, "batch", plan, stages, scan.late)
    except duckdb.Error as exc:
        raise unreadable(exc, path, report.format) from exc
    if late:  # the batch was built again
        scan = scan_batch(mem, "batch", plan, stages, known, repeats=repeats)

    def rows_view() -> str:
        source_view(mem, materialise(mem, "raw"), "src_rows", columns, tm.values, rows=True)
        return "src_rows"

    columns = {**plan.columns, **plan.extras}
    numeric = [c for c, t in plan.types.items() if t.upper().startswith(NUMERIC)]
    ambiguous = plan.numbers.ambiguous(mem, "src", rows_view, numeric, file)
    if ambiguous:
        raise ImportValidationError(ambiguous)
    check_text(mem, rows_view, "batch", plan, scan)
    if plan.spec.name == "opportunities":
        report.enriched_from = enrich(mem, "batch_t", plan, path.parent, tm.enrich, report.warnings)
        if report.enriched_from:  # values were rewritten and columns added: count again
            scan = scan_batch(mem, "batch", plan, stages, known, repeats=repeats)
    check_batch(mem, "batch", plan, stages, known, scan)
    errors, total = collect_errors(mem, file, kind=report.format)
    if total and not repeats:  # the file is refused anyway: name its repeated rows too
        list_repeats(mem, "batch", plan)
        errors, total = collect_errors(mem, file, kind=report.format)
    if total and skip_invalid is None:
        summary = stage_rules.unknown_stage_summary(mem, ERRORS, file, stages, plan.spec.name)
        raise ImportValidationError([*summary, *errors], total=total + len(summary))
    if total:
        report.rejected = write_rejects(mem, materialise(mem, "raw"), Path(skip_invalid))
        report.rejects_file = str(Path(skip_invalid).resolve())
        mem.execute(f"DELETE FROM batch_t WHERE rowid + 1 IN (SELECT _row FROM {ERRORS})")
        report.warnings.append(
            f"{report.rejected:,} rows were rejected and written to {report.rejects_file}"
        )
    report.warnings.extend(_gaps(mem, plan))
    report.rows_on_unknown_deals = _unknown_deals(mem, plan, known, report.warnings)
    return not repeats


#: Rows of stored events per file row above which a file's repeated keys are checked before
#: the write: counting its distinct keys costs about 80 ns a row (0.8 s at ten million), the
#: scan of the flow tables after the write about 2 ns a stored event (20 ms at ten million).
_STORED_PER_ROW = 40


def _large_beside_stored(rows: int, ws: WorkspaceData) -> bool:
    """Whether a batch of ``rows`` is large enough beside the stored events that finding its
    repeated keys in the flow tables after the write costs less than counting them now."""
    return rows * _STORED_PER_ROW > ws.rows("stage_events")


#: deal ids named in the warning about activities on deals the workspace lacks
_NAMED = 3


def _unknown_deals(mem, plan: Plan, known: str, warnings: list[str]) -> int:
    """Activities naming a deal the workspace does not have: kept (the deal may come later, or
    be one the exporter could not see), but no deal's figures count them, so a warning says so."""
    if plan.spec.name != "activities" or "opportunity_id" not in plan.types:
        return 0
    rows = mem.sql(
        f"SELECT b.opportunity_id, count(*) FROM batch b LEFT JOIN {known} k "
        f"ON b.opportunity_id = k.opportunity_id "
        f"WHERE b.opportunity_id IS NOT NULL AND k.opportunity_id IS NULL "
        f"GROUP BY ALL ORDER BY 2 DESC, 1"
    ).fetchall()
    n = sum(count for _deal, count in rows)
    if n:
        named = ", ".join(repr(deal) for deal, _count in rows[:_NAMED])
        more = f" and {len(rows) - _NAMED:,} more" if len(rows) > _NAMED else ""
        acts = "1 activity belongs" if n == 1 else f"{n:,} activities belong"
        deals = "a deal" if len(rows) == 1 else f"{len(rows):,} deals"
        warnings.append(
            f"{acts} to {deals} the workspace does not have ({named}{more}); they were kept, "
            f"but no deal's figures count them until those deals are imported"
        )
    return n


def _gaps(mem, plan: Plan) -> list[str]:
    """Warnings for kept rows with holes a sales leader should know about."""
    notes = []
    if plan.spec.name != "opportunities":
        return notes
    if "account" in plan.types:
        n, open_ = mem.sql(
            "SELECT count(*), count(*) FILTER (WHERE outcome = 'open' OR outcome IS NULL) "
            "FROM batch WHERE account IS NULL"
        ).fetchone()
        if n:
            notes.append(
                f"{n:,} deals have no account ({open_:,} of them open); they were kept and "
                f"count as 'no account' in breakdowns by account"
            )
    n = mem.sql("SELECT count(*) FROM batch WHERE created_at IS NULL").fetchone()[0]
    if n:
        source = plan.columns.get("created_at")
        notes.append(
            f"{n:,} deals have no creation date (column {source!r} is empty); they were kept, "
            f"but measures of age, cycle time and cohorts leave them out"
        )
    return notes
