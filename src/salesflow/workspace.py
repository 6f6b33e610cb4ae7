"""A workspace: a folder with ``salesflow.toml``, the data source and the app database.

``Workspace.open(path)`` is the one entry point every command, the web app and the Python API use.
Connections are opened lazily, on first use, never at import time. A DuckDB data file is only
ever opened read-only here; every change goes through :meth:`Workspace.writing`, which builds the
next generation of the file and swaps it in (see :mod:`salesflow.storage`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from salesflow import storage
from salesflow.errors import ConfigError, WorkspaceError
from salesflow.filemodes import private_dir, private_file
from salesflow.schema import TABLES
from salesflow.settings import CONFIG_FILE, Settings, load_settings, parse_moment
from salesflow.source import columns, connect, connect_duckdb, ensure_tables, fetch, table_names

if TYPE_CHECKING:
    import duckdb
    from ibis.backends import BaseBackend

__all__ = [
    "CONFIG_TEMPLATE",
    "TIME_COLUMNS",
    "Workspace",
    "as_moment",
    "data_bounds",
    "data_end",
    "init_workspace",
    "resolve_as_of",
    "workspace_status",
]

CONFIG_TEMPLATE = """\
# salesflow workspace settings. Docs: docs/configuration.md
[data]
url = "{data_url}"      # any Ibis URL; relative paths are relative to this folder

[app]
url = "{app_url}"       # SQLite file (default) or postgresql+psycopg://user@host/db for a team

[stages]
order = [{order}]   # open stages, in order
won = [{won}]
lost = [{lost}]

