"""A workspace: a folder with ``salesflow.toml``, the data source and the app database.

``Workspace.open(path)`` is the one entry point every command, the web app and the Python API use.
Connections are opened lazily, on first use, never at import time.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from salesflow.errors import WorkspaceError
from salesflow.filemodes import private_dir, private_file
from salesflow.settings import CONFIG_FILE, Settings, load_settings
from salesflow.source import connect, ensure_tables

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

__all__ = ["CONFIG_TEMPLATE", "Workspace", "init_workspace", "workspace_status"]

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
    workspace = Workspace.open(folder)
    ensure_tables(workspace.data)
    data = workspace.settings.resolved_data_url()
    if data.startswith("duckdb:///"):
        private_file(Path(data.removeprefix("duckdb:///")))
    return workspace


def workspace_status(workspace: Workspace) -> dict:
    """Row counts and date ranges per canonical table, and opportunities by outcome.

    The shape is the ``salesflow status --json`` contract:
    ``{"workspace", "tables": {name: {"rows", "min_date", "max_date"}}, "outcomes": {...}}``.
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
    return {"workspace": str(workspace.path), "tables": tables, "outcomes": outcomes}


def _iso_date(value: object) -> str | None:
    import pandas as pd

    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).date().isoformat()
