"""Freshness of a read-in-place workspace's derived tables (see :mod:`salesflow.inplace`).

When the derived tables are built, the source's watermark (row count and latest timestamp per
mapped table) is stored beside them. Each command compares it with the source now: with
``[data] refresh = "auto"`` (the default) stale tables are rebuilt and the answer says why; with
``"manual"`` they are left alone and the answer says how stale they are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from salesflow.workspace import Workspace

__all__ = ["imported_freshness", "keep_fresh"]


def keep_fresh(workspace: Workspace, *, refresh: bool | None = None) -> dict[str, Any]:
    """Compare the derived tables with the source, rebuild them when stale and allowed
    (``refresh``: True forces a rebuild when stale, False never rebuilds, None follows
    ``[data] refresh``), and return the ``freshness`` document of ``salesflow status --json``:

    ``{"derived_schema", "built_at", "checked_at", "fresh", "refreshed", "changes", "message"}``
    where ``changes`` lists per mapped table ``table, source, rows_before, rows_now, new_rows,
    latest_before, latest_now, words``. A workspace that imports its data gets
    :func:`imported_freshness` (``refresh``: rebuild when stale).
    """
    settings = workspace.settings
    dm = settings.data_map
    if not dm.active:
        return imported_freshness(workspace, refresh=bool(refresh))
    from salesflow import derived, inplace

    con = workspace.data
    now = inplace.watermark(con, settings)
    stored = inplace.read_watermark(con)
    before, built_at = stored if stored is not None else ({}, None)
    changes = inplace.compare(before, now)
    tables_ok = derived.is_fresh(con, settings)
    fresh = stored is not None and not changes and tables_ok
    checked_at = settings.now().isoformat(timespec="seconds")
    doc: dict[str, Any] = {
        "derived_schema": dm.derived_schema,
        "built_at": built_at,
        "checked_at": checked_at,
        "fresh": fresh,
        "refreshed": False,
        "changes": changes,
        "source": now,
    }
    rebuild = (dm.refresh == "auto") if refresh is None else refresh
    if not fresh and rebuild:
        with workspace.writing_derived() as writer:  # DuckDB: a new generation of its file
            con = writer.data
            now = inplace.watermark(con, settings)  # what another writer may have built meanwhile
            derived.refresh(con, settings)
            inplace.write_watermark(con, now, checked_at)
        doc.update(fresh=True, refreshed=True, built_at=checked_at, source=now)
    doc["message"] = _message(doc, built_at, tables_ok)
    return doc


def _message(doc: dict[str, Any], built_at: str | None, tables_ok: bool) -> str:
    when = _when(built_at)
    said = "; ".join(c["words"] for c in doc["changes"])
    if not doc["refreshed"] and doc["fresh"]:
        return f"The derived tables are from {when} and the source has not changed since."
    if built_at is None:
        reason = "they had never been built"
    elif said:
        reason = f"the source changed since {when}: {said}"
    else:
        reason = "they no longer match the stage settings" if not tables_ok else "they were stale"
    if doc["refreshed"]:
        return f"The derived tables were rebuilt just now: {reason}."
    return (
        f"The derived tables are stale: {reason}. The process map is computed from the source "
        "directly meanwhile; `salesflow status --refresh` rebuilds them."
        if built_at is not None
        else "The derived tables have not been built yet; `salesflow status --refresh` builds them."
    )


def _when(iso: str | None) -> str:
    return "never" if iso is None else iso.replace("T", " ")[:16]


def imported_freshness(workspace: Workspace, *, refresh: bool = False) -> dict[str, Any]:
    """The ``freshness`` document of a workspace that imports its data. Every import rebuilds
    its derived tables, so they go stale only when something else changes what they were built
    from: the ``[stages]`` settings, or ``stage_events`` written by another program. ``changes``
    is empty and ``built_at`` null (no watermark: imports are the only change salesflow knows);
    ``refresh`` rebuilds stale tables (a new generation of a DuckDB file)."""
    from salesflow.source import table_names

    settings = workspace.settings
    built = "flow_meta" in table_names(workspace.raw or workspace.data)
    fresh = built and _derived_fresh(workspace)
    doc: dict[str, Any] = {
        "derived_schema": None,
        "built_at": None,
        "checked_at": settings.now().isoformat(timespec="seconds"),
        "fresh": fresh,
        "refreshed": False,
        "changes": [],
        "source": {},
    }
    if built and not fresh and refresh:
        from salesflow import derived

        with workspace.writing_derived() as writer:
            derived.refresh(writer.data, settings)
        doc.update(fresh=True, refreshed=True)
    doc["message"] = (
        "The derived tables were rebuilt just now: they no longer matched stage_events and "
        "the stage settings."
        if doc["refreshed"]
        else "The derived tables match stage_events and the stage settings (every import "
        "rebuilds them)."
        if fresh
        else "The derived tables have not been built yet: the first import of deals or stage "
        "events builds them."
        if not built
        else "The derived tables are stale: stage_events or the stage settings changed since "
        "they were built. The process map is computed from stage_events directly meanwhile; "
        "`salesflow status --refresh` (or the next import) rebuilds them."
    )
    return doc


def _derived_fresh(workspace: Workspace) -> bool:
    raw = workspace.raw
    if raw is None:
        from salesflow import derived

        return derived.is_fresh(workspace.data, workspace.settings)
    from salesflow.derived import is_fresh_attached

    catalog = raw.execute("SELECT current_database()").fetchone()[0]
    return is_fresh_attached(raw, workspace.settings, catalog)