[calendar]
week_start = "{week_start}"
timezone = "{timezone}"
"""


class Workspace:
    """One workspace folder and lazily opened connections to its two stores.

    Read-only (the default) is how every salesflow command, the web app and ``salesflow.open``
    read the data: any number of processes at once. ``read_only=False`` opens a DuckDB file
    read-write *in place*, locking every other process out and without the crash safety of
    :meth:`writing`: for test fixtures and one-off maintenance scripts only.
    """

    def __init__(
        self, settings: Settings, *, read_only: bool = True, _generation: bool = False
    ) -> None:
        if settings.data_map.active:  # the canonical names [data.tables] uses, checked early
            from salesflow.inplace import check_names

            check_names(settings)
        self.settings = settings
        self.read_only = read_only
        self._generation = _generation  # the private next generation a writer builds
        self._opened: tuple[int, int] | None = None
        # read in place: the derived tables' freshness, once checked (see derived.freshness)
        self.freshness: dict | None = None

    @classmethod
    def open(cls, path: Path | str = ".", *, read_only: bool = True) -> Workspace:
        return cls(load_settings(path), read_only=read_only)

    @property
    def path(self) -> Path:
        return self.settings.workspace

    @property
    def data_file(self) -> Path | None:
        """The DuckDB file holding the data (``None`` for a database server)."""
        return storage.data_file(self.settings.resolved_data_url())

    @property
    def live_file(self) -> Path | None:
        """:attr:`data_file` when it is the file readers open (not a writer's private next
        generation, which is renamed into place later); ``None`` otherwise."""
        return None if self._generation else self.data_file

    @cached_property
    def data(self) -> BaseBackend:
        """The Ibis backend holding the canonical tables (the live file: read-only)."""
        if self.settings.data_map.active and self.data_file is None:  # read in place (server)
            from salesflow.inplace import open_source

            return open_source(self.settings, lock=self.write_lock)
        if self.raw is None:
            return connect(self.settings.resolved_data_url())
        import ibis

        return ibis.duckdb.from_connection(self.raw)

    @cached_property
    def raw(self) -> duckdb.DuckDBPyConnection | None:
        """The DuckDB connection under :attr:`data` (``None`` for a database server): the few
        reads that need only SQL use it and spare a command the ~0.7 s Ibis and pandas take
        to import."""
        file = self.data_file
        if file is None:
            return None
        url = self.settings.resolved_data_url()
        if self._generation or not self.read_only:
            return self._in_place(connect_duckdb(url, read_only=False))
        if not file.exists():
            self.ensure_tables()
        self._opened = _identity(file)
        return self._in_place(connect_duckdb(url, read_only=True))

    def _in_place(self, raw: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
        """``raw``, seeing the tables ``[data.tables]`` maps as the canonical ones (read in
        place: temporary views, see :mod:`salesflow.inplace.duckdb_views`)."""
        if self.settings.data_map.active:
            from salesflow.inplace.duckdb_views import duckdb_canonical_views

            try:
                duckdb_canonical_views(raw, self.settings)
            except BaseException:
                raw.close()
                raise
        return raw

    @property
    def published(self) -> tuple[int, int] | None:
        """Which generation of the data file is live now (``None`` for a database server)."""
        file = self.data_file
        return None if file is None else _identity(file)

    @property
    def changed(self) -> bool:
        """True when another writer has published new data since :attr:`data` was opened."""
        file = self.data_file
        return self._opened is not None and file is not None and _identity(file) != self._opened

    def refresh(self) -> None:
        """Let the next use of :attr:`data` see the last published data (a no-op if unchanged)."""
        if self.changed:
            self.close()

    def check_writable(self, what: str) -> None:
        """Refuse ``what`` (e.g. "import of deals.csv") in a workspace that reads its data in
        place: salesflow never writes into that database (outside ``[data] derived_schema``)."""
        dm = self.settings.data_map
        if not dm.read_only:
            return
        source = ", ".join(t.table for t in dm.tables.values())
        raise ConfigError(
            f"The {what} was refused: this workspace reads its data in place"
            f"{f' ({source})' if source else ''} and salesflow never writes into that "
            "database ([data] read_only = true)",
            where=str(self.settings.config_path),
            hint="Load the rows into your own tables with your usual tools: salesflow reads "
            "them on its next command (see docs/read-in-place.md)",
        )

    def write_lock(self, what: str, *, who: str | None = None, wait: float | None = None):
        """The workspace's write lock, held for ``what`` on behalf of ``who``."""
        file = self.data_file
        lock = (
            file.with_name(file.name + storage.LOCK_SUFFIX)
            if file is not None
            else self.path / ".salesflow-write.lock"
        )
        return storage.write_lock(lock, what, who=who or storage.default_who(), wait=wait)

    @contextmanager
    def next_generation(self, *, fresh: bool = False) -> Iterator[Workspace]:
        """A workspace writing the next generation of the data, published when the block ends.

        Hold :meth:`write_lock` around it. ``fresh`` starts from an empty file instead of a copy.
        A database server is written in place (its own transactions keep readers safe).
        """
        self.check_writable("change to the data")
        with self._own_generation(fresh=fresh) as writer:
            yield writer

    @contextmanager
    def _own_generation(self, *, fresh: bool = False) -> Iterator[Workspace]:
        file = self.data_file
        if file is None:
            yield self
            return
        with storage.next_generation(file, fresh=fresh) as nxt:
            writer = Workspace(
                replace(self.settings, data_url=f"duckdb:///{nxt}"), _generation=True
            )
            try:
                yield writer
            finally:
                writer.close()
        self.close()  # our own reader still sees the old generation

    @contextmanager
    def writing_derived(self) -> Iterator[Workspace]:
        """A workspace to rebuild salesflow's own derived tables in, holding the write lock: a
        new generation of a DuckDB file (even one that reads its tables in place: the file is
        salesflow's own), one transaction on a database server (in ``[data] derived_schema``)."""
        from salesflow.inplace import transaction

        with (
            self.write_lock("refresh of the derived tables"),
            self._own_generation() as writer,
            transaction(writer.data),
        ):
            yield writer

    @contextmanager
    def writing(
        self, what: str, *, who: str | None = None, fresh: bool = False
    ) -> Iterator[Workspace]:
        """Lock, write the next generation in the block, publish: all of it or none of it."""
        with self.write_lock(what, who=who), self.next_generation(fresh=fresh) as writer:
            yield writer

    def ensure_tables(self) -> None:
        """Create any missing canonical table (in a new generation of a DuckDB file); a DuckDB
        file that reads its tables in place holds none of them (a new one starts empty)."""
        file = self.data_file
        if file is not None and self.settings.data_map.active:
            if not file.exists():
                self._in_place(connect_duckdb("duckdb://")).close()  # the mapping, checked first
                with (
                    self.write_lock("creation of the data file"),
                    storage.next_generation(file, fresh=True) as nxt,
                ):
                    connect_duckdb(f"duckdb:///{nxt}").close()
            return
        if file is None or self._generation or not self.read_only:
            ensure_tables(self.data)
            return
        if file.exists() and set(TABLES) <= set(self.data.list_tables()):
            return
        with self.writing("creation of the data tables", fresh=not file.exists()) as writer:
            ensure_tables(writer.data)

    def close(self) -> None:
        if "data" in self.__dict__:
            self.data.disconnect()
            del self.__dict__["data"]
        if self.__dict__.get("raw") is not None:
            self.raw.close()
        self.__dict__.pop("raw", None)
        self._opened = None

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _identity(file: Path) -> tuple[int, int]:
    """What changes when a writer swaps a new generation in: the file's inode and mtime."""
    try:
        st = os.stat(file)
    except FileNotFoundError:
        return (0, 0)
    return (st.st_ino, st.st_mtime_ns)


