"""The request log as the web app needs it: log one request, edit one, list, Pareto by category.

Every write goes through the importer (:func:`salesflow.ingest.import_file`) with a one-row CSV,
so a request typed in the browser or posted by a CRM webhook passes exactly the checks of
``salesflow import requests FILE``. Rows in the data source carry no version column, so an
edit names the *version* it read: a hash of the row's values. If the row changed since, the
edit is refused (409), never silently overwritten; a new request whose id exists is refused too.
The check runs under the same lock as the write (one writer per server process at a time).
"""

from __future__ import annotations

import csv
import hashlib
import json
import secrets
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from salesflow.appdb.errors import AlreadyExistsError, StaleEditError
from salesflow.errors import ConfigError, NotFoundError
from salesflow.schema import TABLES
from salesflow.web.forms import clean

if TYPE_CHECKING:
    from salesflow.web.data import DataAccess

__all__ = ["COLUMNS", "edit_request", "log_request", "pareto", "recent", "row_version"]

COLUMNS = tuple(c.name for c in TABLES["requests"].columns)
UNCATEGORISED = "(uncategorised)"


def new_request_id() -> str:
    return f"WEB-{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def row_version(row: dict[str, Any]) -> str:
    """A short fingerprint of a request's canonical values (changes whenever any of them does)."""
    values = [clean(row.get(c)) for c in COLUMNS]
    return hashlib.sha256(json.dumps(values, default=str).encode()).hexdigest()[:16]


def _write(data: DataAccess, make_row: Callable[[], dict[str, Any]], *, who: str) -> str:
    """Import the row ``make_row()`` gives; it runs under the write lock, so what it checked
    cannot change before the row is written. Returns the request's id."""
    from salesflow.ingest import import_file

    folder = Path(tempfile.mkdtemp(prefix="salesflow-web-"))
    path = folder / "request.csv"
    try:
        with data.writing(hold="change to the request log", who=who) as ws:
            row = make_row()
            with path.open("w", newline="", encoding="utf-8") as fh:
                writer = csv.writer(fh, quoting=csv.QUOTE_ALL)
                writer.writerow(COLUMNS)
                writer.writerow(["" if row.get(c) is None else str(row[c]) for c in COLUMNS])
            import_file(ws, "requests", path, who=who)
    finally:
        path.unlink(missing_ok=True)
        folder.rmdir()
    return str(row["request_id"])


def _refuse_nul(values: dict[str, Any]) -> None:
    """A NUL character cannot be stored: say which field holds it, before any lock is taken."""
    for column, value in values.items():
        if isinstance(value, str) and "\x00" in value:
            raise ConfigError(
                f"{column} contains a NUL character (\\x00), which cannot be stored",
                where=column,
                hint="Remove it; it usually comes from a binary file pasted as text",
            )


def log_request(data: DataAccess, fields: dict[str, Any], *, who: str) -> dict[str, Any]:
    """Add one request; ``received_at`` defaults to now (the workspace's clock time, like every
    timestamp of its data), ``handled_by`` to ``who``."""
    row = {c: fields.get(c) for c in COLUMNS}
    row["request_id"] = row["request_id"] or new_request_id()
    row["received_at"] = row["received_at"] or data.settings.now().strftime("%Y-%m-%d %H:%M:%S")
    row["handled_by"] = row["handled_by"] or who
    _refuse_nul(row)

    def new_row() -> dict[str, Any]:
        if fields.get("request_id"):  # the caller's id: it must not replace a logged request
            _refuse_existing(data, row["request_id"])
        return row

    return get_request(data, _write(data, new_row, who=who))


def _refuse_existing(data: DataAccess, request_id: str) -> None:
    try:
        current = get_request(data, request_id)
    except NotFoundError:
        return
    raise AlreadyExistsError(
        f"Request {request_id} exists already; nothing was saved",
        where=f"request {request_id}",
        hint="Change it with PATCH and the version you read, or send a new request_id",
        current=current,
    )


def get_request(data: DataAccess, request_id: str) -> dict[str, Any]:
    with data.reading() as con:
        if "requests" not in con.list_tables():
            raise NotFoundError(f"Request {request_id!r} does not exist")
        t = con.table("requests")
        df = t.filter(t.request_id == request_id).select(*COLUMNS).limit(1).execute()
    if df.empty:
        raise NotFoundError(
            f"Request {request_id!r} does not exist", hint="See the list on the Requests page"
        )
    row = clean({c: _value(df[c].iloc[0]) for c in COLUMNS})
    return {**row, "version": row_version(row)}


def edit_request(
    data: DataAccess, request_id: str, changes: dict[str, Any], *, version: str, who: str
) -> dict[str, Any]:
    """Apply ``changes`` if the request is still at ``version``; else a StaleEditError."""
    _refuse_nul(changes)

    def changed_row() -> dict[str, Any]:
        current = get_request(data, request_id)
        if current["version"] != version:
            raise StaleEditError(
                f"Request {request_id} was changed by someone else since you opened it (you "
                f"edited version {version}, it is now {current['version']}); nothing was saved",
                where=f"request {request_id}",
                hint="Reload it, apply your change again and save",
                current=current,
            )
        row = {c: current[c] for c in COLUMNS}
        row.update({k: v for k, v in changes.items() if k in COLUMNS and k != "request_id"})
        return row

    return get_request(data, _write(data, changed_row, who=who))


def _value(v: Any) -> Any:
    import pandas as pd

    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    return v


def recent(data: DataAccess, *, limit: int = 50, category: str | None = None) -> list[dict]:
    """The latest requests, newest first, each with its version (cached until the next write)."""

    def compute(con: Any) -> list[dict]:
        if "requests" not in con.list_tables():
            return []
        t = con.table("requests")
        if category == UNCATEGORISED:
            t = t.filter(t.category.isnull())
        elif category:
            t = t.filter(t.category == category)
        df = t.select(*COLUMNS).order_by(t.received_at.desc()).limit(limit).execute()
        rows = [clean({c: _value(r[c]) for c in COLUMNS}) for r in df.to_dict("records")]
        return [{**r, "version": row_version(r)} for r in rows]

    return data.cached(("recent", limit, category), compute)


def pareto(data: DataAccess, *, start: str | None = None) -> list[dict[str, Any]]:
    """Requests per category, largest first, with shares and the cumulative share."""

    def compute(con: Any) -> list[dict[str, Any]]:
        if "requests" not in con.list_tables():
            return []
        t = con.table("requests")
        if start:
            t = t.filter(t.received_at >= start)
        counts = (
            t.group_by(name=t.category.fill_null(UNCATEGORISED))
            .aggregate(count=t.count())
            .execute()
        )
        from salesflow.analysis.request_log import pareto as shares

        pairs = zip(counts["name"], counts["count"], strict=True)
        return shares([{"name": str(n), "count": int(c)} for n, c in pairs], "count")

    return data.cached(("pareto", start), compute)


def categories(data: DataAccess) -> list[str]:
    """Known categories, most used first (for the entry form's suggestions)."""
    return [r["name"] for r in pareto(data) if r["name"] != UNCATEGORISED]
