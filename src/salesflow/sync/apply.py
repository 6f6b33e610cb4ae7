"""``apply_pull``: write what a CRM connector fetched into the workspace, all of it or none of it.

The same for every CRM. Each table's records are staged as a file and go through the file importer
with the CRM's preset (``ingest/presets/<crm>.toml``): the same column mapping, stage rules and
row checks as ``salesflow import --preset <crm>``. Every table is imported into one private copy
of the data file (the workspace's next generation); records deleted in the CRM are then removed
from it (a deal with its stage events, history and activities) and the derived flow tables are
refreshed. Only then is the copy swapped in with one rename, and the CRM's high-water mark moved
and a sync-log entry written. A failure anywhere — a bad row, a full disk, a kill — leaves the
live data file and the mark as they were (the log records the failure).

A crash between the swap and the log write leaves the old mark: the next sync fetches those
changes again and applies them again, which changes nothing (rows are upserted by their key).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from salesflow.errors import ConfigError, ImportValidationError, SalesflowError, WorkspaceBusy
from salesflow.schema import TABLES
from salesflow.sync.crm import crm_name
from salesflow.sync.log import SyncLog

if TYPE_CHECKING:
    from salesflow.ingest import ImportReport
    from salesflow.sync.crm import Pull, SyncResult, TableChanges
    from salesflow.workspace import Workspace

__all__ = ["apply_pull", "high_water_mark", "record_failure", "run_sync", "start_mark"]

#: ``progress(message)``: one line per step, for the CLI
Progress = Callable[[str], None]

#: A deal deleted in the CRM takes these rows with it (every table with an ``opportunity_id``
#: that describes the deal itself; support requests only mention a deal and are kept).
CASCADE = ("opportunities", "stage_events", "opportunity_history", "activities")


def high_water_mark(workspace: Workspace, crm: str) -> str | None:
    """The mark stored by the last applied sync from ``crm`` (ISO-8601 UTC), ``None`` before."""
    return SyncLog.load(workspace.path).crm.get(crm, {}).get("mark")


def start_mark(
    workspace: Workspace,
    crm: str,
    mark: str | None,
    fields: tuple[tuple[str, str], ...],
    say: Progress,
    setting: str,
) -> str | None:
    """Where a sync from ``crm`` starts: ``mark``, or the beginning (``None``) when the extra
    deal fields named in ``setting`` are not those the last applied sync brought, so every deal
    gets the new columns (or loses the removed ones), not only the deals changed since."""
    stored = SyncLog.load(workspace.path).crm.get(crm, {}).get("fields") or {}
    if mark is not None and stored != dict(fields):
        say(f"The deal fields in {setting} changed since the last sync: fetching every deal again")
        return None
    return mark


def run_sync(
    workspace: Workspace,
    crm: str,
    fetch: Callable[[str | None], Pull],
    *,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> SyncResult:
    """One sync from ``crm``: ``fetch(mark)`` (the connector: the changes since the stored mark)
    then :func:`apply_pull`. A fetch that fails is logged and raised; nothing is changed."""
    mark = high_water_mark(workspace, crm)
    try:
        pull = fetch(mark)
    except SalesflowError as exc:
        record_failure(workspace, crm, exc.message, now=now)
        raise
    return apply_pull(workspace, pull, now=now, progress=progress)


def apply_pull(
    workspace: Workspace,
    pull: Pull,
    *,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> SyncResult:
    """Apply ``pull`` to ``workspace`` all or nothing; return the rows per table and the
    warnings (see :class:`~salesflow.sync.crm.SyncResult`): a record fetched again as it was (a
    changed deal's whole history comes back) is ``unchanged``.

    On success the pull's high-water mark (when it has one) becomes the CRM's mark and the sync
    log gets an entry; on failure the data and the mark are untouched, the log records the
    error, and the error is raised.
    """
    say = progress or (lambda _m: None)
    # the lock from the first write to the log entry: the folder sync rewrites the same log
    with workspace.write_lock(f"a sync from {pull.crm}"):
        try:
            result = _apply(workspace, pull, say)
        except SalesflowError as exc:
            record_failure(workspace, pull.crm, exc.message, now=now, requests=pull.requests)
            raise
        log = SyncLog.load(workspace.path)
        old = log.crm.get(pull.crm, {})
        new = dict(old)
        if pull.high_water_mark and pull.high_water_mark > (old.get("mark") or ""):
            new["mark"] = pull.high_water_mark
        if pull.fields is not None:
            new["fields"] = pull.fields
        if new:
            log.crm[pull.crm] = new
        entry = _entry(pull.crm, "synced", result.tables, None, now, pull.requests)
        log.entries.append({**entry, "warnings": result.warnings})
        log.save()
    return result


def record_failure(
    workspace: Workspace,
    crm: str,
    error: str,
    *,
    now: datetime | None = None,
    requests: int | None = None,
) -> None:
    """Log a failed sync from ``crm`` (the fetch or the apply); the mark stays where it was.
    A workspace kept busy by another writer is left alone (the failure is raised anyway)."""
    try:
        with workspace.write_lock(f"the log of a failed sync from {crm}", wait=10):
            log = SyncLog.load(workspace.path)
            log.entries.append(_entry(crm, "failed", None, error, now, requests))
            log.save()
    except WorkspaceBusy:
        pass


def _entry(
    crm: str,
    status: str,
    rows: dict[str, dict[str, int]] | None,
    error: str | None,
    now: datetime | None,
    requests: int | None,
) -> dict[str, Any]:
    at = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    return {
        "at": at,
        "source": crm,
        "status": status,
        "rows": rows,
        "error": error,
        "requests": requests,
    }


def _apply(workspace: Workspace, pull: Pull, say: Progress) -> SyncResult:
    from salesflow.ingest import load_preset
    from salesflow.sync.crm import SyncResult

    unknown = sorted(set(pull.tables) - set(TABLES))
    if unknown:
        raise ConfigError(
            f"The {pull.crm} sync brought rows for {unknown[0]!r}, which is not a table",
            hint=f"A connector fills only: {', '.join(TABLES)}",
        )
    preset = load_preset(pull.crm)  # a clear error when the CRM has no preset
    if workspace.data_file is None:
        raise ConfigError(
            f"A sync from {pull.crm} needs the data in a DuckDB file, to apply every table "
            "all or nothing",
            where=str(workspace.settings.config_path),
            hint='Set [data] url = "duckdb:///data.duckdb", or import exports with '
            "salesflow import",
        )
    order = [t for t in TABLES if t in pull.tables]  # deals before their events and history
    for table in order:
        _check_deletable(table, pull.tables[table])
        if pull.tables[table].records and table not in preset.tables:
            raise ConfigError(
                f"The {pull.crm} preset has no mapping for {table}",
                hint=f"It maps: {', '.join(preset.tables)}",
            )
    rows = {t: _counts() for t in order}
    if not any(c.records or c.deleted for c in pull.tables.values()):
        return SyncResult(rows)
    unseen = 0  # activities on a deal the workspace lacks once this pull's deals are in
    workspace.ensure_tables()
    config = workspace.settings.config_path
    config_before = config.read_bytes()  # importing may adopt the preset's stages
    stage = Path(tempfile.mkdtemp(prefix=f"salesflow-{pull.crm}-"))
    try:
        with (
            workspace.write_lock(f"a sync from {pull.crm}"),
            workspace.next_generation() as nxt,
        ):
            for table in order:
                changes = pull.tables[table]
                if changes.records:
                    say(f"Writing {len(changes.records):,} {table} rows…")
                    report = _import(workspace, nxt, pull.crm, table, changes, stage)
                    rows[table]["added"] += report.inserted
                    rows[table]["updated"] += report.updated
                    rows[table]["unchanged"] += report.unchanged
                    unseen += report.rows_on_unknown_deals
            deleted = {t: c.deleted for t, c in pull.tables.items() if c.deleted}
            if deleted:
                n = sum(len(d) for d in deleted.values())
                say(f"Removing {n:,} records deleted in the CRM…")
                for table, n in _delete(workspace, nxt, deleted).items():
                    rows.setdefault(table, _counts())
                    rows[table]["deleted"] += n
            nxt.close()
    except BaseException:
        if config.read_bytes() != config_before:
            config.write_bytes(config_before)
        raise
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        _discard_lock(workspace)
    workspace.close()
    return SyncResult(rows, _unseen_warning(pull.crm, unseen))


#: where a deal the sync cannot see is hidden, in each CRM's terms
_WHO_SEES = {
    "salesforce": "check the integration user's sharing rules (it must see every opportunity)",
    "hubspot": "check that the private app's token may read every deal",
}


def _unseen_warning(crm: str, n: int) -> list[str]:
    """The sentence for activities whose deal the sync did not bring (a deal the CRM user
    cannot see): they are kept, but no deal's figures count them."""
    if not n:
        return []
    hint = _WHO_SEES.get(crm, f"check which deals {crm_name(crm)} lets this sync read")
    what = "1 activity belongs to a deal" if n == 1 else f"{n:,} activities belong to deals"
    return [f"{what} this sync cannot see: kept, but not counted in deal metrics — {hint}"]


def _counts() -> dict[str, int]:
    return {"added": 0, "updated": 0, "deleted": 0, "unchanged": 0}


def _check_deletable(table: str, changes: TableChanges) -> None:
    if changes.deleted and table not in ("opportunities", "activities"):
        raise ConfigError(
            f"salesflow cannot remove single {table} rows deleted in a CRM",
            hint="Delete the deal (opportunities) or the activity instead: its rows go with it",
        )


def _staged_workspace(workspace: Workspace, nxt: Workspace) -> Workspace:
    """A workspace on the next generation with the settings as they are now (an import before
    may have adopted the preset's stages)."""
    from salesflow.settings import load_settings
    from salesflow.workspace import Workspace as W

    settings = load_settings(workspace.path)
    return W(replace(settings, data_url=nxt.settings.data_url), _generation=True)


def _import(
    workspace: Workspace,
    nxt: Workspace,
    crm: str,
    table: str,
    changes: TableChanges,
    stage: Path,
) -> ImportReport:
    from salesflow.ingest import import_file

    path = stage / f"{crm}-{table}.parquet"
    _write_parquet(changes.records, path)
    staged = _staged_workspace(workspace, nxt)
    try:
        report = import_file(staged, table, path, preset=crm)
    except ImportValidationError as exc:  # it names a staged file the admin never saw
        raise _bad_records(crm, table, changes.records, exc) from exc
    finally:
        staged.close()
    return report


#: the fields that name a record, and the deal it belongs to, in what a connector fetched
_RECORD_IDS = ("Id", "Activity ID", "Engagement ID")
_DEAL_IDS = ("OpportunityId", "WhatId", "Record ID", "Deal ID", "Associated Deal ID")
_MOMENTS = ("CreatedDate", "Timestamp")
_WHAT = {
    "opportunities": "deal",
    "stage_events": "stage change",
    "opportunity_history": "history row",
    "activities": "activity",
}


def _bad_records(crm: str, table: str, records: list[dict[str, Any]], exc: Any) -> SalesflowError:
    """The importer's row errors in the CRM's terms: which record (and deal), which value."""
    name = crm_name(crm)
    lines = []
    for error in exc.errors[: exc.SHOWN]:
        if error.row and error.row <= len(records):
            lines.append(f"  {_describe(table, records[error.row - 1])}: {_value(error)}")
        else:  # a summary over several rows (e.g. stages salesflow.toml does not list)
            lines.append(f"  {_WHAT.get(table, table)}s: {_value(error)}")
    more = exc.total - len(lines)
    tail = f"\n  … and {more} more" if more > 0 else ""
    return SalesflowError(
        f"The {name} sync found {exc.total} problem(s) in the {table} records {name} sent, so "
        f"nothing was changed:\n" + "\n".join(lines) + tail,
        hint=f"Correct these records in {name}, then sync again (the next sync fetches them "
        "again from the same point)",
    )


def _describe(table: str, record: dict[str, Any]) -> str:
    what = _WHAT.get(table, f"{table} row")
    own = next((record[k] for k in _RECORD_IDS if record.get(k)), None)
    deal = next((record[k] for k in _DEAL_IDS if record.get(k)), None)
    if table == "opportunities":
        return f"deal {deal or own}" if (deal or own) else "a deal"
    parts = [f"{what} {own}" if own else what]
    if deal:
        parts.append(f"of deal {deal}")
    when = next((record[k] for k in _MOMENTS if record.get(k)), None)
    if when and not own:
        parts.append(f"at {when}")
    return " ".join(parts)


def _value(error: Any) -> str:
    value = "" if error.value is None else f" {error.value!r}"
    column = f"{error.column}{value}: " if error.column else ""
    return f"{column}{error.reason}"


def _write_parquet(records: list[dict[str, Any]], path: Path) -> None:
    """Every value as text, as a file export would carry it (``None`` stays empty)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    names: dict[str, None] = {}
    for record in records:
        names.update(dict.fromkeys(record))
    columns = {n: [_text(r.get(n)) for r in records] for n in names}
    pq.write_table(pa.table({n: pa.array(v, pa.string()) for n, v in columns.items()}), path)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _delete(workspace: Workspace, nxt: Workspace, deleted: dict[str, set[str]]) -> dict[str, int]:
    """Remove the deleted deals (with their rows in :data:`CASCADE`) and activities from the
    next generation, then refresh the derived flow tables there. Rows removed per table."""
    import pyarrow as pa

    from salesflow import derived

    nxt.close()
    staged = _staged_workspace(workspace, nxt)
    counts: dict[str, int] = {}
    try:
        con = staged.raw
        assert con is not None  # a DuckDB file, checked before
        con.execute("BEGIN")
        deals = pa.table({"id": pa.array(sorted(deleted.get("opportunities", ())), pa.string())})
        acts = pa.table({"id": pa.array(sorted(deleted.get("activities", ())), pa.string())})
        con.register("_deleted_deals", deals)
        con.register("_deleted_activities", acts)
        for table in CASCADE:
            n = con.execute(
                f"DELETE FROM {table} WHERE opportunity_id IN (SELECT id FROM _deleted_deals)"
            ).fetchone()[0]
            counts[table] = counts.get(table, 0) + n
        n = con.execute(
            "DELETE FROM activities WHERE activity_id IN (SELECT id FROM _deleted_activities)"
        ).fetchone()[0]
        counts["activities"] += n
        con.execute("COMMIT")
        con.unregister("_deleted_deals")
        con.unregister("_deleted_activities")
        staged.close()
        staged = _staged_workspace(workspace, nxt)
        derived.refresh(staged.data, staged.settings)
    finally:
        staged.close()
    return {t: n for t, n in counts.items() if n or t in deleted}


def _discard_lock(workspace: Workspace) -> None:
    """The importer locked the next generation's file: remove that lock file, now unused."""
    from salesflow.storage import LOCK_SUFFIX, NEXT_SUFFIX

    file = workspace.data_file
    if file is not None:
        file.with_name(file.name + NEXT_SUFFIX + LOCK_SUFFIX).unlink(missing_ok=True)