def _quoted(names: list[str] | tuple[str, ...]) -> str:
    return ", ".join(f'"{n}"' for n in names)


def init_workspace(
    path: Path | str,
    *,
    data_url: str = "duckdb:///data.duckdb",
    app_url: str = "sqlite:///app.db",
    stages: tuple[str, ...] = ("Lead", "Qualified", "Discovery", "Proposal", "Negotiation"),
    won: tuple[str, ...] = ("Won",),
    lost: tuple[str, ...] = ("Lost",),
    week_start: str = "monday",
    timezone: str = "UTC",
    force: bool = False,
) -> Workspace:
    """Write ``salesflow.toml`` and create the empty canonical tables.

    The workspace returned may write its data in place (``read_only=False``), as a script that
    sets up data expects; it opens nothing until used.
    """
    folder = Path(path).expanduser().resolve()
    config = folder / CONFIG_FILE
    if config.exists() and not force:
        raise WorkspaceError(
            f"{folder} is already a salesflow workspace",
            hint="Use it as it is, choose another folder, or pass --force to rewrite its settings",
        )
    private_dir(folder)
    config.write_text(
        CONFIG_TEMPLATE.format(
            data_url=data_url,
            app_url=app_url,
            order=_quoted(stages),
            won=_quoted(won),
            lost=_quoted(lost),
            week_start=week_start,
            timezone=timezone,
        ),
        encoding="utf-8",
    )
    private_file(config)
    Workspace.open(folder).ensure_tables()
    return Workspace.open(folder, read_only=False)


# Every timestamp that says "this had happened by then".
TIME_COLUMNS = {
    "opportunities": ("created_at", "closed_at"),
    "stage_events": ("entered_at",),
    "activities": ("occurred_at",),
    "requests": ("received_at", "first_response_at", "resolved_at"),
    "forecasts": ("submitted_at",),
}


