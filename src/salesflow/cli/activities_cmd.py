"""``salesflow activities``: which activities add value — the mix of value-adding, necessary and
waste effort, on won and lost deals, per stage, and which activity types go with winning."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from salesflow.cli.common import (
    JsonOption,
    WorkspaceOption,
    open_workspace,
    out,
    print_json,
    working,
)
from salesflow.cli.workbench_cmds import pairs

GROUP_WORDS = {"all": "all deals", "won": "won deals", "lost": "lost deals"}


def activities(
    by: Annotated[
        str | None,
        typer.Option("--by", help="Also split the mix by stage: --by stage.", metavar="stage"),
    ] = None,
    filters: Annotated[
        list[str] | None,
        typer.Option("--filter", help="Only deals where COLUMN=VALUE (repeatable)."),
    ] = None,
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Which activities add value: the share of effort that is value-adding, necessary or waste
    on won and on lost deals (and per stage with --by stage), by count and, when activities
    carry minutes, by time; and which activity types go with winning, from the driver model.

    Classify your own types in salesflow.toml under [activities.value]
    (value, necessary or waste).

    Example: `salesflow activities --by stage --filter segment=Enterprise --json`
    """
    from salesflow.analysis.activity_value import activity_value

    with open_workspace(workspace) as ws, working("Sorting the activities into value and waste"):
        doc = activity_value(ws.data, ws.settings, by=by, filters=pairs(filters, "--filter"))
    if as_json:
        print_json(doc)
        return
    render(doc)


def _cell(part: dict[str, Any], time: bool) -> str:
    share = part["time_share" if time else "share"]
    return "—" if share is None else f"{share:.0%}"


def _mix_table(title: str, rows: list[tuple[str, dict[str, Any]]], time: bool) -> Any:
    from rich.table import Table

    table = Table(title=title)
    table.add_column("")
    for col in ("activities", "value-adding", "necessary", "waste"):
        table.add_column(col, justify="right")
    for name, mix in rows:
        cells = [_cell(mix[c], time) for c in ("value", "necessary", "waste")]
        table.add_row(name, f"{mix['activities']:,}", *cells)
    return table


def render(doc: dict[str, Any]) -> None:
    """The mix on won and lost deals, per stage, the classes in use, and the driver effects."""
    outcomes = [(GROUP_WORDS[g], doc["outcomes"][g]) for g in GROUP_WORDS]
    views = [False, True] if doc["durations"] else [False]
    for time in views:
        what = "time" if time else "activities"
        out.print(_mix_table(f"Share of {what} by class", outcomes, time))
        rows = [
            (f"{s['stage']} · {g}", s[g]) for s in doc.get("stages", []) for g in ("won", "lost")
        ]
        if rows:
            out.print(_mix_table(f"Share of {what} by class in each stage", rows, time))
    classes = ", ".join(f"{t['type']} = {t['class']}" for t in doc["types"] if t["activities"])
    out.print(
        f"[dim]Classes: {classes} (change them under \\[activities.value] in salesflow.toml).[/]"
    )
    won = (doc.get("drivers") or {}).get("won")
    if won:
        for e in won["effects"]:
            style = "bold" if e["significant"] else "dim"
            out.print(f"[{style}]{e['phrase']}[/]")
    out.print(doc["summary"])


def register(app: typer.Typer) -> None:
    app.command()(activities)
