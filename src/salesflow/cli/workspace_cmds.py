"""``salesflow init`` and ``salesflow status``: create a workspace and see what data it holds."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from salesflow.cli.common import (
    AsOfOption,
    JsonOption,
    WorkspaceOption,
    next_step,
    open_workspace,
    out,
    print_json,
)


def init(
    path: Annotated[Path, typer.Argument(help="Folder for the new workspace.")] = Path("."),
    data_url: Annotated[
        str, typer.Option("--data-url", help="Ibis URL of the data source.")
    ] = "duckdb:///data.duckdb",
    app_url: Annotated[
        str, typer.Option("--app-url", help="SQLAlchemy URL of the app database.")
    ] = "sqlite:///app.db",
    preset: Annotated[
        str | None,
        typer.Option(
            "--preset", help="Take the stages of a CRM preset (salesforce, hubspot, maven-crm)."
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Rewrite existing settings.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Create a workspace: `salesflow.toml`, an empty data source and app database.

    Example: `salesflow init acme --preset salesforce && salesflow import opportunities deals.csv -w acme`
    """
    from salesflow.appdb import upgrade
    from salesflow.workspace import init_workspace

    stages = {}
    if preset:
        from salesflow.ingest import preset_stages

        found = preset_stages(preset)
        if found is not None:
            stages = {"stages": found.order, "won": found.won, "lost": found.lost}
    workspace = init_workspace(path, data_url=data_url, app_url=app_url, force=force, **stages)
    workspace.close()
    upgrade(workspace.settings.resolved_app_url())
    if as_json:
        print_json(
            {"workspace": str(workspace.path), "config": str(workspace.settings.config_path)}
        )
        return
    out.print(f"Created workspace [bold]{workspace.path}[/]")
    next_step(
        path,
        f"edit the stages in {workspace.settings.config_path.name} inside {path}, then "
        "`salesflow import opportunities FILE`.",
    )


def status(
    workspace: WorkspaceOption = Path("."),
    as_of: AsOfOption = None,
    refresh: Annotated[
        bool,
        typer.Option(
            "--refresh",
            help="Rebuild stale derived tables now (read in place with [data] refresh = manual, "
            "or after a change of the stage settings).",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Show what data the workspace holds: rows and date range per table, deals by outcome, and
    the as-of moment the data describes (periods after it are running, never judged), and how
    fresh the process map's derived tables are (`freshness`). A workspace reading its tables in
    place also checks the mapping (a missing table or column is an error naming it).

    Example: `salesflow -w demo-ws status --json`
    """
    from salesflow.workspace import workspace_status

    with open_workspace(workspace, refresh=True if refresh else None) as ws:
        if ws.freshness is None:  # imported data: checked here only (every import rebuilds)
            from salesflow.derived.freshness import imported_freshness

            ws.freshness = imported_freshness(ws, refresh=refresh)
        doc = workspace_status(ws, as_of=as_of)
        doc["freshness"] = ws.freshness
    if as_json:
        print_json(doc)
        return
    render_status(doc)


def render_status(doc: dict) -> None:
    from rich.table import Table

    table = Table(title=f"Workspace {doc['workspace']}")
    for col in ("table", "rows", "from", "to"):
        table.add_column(col, justify="right" if col == "rows" else "left")
    for name, info in doc["tables"].items():
        table.add_row(name, f"{info['rows']:,}", info["min_date"] or "—", info["max_date"] or "—")
    out.print(table)
    o = doc["outcomes"]
    closed = o["won"] + o["lost"]
    rate = f"{o['won'] / closed:.0%}" if closed else "—"
    out.print(
        f"Opportunities: [green]{o['won']:,} won[/], [red]{o['lost']:,} lost[/], "
        f"{o['open']:,} open — win rate {rate}"
    )
    if doc.get("as_of"):
        out.print(
            f"As of {doc['as_of'].replace('T', ' ')[:16]}: periods not over by then are shown "
            "as running and never judged."
        )
    if doc.get("freshness"):
        out.print(doc["freshness"]["message"], markup=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command()(status)