def as_moment(value: date | datetime) -> datetime:
    """A date as the start of that day; a datetime unchanged (zone-less, like the data)."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    return datetime.combine(value, time())


def data_bounds(
    con: BaseBackend | duckdb.DuckDBPyConnection,
) -> tuple[datetime | None, datetime | None]:
    """The earliest and latest timestamps in the canonical tables (None when they are empty),
    in one query over the time columns."""
    existing = table_names(con)
    parts = []
    for name, wanted in TIME_COLUMNS.items():
        if name not in existing:
            continue
        cols = [c for c in wanted if c in columns(con, name)]
        parts += [f"SELECT min({c}) AS lo, max({c}) AS hi FROM {name}" for c in cols]
    if not parts:
        return None, None
    union = " UNION ALL ".join(parts)
    lo, hi = fetch(con, f"SELECT min(lo) AS lo, max(hi) AS hi FROM ({union}) AS bounds")[0]
    if lo is None:
        return None, None
    return as_moment(lo), as_moment(hi)


def data_end(con: BaseBackend | duckdb.DuckDBPyConnection) -> datetime | None:
    """The moment the data describes by default: its latest timestamp, or — when that falls on
    midnight, as in a date-only export — the end of that day (an export dated 31 December holds
    the whole of 31 December)."""
    _, end = data_bounds(con)
    if end is not None and end.time() == time():
        return end + timedelta(days=1)
    return end


def resolve_as_of(
    settings: Settings,
    con: BaseBackend | duckdb.DuckDBPyConnection,
    given: date | datetime | str | None = None,
    *,
    option: str = "--as-of",
) -> datetime:
    """The as-of moment: ``given`` (a flag) > ``[calendar] as_of`` > the data's latest timestamp
    > now. A chosen moment before the earliest data or after the wall clock is refused."""
    if given is None and settings.as_of is None:
        end = data_end(con)
        return end if end is not None else settings.now()
    if given is None:
        moment, option = settings.as_of, "[calendar] as_of"
    else:
        moment = given if isinstance(given, date) else parse_moment(given, option)
        moment = as_moment(moment)
    assert moment is not None
    return _checked(settings, con, moment, option)


def _checked(
    settings: Settings, con: BaseBackend | duckdb.DuckDBPyConnection, moment: datetime, option: str
) -> datetime:
    now = settings.now()
    if moment > now:
        raise ConfigError(
            f"{option} {moment:%Y-%m-%d %H:%M} is after today ({now:%Y-%m-%d}): the data cannot "
            "describe a moment that has not happened",
            hint="Choose a moment up to today, or leave it out to use the data's latest date",
        )
    start, _ = data_bounds(con)
    if start is not None and moment.date() < start.date():
        raise ConfigError(
            f"{option} {moment:%Y-%m-%d} is before the earliest data ({start:%Y-%m-%d}): "
            "nothing can be judged as of then",
            hint=f"Choose a date on or after {start:%Y-%m-%d}",
        )
    return moment


def workspace_status(workspace: Workspace, *, as_of: date | datetime | str | None = None) -> dict:
    """Row counts and date ranges per canonical table, and opportunities by outcome.

    The shape is the ``salesflow status --json`` contract:
    ``{"workspace", "as_of", "tables": {name: {"rows", "min_date", "max_date"}}, "outcomes"}``;
    ``as_of`` (ISO 8601) is the moment the data describes (see :func:`resolve_as_of`), null for
    an empty workspace.
    """
    from salesflow.schema import OUTCOMES, TABLES

    con = workspace.data if workspace.raw is None else workspace.raw  # DuckDB: no Ibis import
    existing = table_names(con)
    tables: dict[str, dict] = {}
    for name, spec in TABLES.items():
        if name not in existing:
            tables[name] = {"rows": 0, "min_date": None, "max_date": None}
            continue
        col = spec.time_column
        sql = f"SELECT count(*) AS n, min({col}) AS lo, max({col}) AS hi FROM {name}"
        rows, lo, hi = fetch(con, sql)[0]
        tables[name] = {"rows": int(rows), "min_date": _iso_date(lo), "max_date": _iso_date(hi)}
    outcomes = dict.fromkeys(OUTCOMES, 0)
    if "opportunities" in existing:
        sql = "SELECT outcome, count(*) AS n FROM opportunities GROUP BY outcome"
        for outcome, n in fetch(con, sql):
            outcomes[str(outcome) if outcome is not None else "open"] += int(n)
    if as_of is None and workspace.settings.as_of is None:
        moment = data_end(con)  # None for an empty workspace: it describes no moment yet
    else:
        moment = resolve_as_of(workspace.settings, con, as_of)
    return {
        "workspace": str(workspace.path),
        "as_of": moment.isoformat() if moment is not None else None,
        "tables": tables,
        "outcomes": outcomes,
    }


def _iso_date(value: date | None) -> str | None:
    if value is None:
        return None
    return (value.date() if isinstance(value, datetime) else value).isoformat()
