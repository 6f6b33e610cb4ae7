"""A workspace: a folder with ``salesflow.toml``, the data source and the app database.

``Workspace.open(path)`` is the one entry point every command, the web app and the Python API use.
Connections are opened lazily, on first use, never at import time.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from salesflow.errors import ConfigError, WorkspaceError
from salesflow.settings import CONFIG_FILE, Settings, load_settings, parse_moment
from salesflow.source import connect, ensure_tables

if TYPE_CHECKING:
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
    """One workspace folder and lazily opened connections to its two stores."""

    def __init__(self, settings: Settings, *, read_only: bool = False) -> None:
        self.settings = settings
        self.read_only = read_only

    @classmethod
    def open(cls, path: Path | str = ".", *, read_only: bool = False) -> Workspace:
        return cls(load_settings(path), read_only=read_only)

    @property
    def path(self) -> Path:
        return self.settings.workspace

    @cached_property
    def data(self) -> BaseBackend:
        """The Ibis backend holding the canonical tables."""
        return connect(self.settings.resolved_data_url(), read_only=self.read_only)

    def close(self) -> None:
        if "data" in self.__dict__:
            self.data.disconnect()
            del self.__dict__["data"]

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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
    """Write ``salesflow.toml`` and create the empty canonical tables."""
    folder = Path(path).expanduser().resolve()
    config = folder / CONFIG_FILE
    if config.exists() and not force:
        raise WorkspaceError(
            f"{folder} is already a salesflow workspace",
            hint="Use it as it is, choose another folder, or pass --force to rewrite its settings",
        )
    folder.mkdir(parents=True, exist_ok=True)
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
    workspace = Workspace.open(folder)
    ensure_tables(workspace.data)
    return workspace


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


def data_bounds(con: BaseBackend) -> tuple[datetime | None, datetime | None]:
    """The earliest and latest timestamps in the canonical tables (None when they are empty)."""
    import pandas as pd

    existing = set(con.list_tables())
    stamps: list[datetime] = []
    for name, columns in TIME_COLUMNS.items():
        if name not in existing:
            continue
        t = con.table(name)
        cols = [c for c in columns if c in t.columns]
        if not cols:
            continue
        aggs = {f"lo_{c}": t[c].min() for c in cols} | {f"hi_{c}": t[c].max() for c in cols}
        row = t.aggregate(**aggs).execute().iloc[0]
        stamps += [pd.Timestamp(v).to_pydatetime() for v in row.values if not pd.isna(v)]
    if not stamps:
        return None, None
    return min(stamps).replace(tzinfo=None), max(stamps).replace(tzinfo=None)


def data_end(con: BaseBackend) -> datetime | None:
    """The moment the data describes by default: its latest timestamp, or — when that falls on
    midnight, as in a date-only export — the end of that day (an export dated 31 December holds
    the whole of 31 December)."""
    _, end = data_bounds(con)
    if end is not None and end.time() == time():
        return end + timedelta(days=1)
    return end


def resolve_as_of(
    settings: Settings,
    con: BaseBackend,
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


def _checked(settings: Settings, con: BaseBackend, moment: datetime, option: str) -> datetime:
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

    con = workspace.data
    existing = set(con.list_tables())
    tables: dict[str, dict] = {}
    for name, spec in TABLES.items():
        if name not in existing:
            tables[name] = {"rows": 0, "min_date": None, "max_date": None}
            continue
        t = con.table(name)
        col = t[spec.time_column]
        row = t.aggregate(rows=t.count(), lo=col.min(), hi=col.max()).execute().iloc[0]
        tables[name] = {
            "rows": int(row["rows"]),
            "min_date": _iso_date(row["lo"]),
            "max_date": _iso_date(row["hi"]),
        }
    outcomes = dict.fromkeys(OUTCOMES, 0)
    if "opportunities" in existing:
        t = con.table("opportunities")
        counts = t.group_by("outcome").aggregate(n=t.count()).execute()
        for outcome, n in zip(counts["outcome"], counts["n"], strict=True):
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


def _iso_date(value: object) -> str | None:
    import pandas as pd

    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).date().isoformat()
